import Scheduler
import Testing

@Suite struct MoveTests {
    let three = [host("a"), host("b"), host("c")]

    /// 6 replicas on a, b, c: a holds 0 and 3, b 1 and 4, c 2 and 5.
    var settled: SchedulerInput {
        let start = SchedulerInput(apps: [app(replicas: 6)], hosts: three)
        return start.applying(Scheduler.place(start))
    }

    /// `input` with the move's new slot written and its old one marked retiring: the caller's first step.
    func started(_ move: Scheduler.SlotMove, in input: SchedulerInput) -> SchedulerInput {
        var next = input
        next.current.append(move.add)
        next.retiring.insert(move.retire.key)
        return next
    }

    /// `input` once the move's new container is registered and its old slot deleted.
    func finished(_ move: Scheduler.SlotMove, in input: SchedulerInput) -> SchedulerInput {
        var next = input
        next.current.removeAll { $0 == move.retire }
        next.retiring.remove(move.retire.key)
        return next
    }

    @Test func aMoveStartsANewSlotOnAnotherHost() throws {
        let move = try #require(Scheduler.moveOne(app: "web", off: "a", input: settled))
        #expect(move.retire == slot(3, on: "a"), "the highest number on a")
        #expect(move.add == slot(6, on: "b"), "a new number, on the host the spread picks")
    }

    @Test func placeLeavesAMoveInFlightAlone() throws {
        let move = try #require(Scheduler.moveOne(app: "web", off: "a", input: settled))
        let during = started(move, in: settled)
        let decision = Scheduler.place(during)
        #expect(decision.isSettled)
        #expect(decision.assignments.contains(move.add) && decision.assignments.contains(move.retire))
        #expect(Scheduler.moveOne(app: "web", off: "b", input: during) == nil, "one move per app at a time")
    }

    @Test func aFinishedMoveKeepsItsNumbers() throws {
        let move = try #require(Scheduler.moveOne(app: "web", off: "a", input: settled))
        let after = finished(move, in: started(move, in: settled))
        let decision = Scheduler.place(after)
        #expect(decision.isSettled)
        #expect(decision.slots() == [0, 1, 2, 4, 5, 6])
        let next = try #require(Scheduler.moveOne(app: "web", off: "b", input: after))
        #expect(next.add.slot == 3, "the next move reuses the lowest free number")
    }

    @Test func withoutTheRetiringMarkPlaceTrimsBackToReplicas() throws {
        // A new leader that does not know of the move sees 7 slots: it trims one by the scale-down rule (here the
        // new one, on the host now holding three), and the move is undone without a gap.
        let move = try #require(Scheduler.moveOne(app: "web", off: "a", input: settled))
        var unknown = settled
        unknown.current.append(move.add)
        let decision = Scheduler.place(unknown)
        #expect(decision.assignments.count == 6)
        #expect(decision.deletes == [move.add])
    }

    @Test func aRetiringSlotOnADeadHostIsDeleted() throws {
        let move = try #require(Scheduler.moveOne(app: "web", off: "a", input: settled))
        var during = started(move, in: settled)
        during.hosts.removeAll { $0.id == "a" }
        let decision = Scheduler.place(during)
        #expect(decision.deletes.contains(move.retire))
        #expect(decision.assignments.allSatisfy { $0.host != "a" })
        #expect(decision.assignments.count == 6, "a's other slot moved; the retiring one is not replaced")
    }

    @Test func theNewSlotOfAMoveMovesOnWhenItsHostDies() throws {
        let move = try #require(Scheduler.moveOne(app: "web", off: "a", input: settled))
        var during = started(move, in: settled)
        during.hosts.removeAll { $0.id == move.add.host }
        let decision = Scheduler.place(during)
        let moved = try #require(decision.assignments.first { $0.slot == move.add.slot })
        #expect(moved.host != move.add.host, "the same number, on a host still alive")
        #expect(decision.assignments.contains(move.retire), "the old slot keeps serving until the new one runs")
        #expect(decision.assignments.count == 7)
    }

    @Test func aSpecChangeDuringAMoveLeavesTheRetiringSlotAlone() throws {
        let move = try #require(Scheduler.moveOne(app: "web", off: "a", input: settled))
        var during = started(move, in: settled)
        during.apps = [app(replicas: 6, hash: "h2")]
        during.rolling = []
        var turned: [SlotAssignment] = []
        // One slot per settled step, until every counted slot runs the new spec; the retiring one never turns.
        for _ in 0..<8 {
            let decision = Scheduler.place(during)
            #expect(decision.puts.count <= 1)
            turned += decision.puts
            during.current = decision.assignments
        }
        #expect(turned.count == 6)
        #expect(!turned.contains { $0.key == move.retire.key })
        #expect(during.current.first { $0.key == move.retire.key }?.specHash == "h1")
    }

    @Test func drainMovesEverySlotStartFirst() {
        var input = settled
        input.draining = ["a"]
        #expect(Scheduler.place(input).isSettled, "draining moves nothing by itself")
        var moves = 0
        while let move = Scheduler.moveOne(app: "web", off: "a", input: input) {
            #expect(move.add.host != "a")
            input = started(move, in: input)
            let during = Scheduler.place(input)
            #expect(during.isSettled)
            #expect(during.assignments.count == 7, "never below the count, at most one above")
            input = finished(move, in: input)
            #expect(Scheduler.place(input).isSettled)
            moves += 1
        }
        #expect(moves == 2)
        let decision = Scheduler.place(input)
        #expect(decision.count() == ["b": 3, "c": 3])
        input.hosts = [host("a", schedulable: false), host("b"), host("c")]
        input.draining = []
        #expect(Scheduler.place(input).isSettled, "marked drained once empty")
    }

    @Test func aDrainingHostTakesNoNewSlots() {
        var input = settled
        input.draining = ["a"]
        input.apps = [app(replicas: 8)]
        let decision = Scheduler.place(input)
        #expect(decision.puts.allSatisfy { $0.host != "a" })
        #expect(decision.count() == ["a": 2, "b": 3, "c": 3])
    }

    @Test func aScaleDownTakesFromADrainingHostFirst() {
        var input = settled
        input.draining = ["c"]
        input.apps = [app(replicas: 4)]
        let decision = Scheduler.place(input)
        #expect(decision.count() == ["a": 2, "b": 2])
    }

    @Test func eachAppMovesOneSlotAtATime() throws {
        let start = SchedulerInput(apps: [app("web", replicas: 3), app("api", replicas: 3)], hosts: three)
        var input = start.applying(Scheduler.place(start))
        let web = try #require(Scheduler.moveOne(app: "web", off: "a", input: input))
        input = started(web, in: input)
        let api = try #require(Scheduler.moveOne(app: "api", off: "a", input: input), "another app moves in parallel")
        input = started(api, in: input)
        #expect(Scheduler.place(input).isSettled)
        #expect(Scheduler.moveOne(app: "web", off: "a", input: input) == nil)
    }

    @Test func aMoveNeedsAnotherHostThatCanTakeIt() {
        let single = SchedulerInput(apps: [app(replicas: 2)], hosts: [host("a")])
        #expect(Scheduler.moveOne(app: "web", off: "a", input: single.applying(Scheduler.place(single))) == nil)

        let full = SchedulerInput(apps: [app(replicas: 3, maxPerHost: 1)], hosts: three)
        #expect(Scheduler.moveOne(app: "web", off: "a", input: full.applying(Scheduler.place(full))) == nil)

        var avoided = settled
        avoided.passedOver = ["web": ["b"]]
        avoided.draining = ["c"]
        // b is passed over (its slots move to a and c on their own) and c drains: nowhere to go from a.
        avoided = avoided.applying(Scheduler.place(avoided))
        #expect(Scheduler.moveOne(app: "web", off: "a", input: avoided) == nil)
    }

    @Test func aMoveOfNothingIsNil() {
        #expect(Scheduler.moveOne(app: "api", off: "a", input: settled) == nil, "unknown app")
        #expect(Scheduler.moveOne(app: "web", off: "d", input: settled) == nil, "no slot on that host")
        var drained = settled
        drained.hosts = [host("a", schedulable: false), host("b"), host("c")]
        #expect(Scheduler.moveOne(app: "web", off: "a", input: drained) == nil, "place moves those at once")
    }

    /// Runs `rebalanceOne` to the end, finishing each move before the next; returns the moves made.
    func rebalanced(_ input: inout SchedulerInput, app name: String = "web", limit: Int = 100) -> Int {
        var moves = 0
        while moves < limit, let move = Scheduler.rebalanceOne(app: name, input: input) {
            input = finished(move, in: started(move, in: input))
            moves += 1
        }
        return moves
    }

    @Test func rebalanceFillsAHostThatCameBack() {
        let current = [0, 1, 2].map { slot($0, on: "a") } + [3, 4, 5].map { slot($0, on: "b") }
        var input = SchedulerInput(apps: [app(replicas: 6)], hosts: three, current: current)
        #expect(Scheduler.place(input).isSettled, "no automatic rebalancing")
        #expect(rebalanced(&input) == 2)
        #expect(Scheduler.place(input).count() == ["a": 2, "b": 2, "c": 2])
        #expect(Scheduler.place(input).isSettled)
    }

    @Test func rebalanceLeavesAnEvenSpreadAlone() {
        #expect(Scheduler.rebalanceOne(app: "web", input: settled) == nil)
        let seven = SchedulerInput(apps: [app(replicas: 7)], hosts: three)
        #expect(Scheduler.rebalanceOne(app: "web", input: seven.applying(Scheduler.place(seven))) == nil, "3/2/2 is even")
    }

    @Test func rebalanceEvensZonesThenHostsInAZone() {
        let hosts = [host("a1", ["zone": "a"]), host("a2", ["zone": "a"]), host("b1", ["zone": "b"])]
        // Zone a holds 4 (all on a1), zone b none.
        var input = SchedulerInput(
            apps: [app(replicas: 4, spread: "zone")], hosts: hosts, current: [0, 1, 2, 3].map { slot($0, on: "a1") }
        )
        #expect(rebalanced(&input) == 3)
        #expect(Scheduler.place(input).count() == ["a1": 1, "a2": 1, "b1": 2])
    }

    @Test func rebalanceRespectsMaxPerHostAndPassedOver() {
        var input = SchedulerInput(
            apps: [app(replicas: 4, maxPerHost: 3)], hosts: three, current: [0, 1, 2].map { slot($0, on: "a") } + [slot(3, on: "b")],
            passedOver: ["web": ["c"]]
        )
        #expect(rebalanced(&input) == 1, "a to b once; c is passed over")
        #expect(Scheduler.place(input).count() == ["a": 2, "b": 2])
    }
}
