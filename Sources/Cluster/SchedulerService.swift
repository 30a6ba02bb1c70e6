#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Etcd
import Logging
import Manifests
import Primitives
import Registry
import Scheduler
import Synchronization

/// The cluster's scheduler, run by every agent that may schedule: the one whose `leader/<id>` key has the
/// lowest create revision places the replicas (etcd's election pattern); the others watch and wait.
///
/// Every write is a transaction that compares the leader's own key's create revision: a deposed leader (its
/// lease expired, its key gone or recreated) cannot change anything. The scheduler plans again on every
/// change under the cluster root and every `resync` (so a failover delay ends on time).
public actor SchedulerService {
    private nonisolated let client: EtcdClient
    private nonisolated let keys: ClusterKeys
    private let agentID: String
    private let failoverDelay: Duration
    private let resync: Duration
    private let logger: Logger
    private nonisolated let wake = WakeSignal()
    /// While a rollout step is in flight, the agents' records (what they register) wake a round too.
    private nonisolated let watchesRecords = Atomic<Bool>(false)

    /// Hosts with slots whose key went, and since when (held back by the failover delay).
    private var missingSince: [String: ContinuousClock.Instant] = [:]
    private var leading = false
    private var reportedUnplaceable: [String: String] = [:]
    /// The most operations etcd takes in one transaction by default (`--max-txn-ops` 128), with room to spare.
    static let operationsPerTransaction = 100

    public init(
        client: EtcdClient, keys: ClusterKeys, agentID: String, failoverDelay: Duration = .zero,
        resync: Duration = .seconds(2), logger: Logger
    ) {
        self.client = client
        self.keys = keys
        self.agentID = agentID
        self.failoverDelay = failoverDelay
        self.resync = resync
        self.logger = logger
    }

    /// Whether this agent led at its last look.
    public var isLeader: Bool { leading }

    /// Runs until cancelled. A follower watches only the candidates (`leader/`) and looks every
    /// `followerResync`; the leader watches the whole cluster root and looks every `resync`.
    public func run() async {
        let modeChanged = WakeSignal()
        await withDiscardingTaskGroup { group in
            group.addTask { await self.followChanges(modeChanged: modeChanged) }
            while !Task.isCancelled {
                let wasLeading = leading
                let next = await round()
                if leading != wasLeading { modeChanged.signal() }
                let every = leading ? resync : resync * 5
                let wait = next.map { min(every, max(.milliseconds(10), $0 - .now)) } ?? every
                await wake.wait(timeout: wait)
            }
            group.cancelAll()
        }
    }

    /// Wakes a round on changes: of everything placement reads while leading, of the candidates otherwise.
    private func followChanges(modeChanged: WakeSignal) async {
        while !Task.isCancelled {
            let prefix = leading ? keys.root + "/" : keys.leader
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await update in self.client.watch(prefix: prefix) {
                        switch update {
                        case .events(let events, _):
                            // The agents' records change with their passes; placement reads their backoffs only.
                            let records = self.watchesRecords.load(ordering: .relaxed)
                            if events.contains(where: { records || !$0.kv.key.hasPrefix(self.keys.agents) || $0.kind == .delete }) {
                                self.wake.signal()
                            }
                        case .connected, .resyncNeeded:
                            self.wake.signal()
                        case .disconnected, .failed:
                            break
                        }
                    }
                }
                await modeChanged.wait()
                group.cancelAll()
            }
        }
    }

    /// One look: read everything, and when leading, place and write. Returns when a held-back host's slots
    /// are due to move, if one is.
    @discardableResult
    func round() async -> ContinuousClock.Instant? {
        let snapshot: ClusterSnapshot
        do {
            snapshot = try await ClusterSnapshot.read(client, keys: keys)
        } catch {
            if leading { logger.warning("scheduler: cannot read the cluster state (\(error)); placing nothing until etcd answers") }
            leading = false
            return nil
        }
        guard let mine = snapshot.candidates.first, mine.id == agentID else {
            if leading { logger.notice("scheduler: \(snapshot.leader ?? "nobody") leads now; this agent stops placing") }
            leading = false
            return nil
        }
        if !leading { logger.notice("scheduler: this agent leads (leader key revision \(mine.createRevision))") }
        leading = true
        let now = ContinuousClock.now
        let plan = Self.plan(snapshot, keys: keys, missingSince: &missingSince, failoverDelay: failoverDelay, now: now, date: Date())
        reportUnplaceable(plan.decision.unplaceable)
        watchesRecords.store(!plan.rolling.isEmpty, ordering: .relaxed)
        if !plan.decision.puts.isEmpty || !plan.decision.deletes.isEmpty || !plan.extraOperations.isEmpty {
            await write(plan, fence: mine)
        }
        return plan.nextCheck
    }

    /// What to write, decided from a snapshot (no I/O).
    struct Plan {
        var decision: SchedulerDecision
        /// Bookkeeping of start-first moves (`moving/` keys).
        var extraOperations: [EtcdOperation] = []
        /// When a held-back host's slots are due to move.
        var nextCheck: ContinuousClock.Instant?
        /// Apps with a rollout step in flight.
        var rolling: Set<String> = []
    }

    /// The placement for a snapshot: what `hecd status` also runs to explain unplaceable replicas.
    public static func decide(_ snapshot: ClusterSnapshot, date: Date = Date()) -> SchedulerDecision {
        var missing: [String: ContinuousClock.Instant] = [:]
        return plan(snapshot, missingSince: &missing, failoverDelay: .zero, now: .now, date: date).decision
    }

    static func plan(
        _ snapshot: ClusterSnapshot, keys: ClusterKeys = ClusterKeys(), missingSince: inout [String: ContinuousClock.Instant], failoverDelay: Duration,
        now: ContinuousClock.Instant, date: Date
    ) -> Plan {
        // Hosts whose key just went keep their slots for the failover delay.
        let slotHosts = Set(snapshot.slots.map(\.host))
        for host in slotHosts where snapshot.hosts[host] == nil && missingSince[host] == nil { missingSince[host] = now }
        for host in missingSince.keys where snapshot.hosts[host] != nil || !slotHosts.contains(host) { missingSince[host] = nil }
        let heldBack = Set(missingSince.filter { now - $0.value < failoverDelay }.keys)
        // A drained host keeps its slots until each has moved start-first; once empty it is unschedulable.
        let hostsWithSlots = Set(snapshot.slots.map(\.host))
        let draining = snapshot.drained.intersection(hostsWithSlots)
        var hosts = snapshot.hosts.values.map {
            HostInfo(id: $0.id, labels: $0.labels,
                     schedulable: !snapshot.drained.contains($0.id) || draining.contains($0.id), cpus: $0.cpus,
                     memoryBytes: $0.memoryBytes)
        }
        hosts.sort { $0.id < $1.id }
        // Apps whose stored manifest is invalid keep their slots untouched.
        let valid = snapshot.apps.values.compactMap(\.spec)
        let validNames = Set(valid.map(\.name))
        let broken = Set(snapshot.apps.keys).subtracting(validNames)
        let apps = valid.sorted { $0.name < $1.name }.map { spec in
            AppPlacement(
                name: spec.name, replicas: spec.replicas, specHash: spec.specHash, maxPerHost: spec.placement.maxPerHost,
                constraints: spec.placement.constraints, spreadLabel: spec.placement.spread,
                refusingHosts: Set(snapshot.hosts.values.filter { $0.policy?.admits(spec) == false }.map(\.id)))
        }
        var passedOver: [String: Set<String>] = [:]
        let dateSeconds = date.timeIntervalSince1970
        for (host, record) in snapshot.agents {
            for (app, status) in record.apps where (status.backingOffUntil ?? 0) > dateSeconds {
                passedOver[app, default: []].insert(host)
            }
        }
        let current = snapshot.slots.filter { !broken.contains($0.app) }.map {
            SlotAssignment(app: $0.app, slot: $0.slot, host: $0.host, specHash: $0.specHash)
        }
        let retiring = Set(snapshot.moves.keys.map { SlotKey(host: $0.host, app: $0.app, slot: $0.slot) })
        // A held-back host keeps its slots as they are and takes nothing new.
        let input = SchedulerInput(
            apps: apps, hosts: hosts, current: current, passedOver: passedOver, draining: draining, retiring: retiring,
            heldBack: heldBack, rolling: rollingApps(apps, snapshot))
        var decision = Scheduler.place(input)
        var extra: [EtcdOperation] = snapshot.finishedMoves.map { .delete($0) }
        // Moves in flight: the old slot retires once its replacement's host has registered all its slots of the app.
        for (old, replacement) in snapshot.moves {
            let slotsThere = snapshot.slots.filter { $0.host == replacement.host && $0.app == old.app }.count
            let registeredThere = snapshot.agents[replacement.host]?.apps[old.app]?.registered ?? 0
            let replaced = snapshot.slots.contains { $0.host == replacement.host && $0.app == old.app && $0.slot == replacement.slot }
            guard replaced, slotsThere > 0, registeredThere >= slotsThere else { continue }
            decision.deletes.append(SlotAssignment(app: old.app, slot: old.slot, host: old.host, specHash: old.specHash))
            extra.append(.delete(keys.moving(host: old.host, app: old.app, slot: old.slot)))
        }
        // Drains: one start-first move per app at a time.
        let moving = Set(snapshot.moves.keys.map(\.app))
        for host in draining.sorted() {
            for app in apps.map(\.name) where !moving.contains(app) && snapshot.slots.contains(where: { $0.host == host && $0.app == app }) {
                guard let move = Scheduler.moveOne(app: app, off: host, input: input) else { continue }
                decision.puts.append(move.add)
                extra.append(.put(keys.moving(host: move.retire.host, app: app, slot: move.retire.slot), "\(move.add.host)/\(move.add.slot)"))
                break
            }
        }
        // Rebalances: one start-first move per app at a time, until the app is even; then the request goes.
        var started = Set(decision.puts.map(\.app))
        for app in snapshot.rebalance.sorted() where !moving.contains(app) && !started.contains(app) {
            guard apps.contains(where: { $0.name == app }), let move = Scheduler.rebalanceOne(app: app, input: input) else {
                extra.append(.delete(keys.rebalance(app)))
                continue
            }
            decision.puts.append(move.add)
            started.insert(app)
            extra.append(.put(keys.moving(host: move.retire.host, app: app, slot: move.retire.slot), "\(move.add.host)/\(move.add.slot)"))
        }
        let nextCheck = missingSince.values.filter { now - $0 < failoverDelay }.map { $0 + failoverDelay }.min()
        // Only an app with slots still to roll waits for its agents' records.
        let hashes = Dictionary(apps.map { ($0.name, $0.specHash) }, uniquingKeysWith: { first, _ in first })
        let toRoll = Set(decision.assignments.filter { slot in hashes[slot.app].map { $0 != slot.specHash } ?? false }.map(\.app))
        return Plan(decision: decision, extraOperations: extra, nextCheck: nextCheck, rolling: input.rolling.intersection(toRoll))
    }

    /// Apps with a rollout step in flight: a live host registers fewer containers of the app's current spec
    /// than it has slots of that hash, or still runs more containers of the app than it has slots (the one
    /// a step replaced is still stopping). An agent too old to say counts as done, so its apps roll as before.
    static func rollingApps(_ apps: [AppPlacement], _ snapshot: ClusterSnapshot) -> Set<String> {
        var rolling: Set<String> = []
        for app in apps {
            let slotsOfApp = snapshot.slots.filter { $0.app == app.name && snapshot.hosts[$0.host] != nil }
            let settled = Dictionary(grouping: slotsOfApp, by: \.host).allSatisfy { host, slots in
                // No record of the app yet: its agent has not run a pass with it.
                guard let status = snapshot.agents[host]?.apps[app.name] else { return false }
                guard let registered = status.registeredBySpec else { return true }
                let ofSpec = slots.filter { $0.specHash == app.specHash }.count
                return (registered[app.specHash] ?? 0) >= ofSpec && (status.runningIncludingStopping ?? 0) <= slots.count
            }
            if !settled { rolling.insert(app.name) }
        }
        return rolling
    }

    private func reportUnplaceable(_ unplaceable: [String: String]) {
        for (app, reason) in unplaceable.sorted(by: { $0.key < $1.key }) where reportedUnplaceable[app] != reason {
            logger.warning("scheduler: cannot place every replica of \(app): \(reason); waiting for a host that can take them")
        }
        for app in reportedUnplaceable.keys where unplaceable[app] == nil {
            logger.notice("scheduler: every replica of \(app) is placed again")
        }
        reportedUnplaceable = unplaceable
    }

    /// Writes the decision in fenced transactions of at most `operationsPerTransaction` operations: deletes of
    /// moved slots go with their puts where they fit, so a move is never half done for long.
    private func write(_ plan: Plan, fence: ClusterSnapshot.Candidate) async {
        var operations: [EtcdOperation] = plan.decision.deletes.map {
            .delete(keys.slot(host: $0.host, app: $0.app, slot: $0.slot))
        }
        operations += plan.decision.puts.map { .put(keys.slot(host: $0.host, app: $0.app, slot: $0.slot), $0.specHash) }
        operations += plan.extraOperations
        let guardKey = EtcdCompare(keys.leader(agentID), .equal, .createRevision(fence.createRevision))
        var index = 0
        while index < operations.count {
            let chunk = Array(operations[index..<min(index + Self.operationsPerTransaction, operations.count)])
            index += chunk.count
            do {
                let result = try await client.txn(EtcdTxn(compare: [guardKey], success: chunk))
                guard result.succeeded else {
                    logger.notice("scheduler: no longer the leader (its key changed); placing nothing more")
                    leading = false
                    return
                }
            } catch {
                logger.warning("scheduler: cannot write placements (\(error)); trying again")
                wake.signal()
                return
            }
        }
        logger.info("scheduler: \(plan.decision.puts.count) slots placed, \(plan.decision.deletes.count) removed")
    }
}
