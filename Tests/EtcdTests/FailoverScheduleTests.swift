@testable import Etcd
import Testing

/// The client's failover decisions, without I/O: which endpoint gets the next attempt, and when.
@Suite struct FailoverScheduleTests {
    let start = ContinuousClock.now

    func schedule(endpoints: Int = 3, timeout: Duration = .seconds(5)) -> FailoverSchedule {
        FailoverSchedule(
            order: Array(0..<endpoints), hedgeDelay: .milliseconds(250), maximumPause: .seconds(1), now: start,
            deadline: start + timeout)
    }

    @Test func aSilentAttemptIsHedgedOnTheNextEndpointAfterTheDelay() {
        var plan = schedule()
        #expect(plan.start(now: start) == .send(endpoint: 0))
        #expect(plan.wakeUp == start + .milliseconds(250))
        #expect(plan.timerFired(now: start + .milliseconds(100)) == .wait)
        #expect(plan.timerFired(now: start + .milliseconds(250)) == .send(endpoint: 1))
        #expect(plan.timerFired(now: start + .milliseconds(500)) == .send(endpoint: 2))
        // Every endpoint has one in flight; the next round asks the first one again (a follower that was
        // waiting for a dead leader answers a new request once a new leader is elected).
        #expect(plan.timerFired(now: start + .milliseconds(750)) == .send(endpoint: 0))
        #expect(plan.inFlight == 4)
    }

    @Test func aLoneHungMemberGetsACopyEvery750Milliseconds() {
        var plan = schedule(endpoints: 1)
        var sends = 0
        var now = start
        if case .send = plan.start(now: now) { sends += 1 }
        while now < start + .seconds(5) {
            now = plan.wakeUp
            if case .send = plan.timerFired(now: now) { sends += 1 }
        }
        // At 0, 0.75, 1.5, 2.25, 3, 3.75 and 4.5 s (not every 250 ms).
        #expect(sends == 7)
    }

    @Test func aDeadMemberBesideSilentOnesDoesNotSlowTheNextRound() {
        // The leader died (refuses), the two followers are stuck on proposals it never got.
        var plan = schedule()
        #expect(plan.start(now: start) == .send(endpoint: 0))
        #expect(plan.timerFired(now: start + .milliseconds(250)) == .send(endpoint: 1))
        #expect(plan.timerFired(now: start + .milliseconds(500)) == .send(endpoint: 2))
        #expect(plan.attemptFailed(now: start + .milliseconds(501), refused: true) == .wait)
        #expect(plan.wakeUp == start + .milliseconds(750))
        #expect(plan.timerFired(now: start + .milliseconds(750)) == .send(endpoint: 0))
    }

    @Test func aFailedAttemptMovesOnAtOnce() {
        var plan = schedule()
        #expect(plan.start(now: start) == .send(endpoint: 0))
        #expect(plan.attemptFailed(now: start + .milliseconds(1)) == .send(endpoint: 1))
        #expect(plan.attemptFailed(now: start + .milliseconds(2)) == .send(endpoint: 2))
        // The round is over: wait instead of looping.
        #expect(plan.attemptFailed(now: start + .milliseconds(3)) == .wait)
        #expect(plan.wakeUp == start + .milliseconds(252))
        #expect(plan.timerFired(now: plan.wakeUp) == .send(endpoint: 0))
    }

    @Test func roundsInWhichEveryMemberFailedArePacedUpToASecond() {
        var plan = schedule(timeout: .seconds(30))
        var now = start
        var sends = [now]
        _ = plan.start(now: now)
        while now < start + .seconds(10) {
            var step = plan.attemptFailed(now: now)
            while case .send = step {
                sends.append(now)
                step = plan.attemptFailed(now: now)
            }
            now = plan.wakeUp
            if case .send = plan.timerFired(now: now) { sends.append(now) }
        }
        // Three endpoints per round; pauses of 250, 250, 500 ms, then 1 s each: about 12 rounds in 10 s.
        #expect(sends.count <= 3 * 13)
        #expect(sends.count >= 3 * 9)
    }

    @Test func aRoundInWhichEveryEndpointRefusedEndsTheRequest() {
        var plan = schedule()
        #expect(plan.start(now: start) == .send(endpoint: 0))
        #expect(plan.attemptFailed(now: start, refused: true) == .send(endpoint: 1))
        #expect(plan.attemptFailed(now: start, refused: true) == .send(endpoint: 2))
        #expect(plan.attemptFailed(now: start, refused: true) == .giveUp)
    }

    @Test func aRefusalBesideASilentAttemptWaitsForTheHedge() {
        var plan = schedule(endpoints: 2)
        #expect(plan.start(now: start) == .send(endpoint: 0))
        #expect(plan.timerFired(now: start + .milliseconds(250)) == .send(endpoint: 1))
        #expect(plan.attemptFailed(now: start + .milliseconds(251), refused: true) == .wait)
        #expect(plan.timerFired(now: start + .milliseconds(500)) == .send(endpoint: 0))
    }

    @Test func nothingIsSentAfterTheDeadline() {
        var plan = schedule(timeout: .seconds(1))
        #expect(plan.start(now: start) == .send(endpoint: 0))
        #expect(plan.timerFired(now: start + .seconds(1)) == .giveUp)
        #expect(plan.attemptFailed(now: start + .seconds(2)) == .giveUp)
        #expect(plan.wakeUp <= start + .seconds(1))
    }
}
