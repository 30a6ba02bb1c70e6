import DockerEngine
import Etcd
import Prometheus
import Registry
import Render
import Synchronization

/// Whether a dependency (Docker, etcd) answered its last call: what `/readyz` reports.
public final class Reachability: Sendable {
    private let state = Mutex<(reachable: Bool?, reason: String)>((nil, "no call yet"))

    public init() {}

    /// True after an answer (even an error status), false after a transport failure, nil before any call.
    public var reachable: Bool? { state.withLock { $0.reachable } }
    /// Why it is not reachable, for `/readyz`.
    public var reason: String { state.withLock { $0.reason } }

    func answered() { state.withLock { $0 = (true, "") } }

    func failed(_ reason: String) { state.withLock { $0 = (false, reason) } }
}

/// Per-operation request counters and duration histograms of one dependency, made once per label set.
final class CallMetrics: Sendable {
    private let metrics: HECDMetrics
    private let requests: String
    private let durations: String
    private let made = Mutex<[String: DurationHistogram]>([:])
    private let counters = Mutex<[String: Prometheus.Counter]>([:])

    init(metrics: HECDMetrics, requests: String, durations: String) {
        self.metrics = metrics
        self.requests = requests
        self.durations = durations
    }

    func record(_ operation: String, result: String, duration: Duration) {
        let histogram = made.withLock { made in
            if let existing = made[operation] { return existing }
            let new = metrics.durations(durations, [("operation", operation)])
            made[operation] = new
            return new
        }
        histogram.record(duration)
        count(operation, result: result)
    }

    func count(_ operation: String, result: String) {
        let key = operation + "\u{0}" + result
        let counter = counters.withLock { counters in
            if let existing = counters[key] { return existing }
            let new = metrics.counter(requests, [("operation", operation), ("result", result)])
            counters[key] = new
            return new
        }
        counter.increment()
    }

    /// Times `body`, counts its result (`ok`; `error` when the peer answered with an error; `unreachable`).
    func measure<Value, Failure: Error>(
        _ operation: String, reachability: Reachability, isTransport: (Failure) -> Bool,
        _ body: () async throws(Failure) -> Value
    ) async throws(Failure) -> Value {
        let clock = ContinuousClock()
        let start = clock.now
        do {
            let value = try await body()
            record(operation, result: "ok", duration: clock.now - start)
            reachability.answered()
            return value
        } catch {
            if error is CancellationError {
                throw error
            }
            let transport = isTransport(error)
            record(operation, result: transport ? "unreachable" : "error", duration: clock.now - start)
            if transport { reachability.failed("\(error)") } else { reachability.answered() }
            throw error
        }
    }
}

/// A `ContainerEngine` that times and counts every Docker call (`hecd_docker_requests_total`,
/// `hecd_docker_request_duration_seconds`) and remembers whether the engine answered.
public struct InstrumentedEngine: ContainerEngine {
    let base: any ContainerEngine
    let calls: CallMetrics
    public let reachability: Reachability

    public init(_ base: any ContainerEngine, metrics: HECDMetrics, reachability: Reachability = Reachability()) {
        self.base = base
        self.reachability = reachability
        calls = CallMetrics(
            metrics: metrics, requests: "hecd_docker_requests_total", durations: "hecd_docker_request_duration_seconds")
    }

    public var location: String { base.location }

    private func call<Value>(_ operation: String, _ body: () async throws(DockerError) -> Value) async throws(DockerError) -> Value {
        try await calls.measure(operation, reachability: reachability, isTransport: { $0.isUnreachable }, body)
    }

    public func listContainers(labels: [String]) async throws(DockerError) -> [ContainerSummary] {
        try await call("list") { () async throws(DockerError) in try await base.listContainers(labels: labels) }
    }

    public func inspectContainer(_ id: String) async throws(DockerError) -> ContainerDetails {
        try await call("inspect") { () async throws(DockerError) in try await base.inspectContainer(id) }
    }

    public func createContainer(name: String, config: ContainerConfig) async throws(DockerError) -> String {
        try await call("create") { () async throws(DockerError) in try await base.createContainer(name: name, config: config) }
    }

    public func startContainer(_ id: String) async throws(DockerError) {
        try await call("start") { () async throws(DockerError) in try await base.startContainer(id) }
    }

    public func stopContainer(_ id: String, timeout: Int) async throws(DockerError) {
        try await call("stop") { () async throws(DockerError) in try await base.stopContainer(id, timeout: timeout) }
    }

    public func removeContainer(_ id: String, force: Bool) async throws(DockerError) {
        try await call("remove") { () async throws(DockerError) in try await base.removeContainer(id, force: force) }
    }

    public func followEvents(labels: [String], maximumBackoff: Duration) -> AsyncStream<EventStreamUpdate> {
        let calls = calls
        let reachability = reachability
        let upstream = base.followEvents(labels: labels, maximumBackoff: maximumBackoff)
        return AsyncStream { continuation in
            let task = Task {
                for await update in upstream {
                    switch update {
                    case .connected:
                        calls.count("events", result: "ok")
                        reachability.answered()
                    case .disconnected(let reason, _):
                        calls.count("events", result: "unreachable")
                        reachability.failed(reason)
                    case .event:
                        break
                    }
                    continuation.yield(update)
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    public func inspectImage(_ name: String) async throws(DockerError) -> ImageDetails {
        try await call("inspect_image") { () async throws(DockerError) in try await base.inspectImage(name) }
    }

    public func pullImage(_ reference: String, progress: @Sendable (PullProgress) -> Void) async throws(DockerError) {
        try await call("pull") { () async throws(DockerError) in try await base.pullImage(reference, progress: progress) }
    }
}

extension HECDMetrics {
    /// For an `EtcdClient` of its own (cluster mode's: the scheduler's transactions, a host's slot reads): its
    /// requests count in `hecd_etcd_requests_total` and `hecd_etcd_request_duration_seconds` as the registry's do.
    public func etcdRequestObserver() -> @Sendable (EtcdRequestRecord) -> Void {
        let calls = CallMetrics(metrics: self, requests: "hecd_etcd_requests_total", durations: "hecd_etcd_request_duration_seconds")
        return { record in calls.record(record.operation, result: record.result.rawValue, duration: record.duration) }
    }
}

/// A `RegistryStore` that times and counts every etcd request (`hecd_etcd_requests_total`,
/// `hecd_etcd_request_duration_seconds`), counts failed keepalives, and remembers whether etcd answered.
public struct InstrumentedStore: RegistryStore {
    let base: any RegistryStore
    let calls: CallMetrics
    let keepAliveFailures: Prometheus.Counter
    public let reachability: Reachability

    public init(_ base: any RegistryStore, metrics: HECDMetrics, reachability: Reachability = Reachability()) {
        self.base = base
        self.reachability = reachability
        calls = CallMetrics(
            metrics: metrics, requests: "hecd_etcd_requests_total", durations: "hecd_etcd_request_duration_seconds")
        keepAliveFailures = metrics.counter("hecd_etcd_lease_keepalive_failures_total")
    }

    private func call<Value>(_ operation: String, _ body: () async throws -> Value) async throws -> Value {
        try await calls.measure(operation, reachability: reachability, isTransport: Self.isTransport, body)
    }

    @Sendable static func isTransport(_ error: any Error) -> Bool {
        if case .transport = error as? EtcdError { return true }
        return false
    }

    public func grantLease(ttl: Int) async throws -> Int64 {
        try await call("lease_grant") { try await base.grantLease(ttl: ttl) }
    }

    public func keepAlive(_ lease: Int64) async throws -> Int? {
        do {
            let remaining = try await call("lease_keepalive") { try await base.keepAlive(lease) }
            if remaining == nil { keepAliveFailures.increment() }
            return remaining
        } catch {
            keepAliveFailures.increment()
            throw error
        }
    }

    public func revokeLease(_ lease: Int64) async throws {
        try await call("lease_revoke") { try await base.revokeLease(lease) }
    }

    public func put(_ key: String, _ value: String, lease: Int64) async throws {
        try await call("put") { try await base.put(key, value, lease: lease) }
    }

    public func delete(_ key: String) async throws {
        try await call("delete") { try await base.delete(key) }
    }

    public func get(_ key: String) async throws -> StoredKey? {
        try await call("get") { try await base.get(key) }
    }

    public func list(prefix: String) async throws -> [StoredKey] {
        try await call("range") { try await base.list(prefix: prefix) }
    }
}

/// A `KeySource` (the renderer's etcd) that times and counts reads and watch updates, and remembers whether
/// etcd answered.
public struct InstrumentedKeySource: KeySource {
    let base: any KeySource
    let calls: CallMetrics
    let metrics: HECDMetrics
    public let reachability: Reachability

    public init(_ base: any KeySource, metrics: HECDMetrics, reachability: Reachability = Reachability()) {
        self.base = base
        self.metrics = metrics
        self.reachability = reachability
        calls = CallMetrics(
            metrics: metrics, requests: "hecd_etcd_requests_total", durations: "hecd_etcd_request_duration_seconds")
    }

    public func readKeys(prefix: String, revision: Int64?) async throws -> EtcdRange {
        try await calls.measure("range", reachability: reachability, isTransport: InstrumentedStore.isTransport) {
            try await base.readKeys(prefix: prefix, revision: revision)
        }
    }

    public func watchKeys(prefix: String, fromRevision: Int64) -> AsyncStream<EtcdWatchUpdate> {
        let upstream = base.watchKeys(prefix: prefix, fromRevision: fromRevision)
        let reachability = reachability
        let counters = ["events", "connected", "disconnected", "failed"].map {
            ($0, metrics.counter("hecd_render_watch_events_total", [("result", $0)]))
        }
        let byResult = Dictionary(counters, uniquingKeysWith: { first, _ in first })
        return AsyncStream { continuation in
            let task = Task {
                for await update in upstream {
                    switch update {
                    case .connected:
                        byResult["connected"]?.increment()
                        reachability.answered()
                    case .events, .resyncNeeded:
                        byResult["events"]?.increment()
                        reachability.answered()
                    case .disconnected(let reason, _):
                        byResult["disconnected"]?.increment()
                        reachability.failed(reason)
                    case .failed(let error):
                        byResult["failed"]?.increment()
                        reachability.failed("\(error)")
                    }
                    continuation.yield(update)
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
