import Foundation
import Testing
import TestSupport

/// `hecd agent --registry-auth FILE`: a file that cannot be used stops the agent at start, saying why.
@Suite struct RegistryAuthOptionTests {
    @Test func aMissingOrBrokenFileIsRefusedAtStart() async throws {
        let directory = NSTemporaryDirectory() + "hecd-auth-cli-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let arguments = ["agent", "--manifests", directory, "--agent-id", "auth-cli", "--registry-auth"]

        let missing = try await runProgram(AgentProcess.binary, arguments + [directory + "/none.json"], environment: [:])
        #expect(missing.status != 0)
        #expect(missing.standardError.contains("--registry-auth \(directory)/none.json: no such file"), "\(missing)")

        try "[1, 2]".write(toFile: directory + "/broken.json", atomically: true, encoding: .utf8)
        let broken = try await runProgram(AgentProcess.binary, arguments + [directory + "/broken.json"], environment: [:])
        #expect(broken.status != 0)
        #expect(broken.standardError.contains("\(directory)/broken.json is not a docker config file"), "\(broken)")
    }
}
