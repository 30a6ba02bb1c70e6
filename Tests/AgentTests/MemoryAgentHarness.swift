import Agent
import DockerEngine
import EngineTesting
import Foundation
import Logging
import Reconciler
import Registry
import RegistryTesting
import Testing

/// One agent on an in-memory engine (and, with `registry: true`, an in-memory registry store): no dockerd,
/// no etcd. Its manifest directory is removed afterwards.
final class MemoryAgentHarness: @unchecked Sendable {
    let engine: InMemoryEngine
    let store = MemoryStore()
    let directory: String
    let agentID = "unit-\(UUID().uuidString.prefix(6).lowercased())"
    private let withRegistry: Bool
    private let hostIP: String?
    private let backoff: BackoffPolicy
    private let parallel: Int
    private var running: Task<Void, any Error>?

    init(registry: Bool = false, hostIP: String? = "127.0.0.1", backoff: BackoffPolicy = BackoffPolicy(),
         parallel: Int = 8, engine: InMemoryEngine = InMemoryEngine(images: ["hecd-demo:1": [80]])) throws {
        self.engine = engine
        self.withRegistry = registry
        self.hostIP = hostIP
        self.backoff = backoff
        self.parallel = parallel
        directory = NSTemporaryDirectory() + "hecd-unit-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    /// Writes `<app>.yaml` the way an editor saves: a temporary file renamed into place.
    func write(_ app: String, replicas: Int, extra: String = "") throws {
        let text = """
            name: \(app)
            image: hecd-demo:1
            replicas: \(replicas)
            port: 80
            stop_timeout: 1
            register: {prefix: /app/servers, drain: 0}
            \(extra)
            """
        let temporary = "\(directory)/.\(app).yaml.tmp"
        try text.write(toFile: temporary, atomically: false, encoding: .utf8)
        _ = rename(temporary, "\(directory)/\(app).yaml")
    }

    func start() {
        let configuration = AgentConfiguration(
            agentID: agentID, manifestsDirectory: directory, resyncInterval: .seconds(30), backoff: backoff,
            parallelActions: parallel, hostIP: hostIP, defaultDrain: 0)
        var logger = Logger(label: "hecd.unit.\(agentID)")
        logger.logLevel = .warning
        let registry = withRegistry ? Registry(store: store, agentID: agentID, ttl: 30, logger: logger) : nil
        let agent = Agent(configuration: configuration, engine: engine, registry: registry, logger: logger)
        running = Task { try await agent.run() }
    }

    /// Stops the agent as SIGTERM does; its containers stay.
    func stop() async {
        running?.cancel()
        _ = try? await running?.value
        running = nil
    }

    func running(_ app: String) -> [ContainerSummary] { engine.running(app: app) }

    /// The registry's keys under /app/servers.
    var keys: [String: String] { store.keys.filter { $0.key.hasPrefix("/app/servers/") } }

    /// Waits until `app` has exactly `count` containers, all running, in the engine's own state.
    @discardableResult
    func waitForRunning(_ app: String, _ count: Int, within seconds: Double = 5) async -> [ContainerSummary] {
        var last: [ContainerSummary] = []
        let met = await eventually(within: seconds) {
            last = self.engine.containers.filter { $0.labels["io.hecd.app"] == app }
            return last.count == count && last.allSatisfy { $0.state == "running" }
        }
        #expect(met, "\(app): expected \(count) running, saw \(last.map { "\($0.name):\($0.state)" })")
        return last
    }

    func cleanup() async {
        await stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// Runs `body` with a fresh harness and always cleans up.
func withMemoryAgent(
    registry: Bool = false, hostIP: String? = "127.0.0.1", backoff: BackoffPolicy = BackoffPolicy(), parallel: Int = 8,
    engine: InMemoryEngine = InMemoryEngine(images: ["hecd-demo:1": [80]]),
    _ body: (MemoryAgentHarness) async throws -> Void
) async throws {
    let harness = try MemoryAgentHarness(registry: registry, hostIP: hostIP, backoff: backoff, parallel: parallel, engine: engine)
    do {
        try await body(harness)
    } catch {
        await harness.cleanup()
        throw error
    }
    await harness.cleanup()
}

/// Polls `condition` every 5 ms until it holds or `seconds` pass.
func eventually(within seconds: Double, _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return await condition()
}
