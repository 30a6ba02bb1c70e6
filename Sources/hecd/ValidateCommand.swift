import ArgumentParser
import Manifests

/// `hecd validate DIR`: every problem of every manifest, and a non-zero exit when there is one.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a manifest directory and print every problem (file:line:column: field: message)."
    )

    @Argument(help: "The manifest directory.")
    var directory: String

    @Flag(name: .long, help: "Also check what an agent with the --allow-* flags given here would refuse (privileged, host namespaces, devices, capabilities, binds, the Docker socket).")
    var policy = false

    @OptionGroup(title: "Policy (with --policy)")
    var policyOptions: PolicyOptions

    func run() throws {
        let files: [ManifestFile]
        do {
            files = try ManifestLoader.loadDirectory(directory, policy: policy || policyOptions.anyGiven ? policyOptions.policy : .unrestricted)
        } catch {
            StandardError.print("\(error)")
            throw ExitCode(2)
        }
        var problems = 0
        var apps: [String] = []
        for file in files {
            switch file.result {
            case .success(let spec):
                apps.append("\(spec.name) (\(spec.replicas) × \(spec.image))")
            case .failure(let error):
                for problem in error.problems {
                    StandardError.print("\(problem)")
                    problems += 1
                }
            }
        }
        if problems > 0 {
            StandardError.print("\(problems) problem\(problems == 1 ? "" : "s") in \(directory): fix them; until then the agent keeps each broken app as it was")
            throw ExitCode.failure
        }
        print("\(directory): \(apps.count) app\(apps.count == 1 ? "" : "s") valid\(apps.isEmpty ? "" : ": " + apps.joined(separator: ", "))")
    }
}
