import Foundation
import Testing
import TestSupport

/// What a user sees of the `hecd` binary itself: the options it takes and where its messages go.
@Suite(.serialized) struct CommandLineTests {
    @Test(arguments: ["render", "agent"])
    func logLevelWarnIsTakenForWarning(command: String) async throws {
        let run = try await runProgram(
            AgentProcess.binary, [command, "--log-level", "warn", "--help"], environment: [:])
        #expect(run.status == 0, "\(run)")
        let refused = try await runProgram(
            AgentProcess.binary, [command, "--log-level", "loud", "--help"], environment: [:])
        #expect(refused.status != 0)
        #expect(refused.standardError.contains("loud"), "\(refused)")
    }

    @Test func validatePrintsProblemsOnStandardError() async throws {
        let directory = NSTemporaryDirectory() + "hecd-cli-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "name: web\nimage: hecd-demo:1\nreplica: 3\n".write(toFile: directory + "/web.yaml", atomically: true, encoding: .utf8)
        let invalid = try await runProgram(AgentProcess.binary, ["validate", directory], environment: [:])
        #expect(invalid.status == 1)
        #expect(invalid.standardOutput.isEmpty, "\(invalid)")
        #expect(invalid.standardError.contains("web.yaml:3:1: replica: is not a manifest field; did you mean `replicas`?"), "\(invalid)")

        let missing = try await runProgram(AgentProcess.binary, ["validate", directory + "/nowhere"], environment: [:])
        #expect(missing.status == 2)
        #expect(missing.standardOutput.isEmpty, "\(missing)")
        #expect(missing.standardError.contains("does not exist"), "\(missing)")

        try "name: web\nimage: hecd-demo:1\nreplicas: 3\n".write(toFile: directory + "/web.yaml", atomically: true, encoding: .utf8)
        let valid = try await runProgram(AgentProcess.binary, ["validate", directory], environment: [:])
        #expect(valid.status == 0)
        #expect(valid.standardOutput.contains("1 app valid: web (3 × hecd-demo:1)"), "\(valid)")
    }

    @Test func statusWithoutEtcdSaysWhereToPointIt() async throws {
        let run = try await runProgram(AgentProcess.binary, ["status"], environment: [:])
        #expect(run.status != 0)
        #expect(run.standardOutput.isEmpty, "\(run)")
        #expect(run.standardError.contains("ETCDCTL_ENDPOINTS"), "\(run)")
    }
}
