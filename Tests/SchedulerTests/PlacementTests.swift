import Scheduler
import Testing

@Suite struct PlacementTests {
    let three = [host("a"), host("b"), host("c")]

    @Test func sixReplicasOnThreeHostsAreTwoEach() {
        let decision = Scheduler.place(SchedulerInput(apps: [app(replicas: 6)], hosts: three))
        #expect(decision.count() == ["a": 2, "b": 2, "c": 2])
        #expect(decision.slots() == [0, 1, 2, 3, 4, 5])
        #expect(decision.puts == decision.assignments)
        #expect(decision.deletes.isEmpty)
        #expect(decision.unplaceable.isEmpty)
    }

    @Test func assignmentsAreSortedByAppThenSlot() {
        let decision = Scheduler.place(SchedulerInput(apps: [app("web", replicas: 3), app("api", replicas: 2)], hosts: three))
        let order = decision.assignments.map { "\($0.app)/\($0.slot)" }
        #expect(order == ["api/0", "api/1", "web/0", "web/1", "web/2"])
    }

    @Test func aDeadHostsSlotsMoveAndNothingElseDoes() {
        let start = SchedulerInput(apps: [app(replicas: 6)], hosts: three)
        let before = Scheduler.place(start)
        var afterDeath = start.applying(before)
        afterDeath.hosts = [host("a"), host("b")]
        let after = Scheduler.place(afterDeath)

        #expect(after.count() == ["a": 3, "b": 3])
        let onC = before.assignments.filter { $0.host == "c" }
        #expect(after.deletes == onC)
        #expect(after.puts.map(\.slot).sorted() == onC.map(\.slot), "moved slots keep their numbers")
        #expect(after.puts.allSatisfy { $0.host != "c" })
        for kept in before.assignments where kept.host != "c" {
            #expect(after.assignments.contains(kept), "\(kept) stays")
        }
    }

    @Test func aHostComingBackMovesNothing() {
        let start = SchedulerInput(apps: [app(replicas: 6)], hosts: [host("a"), host("b")])
        let settled = Scheduler.place(start)
        var back = start.applying(settled)
        back.hosts = three
        let decision = Scheduler.place(back)
        #expect(decision.isSettled)
        #expect(decision.count() == ["a": 3, "b": 3])
    }

    @Test func newSlotsGoToTheHostWithTheFewest() {
        // a came back empty; a scale-up fills it first.
        let current = [slot(0, on: "b"), slot(1, on: "c"), slot(2, on: "b"), slot(3, on: "c")]
        let decision = Scheduler.place(SchedulerInput(apps: [app(replicas: 6)], hosts: three, current: current))
        #expect(decision.count() == ["a": 2, "b": 2, "c": 2])
        #expect(decision.puts == [slot(4, on: "a"), slot(5, on: "a")])
    }

    @Test func tiesGoToTheLeastLoadedHostThenTheLowestID() {
        let current = [slot("api", 0, on: "a"), slot("api", 1, on: "a"), slot("api", 2, on: "b")]
        let decision = Scheduler.place(SchedulerInput(
            apps: [app("api", replicas: 3), app("web", replicas: 2)], hosts: three, current: current
        ))
        #expect(decision.slots("web", on: "c") == [0], "c carries nothing")
        #expect(decision.slots("web", on: "b") == [1], "b carries one, a two")
    }

    @Test func constraintsFilterHosts() {
        let hosts = [
            host("a", ["zone": "a", "disk": "ssd"]), host("b", ["zone": "a", "disk": "hdd"]), host("c", ["zone": "a"]),
            host("d", ["zone": "b"]),
        ]
        let decision = Scheduler.place(SchedulerInput(
            apps: [app(replicas: 4, constraints: ["zone == a", "disk != hdd"])], hosts: hosts
        ))
        #expect(decision.count() == ["a": 2, "c": 2])
        #expect(decision.unplaceable.isEmpty)
    }

    @Test func aSlotMovesWhenItsHostNoLongerMatches() {
        let hosts = [host("a", ["zone": "b"]), host("b", ["zone": "a"]), host("c", ["zone": "a"])]
        let current = [slot(0, on: "a"), slot(1, on: "b")]
        let decision = Scheduler.place(SchedulerInput(
            apps: [app(replicas: 2, constraints: ["zone == a"])], hosts: hosts, current: current
        ))
        #expect(decision.deletes == [slot(0, on: "a")])
        #expect(decision.puts == [slot(0, on: "c")])
    }

    @Test func maxPerHostCapsAndTheRestIsUnplaceable() {
        let hosts = [host("a"), host("b"), host("c"), host("d")]
        let decision = Scheduler.place(SchedulerInput(apps: [app(replicas: 6, maxPerHost: 1)], hosts: hosts))
        #expect(decision.count() == ["a": 1, "b": 1, "c": 1, "d": 1])
        #expect(decision.unplaceable == ["web": "2 of 6 replicas: max_per_host 1 on 4 eligible hosts"])
    }

    @Test func slotsAboveMaxPerHostMoveHighestFirst() {
        let current = [slot(0, on: "a"), slot(1, on: "a"), slot(2, on: "a"), slot(3, on: "b")]
        let decision = Scheduler.place(SchedulerInput(apps: [app(replicas: 4, maxPerHost: 2)], hosts: three, current: current))
        #expect(decision.deletes == [slot(2, on: "a")])
        #expect(decision.puts == [slot(2, on: "c")])
    }

    @Test func spreadEvensOutZonesOfUnequalSizeFirst() {
        let hosts = [
            host("a1", ["zone": "a"]),
            host("b1", ["zone": "b"]), host("b2", ["zone": "b"]),
            host("c1", ["zone": "c"]), host("c2", ["zone": "c"]), host("c3", ["zone": "c"]),
        ]
        let decision = Scheduler.place(SchedulerInput(apps: [app(replicas: 6, spread: "zone")], hosts: hosts))
        let counts = decision.count()
        #expect(counts["a1"] == 2)
        #expect(counts["b1"] == 1 && counts["b2"] == 1)
        #expect([counts["c1"], counts["c2"], counts["c3"]].compactMap { $0 }.sorted() == [1, 1])
    }

    @Test func spreadWithoutItTheHostsWouldGetEqualShares() {
        let hosts = [host("a1", ["zone": "a"]), host("b1", ["zone": "b"]), host("b2", ["zone": "b"]), host("b3", ["zone": "b"])]
        let unspread = Scheduler.place(SchedulerInput(apps: [app(replicas: 4)], hosts: hosts))
        #expect(unspread.count() == ["a1": 1, "b1": 1, "b2": 1, "b3": 1])
        let spread = Scheduler.place(SchedulerInput(apps: [app(replicas: 4, spread: "zone")], hosts: hosts))
        #expect(spread.count()["a1"] == 2)
    }

    @Test func hostsWithoutTheSpreadLabelAreOneMoreGroup() {
        let hosts = [host("a1", ["zone": "a"]), host("x1"), host("x2")]
        let decision = Scheduler.place(SchedulerInput(apps: [app(replicas: 4, spread: "zone")], hosts: hosts))
        #expect(decision.count() == ["a1": 2, "x1": 1, "x2": 1])
    }

    @Test func spreadSurvivesAZoneLosingAHost() {
        let hosts = [host("a1", ["zone": "a"]), host("a2", ["zone": "a"]), host("b1", ["zone": "b"]), host("b2", ["zone": "b"])]
        let start = SchedulerInput(apps: [app(replicas: 4, spread: "zone")], hosts: hosts)
        var next = start.applying(Scheduler.place(start))
        next.hosts.removeAll { $0.id == "a2" }
        let decision = Scheduler.place(next)
        #expect(decision.count() == ["a1": 2, "b1": 1, "b2": 1], "a2's slot stays in zone a")
    }

    @Test func aDrainedHostTakesNothingAndItsSlotsMoveAtOnce() {
        let current = [slot(0, on: "a"), slot(1, on: "b"), slot(2, on: "c")]
        let hosts = [host("a"), host("b"), host("c", schedulable: false)]
        let decision = Scheduler.place(SchedulerInput(apps: [app(replicas: 4)], hosts: hosts, current: current))
        #expect(decision.count() == ["a": 2, "b": 2])
        #expect(decision.deletes == [slot(2, on: "c")])
    }

    @Test func aPassedOverHostIsAvoidedWhileAnotherCanTakeTheSlot() {
        let current = [slot(0, on: "a"), slot(1, on: "b"), slot(2, on: "c")]
        let decision = Scheduler.place(SchedulerInput(
            apps: [app(replicas: 3)], hosts: three, current: current, passedOver: ["web": ["c"]]
        ))
        #expect(decision.deletes == [slot(2, on: "c")])
        #expect(decision.puts == [slot(2, on: "a")])
    }

    @Test func aPassedOverHostIsOnlyForOtherApps() {
        let decision = Scheduler.place(SchedulerInput(
            apps: [app("web", replicas: 3), app("api", replicas: 3)], hosts: three, passedOver: ["web": ["c"]]
        ))
        #expect(decision.count("web") == ["a": 2, "b": 1])
        #expect(decision.count("api") == ["a": 1, "b": 1, "c": 1])
    }

    @Test func aPassedOverHostIsTheLastResort() {
        let decision = Scheduler.place(SchedulerInput(
            apps: [app(replicas: 3, maxPerHost: 1)], hosts: three, passedOver: ["web": ["c", "b"]]
        ))
        #expect(decision.count() == ["a": 1, "b": 1, "c": 1])
        #expect(decision.unplaceable.isEmpty)
    }

    @Test func aSlotOnAPassedOverHostStaysWhenNoOtherHostCanTakeIt() {
        // b and c are both passed over; the slot on c stays on c rather than hop to b.
        let current = [slot(0, on: "a"), slot(1, on: "c")]
        let decision = Scheduler.place(SchedulerInput(
            apps: [app(replicas: 2, maxPerHost: 1)], hosts: three, current: current, passedOver: ["web": ["b", "c"]]
        ))
        #expect(decision.isSettled)
    }

    @Test(arguments: [
        ([HostInfo](), [String](), "3 of 3 replicas: no live host"),
        ([host("a", ["zone": "a"]), host("b", ["zone": "b"])], ["zone == c"], "3 of 3 replicas: no live host matches zone == c"),
        (
            [host("a", ["zone": "a", "disk": "hdd"]), host("b", ["zone": "b"])], ["zone == a", "disk != hdd"],
            "3 of 3 replicas: no live host matches zone == a and disk != hdd"
        ),
        ([host("a", schedulable: false)], [], "3 of 3 replicas: every live host is drained"),
        (
            [host("a", ["zone": "a"], schedulable: false), host("b")], ["zone == a"],
            "3 of 3 replicas: every live host that matches zone == a is drained"
        ),
    ])
    func unplaceableAppsSayWhy(hosts: [HostInfo], constraints: [String], reason: String) {
        let decision = Scheduler.place(SchedulerInput(apps: [app(replicas: 3, constraints: constraints)], hosts: hosts))
        #expect(decision.assignments.isEmpty)
        #expect(decision.unplaceable == ["web": reason])
    }

    @Test func anUnplaceableAppPlacesWhatItCan() {
        let hosts = [host("a", ["zone": "a"]), host("b", ["zone": "b"])]
        let decision = Scheduler.place(SchedulerInput(
            apps: [app(replicas: 5, maxPerHost: 2, constraints: ["zone == a"]), app("api", replicas: 2)], hosts: hosts
        ))
        #expect(decision.count() == ["a": 2])
        #expect(decision.unplaceable == ["web": "3 of 5 replicas: max_per_host 2 on 1 eligible host"])
        #expect(decision.count("api") == ["a": 1, "b": 1])
    }

    @Test func scaleUpKeepsTheSpread() {
        let start = SchedulerInput(apps: [app(replicas: 6)], hosts: three)
        let six = Scheduler.place(start)
        var scaled = start.applying(six)
        scaled.apps = [app(replicas: 9)]
        let nine = Scheduler.place(scaled)
        #expect(nine.count() == ["a": 3, "b": 3, "c": 3])
        #expect(nine.deletes.isEmpty)
        #expect(nine.puts.map(\.slot) == [6, 7, 8])
    }

    @Test func scaleDownRemovesTheHighestNumbersEvenly() {
        let start = SchedulerInput(apps: [app(replicas: 9)], hosts: three)
        let nine = Scheduler.place(start)
        var scaled = start.applying(nine)
        scaled.apps = [app(replicas: 6)]
        let six = Scheduler.place(scaled)
        #expect(six.count() == ["a": 2, "b": 2, "c": 2])
        #expect(six.deletes.map(\.slot) == [6, 7, 8])
        #expect(six.puts.isEmpty)
    }

    @Test func scaleDownTakesFromTheFullestHostBeforeTheHighestNumber() {
        // a holds 4 (b and c came back after a took their slots), b and c 2 each.
        let current = [0, 1, 2, 3].map { slot($0, on: "a") } + [slot(4, on: "b"), slot(5, on: "b"), slot(6, on: "c"), slot(7, on: "c")]
        let decision = Scheduler.place(SchedulerInput(apps: [app(replicas: 6)], hosts: three, current: current))
        #expect(decision.deletes == [slot(2, on: "a"), slot(3, on: "a")])
        #expect(decision.count() == ["a": 2, "b": 2, "c": 2])
    }

    @Test func scaleDownDoesNotRenumber() {
        let current = [slot(0, on: "a"), slot(1, on: "a"), slot(2, on: "b"), slot(3, on: "a"), slot(4, on: "c")]
        let decision = Scheduler.place(SchedulerInput(apps: [app(replicas: 4)], hosts: three, current: current))
        #expect(decision.deletes == [slot(3, on: "a")], "a holds three: its highest goes, though 4 is higher")
        #expect(decision.slots() == [0, 1, 2, 4])
        let up = SchedulerInput(apps: [app(replicas: 5)], hosts: three, current: decision.assignments)
        #expect(Scheduler.place(up).puts == [slot(3, on: "b")], "a scale-up fills the lowest free number")
    }

    @Test func scaleToZeroAndRemovedAppsDeleteEverything() {
        let current = [slot(0, on: "a"), slot("gone", 0, on: "b")]
        let decision = Scheduler.place(SchedulerInput(apps: [app(replicas: 0)], hosts: three, current: current))
        #expect(decision.assignments.isEmpty)
        #expect(decision.deletes == [slot("gone", 0, on: "b"), slot(0, on: "a")], "sorted by app")
        #expect(decision.unplaceable.isEmpty)
    }

    @Test func aSpecChangeRollsOneSlotAtATimeInPlace() {
        let current = [slot(0, on: "a"), slot(1, on: "b"), slot(2, on: "c")]
        var input = SchedulerInput(apps: [app(replicas: 3, hash: "h2")], hosts: three, current: current)
        let first = Scheduler.place(input)
        #expect(first.puts == [slot(0, on: "a", hash: "h2")], "the lowest slot first")
        #expect(first.deletes.isEmpty, "a changed value is a put, not a delete")
        #expect(first.assignments.contains(slot(1, on: "b")) && first.assignments.contains(slot(2, on: "c")))

        // Until host a serves slot 0's new spec, nothing else turns.
        input.current = first.assignments
        input.rolling = ["web"]
        #expect(Scheduler.place(input).isSettled)
        input.rolling = []
        #expect(Scheduler.place(input).puts == [slot(1, on: "b", hash: "h2")])
    }

    @Test func aScaleUpDuringARolloutGetsTheNewSpecAtOnce() {
        let current = [slot(0, on: "a"), slot(1, on: "b")]
        let input = SchedulerInput(apps: [app(replicas: 3, hash: "h2")], hosts: three, current: current, rolling: ["web"])
        let decision = Scheduler.place(input)
        #expect(decision.puts == [slot(2, on: "c", hash: "h2")], "a new slot has no old container to keep")
    }

    @Test func aMovedSlotTakesTheNewSpecAndTheRestWait() {
        // Host c is dead: its slot moves with the new hash; a and b keep theirs while that step is in flight.
        let current = [slot(0, on: "a"), slot(1, on: "b"), slot(2, on: "c")]
        let input = SchedulerInput(apps: [app(replicas: 3, hash: "h2")], hosts: [host("a"), host("b")], current: current, rolling: ["web"])
        let decision = Scheduler.place(input)
        #expect(decision.puts.map(\.specHash) == ["h2"])
        #expect(decision.deletes == [slot(2, on: "c")])
        #expect(decision.assignments.contains(slot(0, on: "a")) && decision.assignments.contains(slot(1, on: "b")))
    }

    @Test func aSlotOnTwoHostsKeepsOneCopy() {
        let current = [slot(0, on: "c"), slot(0, on: "b"), slot(1, on: "a"), slot(1, on: "dead")]
        let decision = Scheduler.place(SchedulerInput(apps: [app(replicas: 2)], hosts: three, current: current))
        #expect(decision.assignments == [slot(0, on: "b"), slot(1, on: "a")])
        #expect(decision.deletes == [slot(0, on: "c"), slot(1, on: "dead")])
        #expect(decision.puts.isEmpty)
    }

    @Test func aKeyListedTwiceIsDeletedOnce() {
        let current = [slot(0, on: "dead"), slot(0, on: "dead")]
        let decision = Scheduler.place(SchedulerInput(apps: [app(replicas: 1)], hosts: three, current: current))
        #expect(decision.deletes == [slot(0, on: "dead")])
        #expect(decision.puts == [slot(0, on: "a")])
    }

    @Test func theOrderOfTheInputDoesNotMatter() {
        let hosts = [host("a", ["zone": "a"]), host("b", ["zone": "b"]), host("c", ["zone": "a"]), host("d")]
        let apps = [app("web", replicas: 5, spread: "zone"), app("api", replicas: 3, maxPerHost: 1), app("db", replicas: 2)]
        let current = [slot(0, on: "b"), slot("api", 2, on: "a"), slot("db", 1, on: "gone"), slot(3, on: "d")]
        let decision = Scheduler.place(SchedulerInput(apps: apps, hosts: hosts, current: current))
        let reversed = Scheduler.place(SchedulerInput(apps: apps.reversed(), hosts: hosts.reversed(), current: current.reversed()))
        #expect(decision == reversed)
    }

    @Test func aNameOrIDGivenTwiceCountsOnce() {
        let decision = Scheduler.place(SchedulerInput(
            apps: [app(replicas: 2), app(replicas: 5)], hosts: [host("a"), host("a", schedulable: false), host("b")]
        ))
        #expect(decision.count() == ["a": 1, "b": 1], "the first web (2 replicas) and the first a (schedulable)")
    }

    @Test func negativeReplicasCountAsNone() {
        let decision = Scheduler.place(SchedulerInput(apps: [app(replicas: -3)], hosts: three, current: [slot(0, on: "a")]))
        #expect(decision.assignments.isEmpty)
        #expect(decision.unplaceable.isEmpty)
    }

    @Test func maxPerHostZeroPlacesNothing() {
        let decision = Scheduler.place(SchedulerInput(apps: [app(replicas: 2, maxPerHost: 0)], hosts: three))
        #expect(decision.assignments.isEmpty)
        #expect(decision.unplaceable == ["web": "2 of 2 replicas: max_per_host 0 on 3 eligible hosts"])
    }

    @Test func everyEligibleHostDrainingIsAReason() {
        let decision = Scheduler.place(SchedulerInput(apps: [app(replicas: 2)], hosts: three, draining: ["a", "b", "c"]))
        #expect(decision.unplaceable == ["web": "2 of 2 replicas: every eligible host is being drained"])
    }

    @Test func anUnplaceableAppSettles() {
        let input = SchedulerInput(apps: [app(replicas: 4, constraints: ["zone == c"])], hosts: three)
        let decision = Scheduler.place(input)
        #expect(decision.isSettled, "nothing to write, so nothing retried")
        #expect(Scheduler.place(input.applying(decision)).unplaceable == decision.unplaceable)
    }

    @Test func aLoweredMaxPerHostMovesTheExcess() {
        let start = SchedulerInput(apps: [app(replicas: 4)], hosts: [host("a"), host("b")])
        var lowered = start.applying(Scheduler.place(start))
        lowered.hosts = three
        lowered.apps = [app(replicas: 4, maxPerHost: 1)]
        let decision = Scheduler.place(lowered)
        #expect(decision.count() == ["a": 1, "b": 1, "c": 1])
        #expect(decision.deletes == [slot(2, on: "a"), slot(3, on: "b")], "the highest numbers leave")
        #expect(decision.unplaceable == ["web": "1 of 4 replicas: max_per_host 1 on 3 eligible hosts"])
    }

    @Test func aDuplicateKeepsTheCopyOnAHostItMayStayOn() {
        // Slot 0 on b (passed over for web) and on c: c's copy stays, though b's id is lower. Slot 1 on a (passed
        // over for api only) and on c: the lowest id, a, stays.
        let current = [slot(0, on: "c"), slot(0, on: "b"), slot(1, on: "c"), slot(1, on: "a")]
        let decision = Scheduler.place(SchedulerInput(
            apps: [app(replicas: 2)], hosts: three, current: current, passedOver: ["web": ["b"], "api": ["a"]]
        ))
        #expect(decision.assignments == [slot(0, on: "c"), slot(1, on: "a")])
        #expect(decision.deletes == [slot(0, on: "b"), slot(1, on: "c")])
    }

    @Test func constraintsAndSpreadTogether() {
        let hosts = [
            host("a1", ["zone": "a", "disk": "ssd"]), host("a2", ["zone": "a", "disk": "hdd"]),
            host("b1", ["zone": "b", "disk": "ssd"]), host("b2", ["zone": "b", "disk": "ssd"]),
            host("c1", ["zone": "c", "disk": "hdd"]),
        ]
        let decision = Scheduler.place(SchedulerInput(
            apps: [app(replicas: 6, constraints: ["disk != hdd"], spread: "zone")], hosts: hosts
        ))
        #expect(decision.count() == ["a1": 3, "b1": 2, "b2": 1], "zone c has no ssd host: zones a and b share")
    }

    @Test func aHeldBackHostKeepsItsSlotsUntilTheDelayEnds() {
        let start = SchedulerInput(apps: [app(replicas: 6)], hosts: three)
        let before = Scheduler.place(start)
        var held = start.applying(before)
        held.hosts = [host("a"), host("b")]
        held.heldBack = ["c"]
        let during = Scheduler.place(held)
        #expect(during.isSettled, "nothing moves during the failover delay")
        #expect(during.count() == ["a": 2, "b": 2, "c": 2])
        #expect(during.unplaceable.isEmpty)
        held.heldBack = []
        let after = Scheduler.place(held)
        #expect(after.count() == ["a": 3, "b": 3])
        #expect(after.deletes == before.assignments.filter { $0.host == "c" })
    }

    @Test func aHeldBackHostTakesNothingNewAndKeepsItsHashes() {
        let current = [slot(0, on: "a"), slot(1, on: "b"), slot(2, on: "c")]
        let decision = Scheduler.place(SchedulerInput(
            apps: [app(replicas: 5, hash: "h2")], hosts: three, current: current, heldBack: ["c"]
        ))
        #expect(decision.count() == ["a": 2, "b": 2, "c": 1])
        #expect(decision.puts.allSatisfy { $0.host != "c" }, "no put names a held-back host")
        #expect(decision.assignments.contains(slot(2, on: "c", hash: "h1")))
    }

    @Test func aScaleDownRemovesHeldBackSlotsFirst() {
        let current = [slot(0, on: "a"), slot(1, on: "b"), slot(2, on: "gone"), slot(3, on: "gone")]
        let decision = Scheduler.place(SchedulerInput(
            apps: [app(replicas: 2)], hosts: three, current: current, heldBack: ["gone"]
        ))
        #expect(decision.deletes == [slot(2, on: "gone"), slot(3, on: "gone")])
        #expect(decision.puts.isEmpty)
    }
}
