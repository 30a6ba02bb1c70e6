import Etcd
import Foundation
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
        /// Servers removed through HAProxy's runtime API that still had connections: deleted once they are gone.
        var undeletedServers: [ServerReference] = []
        /// The entries the template refused at its last render: each is logged when it first appears.
        var rejected: Set<RejectedEntry> = []
    }

    private struct Shared {
        var cache = KeyCache()
        var scheduler: DebounceScheduler<ContinuousClock.Instant>
        var states: [ResourceState]
        /// Prefixes whose watch is disconnected right now.
        var disconnected: Set<String> = []
        /// The last read failure logged, so that a down etcd is logged once, not every retry.
        var lastReadFailure: String?
    }

    private let shared: Mutex<Shared>
    private let wake = WakeSignal()

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
                        group.addTask { try await self.deleteServersLeftInMaintenance() }
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
                readSucceeded()
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
                readFailed(error)
            }
            try await Task.sleep(for: interval)
        }
    }

    /// Applies one prefix's watch updates to the cache and schedules renders.
    private func follow(_ prefix: String, from revision: Int64) async throws {
        for await update in source.watchKeys(prefix: prefix, fromRevision: revision) {
            switch update {
            case .connected:
                watchConnected(prefix)
            case .events(let events, _):
                watchConnected(prefix)
                let changed = shared.withLock { $0.cache.apply(events) }
                if changed { noteChange() }
            case .resyncNeeded(let currentRevision):
                logger.notice("etcd compacted the history of \(prefix): reading it again at revision \(currentRevision)")
                let range = try await readUntilReachable(prefix: prefix, revision: currentRevision)
                let changed = shared.withLock { $0.cache.replace(prefix: prefix, with: range.kvs) }
                if changed { noteChange() }
            case .disconnected(let reason, _):
                watchDisconnected(prefix, reason: reason)
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
            guard let deadline = shared.withLock({ $0.scheduler.deadline }) else {
                await wake.wait()
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

    private func noteChange() {
        shared.withLock { $0.scheduler.changed(at: ContinuousClock.now) }
        wake.signal()
    }

    // MARK: - Rendering

    /// Renders each resource whose keys changed since its last render (all with `force`), plus those whose
    /// reload failed, in order.
    private func renderDue(force: Bool) async -> [ResourceReport] {
        let keys = shared.withLock { $0.cache.values }
        var reports: [ResourceReport] = []
        for (index, compiled) in resources.enumerated() {
            let view = compiled.resource.view(of: keys)
            let state = shared.withLock { $0.states[index] }
            guard force || state.lastView != view || state.reloadPending else { continue }
            let outcome = await render(
                compiled, keys: keys, keyCount: view.count, retryReload: state.reloadPending, index: index)
            shared.withLock {
                $0.states[index].lastView = view
                $0.states[index].reloadPending = outcome.needsReload
                switch outcome {
                case .updatedAtRuntime(_, _, let undeleted, _):
                    $0.states[index].undeletedServers += undeleted
                case .updated(_, .some, _):
                    $0.states[index].undeletedServers = []  // A reload leaves no server of an old file behind.
                default:
                    break
                }
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
        switch outcome {
        case .unchanged:
            logger.debug("\(resource.name): \(destination) is up to date (\(keyCount) keys)")
        case .wouldChange(let diff):
            logger.info("\(resource.name): \(destination) would change (--noop)")
            options.printDiff(secrets.redact(diff))
        case .updated(let check, let reload, let runtimeFallback):
            var message = "\(resource.name): updated \(destination) (\(keyCount) keys)"
            if let check { message += ", checked in \(Self.milliseconds(check.duration))" }
            if let reload { message += ", reloaded in \(Self.milliseconds(reload.duration))" }
            if let runtimeFallback { message += " (a reload, not the runtime API: \(runtimeFallback))" }
            logger.info("\(message)")
        case .updatedAtRuntime(let check, let changes, let undeleted, let duration):
            var message = "\(resource.name): updated \(destination) (\(keyCount) keys)"
            if let check { message += ", checked in \(Self.milliseconds(check.duration))" }
            message += changes.isEmpty
                ? ", no server changed: no reload"
                : ", HAProxy changed at run time in \(Self.milliseconds(duration)), no reload: "
                    + changes.map(\.description).joined(separator: " ")
            if !undeleted.isEmpty {
                message += "; in maintenance until their connections close: \(undeleted.map(\.description).joined(separator: ", "))"
            }
            logger.info("\(message)")
        case .reloaded(let reload):
            logger.notice("\(resource.name): reload succeeded this time (\(Self.milliseconds(reload.duration)))")
        case .checkFailed(let result):
            logger.error("\(resource.name): check_cmd rejected the new \(destination), which stays as it is and nothing is reloaded: \(secrets.redact("\(result)"))")
        case .reloadFailed(let result):
            logger.error("\(resource.name): \(destination) is updated but reload_cmd failed (retried at the next change): \(secrets.redact("\(result)"))")
        case .writeFailed(let message):
            logger.error("\(resource.name): \(message)")
        case .renderFailed:
            break
        }
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

    private static func milliseconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let tenths = seconds * 10_000 + attoseconds / 100_000_000_000_000
        return tenths < 100 ? "\(tenths / 10).\(tenths % 10) ms" : "\(tenths / 10) ms"
    }

    // MARK: - HAProxy servers left in maintenance

    /// Once a second, deletes the servers that the runtime API took out of HAProxy while connections were still
    /// attached to them (HAProxy keeps idle kept-alive connections to a server for a while).
    private func deleteServersLeftInMaintenance() async throws {
        while true {
            try await Task.sleep(for: .seconds(1))
            for (index, compiled) in resources.enumerated() {
                let pending = shared.withLock { $0.states[index].undeletedServers }
                guard !pending.isEmpty else { continue }
                let destination = compiled.resource.destinationPath(root: options.write.destinationRoot)
                guard let text = try? String(contentsOfFile: destination, encoding: .utf8) else { continue }
                let config = HAProxyConfig(text)
                // A server that is back in the file belongs to HAProxy again.
                let inFile = Set(config.sections.flatMap { section in
                    section.servers.map { ServerReference(backend: section.name ?? "", server: $0.name) }
                })
                let candidates = pending.filter { !inFile.contains($0) }
                var deleted: [ServerReference] = []
                if let path = config.adminSocketPath, !candidates.isEmpty {
                    let updater = RuntimeUpdater(socket: HAProxyAdminSocket(path: path))
                    let remaining = await updater.socket.run { _ in updater.deleteLeftovers(candidates) }
                    deleted = candidates.filter { !remaining.contains($0) }
                } else {
                    deleted = candidates  // No admin socket any more: nothing left to do.
                }
                shared.withLock { shared in
                    shared.states[index].undeletedServers.removeAll { inFile.contains($0) || deleted.contains($0) }
                }
                if !deleted.isEmpty {
                    logger.debug("\(compiled.resource.name): deleted \(deleted.map(\.description).joined(separator: ", ")) from HAProxy (their connections closed)")
                }
            }
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

    /// `readAll`, retried with backoff until etcd answers; the cache holds the result.
    private func readAllUntilReachable() async throws -> Int64 {
        var backoff = Duration.milliseconds(100)
        while true {
            do {
                let (keys, revision) = try await readAll()
                readSucceeded()
                shared.withLock { $0.cache = KeyCache(keys) }
                return revision
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                readFailed(error)
            }
            try await Task.sleep(for: backoff)
            backoff = min(backoff * 2, options.maximumBackoff)
        }
    }

    /// One prefix at `revision`, then at the latest revision, retried with backoff until etcd answers.
    private func readUntilReachable(prefix: String, revision: Int64) async throws -> EtcdRange {
        var backoff = Duration.milliseconds(100)
        var revision: Int64? = revision
        while true {
            do {
                let range = try await source.readKeys(prefix: prefix, revision: revision)
                readSucceeded()
                return range
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                // Reading the latest state and replaying later events from the watch ends in the same state.
                revision = nil
                readFailed(error)
            }
            try await Task.sleep(for: backoff)
            backoff = min(backoff * 2, options.maximumBackoff)
        }
    }

    private func readFailed(_ error: any Error) {
        let message = "\(error)"
        let isNew = shared.withLock { shared in
            defer { shared.lastReadFailure = message }
            return shared.lastReadFailure == nil
        }
        if isNew {
            logger.warning("cannot read etcd: \(message); keeping the current files until it answers (retrying)")
        } else {
            logger.debug("cannot read etcd: \(message)")
        }
    }

    private func readSucceeded() {
        let wasFailing = shared.withLock { shared in
            defer { shared.lastReadFailure = nil }
            return shared.lastReadFailure != nil
        }
        if wasFailing { logger.notice("etcd answers again") }
    }

    private func watchDisconnected(_ prefix: String, reason: String) {
        let first = shared.withLock { shared in
            defer { shared.disconnected.insert(prefix) }
            return shared.disconnected.isEmpty
        }
        if first {
            logger.warning("lost etcd (\(reason)); keeping the current files and reconnecting")
        } else {
            logger.debug("watch on \(prefix) disconnected: \(reason)")
        }
    }

    private func watchConnected(_ prefix: String) {
        let back = shared.withLock { shared in
            guard shared.disconnected.remove(prefix) != nil else { return false }
            return shared.disconnected.isEmpty
        }
        if back { logger.notice("etcd is back; the watches resumed where they stopped") }
    }
}

/// Replaces the values a template marked `secret` by `(secret)` in text bound for logs or the terminal.
struct SecretRedactor {
    private let secrets: [String]

    init(_ secrets: Set<String>) {
        // As written and as `haproxyQuote` escapes them; longest first, so that a secret containing another is
        // replaced whole.
        let forms = secrets.flatMap { [$0, String(RegistryData.haproxyQuoted($0).dropFirst().dropLast())] }
        self.secrets = Set(forms).sorted { $0.utf8.count > $1.utf8.count }
    }

    func redact(_ text: String) -> String {
        secrets.reduce(text) { $0.replacingOccurrences(of: $1, with: "(secret)") }
    }
}
