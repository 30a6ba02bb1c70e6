#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import Primitives

/// Announces the agent's containers in a key-value store (etcd) under one lease, and keeps the store equal
/// to what the agent says is running.
///
/// One loop does all the work, in order: grant the lease, refresh it every TTL/3 with one request, and write
/// changes. The requests per second do not grow with the number of containers: only changes cost writes.
/// After a start, a lost lease, or an outage, a full sync compares the store with the wanted keys in both
/// directions and fixes both, touching only keys under the agent's prefixes that are its own (its lease,
/// its predecessor's lease, or named after one of its containers).
public actor Registry {
    public let agentID: String
    public let ttl: Int
    private let store: any RegistryStore
    private let logger: Logger
    private let recordKey: String
    private let wake = WakeSignal()

    /// Keys to announce → `<host-ip>:<host-port>`.
    private var desired: [String: String] = [:]
    /// Keys that may be this agent's though not wanted now (named after its containers).
    private var owned: Set<String> = []
    /// Every prefix the agent has announced under in this run.
    private var prefixes: Set<String> = []
    private var record: AgentRecord?

    private var lease: Int64?
    /// The lease of this agent's previous run, read from its record: revoked after the first full sync.
    private var previousLease: Int64?
    /// What the store holds on the current lease, as far as this registry wrote it.
    private var written: [String: String] = [:]
    private var writtenRecord: AgentRecord?
    private var needsFullSync = true
    private var nextKeepAlive = ContinuousClock.now
    private var retryDelay = Duration.milliseconds(250)
    private var outage: String?
    private var stopped = false
    /// Whether the agent said what to announce yet: until then nothing is synced, or the first full sync
    /// would find nothing wanted and revoke the previous run's lease, withdrawing every key it still serves.
    private var told = false

    public init(store: any RegistryStore, agentID: String, ttl: Int, hecdPrefix: String = "/hecd", logger: Logger) {
        self.store = store
        self.agentID = agentID
        self.ttl = max(2, ttl)
        self.logger = logger
        self.recordKey = AgentRecord.key(prefix: hecdPrefix, agent: agentID)
    }

    /// The refresh interval: a third of the TTL.
    public var keepAliveInterval: Duration { .milliseconds(ttl * 1000 / 3) }

    /// How long one etcd request may take, failover between members included, for an agent with lease `ttl`
    /// (seconds): TTL/3, between 1 s and 5 s. A keepalive sent TTL/3 after the last one has then succeeded or
    /// failed before two thirds of the lease are gone, even at `--ttl 3`; a hung member costs it only the
    /// client's hedge delay (250 ms) before another member gets the same keepalive.
    public static func requestTimeout(ttl: Int) -> Duration {
        min(.seconds(5), max(.seconds(1), .milliseconds(ttl * 1000 / 3)))
    }

    /// The keys announced now (what the registry believes the store holds), for tests and status.
    public var announced: [String: String] { written }

    /// Says what should be announced. `owned` are keys named after all the agent's containers (running or
    /// not), so that leftovers of an earlier run are found; `prefixes` are the prefixes they live under.
    public func update(desired: [String: String], owned: Set<String>, prefixes: Set<String>, record: AgentRecord?) {
        self.desired = desired
        self.owned = owned
        self.prefixes.formUnion(prefixes)
        if let record { self.record = record }
        told = true
        wake.signal()
    }

    /// What `withdraw` did.
    public enum Withdrawal: Sendable, Equatable {
        /// The key was announced and the store has dropped it.
        case removed
        /// The key had not been announced.
        case notAnnounced
        /// The store cannot be reached: the key goes when it comes back, or with the lease.
        case pending
    }

    /// Removes a key at once (a container died or is about to stop) and returns when the store has dropped
    /// it, or when the store cannot be reached.
    @discardableResult
    public func withdraw(_ key: String) async -> Withdrawal {
        desired[key] = nil
        // The loop may be writing this key right now: wake it either way so that it checks again.
        defer { wake.signal() }
        guard written[key] != nil else { return .notAnnounced }
        do {
            // What was announced before this withdrawal goes first: a replacement's key is in the store before
            // the key of the container it replaces goes, so the registered count never dips during a rollout.
            if let lease, !needsFullSync {
                for (pending, value) in desired.sorted(by: { $0.key < $1.key }) where written[pending] != value {
                    guard desired[pending] == value else { continue }
                    try await store.put(pending, value, lease: lease)
                    written[pending] = value
                }
            }
            try await store.delete(key)
            written[key] = nil
            return .removed
        } catch {
            needsFullSync = true
            return .pending
        }
    }

    /// Runs until cancelled.
    public func run() async {
        if let old = try? await store.get(recordKey),
            let oldRecord = try? JSONDecoder().decode(AgentRecord.self, from: Data(old.value.utf8))
        {
            previousLease = oldRecord.lease
        }
        while !Task.isCancelled, !stopped {
            await step()
            let now = ContinuousClock.now
            // In an outage the retry delay decides, but a keepalive still due later keeps its time; one already
            // overdue must not count, or a refusing etcd (a stopped one answers in no time) would be asked again
            // at once, forever.
            let retry = now + retryDelay
            let until = outage == nil ? nextKeepAlive : (nextKeepAlive > now ? min(nextKeepAlive, retry) : retry)
            await wake.wait(timeout: max(.zero, until - now))
        }
    }

    /// Ends the registry: with `revoke`, the lease and every key on it go at once; without, they go when
    /// the lease expires (or stay, if a new agent with the same id takes over in time).
    public func shutdown(revoke: Bool) async {
        stopped = true
        wake.signal()
        guard revoke, let lease else { return }
        do {
            try await store.revokeLease(lease)
            logger.info("registry: revoked lease \(String(lease, radix: 16)); the agent's keys are gone")
        } catch {
            logger.warning("registry: could not revoke lease \(String(lease, radix: 16)) (\(error)); its keys go within \(ttl) s")
        }
        self.lease = nil
    }

    // MARK: - The loop's steps

    private func step() async {
        do {
            if lease == nil { try await grant() }
            if ContinuousClock.now >= nextKeepAlive { try await refresh() }
            if told { try await sync() }
            recovered()
        } catch {
            failed(error)
        }
    }

    private func grant() async throws {
        let granted = try await store.grantLease(ttl: ttl)
        lease = granted
        written = [:]
        writtenRecord = nil
        needsFullSync = true
        nextKeepAlive = ContinuousClock.now + keepAliveInterval
        logger.info("registry: lease \(String(granted, radix: 16)) granted, TTL \(ttl) s")
    }

    private func refresh() async throws {
        guard let lease else { return }
        if try await store.keepAlive(lease) == nil {
            logger.warning("registry: lease \(String(lease, radix: 16)) is gone (expired while etcd was unreachable?); granting a new one and registering everything again")
            self.lease = nil
            try await grant()
        }
        nextKeepAlive = ContinuousClock.now + keepAliveInterval
    }

    private func sync() async throws {
        guard let lease else { return }
        if needsFullSync {
            try await fullSync(lease: lease)
        } else {
            for key in written.keys.sorted() where desired[key] == nil {
                try await store.delete(key)
                written[key] = nil
            }
            for (key, value) in desired.sorted(by: { $0.key < $1.key }) where written[key] != value {
                // `desired` may have changed during the previous await (a withdrawal).
                guard desired[key] == value else { continue }
                try await store.put(key, value, lease: lease)
                written[key] = value
            }
        }
        if var record, record != writtenRecord {
            record.lease = lease
            let text = String(decoding: (try? JSONEncoder().encode(record)) ?? Data(), as: UTF8.self)
            try await store.put(recordKey, text, lease: lease)
            writtenRecord = record
        }
    }

    /// Compares the store with the wanted keys in both directions and fixes both.
    private func fullSync(lease: Int64) async throws {
        var present: [String: StoredKey] = [:]
        for prefix in prefixes.sorted() {
            for stored in try await store.list(prefix: prefix + "/") { present[stored.key] = stored }
        }
        var removed = 0
        var added = 0
        for stored in present.values.sorted(by: { $0.key < $1.key }) where desired[stored.key] == nil {
            let ours = owned.contains(stored.key) || stored.lease == lease
                || (previousLease.map { $0 == stored.lease && $0 != 0 } ?? false)
            guard ours else { continue }
            try await store.delete(stored.key)
            removed += 1
        }
        for (key, value) in desired.sorted(by: { $0.key < $1.key })
        where present[key]?.value != value || present[key]?.lease != lease {
            try await store.put(key, value, lease: lease)
            added += 1
        }
        written = desired
        writtenRecord = nil
        needsFullSync = false
        if let previous = previousLease, previous != lease {
            try? await store.revokeLease(previous)
            previousLease = nil
        }
        if removed + added > 0 {
            logger.info("registry: full sync wrote \(added) key\(added == 1 ? "" : "s") and removed \(removed) stale")
        }
    }

    private func recovered() {
        if let outage {
            logger.info("registry: etcd reachable again after: \(outage)")
        }
        outage = nil
        retryDelay = .milliseconds(250)
    }

    private func failed(_ error: any Error) {
        needsFullSync = true
        if outage == nil {
            logger.error("registry: \(error); containers keep running, retrying")
        }
        outage = "\(error)"
        retryDelay = min(retryDelay * 2, min(keepAliveInterval, .seconds(5)))
    }
}
