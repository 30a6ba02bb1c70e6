import DockerEngine
import Etcd
import Foundation
import HTTPTransport
import TestSupport

/// A fault a scenario injected: when, and what it may cost. Failed requests inside its window (plus a grace
/// period) are put down to it when it `mayFailRequests` (it killed containers or the proxy); any other
/// failure is flagged.
struct InjectedFault: Sendable {
    var name: String
    var start: ContinuousClock.Instant
    var end: ContinuousClock.Instant?
    /// Containers of the app it killed: the running count may dip by that much until they are replaced.
    var killedContainers: Int
    var mayFailRequests: Bool
}

/// One Docker host of the stack: its engine and the IP its containers' keys announce.
struct CheckedEngine: Sendable {
    var name: String
    var docker: DockerClient
    var hostIP: String
}

/// What one app must look like: `count` containers (with `labels`) over the engines, registered under `prefix`.
struct CheckedApp: Sendable {
    var name: String
    var count: Int
    var prefix: String
    var engines: [CheckedEngine]
    var labels: [String]
}

/// Watches the invariants of issue 16 for the whole of a scenario, against the real etcd, dockerd and
/// HAProxy, every `interval`:
/// 1. every key under the prefix points to a running container of its app, and that container answers;
/// 2. every ready container (running and answering) has its key within `keyDeadline`, unless the app already
///    has its count registered (a container being drained is deregistered on purpose);
/// 3. per app, running containers stay within [count − containers the faults killed, count + 1];
/// 4. failed requests of the client loop are put down to a fault, or flagged;
/// 5. cluster mode: no slot is assigned twice.
actor InvariantChecker {
    struct Violation: Sendable, CustomStringConvertible {
        var at: Duration
        var what: String
        var description: String { "at \(String(format: "%.1f", at.seconds)) s: \(what)" }
    }

    let app: CheckedApp
    let etcd: EtcdClient
    let keyDeadline: Duration
    let interval: Duration
    let probes = HTTPClient(endpoint: .anyURL)
    let began = ContinuousClock.now

    private(set) var faults: [InjectedFault] = []
    private(set) var violations: [Violation] = []
    private(set) var samples = 0
    private(set) var etcdUnreachableSamples = 0
    /// Longest time a key pointed to something that was not a running, answering container of its app.
    private(set) var longestStale: Duration = .zero
    /// The key that was stale longest, its value, and what was wrong.
    private(set) var longestStaleKey = ""
    /// Longest time a ready container went without its key while etcd answered and the app was short.
    private(set) var longestMissing: Duration = .zero
    /// Ready containers that went without their key past `keyDeadline` (each counted once per episode).
    private(set) var keysLost = 0
    /// The most containers running beyond count + 1 (the surge), and slots assigned twice.
    private(set) var duplicates = 0
    private(set) var fewestRunning = Int.max
    private(set) var mostRunning = 0

    private var staleSince: [String: ContinuousClock.Instant] = [:]
    private var missingSince: [String: ContinuousClock.Instant] = [:]
    private var lostOnce: Set<String> = []
    private var loop: Task<Void, Never>?
    /// Whether to read /hecd/assign/ for slots assigned twice.
    let clusterSlots: Bool

    init(
        app: CheckedApp, etcdEndpoints: [String], clusterSlots: Bool = false,
        keyDeadline: Duration = .seconds(1), interval: Duration = .milliseconds(200)
    ) {
        self.app = app
        self.etcd = EtcdClient(endpoints: etcdEndpoints, requestTimeout: .milliseconds(800))
        self.clusterSlots = clusterSlots
        self.keyDeadline = keyDeadline
        self.interval = interval
    }

    func start() {
        loop = Task {
            while !Task.isCancelled {
                await sample()
                try? await Task.sleep(for: interval)
            }
        }
    }

    func stop() async {
        loop?.cancel()
        await loop?.value
        loop = nil
    }

    /// Marks a fault as begun; `end(_:)` closes its window.
    func begin(_ name: String, killedContainers: Int = 0, mayFailRequests: Bool = false) {
        faults.append(InjectedFault(
            name: name, start: .now, end: nil, killedContainers: killedContainers, mayFailRequests: mayFailRequests))
    }

    /// Hosts cut off from the cluster (partitioned, or whose agent died with its containers running): their
    /// containers are not the cluster's while they are out, and count for nothing.
    private(set) var excludedHosts: Set<String> = []

    func exclude(_ host: String) { excludedHosts.insert(host) }
    func include(_ host: String) { excludedHosts.remove(host) }

    func end(_ name: String) {
        if let index = faults.lastIndex(where: { $0.name == name && $0.end == nil }) { faults[index].end = .now }
    }

    /// Containers killed by faults whose effects may still show: a fault's allowance lasts until the app has
    /// its count running again after the fault ended.
    private var killedAllowance = 0
    private var allowanceOpen = false

    private func record(_ what: String) {
        let violation = Violation(at: .now - began, what: what)
        // The same problem reported on every sample would drown the rest.
        if violations.last?.what != what { violations.append(violation) }
    }

    /// One look at etcd, the engines and the containers' ports.
    func sample() async {
        samples += 1
        let now = ContinuousClock.now
        let keys: [EtcdKeyValue]?
        do {
            keys = try await etcd.range(prefix: app.prefix).kvs
        } catch {
            keys = nil
            etcdUnreachableSamples += 1
        }
        var containers: [(summary: ContainerSummary, hostIP: String, host: String)] = []
        var silentHosts: Set<String> = []
        for engine in app.engines {
            do {
                let listed = try await engine.docker.listContainers(labels: app.labels + ["io.hecd.app=\(app.name)"])
                containers += listed.map { ($0, engine.hostIP, engine.name) }
            } catch {
                silentHosts.insert(engine.name)
            }
        }
        let silentIPs = Set(app.engines.filter { silentHosts.contains($0.name) }.map(\.hostIP))
        let counted = containers.filter { !excludedHosts.contains($0.host) }

        // 3. The running count.
        let running = counted.filter { $0.summary.state == "running" }.count
        fewestRunning = min(fewestRunning, running)
        mostRunning = max(mostRunning, running)
        let active = faults.filter { $0.end == nil }.reduce(0) { $0 + $1.killedContainers }
        if active > 0 {
            killedAllowance = max(killedAllowance, active)
            allowanceOpen = true
        } else if allowanceOpen, running >= app.count {
            allowanceOpen = false
            killedAllowance = 0
        }
        let floor = app.count - (allowanceOpen ? killedAllowance : 0)
        // An engine that did not answer this time (a dead host, or a slow list) hides what runs on it.
        if running < floor, silentHosts.subtracting(excludedHosts).isEmpty { record("\(running) containers running, fewer than \(floor)") }
        if running > app.count + 1 {
            duplicates = max(duplicates, running - app.count - 1)
            record("\(running) containers running, more than count + 1 = \(app.count + 1)")
        }

        // 1. Every key points to a running container of its app that answers.
        var healthyKeys: Set<String> = []
        if let keys {
            for kv in keys {
                let name = String(kv.key.split(separator: "/").last ?? "")
                let container = containers.first { $0.summary.name == name }
                var healthy = false
                if let container, container.summary.state == "running",
                    let port = container.summary.ports.first(where: { "\(container.hostIP):\($0.publicPort ?? 0)" == kv.value })
                {
                    healthy = await answers(container.hostIP, port.publicPort ?? 0, name: name)
                } else if container == nil, let ip = kv.value.split(separator: ":").first, silentIPs.contains(String(ip)),
                    let port = kv.value.split(separator: ":").last.flatMap({ Int($0) })
                {
                    // Its engine does not answer: the container itself may still.
                    healthy = await answers(String(ip), port, name: name)
                }
                if healthy {
                    staleSince[kv.key] = nil
                    healthyKeys.insert(name)
                } else {
                    let since = staleSince[kv.key] ?? now
                    staleSince[kv.key] = since
                    if now - since > longestStale {
                        longestStale = now - since
                        let what = container.map { "its container is \($0.summary.state), ports \($0.summary.ports.compactMap(\.publicPort))" }
                            ?? "no such container"
                        longestStaleKey = "\(kv.key) = \(kv.value) (lease \(kv.lease.map { "\($0)" } ?? "none")): \(what)"
                    }
                }
            }
            let present = Set(keys.map(\.key))
            staleSince = staleSince.filter { present.contains($0.key) }
        }

        // 2. Every ready container has its key, unless the app has its count registered already.
        if let keys {
            // Stale keys (a dead agent's, until its lease expires) do not make up the count.
            let registered = Set(keys.map { String($0.key.split(separator: "/").last ?? "") })
            let short = healthyKeys.count < app.count
            for container in counted where container.summary.state == "running" {
                let name = container.summary.name
                guard !registered.contains(name), short else {
                    missingSince[name] = nil
                    lostOnce.remove(name)
                    continue
                }
                guard let port = container.summary.ports.first(where: { $0.privatePort == 80 })?.publicPort,
                    await answers(container.hostIP, port, name: name)
                else { continue }
                let since = missingSince[name] ?? now
                missingSince[name] = since
                longestMissing = max(longestMissing, now - since)
                if now - since > keyDeadline, !lostOnce.contains(name) {
                    lostOnce.insert(name)
                    keysLost += 1
                    record("\(name) answers but has no key after \(String(format: "%.1f", (now - since).seconds)) s")
                }
            }
        } else {
            // etcd unreachable: a missing key cannot be told from a read that failed.
            missingSince = [:]
        }

        // 5. No slot assigned twice.
        if clusterSlots, let assigned = try? await etcd.range(prefix: "/hecd/assign/").kvs {
            var holders: [String: Int] = [:]
            for kv in assigned {
                // /hecd/assign/<host>/<app>/<slot>
                let parts = kv.key.split(separator: "/")
                guard parts.count >= 5 else { continue }
                holders["\(parts[3])/\(parts[4])", default: 0] += 1
            }
            let twice = holders.filter { $0.value > 1 }
            if !twice.isEmpty {
                duplicates = max(duplicates, twice.count)
                record("slots assigned twice: \(twice.keys.sorted())")
            }
        }
    }

    private func answers(_ host: String, _ port: Int, name: String) async -> Bool {
        let request = HTTPRequest(.get, "http://\(host):\(port)/", headers: ["Connection": "close"], timeout: .milliseconds(800))
        guard let response = try? await probes.send(request) else { return false }
        return response.status == 200 && response.bodyText.contains("hello from \(name)")
    }

    /// Puts a request that failed, in flight from `sent` to `failed`, down to a fault that may fail requests
    /// and whose window (plus `grace`) overlaps it.
    func blame(sent: ContinuousClock.Instant, failed: ContinuousClock.Instant, grace: Duration) -> String? {
        faults.first { fault in
            fault.mayFailRequests && fault.start <= failed && sent <= (fault.end ?? .now) + grace
        }?.name
    }
}
