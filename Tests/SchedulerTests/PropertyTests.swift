import Scheduler
import Testing

/// Random clusters from a seed: hosts with labels (some drained), apps with random constraints, caps and spread,
/// and a messy `current` (dead hosts, removed apps, one slot on two hosts, keys listed twice, old hashes).
struct RandomCluster {
    var rng: SeededGenerator
    let constraintTexts = ["zone == a", "zone != b", "disk == ssd", "disk != hdd", "zone == c"]

    init(seed: UInt64) {
        rng = SeededGenerator(seed: seed)
    }

    mutating func chance(_ percent: Int) -> Bool { Int.random(in: 0..<100, using: &rng) < percent }

    mutating func hosts() -> [HostInfo] {
        (0..<Int.random(in: 0...12, using: &rng)).map { index in
            var labels: [String: String] = [:]
            if chance(80) {
                labels["zone"] = ["a", "b", "c"].randomElement(using: &rng)
            }
            if chance(60) {
                labels["disk"] = ["ssd", "hdd"].randomElement(using: &rng)
            }
            return host("h\(index)", labels, schedulable: chance(90))
        }
    }

    mutating func apps() -> [AppPlacement] {
        (0..<Int.random(in: 1...5, using: &rng)).map { index in
            let constraints = (0..<Int.random(in: 0...2, using: &rng)).compactMap { _ in
                chance(60) ? constraintTexts.randomElement(using: &rng) : nil
            }
            return app(
                "app\(index)", replicas: Int.random(in: 0...12, using: &rng), hash: chance(50) ? "v1" : "v2",
                maxPerHost: chance(50) ? Int.random(in: 0...3, using: &rng) : nil, constraints: constraints,
                spread: chance(40) ? "zone" : nil
            )
        }
    }

    /// Assignments on live and dead hosts; for a "clean" app, each slot number once.
    mutating func current(apps: [AppPlacement], hosts: [HostInfo], clean: Set<String>) -> [SlotAssignment] {
        let hostIDs = hosts.map(\.id) + ["dead0", "dead1", "dead2"]
        var current: [SlotAssignment] = []
        for app in apps + [app("removed", replicas: 0)] {
            var numbers = Array(0..<16).shuffled(using: &rng)
            for _ in 0..<Int.random(in: 0...14, using: &rng) {
                let number = clean.contains(app.name) ? numbers.removeLast() : Int.random(in: 0..<16, using: &rng)
                guard let hostID = hostIDs.randomElement(using: &rng) else {
                    continue
                }
                let assignment = slot(app.name, number, on: hostID, hash: chance(50) ? "v1" : "v2")
                // etcd holds one value per key: a key listed twice is listed with the same value.
                guard !current.contains(where: { $0.key == assignment.key }) else {
                    continue
                }
                current.append(assignment)
                if !clean.contains(app.name), chance(10), let last = current.last {
                    current.append(last)
                }
            }
        }
        return current.shuffled(using: &rng)
    }

    mutating func input(withCurrent: Bool = true, passedOver: Bool = true) -> SchedulerInput {
        let hosts = hosts()
        let apps = apps()
        var input = SchedulerInput(apps: apps, hosts: hosts)
        if withCurrent {
            let clean = Set(apps.map(\.name).filter { _ in chance(50) })
            input.current = current(apps: apps, hosts: hosts, clean: clean)
        }
        if passedOver {
            for app in apps where chance(30) {
                input.passedOver[app.name] = Set(hosts.map(\.id).filter { _ in chance(25) })
            }
        }
        return input
    }
}

/// Hosts on which `app` may have slots: live, schedulable and admitted.
func eligible(_ app: AppPlacement, in input: SchedulerInput) -> [HostInfo] {
    input.hosts.filter { $0.schedulable && app.admits($0) }
}

/// Checks every invariant of one decision; `seed` names the input in failures.
func checkInvariants(_ input: SchedulerInput, _ decision: SchedulerDecision, seed: UInt64) {
    let apps = Dictionary(uniqueKeysWithValues: input.apps.map { ($0.name, $0) })
    let hosts = Dictionary(uniqueKeysWithValues: input.hosts.map { ($0.id, $0) })
    let identities = decision.assignments.map { "\($0.app)/\($0.slot)" }
    #expect(Set(identities).count == identities.count, "seed \(seed): an (app, slot) assigned twice")
    #expect(decision.assignments == decision.assignments.sorted { $0.key < $1.key }, "seed \(seed): sorted")

    for (name, app) in apps {
        let mine = decision.assignments.filter { $0.app == name }
        var perHost: [String: Int] = [:]
        for assignment in mine {
            perHost[assignment.host, default: 0] += 1
            let host = hosts[assignment.host]
            #expect(host.map { $0.schedulable && app.admits($0) } == true, "seed \(seed): \(assignment) on an ineligible host")
            if assignment.specHash != app.specHash {
                #expect(input.current.contains(assignment), "seed \(seed): \(assignment) has an old hash it did not have")
            }
        }
        // Rule 7: one kept slot turns to the new hash per decision, none while a step is in flight.
        let turned = decision.puts.filter { put in
            put.app == name && input.current.contains { $0.key == put.key && $0.specHash != put.specHash }
        }
        #expect(turned.count <= (input.rolling.contains(name) ? 0 : 1), "seed \(seed): \(turned) rolled at once")
        let stale = mine.filter { $0.specHash != app.specHash && !input.heldBack.contains($0.host) }
        if !input.rolling.contains(name), !stale.isEmpty {
            #expect(turned.count == 1, "seed \(seed): \(name) has slots to roll and rolled none")
        }
        if let cap = app.maxPerHost {
            #expect(perHost.values.allSatisfy { $0 <= cap }, "seed \(seed): \(name) above max_per_host")
        }
        let hostCount = eligible(app, in: input).count
        let capacity = app.maxPerHost.map { $0 * hostCount } ?? (hostCount > 0 ? Int.max : 0)
        let expected = min(max(app.replicas, 0), capacity)
        #expect(mine.count == expected, "seed \(seed): \(name) has \(mine.count) slots, expected \(expected)")
        #expect((decision.unplaceable[name] != nil) == (expected < app.replicas), "seed \(seed): \(name) reason")

        checkNoMovement(app, input, decision, seed: seed)
    }
    #expect(decision.assignments.allSatisfy { apps[$0.app] != nil }, "seed \(seed): a slot of a removed app")
    #expect(Set(decision.unplaceable.keys).isSubset(of: Set(apps.keys)))

    // The writes turn current into the assignments.
    var store: [SlotKey: SlotAssignment] = [:]
    for assignment in input.current where store[assignment.key] == nil {
        store[assignment.key] = assignment
    }
    for deleted in decision.deletes {
        #expect(store.removeValue(forKey: deleted.key) == deleted, "seed \(seed): deleted \(deleted) is not current")
    }
    for put in decision.puts {
        store[put.key] = put
    }
    #expect(store.values.sorted { $0.key < $1.key } == decision.assignments, "seed \(seed): puts and deletes")
}

/// When an app's current slots have each number once, every one on a host it may stay on (eligible, not passed
/// over, within max_per_host by lowest numbers) stays, as far as the count allows.
func checkNoMovement(_ app: AppPlacement, _ input: SchedulerInput, _ decision: SchedulerDecision, seed: UInt64) {
    var unique: [SlotKey: SlotAssignment] = [:]
    for assignment in input.current where assignment.app == app.name {
        unique[assignment.key] = assignment
    }
    let numbers = unique.values.map(\.slot)
    guard Set(numbers).count == numbers.count else {
        return
    }
    let passedOver = input.passedOver[app.name] ?? []
    let staying = Dictionary(grouping: unique.values.filter { assignment in
        eligible(app, in: input).contains { $0.id == assignment.host } && !passedOver.contains(assignment.host)
    }, by: \.host).values.flatMap { slots in
        slots.sorted { $0.slot < $1.slot }.prefix(app.maxPerHost ?? Int.max)
    }
    let kept = staying.filter { stayed in decision.assignments.contains { $0.key == stayed.key } }
    #expect(kept.count == min(staying.count, max(app.replicas, 0)), "seed \(seed): \(app.name) moved a healthy slot")
}

/// No eligible host has more than one slot of `app` more than another (with a spread label: no group more than one
/// more than another, nor a host more than one more than another in its group).
func checkSpread(_ app: AppPlacement, _ input: SchedulerInput, _ decision: SchedulerDecision, seed: UInt64) {
    let hosts = eligible(app, in: input)
    var perHost: [String: Int] = [:]
    for assignment in decision.assignments where assignment.app == app.name {
        perHost[assignment.host, default: 0] += 1
    }
    func within1(_ counts: [Int]) -> Bool { (counts.max() ?? 0) - (counts.min() ?? 0) <= 1 }
    guard let label = app.spreadLabel else {
        #expect(within1(hosts.map { perHost[$0.id] ?? 0 }), "seed \(seed): \(app.name) uneven: \(perHost)")
        return
    }
    let groups = Dictionary(grouping: hosts) { $0.labels[label] ?? "" }
    #expect(within1(groups.values.map { $0.reduce(0) { $0 + (perHost[$1.id] ?? 0) } }), "seed \(seed): \(app.name) groups uneven")
    for members in groups.values {
        #expect(within1(members.map { perHost[$0.id] ?? 0 }), "seed \(seed): \(app.name) uneven in a group")
    }
}

@Suite struct PropertyTests {
    static let seeds: [UInt64] = Array(1...400)

    @Test func invariantsHoldOnRandomInputs() {
        for seed in Self.seeds {
            var cluster = RandomCluster(seed: seed)
            let input = cluster.input()
            let decision = Scheduler.place(input)
            checkInvariants(input, decision, seed: seed)
        }
    }

    @Test func placingItsOwnOutputChangesNothing() {
        for seed in Self.seeds {
            var cluster = RandomCluster(seed: seed)
            let input = cluster.input()
            let decision = Scheduler.place(input)
            let again = Scheduler.place(input.applying(decision))
            #expect(again.isSettled, "seed \(seed): puts \(again.puts) deletes \(again.deletes)")
            #expect(again.assignments == decision.assignments, "seed \(seed)")
            #expect(again.unplaceable == decision.unplaceable, "seed \(seed)")
        }
    }

    @Test func aRolloutTurnsOneSlotPerSettledStepUntilEveryOneRuns() {
        for seed in Self.seeds {
            var cluster = RandomCluster(seed: seed)
            var input = cluster.input(passedOver: false)
            input.rolling = []
            var steps = 0
            var decision = Scheduler.place(input)
            // Each step is served before the next pass (rolling stays empty): one slot turns per pass.
            while !decision.isSettled, steps < 40 {
                checkInvariants(input, decision, seed: seed)
                input = input.applying(decision)
                input.rolling = []
                steps += 1
                decision = Scheduler.place(input)
            }
            #expect(decision.isSettled, "seed \(seed): still writing after \(steps) passes")
            for app in input.apps {
                let mine = decision.assignments.filter { $0.app == app.name }
                #expect(mine.allSatisfy { $0.specHash == app.specHash }, "seed \(seed): \(app.name) not rolled: \(mine)")
            }
        }
    }

    @Test func theSameInputInAnyOrderGivesTheSameDecision() {
        for seed in Self.seeds {
            var cluster = RandomCluster(seed: seed)
            let input = cluster.input()
            var shuffled = input
            shuffled.hosts.shuffle(using: &cluster.rng)
            shuffled.apps.shuffle(using: &cluster.rng)
            shuffled.current.shuffle(using: &cluster.rng)
            #expect(Scheduler.place(input) == Scheduler.place(shuffled), "seed \(seed)")
        }
    }

    @Test func placementFromEmptyIsEven() {
        for seed in Self.seeds {
            var cluster = RandomCluster(seed: seed)
            var input = cluster.input(withCurrent: false, passedOver: false)
            input.apps = input.apps.map { var app = $0; app.maxPerHost = nil; return app }
            let decision = Scheduler.place(input)
            checkInvariants(input, decision, seed: seed)
            for app in input.apps {
                checkSpread(app, input, decision, seed: seed)
            }
        }
    }

    @Test func hostDeathsKeepItEvenAndMoveOnlyTheirSlots() {
        for seed in Self.seeds {
            var cluster = RandomCluster(seed: seed)
            var input = cluster.input(withCurrent: false, passedOver: false)
            input.apps = input.apps.map { var app = $0; app.maxPerHost = nil; app.spreadLabel = nil; return app }
            let before = Scheduler.place(input)
            var after = input.applying(before)
            after.hosts = input.hosts.filter { _ in cluster.chance(75) }
            let survivors = Set(after.hosts.map(\.id))
            let decision = Scheduler.place(after)
            checkInvariants(after, decision, seed: seed)
            for app in after.apps {
                checkSpread(app, after, decision, seed: seed)
            }
            for deleted in decision.deletes {
                #expect(!survivors.contains(deleted.host), "seed \(seed): \(deleted) deleted from a live host")
            }
        }
    }

    @Test func movesKeepEveryInvariant() {
        for seed in Self.seeds {
            var cluster = RandomCluster(seed: seed)
            let start = cluster.input(passedOver: false)
            var input = start.applying(Scheduler.place(start))
            guard let app = input.apps.randomElement(using: &cluster.rng),
                let from = input.current.filter({ $0.app == app.name }).randomElement(using: &cluster.rng)
            else {
                continue
            }
            guard let move = Scheduler.moveOne(app: app.name, off: from.host, input: input) else {
                continue
            }
            #expect(move.retire.host == from.host && move.add.host != from.host, "seed \(seed)")
            #expect(!input.current.contains { $0.app == app.name && $0.slot == move.add.slot }, "seed \(seed): a new number")
            input.current.append(move.add)
            input.retiring.insert(move.retire.key)
            let during = Scheduler.place(input)
            #expect(during.isSettled, "seed \(seed): place touched a move in flight")
            input.current.removeAll { $0 == move.retire }
            input.retiring = []
            let after = Scheduler.place(input)
            #expect(after.isSettled, "seed \(seed): a finished move is settled")
            checkInvariants(input, after, seed: seed)
        }
    }

    @Test func scalingKeepsItEven() {
        for seed in Self.seeds {
            var cluster = RandomCluster(seed: seed)
            var input = cluster.input(withCurrent: false, passedOver: false)
            input.apps = input.apps.map { var app = $0; app.maxPerHost = nil; return app }
            input = input.applying(Scheduler.place(input))
            input.apps = input.apps.map { var app = $0; app.replicas = Int.random(in: 0...20, using: &cluster.rng); return app }
            let decision = Scheduler.place(input)
            checkInvariants(input, decision, seed: seed)
            for app in input.apps {
                checkSpread(app, input, decision, seed: seed)
            }
            #expect(decision.puts.allSatisfy { put in !input.current.contains { $0.key == put.key } }, "seed \(seed): a kept slot rewritten")
        }
    }

    @Test func rebalancingEndsEven() {
        for seed in Self.seeds {
            var cluster = RandomCluster(seed: seed)
            var input = cluster.input(passedOver: false)
            input.apps = input.apps.map { var app = $0; app.maxPerHost = nil; return app }
            input = input.applying(Scheduler.place(input))
            for app in input.apps {
                var moves = 0
                while moves < 200, let move = Scheduler.rebalanceOne(app: app.name, input: input) {
                    input.current.append(move.add)
                    input.retiring.insert(move.retire.key)
                    #expect(Scheduler.place(input).isSettled, "seed \(seed): place touched a rebalance in flight")
                    input.current.removeAll { $0 == move.retire }
                    input.retiring = []
                    moves += 1
                }
                #expect(moves < 200, "seed \(seed): \(app.name) rebalances forever")
            }
            let decision = Scheduler.place(input)
            #expect(decision.isSettled, "seed \(seed)")
            checkInvariants(input, decision, seed: seed)
            for app in input.apps {
                checkSpread(app, input, decision, seed: seed)
            }
        }
    }

    @Test func drainingRetiringAndHeldBackKeepTheSafetyInvariants() {
        for seed in Self.seeds {
            var cluster = RandomCluster(seed: seed)
            var input = cluster.input()
            input.draining = Set(input.hosts.map(\.id).filter { _ in cluster.chance(20) })
            input.retiring = Set(input.current.filter { _ in cluster.chance(10) }.map(\.key))
            input.heldBack = Set((["dead0", "dead1"] + input.hosts.map(\.id)).filter { _ in cluster.chance(15) })
            let decision = Scheduler.place(input)
            let identities = decision.assignments.map { "\($0.app)/\($0.slot)" }
            #expect(Set(identities).count == identities.count, "seed \(seed): an (app, slot) assigned twice")
            let live = Set(input.hosts.map(\.id)).union(input.heldBack)
            #expect(decision.assignments.allSatisfy { live.contains($0.host) }, "seed \(seed): a slot on a dead host")
            #expect(decision.puts.allSatisfy { !input.heldBack.contains($0.host) }, "seed \(seed): a put on a held-back host")
            for held in input.current where input.heldBack.contains(held.host) {
                let copies = input.current.filter { $0.app == held.app && $0.slot == held.slot }
                let app = input.apps.first { $0.name == held.app }
                let unique = copies.count == 1 && app.map { $0.replicas > input.current.filter { $0.app == held.app }.count } == true
                if unique {
                    #expect(decision.assignments.contains(held), "seed \(seed): held-back \(held) moved")
                }
            }
            for app in input.apps {
                let counted = decision.assignments.filter { $0.app == app.name && !input.retiring.contains($0.key) }
                #expect(counted.count <= max(app.replicas, 0), "seed \(seed): \(app.name) above its count")
                #expect(counted.allSatisfy { $0.specHash == app.specHash || input.heldBack.contains($0.host) || input.current.contains($0) })
                let fresh = decision.puts.filter { put in put.app == app.name && !input.current.contains { $0.key == put.key } }
                #expect(
                    fresh.allSatisfy { !input.draining.contains($0.host) && !input.heldBack.contains($0.host) },
                    "seed \(seed): a new slot on a draining or held-back host"
                )
            }
            let again = Scheduler.place(input.applying(decision))
            #expect(again.isSettled, "seed \(seed): not idempotent with draining and retiring")
        }
    }
}
