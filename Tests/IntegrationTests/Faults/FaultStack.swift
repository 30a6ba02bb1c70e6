import DockerEngine
import Etcd
import Foundation
import Glibc
import Testing
import TestSupport

/// One Docker host of a fault stack: its engine, the address the agent is given, and the IP it announces.
struct FaultHost: Sendable {
    var name: String
    var docker: DockerClient
    var address: String?
    var hostIP: String
    /// The Deploy/dockerd-instance.sh instance, for hosts that are engines of their own.
    var instance: Int?
}

/// The seed article's stack with every real part, for fault scenarios: etcd (the caller's), `hecd agent`
/// processes (one host-local agent, or a cluster agent per host), `hecd render` with Deploy/confd/haproxy, and
/// HAProxy. Everything it starts is stopped by `stopAll`.
final class FaultStack: @unchecked Sendable {
    let harness: AgentHarness
    let daemons: DaemonGroup
    let etcdEndpoints: [String]
    let folder: String
    let proxyPort = freePort()
    let app = "web"
    let count: Int
    let hosts: [FaultHost]
    /// Cluster mode: `--cluster` agents, one per host, and the app applied with `hecd apply`.
    let cluster: Bool
    let ttl: Int
    /// Where `hecd render` writes haproxy.cfg (HECD_DEST_ROOT): a scenario may mount a small tmpfs there.
    let destinationRoot: String
    let confdir = IntegrationEnvironment.repositoryRoot + "/Deploy/confd/haproxy"

    private let lock = NSLock()
    private var agents: [String: AgentProcess] = [:]
    /// A host's own path to etcd, when the scenario cuts it (partition).
    private var etcdPaths: [String: ClusterIntegrationTests.EtcdPath] = [:]
    private var _render: AgentProcess?
    private var _haproxy: Daemon?
    /// The single host-local agent (or the first host's).
    var agent: AgentProcess? { lock.withLock { hosts.first.flatMap { agents[$0.name] } } }
    func agent(on host: String) -> AgentProcess? { lock.withLock { agents[host] } }
    var render: AgentProcess? { lock.withLock { _render } }
    var haproxy: Daemon? { lock.withLock { _haproxy } }
    private(set) var agentLogs: [String] = []

    var hostIP: String { hosts.first?.hostIP ?? "127.0.0.1" }

    init(
        harness: AgentHarness, daemons: DaemonGroup, etcdEndpoints: [String], count: Int = 3, hosts: [FaultHost],
        cluster: Bool = false, ttl: Int = 5
    ) throws {
        self.harness = harness
        self.daemons = daemons
        self.etcdEndpoints = etcdEndpoints
        self.count = count
        self.hosts = hosts
        self.cluster = cluster
        self.ttl = ttl
        folder = harness.directory + "-stack"
        destinationRoot = folder + "/dest"
        try FileManager.default.createDirectory(atPath: destinationRoot, withIntermediateDirectories: true)
    }

    func agentID(_ host: FaultHost) -> String { cluster ? "\(harness.agentID)-\(host.name)" : harness.agentID }

    /// The labels that pick this stack's containers of the app on any of its hosts.
    var containerLabels: [String] { cluster ? [] : ["io.hecd.agent=\(harness.agentID)"] }

    var environment: [String: String] {
        [
            "HECD_HAPROXY_BIND": "127.0.0.1:\(proxyPort)",
            "HECD_HAPROXY_STATS_PORT": String(statsPort),
            "HECD_HAPROXY_PIDFILE": "\(folder)/haproxy.pid",
            "HECD_HAPROXY_SOCKET": "\(folder)/haproxy.sock",
            "HECD_DEST_ROOT": destinationRoot,
            "HECD_ETCD": etcdEndpoints.joined(separator: ","),
        ]
    }
    private let statsPort = freePort()
    var configPath: String { "\(destinationRoot)/etc/hecd/haproxy.cfg" }

    func manifest(replicas: Int? = nil, extra: String = "") -> String {
        harness.webManifest(
            app: app, replicas: replicas ?? count, extra: "register: {prefix: /app/servers, drain: 1}\n" + extra)
    }

    /// A first render, HAProxy, the renderer and the agent, in the README's order; returns once HAProxy
    /// serves from `count` containers.
    func start() async throws {
        try harness.writeManifest(app, manifest())
        if cluster {
            for host in hosts { try startAgent(host.name) }
            try await waitForHosts()
            try await apply()
        }
        let first = try AgentProcess(
            arguments: ["--confdir", confdir, "--onetime", "--sync-only"], command: "render", environment: environment)
        await first.wait(within: .seconds(30))
        try startHAProxy()
        let render = try AgentProcess(arguments: ["--confdir", confdir], command: "render", environment: environment)
        lock.withLock { _render = render }
        if !cluster { try startAgent() }
        try await waitUntilServed(by: count)
    }

    /// `hecd apply` of the manifest directory (cluster mode).
    func apply() async throws {
        let result = try await runProgram(AgentProcess.binary, ["apply", harness.directory, "--etcd", etcdEndpoints.joined(separator: ",")])
        guard result.status == 0 else { throw TestFailure("hecd apply: \(result.output)") }
    }

    /// Waits until every cluster agent has announced its host.
    func waitForHosts() async throws {
        let client = EtcdClient(endpoints: etcdEndpoints)
        let ids = hosts.map(agentID)
        let announced = await eventually(within: 20) {
            let keys = ((try? await client.range(prefix: "/hecd/hosts/").kvs) ?? []).map(\.key)
            return ids.allSatisfy { keys.contains("/hecd/hosts/\($0)") }
        }
        if !announced { throw TestFailure("not every cluster agent announced its host\n\(logs)") }
    }

    /// The scheduler leader's host, from `hecd apps`.
    func leaderHost() async throws -> String? {
        let result = try await runProgram(AgentProcess.binary, ["apps", "--etcd", etcdEndpoints.joined(separator: ",")])
        let leader = result.output.split(separator: "\n").first?.split(separator: " ").last.map(String.init)
        return hosts.first { agentID($0) == leader }?.name
    }

    func startHAProxy() throws {
        let haproxy = try daemons.start(
            "/usr/sbin/haproxy", ["-W", "-S", "\(folder)/master.sock", "-p", "\(folder)/haproxy.pid", "-f", configPath],
            logFile: "\(folder)/haproxy.log")
        lock.withLock { _haproxy = haproxy }
    }

    /// SIGKILL to HAProxy's master and workers.
    func killHAProxy() async {
        await haproxy?.kill()
    }

    /// Starts the agent of `host` (the first host by default), through its cut-able path to etcd if it has one.
    func startAgent(_ hostName: String? = nil) throws {
        guard let host = hosts.first(where: { $0.name == (hostName ?? hosts.first?.name) }) else { return }
        let etcd = lock.withLock { etcdPaths[host.name]?.url } ?? etcdEndpoints.joined(separator: ",")
        var arguments = ["--agent-id", agentID(host), "--etcd", etcd, "--host-ip", host.hostIP, "--ttl", String(ttl)]
        if cluster {
            arguments += ["--cluster", "--resync", "5", "--drain", "0.5"]
        } else {
            arguments += ["--manifests", harness.directory]
        }
        if let address = host.address { arguments += ["--docker", address] }
        let agent = try AgentProcess(arguments: arguments)
        lock.withLock { agents[host.name] = agent }
    }

    /// kill -9 of an agent (the first host's by default); its log is kept for the report.
    func killAgent(_ hostName: String? = nil) async {
        guard let agent = hostName.map({ self.agent(on: $0) }) ?? agent else { return }
        await agent.kill()
        lock.withLock { agentLogs.append(agent.log) }
    }

    /// Gives `host`'s agent a path to etcd of its own (socat), which `cutEtcdPath` can cut: call before `start`.
    func routeEtcdThroughPath(of hostName: String) async throws {
        guard let target = etcdEndpoints.first else { return }
        let path = ClusterIntegrationTests.EtcdPath(target: target)
        try await path.open()
        lock.withLock { etcdPaths[hostName] = path }
    }

    func cutEtcdPath(of hostName: String) async {
        await lock.withLock { etcdPaths[hostName] }?.cut()
    }

    func restoreEtcdPath(of hostName: String) async throws {
        try await lock.withLock { etcdPaths[hostName] }?.open()
    }

    /// Running containers of the app on `hosts` (all by default), of engines that answer.
    func runningContainers(on hostNames: Set<String>? = nil) async -> [ContainerSummary] {
        var result: [ContainerSummary] = []
        for host in hosts where hostNames?.contains(host.name) ?? true {
            let listed = (try? await host.docker.listContainers(labels: containerLabels + ["io.hecd.app=\(app)"])) ?? []
            result += listed.filter { $0.state == "running" }
        }
        return result
    }

    /// After a fault: the stack still takes a change (a new container registered and routed, then scaled back).
    func takesAChange() async throws {
        try harness.writeManifest(app, manifest(replicas: count + 1))
        try await waitUntilServed(by: count + 1, within: 30)
        try harness.writeManifest(app, manifest())
        try await waitUntilServed(by: count, within: 30)
    }

    /// Waits until the proxy rotates over `count` distinct running containers.
    func waitUntilServed(by count: Int, on hostNames: Set<String>? = nil, within seconds: Double = 60) async throws {
        let probe = ProxyProbe(port: proxyPort)
        var served = Set<String>()
        let met = await eventually(within: seconds) {
            served = []
            for _ in 0..<(count * 6) {
                if let answer = await probe.get(), answer.status == 200,
                    let line = answer.body.split(separator: "\n").first(where: { $0.hasPrefix("hello from ") })
                {
                    served.insert(String(line.dropFirst("hello from ".count)))
                }
            }
            let running = await self.runningContainers(on: hostNames)
            return served.count == count && running.count == count
        }
        if !met { throw TestFailure("HAProxy did not come to serve from \(count) containers (it served \(served))\n\(logs)") }
    }

    var logs: String {
        let live = lock.withLock { self.agents.sorted { $0.key < $1.key }.map { "[\($0.key)] \($0.value.log.suffix(3000))" } }
        let all = (agentLogs.map { String($0.suffix(3000)) } + live).joined(separator: "\n--- agent ---\n")
        return "agent:\n\(all.suffix(6000))\nrender:\n\(render?.log.suffix(4000) ?? "")\nhaproxy:\n\(haproxy?.log.suffix(2000) ?? "")"
    }

    func stopAll() async {
        for agent in lock.withLock({ Array(agents.values) }) { await agent.terminate(grace: .seconds(20)) }
        for path in lock.withLock({ Array(etcdPaths.values) }) { await path.cut() }
        await render?.terminate(grace: .seconds(10))
        await haproxy?.stop()
        try? FileManager.default.removeItem(atPath: folder)
    }
}

/// Runs one fault scenario on a fresh stack: starts it, then the checker and the client loop, runs `inject`
/// (which calls `checker.begin`/`end` around each fault), lets the stack settle for `settle`, and returns the row.
/// The row is published, and the targets of issue 16 are expected of it.
func runFaultScenario(
    _ scenario: String, etcdEndpoints: [String], count: Int = 3,
    hosts: [FaultHost] = [FaultHost(name: "local", docker: DockerClient(host: .localEngine), hostIP: "127.0.0.1")],
    cluster: Bool = false, ttl: Int = 5, grace: Duration = .seconds(3), settle: Duration = .seconds(3),
    expectations: FaultExpectations = FaultExpectations(),
    prepare: (FaultStack) async throws -> Void = { _ in },
    _ inject: (FaultStack, InvariantChecker) async throws -> OutageMeasurement?
) async throws {
    try await withDaemons { daemons in
        try await withAgentHarness(docker: hosts.first?.docker ?? DockerClient(host: .localEngine)) { harness in
            let stack = try FaultStack(
                harness: harness, daemons: daemons, etcdEndpoints: etcdEndpoints, count: count, hosts: hosts,
                cluster: cluster, ttl: ttl)
            let checked = CheckedApp(
                name: stack.app, count: count, prefix: "/app/servers/",
                engines: hosts.map { CheckedEngine(name: $0.name, docker: $0.docker, hostIP: $0.hostIP) },
                labels: stack.containerLabels)
            let checker = InvariantChecker(app: checked, etcdEndpoints: etcdEndpoints, clusterSlots: cluster)
            let client = ClientLoop(proxyPort: stack.proxyPort)
            do {
                try await prepare(stack)
                try await stack.start()
                let began = ContinuousClock.now
                await checker.start()
                await client.start()
                let outage = try await inject(stack, checker)
                try await Task.sleep(for: settle)
                await client.stop()
                await checker.stop()
                let failures = await client.failures
                var attributed = 0
                var flagged: [String] = []
                for failure in failures {
                    if await checker.blame(sent: failure.sent, failed: failure.failed, grace: grace) != nil {
                        attributed += 1
                    } else {
                        flagged.append("\(String(format: "%.1f", (failure.sent - began).seconds)) s: \(failure.reason)")
                    }
                }
                var violations = await checker.violations.map(\.description)
                if await checker.longestStale > .seconds(1) {
                    violations.append("stale longest: \(await checker.longestStaleKey)")
                }
                let row = FaultRow(
                    scenario: scenario, duration: .now - began, faults: await checker.faults.map(\.name),
                    requests: await client.sent, failedAttributed: attributed, failedFlagged: flagged.count,
                    longestStale: await checker.longestStale, duplicates: await checker.duplicates,
                    keysLost: await checker.keysLost, outageCPU: outage?.cpuShare,
                    outageLogLinesPerMinute: outage?.logLinesPerMinute,
                    violations: violations + flagged.prefix(10).map { "failed request at \($0), put down to no fault" })
                row.publish()
                let context = "\(scenario): \(row.markdown)\n\(violations.joined(separator: "\n"))\n\(stack.logs)"
                #expect(row.requests > 20, "the client loop ran: \(context)")
                #expect(flagged.isEmpty, "failed requests no fault explains: \(flagged.prefix(10)) — \(context)")
                #expect(row.keysLost == 0, "keys lost: \(context)")
                #expect(row.duplicates == 0, "duplicates beyond the surge: \(context)")
                #expect(row.longestStale <= expectations.staleLimit(ttl: ttl), "a key stale past the TTL: \(context)")
                #expect(await checker.violations.isEmpty || expectations.toleratesViolations, "invariants broken: \(context)")
                if let outage {
                    // A number to measure, not to time: this only catches a busy loop.
                    #expect(outage.cpuShare < 0.2, "the agent spins during the outage: \(context)")
                }
            } catch {
                await client.stop()
                await checker.stop()
                await stack.stopAll()
                throw error
            }
            await stack.stopAll()
        }
    }
}

/// What a scenario may relax.
struct FaultExpectations: Sendable {
    /// The fault kills an agent (or its host): its keys may point to containers that are gone until its lease
    /// expires, the TTL (plus the checker's sampling and etcd's expiry granularity). A live agent withdraws a
    /// key within about a second.
    var anAgentDies = false
    var toleratesViolations = false

    func staleLimit(ttl: Int) -> Duration { anAgentDies ? .seconds(ttl + 1) : .seconds(2) }
}

/// The agent's CPU share of one core and its log lines a minute over an outage.
struct OutageMeasurement: Sendable {
    var cpuShare: Double
    var logLinesPerMinute: Double

    /// Measures `agent` while `outage` runs.
    static func during(_ agent: AgentProcess?, _ outage: () async throws -> Void) async throws -> OutageMeasurement? {
        guard let agent else {
            try await outage()
            return nil
        }
        let startCPU = cpuTime(of: agent.pid)
        let startLines = agent.log.split(separator: "\n").count
        let start = ContinuousClock.now
        try await outage()
        let elapsed = ContinuousClock.now - start
        guard let startCPU, let endCPU = cpuTime(of: agent.pid), elapsed > .zero else { return nil }
        let lines = agent.log.split(separator: "\n").count - startLines
        return OutageMeasurement(
            cpuShare: (endCPU - startCPU).seconds / elapsed.seconds,
            logLinesPerMinute: Double(lines) / elapsed.seconds * 60)
    }
}
