@testable import Cluster
import Etcd
import Foundation
import Logging
import Manifests
import Registry
import Scheduler
import Testing

/// Cluster mode's pure parts: the key layout, the snapshot's parsing, what the leader plans, and apply/scale edits.
@Suite struct ClusterTests {
    let keys = ClusterKeys()

    func manifest(_ name: String, replicas: Int) -> String {
        "name: \(name)\nimage: hecd-demo:1\nreplicas: \(replicas)  # the count\nport: 80\n"
    }

    func snapshot(hosts: [String], slots: [(String, String, Int)], apps: [String: Int]) -> ClusterSnapshot {
        ClusterSnapshot.parse(
            keys: keys, revision: 10,
            apps: apps.map { EtcdKeyValue(key: keys.app($0.key), value: manifest($0.key, replicas: $0.value), modRevision: 3) },
            hosts: hosts.map { EtcdKeyValue(key: keys.host($0), value: HostRecord(id: $0, hostIP: "10.0.0.1", labels: [:], cpus: 2, memoryBytes: 1).json) },
            candidates: hosts.enumerated().map { EtcdKeyValue(key: keys.leader($0.element), value: $0.element, createRevision: Int64(5 + $0.offset)) },
            slots: slots.map { slot in
                let hash = apps[slot.1].flatMap { ManifestLoader.parse(manifest(slot.1, replicas: $0), path: "x").spec?.specHash } ?? "old"
                return EtcdKeyValue(key: keys.slot(host: slot.0, app: slot.1, slot: slot.2), value: hash)
            },
            drained: [], agents: [])
    }

    @Test func keysRoundTrip() throws {
        let slot = try #require(keys.slot(of: "/hecd/assign/h1/web/3"))
        #expect(slot == ("h1", "web", 3))
        #expect(keys.slot(of: "/hecd/assign/h1/web/x") == nil)
        #expect(keys.slot(of: "/hecd/assign/h1/web/3/4") == nil)
        #expect(keys.name(of: "/hecd/hosts/h1", under: keys.hosts) == "h1")
        #expect(keys.name(of: "/hecd/hosts/h1/x", under: keys.hosts) == nil)
        #expect(ClusterKeys(root: "/x/").app("web") == "/x/apps/web")
    }

    @Test func theLowestCreateRevisionLeads() {
        let snapshot = snapshot(hosts: ["b", "a"], slots: [], apps: [:])
        #expect(snapshot.leader == "b", "b's key was created first")
    }

    @Test func aDeadHostsSlotsMoveAtOnceOrAfterTheFailoverDelay() throws {
        let state = snapshot(hosts: ["h1", "h2"], slots: [("h1", "web", 0), ("h2", "web", 1), ("h3", "web", 2)], apps: ["web": 3])
        let start = ContinuousClock.now
        var missing: [String: ContinuousClock.Instant] = [:]
        let atOnce = SchedulerService.plan(state, missingSince: &missing, failoverDelay: .zero, now: start, date: Date())
        #expect(atOnce.decision.deletes.map(\.host) == ["h3"])
        #expect(atOnce.decision.puts.count == 1 && atOnce.decision.puts.allSatisfy { $0.host != "h3" && $0.slot == 2 })

        missing = [:]
        let held = SchedulerService.plan(state, missingSince: &missing, failoverDelay: .seconds(10), now: start, date: Date())
        #expect(held.decision.puts.isEmpty && held.decision.deletes.isEmpty, "held back for the delay")
        #expect(held.nextCheck == start + .seconds(10))
        let later = SchedulerService.plan(state, missingSince: &missing, failoverDelay: .seconds(10), now: start + .seconds(11), date: Date())
        #expect(later.decision.deletes.map(\.host) == ["h3"])
    }

    @Test func anInvalidStoredManifestKeepsItsSlots() {
        var state = snapshot(hosts: ["h1"], slots: [("h1", "web", 0), ("h1", "web", 1)], apps: [:])
        state.apps["web"] = ClusterSnapshot.App.parse(name: "web", text: "name: web\nreplicas: lots\n", modRevision: 1, keys: keys)
        var missing: [String: ContinuousClock.Instant] = [:]
        let plan = SchedulerService.plan(state, missingSince: &missing, failoverDelay: .zero, now: .now, date: Date())
        #expect(plan.decision.deletes.isEmpty && plan.decision.puts.isEmpty)
        #expect(state.apps["web"]?.spec == nil && state.apps["web"]?.problems.isEmpty == false)
    }

    /// A host whose published policy refuses an app gets none of its slots, and a slot it had moves to a host
    /// that allows it; hosts from before policies were published (no policy in their record) admit everything.
    @Test func slotsGoOnlyToHostsWhosePolicyAdmitsTheApp() throws {
        var state = snapshot(hosts: ["h1", "h2", "h3"], slots: [("h1", "web", 0)], apps: ["web": 2])
        let text = "name: web\nimage: hecd-demo:1\nreplicas: 2\nport: 80\nvolumes: [\"/data:/data\"]\n"
        state.apps["web"] = ClusterSnapshot.App.parse(name: "web", text: text, modRevision: 4, keys: keys)
        let allowing = ManifestPolicy(allowedBindPaths: ["/data"])
        state.hosts["h1"]?.policy = ManifestPolicy()
        state.hosts["h2"]?.policy = allowing
        var missing: [String: ContinuousClock.Instant] = [:]
        let plan = SchedulerService.plan(state, missingSince: &missing, failoverDelay: .zero, now: .now, date: Date())
        let hosts = Set(plan.decision.assignments.filter { $0.app == "web" }.map(\.host))
        #expect(hosts == ["h2", "h3"], "\(plan.decision.assignments)")
        // With every host refusing it, the app is reported, not placed.
        state.hosts["h3"]?.policy = ManifestPolicy()
        state.hosts["h2"]?.policy = ManifestPolicy()
        let refused = SchedulerService.plan(state, missingSince: &missing, failoverDelay: .zero, now: .now, date: Date())
        #expect(refused.decision.assignments.filter { $0.app == "web" }.isEmpty)
        #expect(refused.decision.unplaceable["web"]?.contains("refuses it by its policy") == true, "\(refused.decision.unplaceable)")
    }

    /// The agent's own check, whatever the scheduler decided: a slot of an app its policy refuses is left out of
    /// its view (nothing is created), as an invalid manifest is.
    @Test func anAgentsViewLeavesOutAppsItsPolicyRefuses() {
        let text = "name: web\nimage: hecd-demo:1\nreplicas: 1\nport: 80\nprivileged: true\n"
        let view = { (policy: ManifestPolicy) in
            ClusterAssignments.view(
                hostID: "h1", keys: keys, revision: 9,
                slots: [EtcdKeyValue(key: keys.slot(host: "h1", app: "web", slot: 0), value: "hash")],
                apps: [EtcdKeyValue(key: keys.app("web"), value: text, modRevision: 3)], policy: policy,
                logger: Logger(label: "test"))
        }
        let refused = view(ManifestPolicy())
        #expect(refused.apps.isEmpty && refused.untouchable == ["web"])
        let allowed = view(ManifestPolicy(allowPrivileged: true))
        #expect(allowed.apps.map(\.name) == ["web"] && allowed.untouchable.isEmpty)
    }

    @Test func anAgentMayKeepAsManyOldContainersAsItHasSlotsNotRolledYet() throws {
        let text = manifest("web", replicas: 3)
        let hash = try #require(ManifestLoader.parse(text, path: "x").spec?.specHash)
        let view = ClusterAssignments.view(
            hostID: "h1", keys: keys, revision: 9,
            slots: [
                EtcdKeyValue(key: keys.slot(host: "h1", app: "web", slot: 0), value: hash),
                EtcdKeyValue(key: keys.slot(host: "h1", app: "web", slot: 1), value: "earlier"),
                EtcdKeyValue(key: keys.slot(host: "h1", app: "web", slot: 2), value: "earlier"),
                EtcdKeyValue(key: keys.slot(host: "h2", app: "web", slot: 3), value: "earlier"),
            ],
            apps: [EtcdKeyValue(key: keys.app("web"), value: text, modRevision: 3)], policy: ManifestPolicy(),
            logger: Logger(label: "test"))
        #expect(view.apps.map(\.replicas) == [3])
        #expect(view.outdatedSlots == ["web": 2], "only this host's slots count")
    }

    /// The leader turns one slot to a new spec, and the next only once that slot's host registers the new spec.
    @Test func aRolloutWaitsForTheTurnedSlotToBeRegistered() throws {
        var state = snapshot(hosts: ["h1", "h2", "h3"], slots: [("h1", "web", 0), ("h2", "web", 1), ("h3", "web", 2)], apps: ["web": 3])
        let newHash = try #require(state.apps["web"]?.spec?.specHash)
        state.slots = state.slots.map { var slot = $0; slot.specHash = "earlier"; return slot }
        func record(_ host: String, _ registered: [String: Int]?, running: Int = 1) -> AgentRecord {
            AgentRecord(agent: host, hostIP: "10.0.0.1", version: "x", startedAt: 0, lease: 1, apps: [
                "web": AgentRecord.AppStatus(
                    desired: 1, running: 1, registered: 1, registeredBySpec: registered, runningIncludingStopping: running),
            ])
        }
        for host in ["h1", "h2", "h3"] { state.agents[host] = record(host, ["earlier": 1]) }
        var missing: [String: ContinuousClock.Instant] = [:]
        let first = SchedulerService.plan(state, missingSince: &missing, failoverDelay: .zero, now: .now, date: Date())
        #expect(first.decision.puts.map { "\($0.host)/\($0.slot)=\($0.specHash == newHash)" } == ["h1/0=true"])

        // Written, not served yet: nothing else turns, and the leader listens to the agents' records.
        state.slots = state.slots.map { var slot = $0; if slot.host == "h1" { slot.specHash = newHash }; return slot }
        let waiting = SchedulerService.plan(state, missingSince: &missing, failoverDelay: .zero, now: .now, date: Date())
        #expect(waiting.decision.isSettled)
        #expect(waiting.rolling == ["web"])

        // h1 registers the new spec, but the container it replaces still stops: the surge is in use.
        state.agents["h1"] = record("h1", [newHash: 1], running: 2)
        #expect(SchedulerService.plan(state, missingSince: &missing, failoverDelay: .zero, now: .now, date: Date()).decision.isSettled)
        // The old one is gone: the next slot turns.
        state.agents["h1"] = record("h1", [newHash: 1])
        let next = SchedulerService.plan(state, missingSince: &missing, failoverDelay: .zero, now: .now, date: Date())
        #expect(next.decision.puts.map { "\($0.host)/\($0.slot)" } == ["h2/1"])

        // An agent too old to say what it registers does not hold the rollout up.
        state.agents["h1"] = record("h1", nil)
        #expect(SchedulerService.rollingApps(
            [AppPlacement(name: "web", replicas: 3, specHash: newHash)], state).isEmpty)
    }

    @Test func scaleEditsOnlyTheReplicasLine() throws {
        let text = manifest("web", replicas: 3)
        let scaled = try #require(ClusterAdmin.settingReplicas(text, to: 7))
        #expect(scaled == text.replacingOccurrences(of: "replicas: 3", with: "replicas: 7"))
        #expect(ClusterAdmin.settingReplicas("name: web\n", to: 1) == nil)
    }

    @Test func applyPlansNewChangedUnchangedAndMissingApps() throws {
        let state = snapshot(hosts: [], slots: [], apps: ["web": 3, "old": 1])
        let files = [
            ManifestLoader.parse(manifest("web", replicas: 5), path: "d/web.yaml"),
            ManifestLoader.parse(manifest("api", replicas: 2), path: "d/api.yaml"),
            ManifestLoader.parse("name: bad\nreplicas: x\n", path: "d/bad.yaml"),
        ]
        let plan = ClusterAdmin.plan(files, texts: [
            "d/web.yaml": manifest("web", replicas: 5), "d/api.yaml": manifest("api", replicas: 2),
        ], snapshot: state)
        #expect(Set(plan.changes.map(\.app)) == ["web", "api"])
        #expect(plan.changes.first { $0.app == "web" }?.summary == "replicas 3 → 5")
        #expect(plan.changes.first { $0.app == "api" }?.summary == "new: 2 × hecd-demo:1")
        #expect(plan.missing == ["old"])
        #expect(!plan.problems.isEmpty)
        let same = ClusterAdmin.plan([files[0]], texts: ["d/web.yaml": manifest("web", replicas: 3)], snapshot: state)
        #expect(same.unchanged == ["web"] && same.changes.isEmpty)
    }
}

extension ClusterTests {
    @Test func rebalanceAndDrainMoveOneSlotStartFirst() throws {
        var state = snapshot(hosts: ["h1", "h2", "h3"], slots: [("h1", "web", 0), ("h1", "web", 1), ("h1", "web", 2)], apps: ["web": 3])
        state.rebalance = ["web"]
        var missing: [String: ContinuousClock.Instant] = [:]
        let plan = SchedulerService.plan(state, missingSince: &missing, failoverDelay: .zero, now: .now, date: Date())
        #expect(plan.decision.deletes.isEmpty, "start-first: nothing retires before its replacement runs")
        #expect(plan.decision.puts.count == 1 && plan.decision.puts.allSatisfy { $0.host != "h1" })
        let movingKeys = plan.extraOperations.compactMap { operation -> String? in
            if case .put(let key, _, _) = operation { return key }
            return nil
        }
        #expect(movingKeys.count == 1 && movingKeys.allSatisfy { $0.hasPrefix("/hecd/moving/h1/web/") })

        // Drained: the same, one slot at a time, the host keeping its others meanwhile.
        var drained = snapshot(hosts: ["h1", "h2"], slots: [("h1", "web", 0), ("h1", "web", 1)], apps: ["web": 2])
        drained.drained = ["h1"]
        let drain = SchedulerService.plan(drained, missingSince: &missing, failoverDelay: .zero, now: .now, date: Date())
        #expect(drain.decision.deletes.isEmpty)
        #expect(drain.decision.puts.map(\.host) == ["h2"])
    }
}

/// `hecd apply --watch` removes an app only when its file has been gone for the grace period, not when an
/// editor's save leaves it empty or deletes it for a moment.
@Suite struct ApplyWatchGuardTests {
    func file(_ path: String, _ text: String) -> ManifestFile { ManifestLoader.parse(text, path: path) }

    @Test func aFileCaughtEmptyOrGoneForAMomentKeepsItsApp() {
        var removals = ApplyWatchGuard()
        let start = ContinuousClock.now
        let web = file("/m/web.yaml", "name: web\nimage: hecd-demo:1\nreplicas: 2\n")
        let api = file("/m/api.yaml", "name: api\nimage: hecd-demo:1\nreplicas: 1\n")
        #expect(removals.held(files: [web, api], now: start).apps.isEmpty)
        // Half-written: present, invalid, no name yet.
        let empty = removals.held(files: [file("/m/web.yaml", ""), api], now: start + .milliseconds(250))
        #expect(empty.apps == ["web"] && empty.recheckAt == nil)
        // Invalid but still naming its app: the plan keeps it by that name; nothing to hold.
        let named = removals.held(files: [file("/m/web.yaml", "name: web\nreplicas: lots\n"), api], now: start + .milliseconds(500))
        #expect(named.apps.isEmpty)
        // Deleted before the new text is written: held for the grace period, then let go.
        let gone = start + .seconds(1)
        let deleted = removals.held(files: [api], now: gone)
        #expect(deleted.apps == ["web"] && deleted.recheckAt == gone + ApplyWatchGuard.removalGrace)
        #expect(removals.held(files: [api], now: gone + .seconds(1)).apps == ["web"])
        let expired = removals.held(files: [api], now: gone + ApplyWatchGuard.removalGrace)
        #expect(expired.apps.isEmpty && expired.recheckAt == nil)
        // Back again later: held like any file from then on.
        #expect(removals.held(files: [web, api], now: gone + .seconds(5)).apps.isEmpty)
        #expect(removals.held(files: [file("/m/web.yaml", "")], now: gone + .seconds(6)).apps == ["web", "api"])
    }
}
