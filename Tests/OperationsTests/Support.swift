import Agent
import DockerEngine
import EngineTesting
import Foundation
import Logging
@testable import Operations
import Primitives
import Registry
import RegistryTesting
import TestSupport

/// An agent on an in-memory engine and an in-memory etcd, observed as `hecd agent --metrics-addr` observes it:
/// instrumented engine and store, `AgentInstruments`, and an `OperationsService` listening on a free loopback
/// port. Nothing of Docker or etcd is needed.
final class ObservedAgent: @unchecked Sendable {
    let engine = InMemoryEngine(images: ["hecd-demo:1": [80]])
    let store = MemoryStore()
    let directory: String
    let metrics = HECDMetrics(command: "agent", version: HECDVersion.current)
    let operations: OperationsService
    let instruments: AgentInstruments
    let address: String
    private let agent: Agent
    private var running: Task<Void, any Error>?

    init(agentID: String = "observed-\(UUID().uuidString.prefix(6).lowercased())", notifier: SystemdNotifier = SystemdNotifier(environment: [:])) throws {
        directory = NSTemporaryDirectory() + "hecd-ops-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var logger = Logger(label: "hecd.ops-test")
        logger.logLevel = .warning
        let etcd = Reachability()
        let instrumentedEngine = InstrumentedEngine(engine, metrics: metrics)
        let registry = Registry(
            store: InstrumentedStore(store, metrics: metrics, reachability: etcd), agentID: agentID, ttl: 30,
            logger: logger)
        let changed = WakeSignal()
        let instruments = AgentInstruments(
            metrics: metrics, agentID: agentID, docker: instrumentedEngine.reachability, etcd: etcd, changed: changed)
        self.instruments = instruments
        operations = OperationsService(
            metrics: metrics, view: instruments, notifier: notifier, changed: changed, title: "hecd agent \(agentID)",
            logger: logger)
        address = try operations.listen(on: "127.0.0.1:0")
        agent = Agent(
            configuration: AgentConfiguration(
                agentID: agentID, manifestsDirectory: directory, hostIP: "127.0.0.1", defaultDrain: 0),
            engine: instrumentedEngine, registry: registry, logger: logger, observer: { instruments.record($0) })
    }

    var port: Int { Int(address.split(separator: ":").last ?? "") ?? 0 }

    /// Writes `<app>.yaml` the way an editor saves: a temporary file renamed into place.
    func write(_ app: String, replicas: Int) throws {
        let text = """
            name: \(app)
            image: hecd-demo:1
            replicas: \(replicas)
            port: 80
            stop_timeout: 1
            register: {prefix: /app/servers, drain: 0}
            """
        let temporary = "\(directory)/.\(app).yaml.tmp"
        try text.write(toFile: temporary, atomically: false, encoding: .utf8)
        _ = rename(temporary, "\(directory)/\(app).yaml")
    }

    func start() {
        let agent = agent
        let operations = operations
        running = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await agent.run() }
                group.addTask { try await operations.run() }
                try await group.next()
                group.cancelAll()
            }
        }
    }

    /// Stops the agent and the listener, and removes the manifests.
    func stop() async {
        running?.cancel()
        _ = try? await running?.value
        running = nil
        operations.stopListening()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// GET of `path` on the listener.
    func get(_ path: String) async -> (status: Int, body: String)? {
        await ProxyProbe(port: port).get(path)
    }
}

/// Runs `body` with a started `ObservedAgent`, and stops it whatever happens.
func withObservedAgent<Value>(
    notifier: SystemdNotifier = SystemdNotifier(environment: [:]), _ body: (ObservedAgent) async throws -> Value
) async throws -> Value {
    let agent = try ObservedAgent(notifier: notifier)
    let result: Result<Value, any Error>
    do {
        result = .success(try await body(agent))
    } catch {
        result = .failure(error)
    }
    await agent.stop()
    return try result.get()
}

/// Polls `condition` every 50 ms until it holds or `seconds` pass.
func eventually(within seconds: Double, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return try await condition()
}

/// A real Prometheus server (Debian's `prometheus`) on a free loopback port with its data in a temporary folder,
/// scraping `targets` (job name → `HOST:PORT`) every second.
final class PrometheusServer: @unchecked Sendable {
    static let binary = ProcessInfo.processInfo.environment["PROMETHEUS_BINARY"] ?? "/usr/bin/prometheus"
    static let promtool = ProcessInfo.processInfo.environment["PROMTOOL_BINARY"] ?? "/usr/bin/promtool"
    static var available: Bool { FileManager.default.isExecutableFile(atPath: binary) }

    let directory: String
    let port = freePort()
    private let daemon: Daemon

    init(targets: [String: String]) throws {
        directory = NSTemporaryDirectory() + "hecd-prometheus-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var config = "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\nscrape_configs:\n"
        for (job, target) in targets.sorted(by: { $0.key < $1.key }) {
            config += "  - job_name: \(job)\n    static_configs:\n      - targets: ['\(target)']\n"
        }
        try config.write(toFile: directory + "/prometheus.yml", atomically: true, encoding: .utf8)
        daemon = try Daemon(
            Self.binary,
            [
                "--config.file=\(directory)/prometheus.yml", "--storage.tsdb.path=\(directory)/data",
                "--web.listen-address=127.0.0.1:\(port)", "--log.level=warn",
            ],
            logFile: directory + "/prometheus.log")
    }

    var log: String { daemon.log }

    /// The result vector of an instant query: each sample's labels and value.
    func query(_ expression: String) async throws -> [(labels: [String: String], value: String)] {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let encoded = expression.addingPercentEncoding(withAllowedCharacters: allowed) ?? expression
        guard let answer = await ProxyProbe(port: port).get("/api/v1/query?query=\(encoded)"), answer.status == 200 else {
            return []
        }
        guard let object = try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any],
            let data = object["data"] as? [String: Any], let result = data["result"] as? [[String: Any]]
        else { throw TestFailure("Prometheus answered \(answer.body)") }
        return result.map { sample in
            let labels = sample["metric"] as? [String: String] ?? [:]
            let value = (sample["value"] as? [Any])?.last as? String ?? ""
            return (labels, value)
        }
    }

    /// Stops Prometheus and removes its folder.
    func destroy() async {
        await daemon.stop(grace: .seconds(5))
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// `promtool check metrics` on `text`: its exit status and what it said.
func promtoolCheck(_ text: String) async throws -> (status: Int32, output: String) {
    let file = NSTemporaryDirectory() + "hecd-metrics-\(UUID().uuidString.prefix(8)).txt"
    try text.write(toFile: file, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: file) }
    return try await runProgram("/bin/sh", ["-c", "\(PrometheusServer.promtool) check metrics < \(file) 2>&1"])
}
