import Agent
import DockerEngine
import Foundation
import Logging
import Manifests
import Reconciler
import Testing
import TestSupport

/// Settings of the integration tests, from the environment `Deploy/test.sh` prepares.
enum IntegrationEnvironment {
    static let environment = ProcessInfo.processInfo.environment
    /// The demo image, built offline by `Deploy/build-demo-image.sh`.
    static let image = environment["HECD_TEST_IMAGE"] ?? "hecd-demo:1"
    /// The repository root, for the scripts in Deploy/.
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
}

/// One agent under test with its own id, manifest directory and containers, all removed by `cleanup()`.
final class AgentHarness: @unchecked Sendable {
    let agentID = "test-\(UUID().uuidString.prefix(8).lowercased())"
    let directory: String
    let docker: DockerClient
    let backoff: BackoffPolicy
    /// What the agent lets manifests do; set before `startAgent`.
    var policy = ManifestPolicy()
    private var running: Task<Void, any Error>?

    init(docker: DockerClient = DockerClient(host: .localEngine), backoff: BackoffPolicy = BackoffPolicy()) async throws {
        self.docker = docker
        self.backoff = backoff
        directory = NSTemporaryDirectory() + "hecd-it-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        do {
            try await docker.negotiateVersion()
        } catch {
            Issue.record("the integration tests need a Docker engine: run them with Deploy/test.sh (\(error))")
            throw error
        }
    }

    /// Writes `<name>.yaml` the way an editor saves: to a temporary file, then renamed into place.
    func writeManifest(_ name: String, _ text: String) throws {
        let temporary = "\(directory)/.\(name).yaml.tmp"
        try text.write(toFile: temporary, atomically: false, encoding: .utf8)
        _ = rename(temporary, "\(directory)/\(name).yaml")
    }

    /// A manifest for the demo image.
    func webManifest(app: String, replicas: Int, extra: String = "") -> String {
        """
        name: \(app)
        image: \(IntegrationEnvironment.image)
        replicas: \(replicas)
        port: 80
        stop_timeout: 2
        \(extra)
        """
    }

    func removeManifest(_ name: String) {
        try? FileManager.default.removeItem(atPath: "\(directory)/\(name).yaml")
    }

    func startAgent() {
        let configuration = AgentConfiguration(
            agentID: agentID, manifestsDirectory: directory, resyncInterval: .seconds(5), backoff: backoff,
            extraLabels: ["io.hecd.test": "1"], policy: policy)
        var logger = Logger(label: "hecd.agent.\(agentID)")
        logger.logLevel = .info
        let agent = Agent(configuration: configuration, engine: docker, logger: logger)
        running = Task { try await agent.run() }
    }

    /// Stops the agent the way SIGTERM does for the binary: its containers stay.
    func stopAgent() async {
        running?.cancel()
        _ = try? await running?.value
        running = nil
    }

    /// This agent's containers of `app` (all states).
    func containers(app: String) async throws -> [ContainerSummary] {
        try await docker.listContainers(labels: ["io.hecd.agent=\(agentID)", "io.hecd.app=\(app)"])
    }

    func runningContainers(app: String) async throws -> [ContainerSummary] {
        try await containers(app: app).filter { $0.state == "running" }
    }

    /// Waits until `app` has exactly `count` containers and all of them run.
    @discardableResult
    func waitForRunning(_ app: String, count: Int, within seconds: Double = 30) async throws -> [ContainerSummary] {
        var last: [ContainerSummary] = []
        let met = await eventually(within: seconds) {
            last = (try? await self.containers(app: app)) ?? []
            return last.count == count && last.allSatisfy { $0.state == "running" }
        }
        #expect(met, "\(app): expected \(count) running containers, saw \(last.map { "\($0.name):\($0.state)" })")
        return last
    }

    func cleanup() async {
        await stopAgent()
        if let leftovers = try? await docker.listContainers(labels: ["io.hecd.agent=\(agentID)"]) {
            for container in leftovers { try? await docker.removeContainer(container.id, force: true) }
        }
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// Runs `body` with a fresh harness and always cleans up after it.
func withAgentHarness(
    docker: DockerClient = DockerClient(host: .localEngine), backoff: BackoffPolicy = BackoffPolicy(),
    _ body: (AgentHarness) async throws -> Void
) async throws {
    let harness = try await AgentHarness(docker: docker, backoff: backoff)
    do {
        try await body(harness)
    } catch {
        await harness.cleanup()
        throw error
    }
    await harness.cleanup()
}

/// Polls `condition` every 100 ms until it holds or `seconds` pass.
func eventually(within seconds: Double, _ condition: () async -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(100))
    }
    return await condition()
}

/// Runs a command through bash, off the cooperative pool, and returns its output (stdout and stderr); throws
/// when it fails or takes longer than `timeout` (then it and what it started are killed).
@discardableResult
func shell(_ command: String, timeout: Duration = defaultProgramTimeout) async throws -> String {
    let (status, output) = try await runProgram("/bin/bash", ["-c", command], timeout: timeout)
    guard status == 0 else {
        throw AgentError("`\(command)` exited with \(status): \(output)")
    }
    return output
}

extension DockerHost {
    /// The engine the tests use: DOCKER_HOST, or the default socket.
    static var localEngine: DockerHost {
        (try? DockerHost.fromEnvironment(IntegrationEnvironment.environment)) ?? .defaultEngine
    }
}
