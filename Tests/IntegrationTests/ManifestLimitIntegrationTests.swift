import Agent
import DockerEngine
import Foundation
import Testing
import TestSupport

/// The alias bomb of issue 10 (a 100 KB string aliased 300 times: 30 MB once expanded) against `hecd validate`
/// and a live agent on the real dockerd.
@Suite(.serialized) struct ManifestLimitIntegrationTests {
    static func aliasBomb(name: String) -> String {
        var text = "name: \(name)\nimage: \(IntegrationEnvironment.image)\nreplicas: 1\nport: 80\n"
        text += "env:\n  A: &s " + String(repeating: "x", count: 100_000) + "\n"
        for index in 0..<300 { text += "  B\(index): *s\n" }
        return text
    }

    @Test func hecdValidateRefusesTheAliasBomb() async throws {
        let directory = NSTemporaryDirectory() + "hecd-validate-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.aliasBomb(name: "bomb").write(toFile: directory + "/bomb.yaml", atomically: true, encoding: .utf8)
        try "name: web\nimage: hecd-demo:1\nreplicas: 1\n".write(toFile: directory + "/web.yaml", atomically: true, encoding: .utf8)
        let run = try await runProgram(AgentProcess.binary, ["validate", directory])
        #expect(run.status != 0)
        #expect(run.output.contains("bomb.yaml:16:3: env.B9: the manifest grows past 1048576 bytes here once its YAML aliases are expanded"), "\(run.output)")
        #expect(!run.output.contains("web.yaml:"), "\(run.output)")
    }

    @Test func aLiveAgentCreatesNothingForTheBombAndKeepsTheOtherApps() async throws {
        try await withAgentHarness { harness in
            try harness.writeManifest("web", harness.webManifest(app: "web", replicas: 2))
            harness.startAgent()
            let web = try await harness.waitForRunning("web", count: 2)

            try harness.writeManifest("bomb", Self.aliasBomb(name: "bomb"))
            try await Task.sleep(for: .seconds(2))
            #expect(try await harness.containers(app: "bomb").isEmpty, "a container was created for the bomb")
            #expect(try await harness.runningContainers(app: "web").map(\.id).sorted() == web.map(\.id).sorted())

            // The agent carries on with the other apps while the bomb is there.
            try harness.writeManifest("web", harness.webManifest(app: "web", replicas: 3))
            let three = try await harness.waitForRunning("web", count: 3)
            #expect(Set(three.map(\.id)).isSuperset(of: web.map(\.id)), "nothing of web was stopped")
            #expect(try await harness.containers(app: "bomb").isEmpty)
        }
    }
}
