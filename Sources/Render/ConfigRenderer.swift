import Etcd
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import HAProxyRuntime
import Logging
import Primitives
import ServiceLifecycle
import Synchronization
import Templates

/// How the renderer follows etcd.
public struct RenderOptions: Sendable {
    public var write: WriteSettings
    /// Quiet time after the last change of a burst before rendering.
    public var debounce: Duration
    /// Longest delay between a change and its render while changes keep coming.
    public var maxWait: Duration
    /// Poll every interval instead of watching (confd's `-interval`); nil watches.
    public var pollInterval: Duration?
    /// What templates see through `getenv`.
    public var environment: [String: String]
    /// Longest pause between attempts to read from an unreachable etcd.
    public var maximumBackoff: Duration
    /// Where `--noop` diffs go (standard output by default).
    public var printDiff: @Sendable (String) -> Void

    public init(
        write: WriteSettings = WriteSettings(), debounce: Duration = .milliseconds(50), maxWait: Duration = .seconds(1),
        pollInterval: Duration? = nil, environment: [String: String] = ProcessInfo.processInfo.environment,
        maximumBackoff: Duration = .seconds(5),
        printDiff: @escaping @Sendable (String) -> Void = { print($0, terminator: $0.hasSuffix("\n") ? "" : "\n") }
    ) {
        self.write = write
        self.debounce = debounce
        self.maxWait = maxWait
        self.pollInterval = pollInterval
        self.environment = environment
        self.maximumBackoff = maximumBackoff
        self.printDiff = printDiff
    }
}

/// What happened to one resource in one render.
public struct ResourceReport: Sendable {
    public var resource: TemplateResource
    public var outcome: SyncOutcome
    /// How many keys the template saw.
    public var keyCount: Int
    public var at: ContinuousClock.Instant
}

/// The outcome of `renderOnce`.
public struct RenderSummary: Sendable {
    public var reports: [ResourceReport]
    /// The etcd revision the keys were read at.
    public var revision: Int64
    public var failed: Bool { reports.contains { $0.outcome.isFailure } }
}

/// A failure that stops the renderer.
public enum RenderError: Error, Sendable, CustomStringConvertible {
    /// etcd ended a watch for good (e.g. the etcd user may not read the prefix).
    case watchFailed(prefix: String, EtcdError)
    case unreachable(String)

    public var description: String {
        switch self {
        case .watchFailed(let prefix, let error): "the watch on \(prefix) failed: \(error)"
        case .unreachable(let message): message
        }
    }
}

/// confd's job, driven by etcd watches: reads every key the resources need, renders each resource, and keeps
/// the destinations current. Changes are batched (`debounce`, `maxWait`); only resources whose keys changed are
/// rendered again. While etcd is unreachable the current files stay as they are: the renderer never renders
/// from keys it could not read.
public final class ConfigRenderer: Service, Sendable {
    public let resources: [CompiledResource]
    public let options: RenderOptions
    let source: any KeySource
    let writer: ConfigWriter
    let logger: Logger
    let observer: (@Sendable (ResourceReport) -> Void)?

    private struct ResourceState {
        /// The keys the template saw at its last render; nil before the first.
        var lastView: [String: String]?
        /// The reload failed: run it again at the next render even when the file is unchanged.
        var reloadPending = false
        /// The entries the template refused at its last render: each is logged when it first appears.
        var rejected: Set<RejectedEntry> = []
        /// After a failed write (a full or read-only disk): how long until the next try, doubled up to 30 s.
        var writeRetryDelay: Duration?
    }

    private struct Shared {
        var cache = KeyCache()
        var scheduler: DebounceScheduler<ContinuousClock.Instant>
        var states: [ResourceState]
        /// The next render renders every resource (`requestFullRender`).
        var renderAll = false
        /// When to try again the resources whose write failed (their keys may not change again for a while).
        var retryAt: ContinuousClock.Instant?
    }

    private let shared: Mutex<Shared>
    private let wake = WakeSignal()
    private let connection: EtcdConnectionLog
    /// Deletes the servers that the runtime API left in maintenance, once their connections close.
    private let leftoverServers: LeftoverServerSweeper

    /// - Parameters:
    ///   - source: an `EtcdClient`, or any other `KeySource`.
    ///   - observer: called after each resource's render, e.g. by tests.
    public init(
        resources: [CompiledResource], source: any KeySource, options: RenderOptions = RenderOptions(),
        logger: Logger = Logger(label: "hecd.render"), runner: ShellCommandRunner = ShellCommandRunner(),
        observer: (@Sendable (ResourceReport) -> Void)? = nil
    ) {
        self.resources = resources
        self.source = source
        self.options = options
        self.writer = ConfigWriter(settings: options.write, runner: runner)
        self.logger = logger
        self.observer = observer
        connection = EtcdConnectionLog(logger: logger)
        let names = Dictionary(
            resources.map { ($0.resource.destinationPath(root: options.write.destinationRoot), $0.resource.name) },
            uniquingKeysWith: { first, _ in first })
        leftoverServers = LeftoverServerSweeper { [logger] configPath, servers in
            let deleted = servers.map(\.description).joined(separator: ", ")
            logger.debug("\(names[configPath] ?? configPath): deleted \(deleted) from HAProxy (their connections closed)")
        }
        shared = Mutex(Shared(
            scheduler: DebounceScheduler(debounce: options.debounce, maxWait: options.maxWait),
            states: Array(repeating: ResourceState(), count: resources.count)))
    }

    /// The etcd prefixes read and watched: the fewest that cover every resource's keys.
    public var watchedPrefixes: [String] {
        KeyPath.coveringPrefixes(resources.flatMap(\.resource.etcdKeys))
    }

    // MARK: - Once

    /// Reads every key once and renders every resource (`--onetime`). Throws when etcd cannot be read; nothing
    /// is rendered then.
    public func renderOnce() async throws -> RenderSummary {
        let (keys, revision) = try await readAll()
        shared.withLock { $0.cache = KeyCache(keys) }
        let reports = await renderDue(force: true)
        return RenderSummary(reports: reports, revision: revision)
    }

    // MARK: - Running

    /// Renders, then follows etcd until cancelled or shut down gracefully.
    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { [self] in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        if let interval = self.options.pollInterval {
                            try await self.poll(every: interval)
                        } else {
                            try await self.watch()
                        }
                    }
                    if self.resources.contains(where: \.resource.haproxyRuntimeAPI) {
                        group.addTask { try await self.leftoverServers.run() }
                    }
                    try await group.next()
                    group.cancelAll()
                }
            }
        } catch is CancellationError {
            logger.debug("renderer stopped")
        }
    }

    private func watch() async throws {
        let prefixes = watchedPrefixes
        logger.info("watching \(prefixes.joined(separator: ", ")) for \(resources.count) template resource(s)")
        let revision = try await readAllUntilReachable()
        _ = await renderDue(force: true)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for prefix in prefixes {
                group.addTask { try await self.follow(prefix, from: revision + 1) }
            }
            group.addTask { try await self.renderWhenDue() }
            try await group.next()
            group.cancelAll()
        }
    }

    private func poll(every interval: Duration) async throws {
        logger.info("polling \(watchedPrefixes.joined(separator: ", ")) every \(interval) for \(resources.count) template resource(s)")
        var first = true
        while true {
            do {
                let (keys, _) = try await readAll()
                connection.readSucceeded()
                let changed = shared.withLock { shared in
                    let changed = shared.cache.values != keys
                    shared.cache = KeyCache(keys)
                    return changed
                }
                if first || changed { logger.debug("keys changed; rendering") }
                // Every round: resources whose keys changed, and reloads that failed before.
                _ = await renderDue(force: first)
                first = false
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                connection.readFailed(error)
            }
            try await Task.sleep(for: interval)
        }
    }

    /// Applies one prefix's watch updates to the cache and schedules renders.
    private func follow(_ prefix: String, from revision: Int64) async throws {
        for await update in source.watchKeys(prefix: prefix, fromRevision: revision) {
            switch update {
            case .connected:
                connection.watchConnected(prefix)
            case .events(let events, _):
                connection.watchConnected(prefix)
                let changed = shared.withLock { $0.cache.apply(events) }
                if changed { noteChange() }
            case .resyncNeeded(let currentRevision):
                logger.notice("etcd compacted the history of \(prefix): reading it again at revision \(currentRevision)")
                let range = try await readUntilReachable(prefix: prefix, revision: currentRevision)
                let changed = shared.withLock { $0.cache.replace(prefix: prefix, with: range.kvs) }
                if changed { noteChange() }
            case .disconnected(let reason, _):
                connection.watchDisconnected(prefix, reason: reason)
            case .failed(let error):
                throw RenderError.watchFailed(prefix: prefix, error)
            }
        }
        try Task.checkCancellation()
        throw RenderError.unreachable("the watch on \(prefix) ended")
    }

    /// Renders whenever the scheduler says a batch of changes is due.
    private func renderWhenDue() async throws {
        let clock = ContinuousClock()
        while true {
            try Task.checkCancellation()
            let (deadline, retryAt) = shared.withLock { ($0.scheduler.deadline, $0.retryAt) }
            guard let deadline else {
                if let retryAt {
                    // A failed write is tried again then, or sooner with the next change.
                    if clock.now < retryAt { await wake.wait(timeout: retryAt - clock.now) }
                    if shared.withLock({ shared in
                        guard let due = shared.retryAt, clock.now >= due else { return false }
                        shared.retryAt = nil
                        return true
                    }) {
                        _ = await renderDue(force: false)
                    }
                } else {
                    await wake.wait()
                }
                continue
            }
            if clock.now < deadline {
                // Deadlines only move later while waiting, so sleeping to this one never renders late.
                try await Task.sleep(until: deadline, clock: clock)
                continue
            }
            if shared.withLock({ $0.scheduler.takeDue(at: clock.now) }) {
                _ = await renderDue(force: false)
            }
        }
    }

    /// Renders every resource again at the next opportunity (SIGHUP): a destination that differs from what the
    /// template gives (edited by hand, say) is written, checked and reloaded again; the others stay untouched.
    public func requestFullRender() {
        shared.withLock { $0.renderAll = true }
        noteChange()
    }

    private func noteChange() {
        shared.withLock { $0.scheduler.changed(at: ContinuousClock.now) }
        wake.signal()
    }

    // MARK: - Rendering

    /// Renders each resource whose keys changed since its last render (all with `force`), plus those whose
    /// reload failed, in order.
    private func renderDue(force requested: Bool) async -> [ResourceReport] {
        let (keys, force) = shared.withLock { shared in
            defer { shared.renderAll = false }
            return (shared.cache.values, requested || shared.renderAll)
        }
        var reports: [ResourceReport] = []
        for (index, compiled) in resources.enumerated() {
            let view = compiled.resource.view(of: keys)
            let state = shared.withLock { $0.states[index] }
            guard force || state.lastView != view || state.reloadPending else { continue }
            let outcome = await render(
                compiled, keys: keys, keyCount: view.count, retryReload: state.reloadPending, index: index)
            shared.withLock { shared in
                shared.states[index].reloadPending = outcome.needsReload
                if case .writeFailed = outcome {
                    // Not written: rendered again at the next try, whether or not its keys change.
                    shared.states[index].lastView = nil
                    let delay = min(.seconds(30), (shared.states[index].writeRetryDelay ?? .milliseconds(500)) * 2)
                    shared.states[index].writeRetryDelay = delay
                    let next = ContinuousClock.now + delay
                    shared.retryAt = min(shared.retryAt ?? next, next)
                } else {
                    shared.states[index].lastView = view
                    shared.states[index].writeRetryDelay = nil
                }
            }
            let destination = compiled.resource.destinationPath(root: options.write.destinationRoot)
            switch outcome {
            case .updatedAtRuntime(_, _, let undeleted, _):
                leftoverServers.add(undeleted, configPath: destination)
            case .updated(_, .some, _):
                leftoverServers.reloaded(configPath: destination)
            default:
                break
            }
            let report = ResourceReport(resource: compiled.resource, outcome: outcome, keyCount: view.count, at: .now)
            reports.append(report)
            observer?(report)
        }
        return reports
    }

    private func render(
        _ compiled: CompiledResource, keys: [String: String], keyCount: Int, retryReload: Bool, index: Int
    ) async -> SyncOutcome {
        let resource = compiled.resource
        let destination = resource.destinationPath(root: options.write.destinationRoot)
        let result: RenderResult
        do {
            result = try compiled.execute(etcdKeys: keys, environment: options.environment)
        } catch {
            logger.error("\(resource.name): cannot render \(resource.source): \(error); \(destination) stays as it is")
            return .renderFailed(error.description)
        }
        logRejections(result.rejections, of: resource, destination: destination, index: index)
        let secrets = SecretRedactor(result.secrets)
        let outcome = await writer.sync(
            resource, content: result.text, retryReload: retryReload, holdsSecrets: !result.secrets.isEmpty)
        if let line = RenderLogLine(outcome, resource: resource, destination: destination, keyCount: keyCount, secrets: secrets) {
            logger.log(level: line.level, "\(line.message)")
        }
        if case .wouldChange(let diff) = outcome { options.printDiff(secrets.redact(diff)) }
        return outcome
    }

    /// Logs each refused entry once: when it first appears (again after it was fixed and broken anew).
    private func logRejections(_ rejections: [RejectedEntry], of resource: TemplateResource, destination: String, index: Int) {
        let previous = shared.withLock { shared in
            defer { shared.states[index].rejected = Set(rejections) }
            return shared.states[index].rejected
        }
        for entry in rejections where !previous.contains(entry) {
            logger.warning("\(resource.name): left out of \(destination): \(entry)")
        }
    }

    // MARK: - Reading etcd

    /// Every prefix read at one revision, so that all resources start from one consistent state.
    private func readAll() async throws -> ([String: String], Int64) {
        var keys: [String: String] = [:]
        var revision: Int64?
        for prefix in watchedPrefixes {
            let range = try await source.readKeys(prefix: prefix, revision: revision)
            revision = revision ?? range.revision
            for kv in range.kvs { keys[kv.key] = kv.value }
        }
        return (keys, revision ?? 0)
    }

    /// `readAll`, retried until etcd answers; the cache holds the result.
    private func readAllUntilReachable() async throws -> Int64 {
        let (keys, revision) = try await untilReachable { _ in try await self.readAll() }
        shared.withLock { $0.cache = KeyCache(keys) }
        return revision
    }

    /// One prefix at `revision`, then (after a failure) at the latest revision, retried until etcd answers.
    private func readUntilReachable(prefix: String, revision: Int64) async throws -> EtcdRange {
        try await untilReachable { attempt in
            // Reading the latest state and replaying later events from the watch ends in the same state.
            try await self.source.readKeys(prefix: prefix, revision: attempt == 0 ? revision : nil)
        }
    }

    /// Runs `read` until it succeeds, pausing 100 ms after the first failure and twice as long after each
    /// next one, up to `maximumBackoff`; failures are logged once, and etcd's return.
    private func untilReachable<Value: Sendable>(_ read: (_ attempt: Int) async throws -> Value) async throws -> Value {
        var backoff = Duration.milliseconds(100)
        var attempt = 0
        while true {
            do {
                let value = try await read(attempt)
                connection.readSucceeded()
                return value
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                connection.readFailed(error)
            }
            attempt += 1
            try await Task.sleep(for: backoff)
            backoff = min(backoff * 2, options.maximumBackoff)
        }
    }
}
