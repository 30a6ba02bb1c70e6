#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Etcd
import Manifests
import Primitives
import Registry

/// Everything cluster mode keeps in etcd, read at one revision (one transaction of range reads).
public struct ClusterSnapshot: Sendable {
    /// One app under `apps/`: its manifest text and what it parses to.
    public struct App: Sendable {
        public var name: String
        public var text: String
        public var modRevision: Int64
        /// Nil when the stored manifest is invalid (`problems` say why); `hecd apply` never writes one.
        public var spec: AppSpec?
        public var problems: [ManifestProblem]
    }

    /// A scheduler candidate: its key's create revision decides who leads (the lowest).
    public struct Candidate: Sendable, Hashable {
        public var id: String
        public var createRevision: Int64
    }

    /// One slot as stored: `assign/<host>/<app>/<slot>` = spec hash.
    public struct Slot: Sendable, Hashable {
        public var host: String
        public var app: String
        public var slot: Int
        public var specHash: String
    }

    public var revision: Int64
    public var apps: [String: App]
    public var hosts: [String: HostRecord]
    /// Sorted by create revision: the first leads.
    public var candidates: [Candidate]
    public var slots: [Slot]
    public var drained: Set<String>
    public var agents: [String: AgentRecord]
    /// Start-first moves in flight: the retiring slot → the slot that replaces it (host, slot number).
    public var moves: [Slot: (host: String, slot: Int)] = [:]
    /// `moving/` keys whose retiring slot is gone already.
    public var finishedMoves: [String] = []
    /// Apps `hecd rebalance` asked to even out.
    public var rebalance: Set<String> = []

    public var leader: String? { candidates.first?.id }

    /// Reads the whole cluster state at one revision.
    public static func read(_ client: EtcdClient, keys: ClusterKeys) async throws(EtcdError) -> ClusterSnapshot {
        let prefixes = [keys.apps, keys.hosts, keys.leader, keys.assign, keys.drained, keys.agents, keys.moving, keys.rebalance]
        let result = try await client.txn(EtcdTxn(compare: [], success: prefixes.map { .range(prefix: $0) }))
        var ranges: [EtcdRange] = []
        for response in result.responses {
            if case .range(let range) = response { ranges.append(range) }
        }
        guard ranges.count == prefixes.count else {
            throw .decoding(call: "cluster snapshot", body: "", reason: "etcd answered \(ranges.count) of \(prefixes.count) range reads")
        }
        var snapshot = parse(keys: keys, revision: result.revision, apps: ranges[0].kvs, hosts: ranges[1].kvs,
                             candidates: ranges[2].kvs, slots: ranges[3].kvs, drained: ranges[4].kvs, agents: ranges[5].kvs)
        for kv in ranges[6].kvs {
            guard let retiring = keys.move(of: kv.key) else { continue }
            let parts = kv.value.split(separator: "/")
            guard parts.count == 2, let slot = Int(parts[1]),
                let stored = snapshot.slots.first(where: { $0.host == retiring.host && $0.app == retiring.app && $0.slot == retiring.slot })
            else {
                // The retiring slot is gone (its host died): the move is over.
                snapshot.finishedMoves.append(kv.key)
                continue
            }
            snapshot.moves[stored] = (String(parts[0]), slot)
        }
        snapshot.rebalance = Set(ranges[7].kvs.compactMap { keys.name(of: $0.key, under: keys.rebalance) })
        return snapshot
    }

    /// Builds a snapshot from the keys of each prefix; keys that do not parse are left out.
    static func parse(
        keys: ClusterKeys, revision: Int64, apps: [EtcdKeyValue], hosts: [EtcdKeyValue], candidates: [EtcdKeyValue],
        slots: [EtcdKeyValue], drained: [EtcdKeyValue], agents: [EtcdKeyValue]
    ) -> ClusterSnapshot {
        var snapshot = ClusterSnapshot(
            revision: revision, apps: [:], hosts: [:], candidates: [], slots: [], drained: [], agents: [:])
        for kv in apps {
            guard let name = keys.name(of: kv.key, under: keys.apps) else { continue }
            snapshot.apps[name] = App.parse(name: name, text: kv.value, modRevision: kv.modRevision, keys: keys)
        }
        for kv in hosts {
            guard let id = keys.name(of: kv.key, under: keys.hosts), let record = HostRecord.decode(kv.value),
                record.id == id
            else { continue }
            snapshot.hosts[id] = record
        }
        snapshot.candidates = candidates.compactMap { kv in
            keys.name(of: kv.key, under: keys.leader).map { Candidate(id: $0, createRevision: kv.createRevision) }
        }.sorted { ($0.createRevision, $0.id) < ($1.createRevision, $1.id) }
        snapshot.slots = slots.compactMap { kv in
            keys.slot(of: kv.key).map { Slot(host: $0.host, app: $0.app, slot: $0.slot, specHash: kv.value) }
        }
        snapshot.drained = Set(drained.compactMap { keys.name(of: $0.key, under: keys.drained) })
        for kv in agents {
            guard let id = keys.name(of: kv.key, under: keys.agents),
                let record = try? JSONDecoder().decode(AgentRecord.self, from: Data(kv.value.utf8))
            else { continue }
            snapshot.agents[id] = record
        }
        return snapshot
    }
}

extension ClusterSnapshot.App {
    /// Parses a stored manifest; its problems name the etcd key as the file. `policy` is an agent's: the
    /// snapshot's own reads (status, the scheduler) check the schema only.
    static func parse(
        name: String, text: String, modRevision: Int64, keys: ClusterKeys, policy: ManifestPolicy = .unrestricted
    ) -> Self {
        let file = ManifestLoader.parse(text, path: "etcd:" + keys.app(name), policy: policy)
        var spec = file.spec
        var problems = file.problems
        if let parsed = spec, parsed.name != name {
            problems.append(ManifestProblem(file: "etcd:" + keys.app(name), message: "declares the app \(parsed.name), not \(name)"))
            spec = nil
        }
        return Self(name: name, text: text, modRevision: modRevision, spec: spec, problems: problems)
    }
}
