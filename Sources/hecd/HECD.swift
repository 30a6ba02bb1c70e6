import ArgumentParser

/// The `hecd` command line: one executable, one subcommand per job.
@main
struct HECD: AsyncParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "hecd",
        abstract: "Docker containers kept running, announced in etcd, and served through HAProxy or nginx.",
        version: version,
        subcommands: [AgentCommand.self, ValidateCommand.self]
    )
}
