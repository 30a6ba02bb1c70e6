#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Etcd
import Logging
import Manifests
import Primitives
import Synchronization

/// What the cluster asks of one host: each app with slots here, with `replicas` = its number of slots here.
public struct ClusterView: Sendable {
    /// Apps with at least one slot on this host.
    public var apps: [AppSpec]
    /// The slot numbers of each app here.
    public var slots: [String: [Int]]
    /// Every app the cluster declares (with or without slots here).
    public var declared: Set<String>
    /// Apps with slots here whose stored manifest is invalid: their containers are left exactly as they are.
    public var untouchable: Set<String> = []
    /// App → its slots here whose spec hash is not the stored manifest's: the scheduler has not rolled them to
    /// the new spec yet, so as many containers of an earlier spec may keep running.
    public var outdatedSlots: [String: Int] = [:]
    /// The view is the last one read before etcd stopped answering: the host may have been cut off, its
    /// slots may have moved.
    public var stale: Bool
    public var revision: Int64

    public init(apps: [AppSpec], slots: [String: [Int]], declared: Set<String>, stale: Bool, revision: Int64) {
        self.apps = apps
        self.slots = slots
        self.declared = declared
        self.stale = stale
        self.revision = revision
    }
}

/// Keeps one host's `ClusterView` current: reads `assign/<host>/` and `apps/`, then watches both (only its
/// own slots, not the whole cluster). After any watch trouble the view is marked stale until a fresh read.
public final class ClusterAssignments: Sendable {
    private let client: EtcdClient
    private let keys: ClusterKeys
    private let hostID: String
    private let logger: Logger
    /// The agent's `--allow-*` policy: a stored manifest it refuses is not run on this host.
    private let policy: ManifestPolicy
    private let onChange: @Sendable () -> Void
    private let state = Mutex<ClusterView?>(nil)
    private let refresh = WakeSignal()

    public init(
        client: EtcdClient, keys: ClusterKeys, hostID: String, policy: ManifestPolicy, logger: Logger,
        onChange: @escaping @Sendable () -> Void
    ) {
        self.client = client
        self.keys = keys
        self.hostID = hostID
        self.policy = policy
        self.logger = logger
        self.onChange = onChange
    }

    /// The current view; nil until the first read.
    public var view: ClusterView? { state.withLock { $0 } }

    public func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.follow(prefix: self.keys.assignments(of: self.hostID)) }
            group.addTask { await self.follow(prefix: self.keys.apps) }
            var failures = 0
            while !Task.isCancelled {
                do {
                    try await read()
                    failures = 0
                    await refresh.wait()
                } catch {
                    failures += 1
                    markStale(because: "\(error)", first: failures == 1)
                    await refresh.wait(timeout: .milliseconds(min(2000, 200 * failures)))
                }
            }
            group.cancelAll()
        }
    }

    /// Any change or reconnection of a watch means: read again. A lost connection makes the view stale.
    private func follow(prefix: String) async {
        for await update in client.watch(prefix: prefix) {
            switch update {
            case .events, .connected, .resyncNeeded:
                refresh.signal()
            case .disconnected(let reason, _):
                markStale(because: reason, first: true)
                refresh.signal()
            case .failed(let error):
                logger.error("cluster: cannot watch \(prefix): \(error)")
            }
        }
    }

    private func read() async throws(EtcdError) {
        let result = try await client.txn(EtcdTxn(compare: [], success: [
            .range(prefix: keys.assignments(of: hostID)), .range(prefix: keys.apps),
        ]))
        var ranges: [EtcdRange] = []
        for response in result.responses {
            if case .range(let range) = response { ranges.append(range) }
        }
        guard ranges.count == 2 else { return }
        let view = Self.view(
            hostID: hostID, keys: keys, revision: result.revision, slots: ranges[0].kvs, apps: ranges[1].kvs, policy: policy,
            logger: logger)
        let changed = state.withLock { current -> Bool in
            defer { current = view }
            guard let current else { return true }
            return current.stale || current.slots != view.slots || current.apps != view.apps
                || current.outdatedSlots != view.outdatedSlots
        }
        if changed { onChange() }
    }

    private func markStale(because reason: String, first: Bool) {
        let changed = state.withLock { current -> Bool in
            guard var view = current, !view.stale else { return false }
            view.stale = true
            current = view
            return true
        }
        if changed {
            logger.warning("cluster: lost etcd (\(reason)); keeping this host's containers as they are until it answers")
            onChange()
        }
    }

    /// The view from the host's slot keys and the stored manifests (no I/O). A slot of an app whose manifest
    /// is missing, invalid or refused by `policy` is left out (its containers are then kept, as with a broken
    /// local manifest): whoever can write `apps/` must not get more of this host than its own manifests would.
    static func view(
        hostID: String, keys: ClusterKeys, revision: Int64, slots: [EtcdKeyValue], apps: [EtcdKeyValue],
        policy: ManifestPolicy, logger: Logger
    ) -> ClusterView {
        var slotsByApp: [String: [Int]] = [:]
        var hashesByApp: [String: [String]] = [:]
        for kv in slots {
            guard let slot = keys.slot(of: kv.key), slot.host == hostID else { continue }
            slotsByApp[slot.app, default: []].append(slot.slot)
            hashesByApp[slot.app, default: []].append(kv.value)
        }
        var specs: [AppSpec] = []
        var declared: Set<String> = []
        var untouchable: Set<String> = []
        var outdated: [String: Int] = [:]
        for kv in apps {
            guard let name = keys.name(of: kv.key, under: keys.apps) else { continue }
            declared.insert(name)
            guard let count = slotsByApp[name]?.count else { continue }
            let app = ClusterSnapshot.App.parse(name: name, text: kv.value, modRevision: kv.modRevision, keys: keys, policy: policy)
            guard var spec = app.spec else {
                untouchable.insert(name)
                logger.error("cluster: the stored manifest of \(name) is invalid or refused by this agent's policy, its containers here are left as they are: \(app.problems.map(\.description).joined(separator: "; "))")
                continue
            }
            spec.replicas = count
            let stale = (hashesByApp[name] ?? []).filter { $0 != spec.specHash }.count
            if stale > 0 { outdated[name] = stale }
            specs.append(spec)
        }
        var view = ClusterView(
            apps: specs.sorted { $0.name < $1.name }, slots: slotsByApp.mapValues { $0.sorted() }, declared: declared,
            stale: false, revision: revision)
        view.untouchable = untouchable
        view.outdatedSlots = outdated
        return view
    }
}
