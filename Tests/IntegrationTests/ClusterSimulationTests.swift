import Agent
import Cluster
import DockerEngine
import EngineTesting
import Etcd
import Foundation
import HTTPTransport
import Logging
import Registry
import Testing
import TestSupport

/// Many simulated hosts in one process: each an agent with `--cluster` on an in-memory engine (containers are
/// real loopback listeners), all against one real etcd. CI runs a small cluster; the benchmark
/// (`HECD_SIM_HOSTS=100 HECD_SIM_APPS=50 HECD_SIM_REPLICAS=1000`) the issue's size.
@Suite(.serialized) struct ClusterSimulationTests {
    static let environment = ProcessInfo.processInfo.environment
    static let hosts = environment["HECD_SIM_HOSTS"].flatMap { Int($0) } ?? 10
    static let apps = environment["HECD_SIM_APPS"].flatMap { Int($0) } ?? 5
    static let replicas = environment["HECD_SIM_REPLICAS"].flatMap { Int($0) } ?? 100
    static let killed = environment["HECD_SIM_KILLED"].flatMap { Int($0) } ?? max(1, hosts / 10)
    static let ttl = 5

    final class SimulatedHost: Sendable {
        let id: String
        let engine = InMemoryEngine(images: [IntegrationEnvironment.image: [80]])
        let task: Task<Void, any Error>

        init(id: String, etcd: String) {
            self.id = id
            engine.configure { $0.publishAddress = "127.0.0.1" }
            let client = EtcdClient(endpoints: [etcd], requestTimeout: Registry.requestTimeout(ttl: ClusterSimulationTests.ttl))
            var logger = Logger(label: "sim.\(id)")
            logger.logLevel = .error
            let registry = Registry(store: EtcdStore(client: client), agentID: id, ttl: ClusterSimulationTests.ttl, logger: logger)
            let configuration = AgentConfiguration(
                agentID: id, manifestsDirectory: "", resyncInterval: .seconds(30), hostIP: "127.0.0.1", defaultDrain: 0,
                keepRegistered: true, cluster: ClusterSettings(hostLabels: ["zone": "z\(id.utf8.last.map { $0 & 1 } ?? 0)"]))
            let agent = Agent(configuration: configuration, engine: engine, registry: registry, clusterClient: client, logger: logger)
            task = Task { try await agent.run() }
        }
    }

    /// Keys under a prefix, counted by etcd.
    static func count(_ client: EtcdClient, _ prefix: String) async -> Int {
        (try? await client.count(prefix: prefix).count) ?? -1
    }

    /// etcd's gRPC requests so far (the JSON gateway's requests are served through it).
    static func requests(_ etcd: EtcdProcess) async -> Double {
        // Read through the HTTP client: a pipe to curl would fill up with etcd's 200 KB of metrics.
        let response = try? await HTTPClient(endpoint: .url(etcd.clientURL)).send(HTTPRequest(.get, "/metrics"))
        let metrics = response?.bodyText ?? ""
        return metrics.split(separator: "\n").filter { $0.hasPrefix("grpc_server_handled_total{") }
            .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }.reduce(0, +)
    }

    static func waitUntil(_ seconds: Double, _ condition: () async -> Bool) async -> Double? {
        let start = ContinuousClock.now
        let met = await eventually(within: seconds, condition)
        return met ? (ContinuousClock.now - start).seconds : nil
    }

    @Test func replicasArePlacedRunAndMoveAfterHostsDie() async throws {
        try await withEtcd { etcd in
            let client = EtcdClient(endpoints: [etcd.clientURL])
            let hosts = (0..<Self.hosts).map { SimulatedHost(id: "sim-\($0)", etcd: etcd.clientURL) }
            defer { for host in hosts { host.task.cancel() } }
            let announced = await Self.waitUntil(60) { await Self.count(client, "/hecd/hosts/") == Self.hosts }
            #expect(announced != nil, "not every simulated host announced itself")

            // Apply every app at once.
            let perApp = Self.replicas / Self.apps
            var operations: [EtcdOperation] = []
            for index in 0..<Self.apps {
                operations.append(.put("/hecd/apps/app\(index)", """
                    name: app\(index)
                    image: \(IntegrationEnvironment.image)
                    replicas: \(perApp)
                    port: 80
                    register: {prefix: /sim/app\(index)}
                    """))
            }
            let total = perApp * Self.apps
            _ = try await client.txn(EtcdTxn(compare: [], success: operations))
            let placed = await Self.waitUntil(60) { await Self.count(client, "/hecd/assign/") == total }
            let registered = await Self.waitUntil(120) { await Self.count(client, "/sim/") == total }
            let placedCount = await Self.count(client, "/hecd/assign/")
            let registeredCount = await Self.count(client, "/sim/")
            #expect(placed != nil && registered != nil, "placed \(placedCount), registered \(registeredCount) of \(total)")
            print("cluster simulation: \(total) replicas of \(Self.apps) apps on \(Self.hosts) hosts: placed in \(String(format: "%.2f", placed ?? -1)) s, all registered \(String(format: "%.2f", (placed ?? 0) + (registered ?? -1))) s after the apply")

            // Spread: per app, no host more than one slot above another.
            let slots = try await client.range(prefix: "/hecd/assign/").kvs.compactMap { ClusterKeys().slot(of: $0.key) }
            for app in 0..<Self.apps {
                let perHost = Dictionary(grouping: slots.filter { $0.app == "app\(app)" }, by: \.host).mapValues(\.count)
                let counts = hosts.map { perHost[$0.id] ?? 0 }
                #expect((counts.max() ?? 0) - (counts.min() ?? 0) <= 1, "app\(app) spread \(counts)")
            }

            // Idle: etcd requests per second with everything placed.
            try await Task.sleep(for: .seconds(2))
            let before = await Self.requests(etcd)
            let idleStart = ContinuousClock.now
            try await Task.sleep(for: .seconds(10))
            let idleRate = (await Self.requests(etcd) - before) / (ContinuousClock.now - idleStart).seconds
            print("cluster simulation: idle etcd load \(String(format: "%.1f", idleRate)) requests/s for \(Self.hosts) hosts and \(total) containers")

            // Hosts die (no revoke: their leases expire): every replica runs and is registered again elsewhere.
            let dead = hosts.prefix(Self.killed)
            let deadIDs = Set(dead.map(\.id))
            let killedAt = ContinuousClock.now
            for host in dead { host.task.cancel() }
            let moved = await Self.waitUntil(Double(Self.ttl) + 60) {
                let slots = ((try? await client.range(prefix: "/hecd/assign/").kvs) ?? []).compactMap { ClusterKeys().slot(of: $0.key) }
                guard slots.count == total, !slots.contains(where: { deadIDs.contains($0.host) }) else { return false }
                let keys = (try? await client.range(prefix: "/sim/").kvs) ?? []
                return keys.count == total
            }
            #expect(moved != nil, "replicas did not all run again after \(Self.killed) hosts died")
            print("cluster simulation: \(Self.killed) hosts killed → every replica registered again in \(String(format: "%.2f", (ContinuousClock.now - killedAt).seconds)) s (TTL \(Self.ttl) s)")
        }
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
