import Render
import Testing

/// An instant on a clock the test moves by hand.
struct FakeInstant: InstantProtocol, CustomStringConvertible {
    var offset: Duration

    static let zero = FakeInstant(offset: .zero)

    func advanced(by duration: Duration) -> FakeInstant { FakeInstant(offset: offset + duration) }
    func duration(to other: FakeInstant) -> Duration { other.offset - offset }
    static func < (lhs: FakeInstant, rhs: FakeInstant) -> Bool { lhs.offset < rhs.offset }

    var description: String { "\(offset)" }
}

/// `takeDue` outside the `#expect` macro, which cannot call mutating methods.
func take(_ scheduler: inout DebounceScheduler<FakeInstant>, _ now: FakeInstant) -> Bool {
    scheduler.takeDue(at: now)
}

/// The debounce/max-wait decisions, driven by a made-up clock.
@Suite struct DebounceSchedulerTests {
    /// Feeds changes at the given instants to a scheduler and returns when it would render (the render loop
    /// wakes at each deadline, as the renderer does), until `end`.
    func renders(changes: [Duration], debounce: Duration, maxWait: Duration, end: Duration) -> [Duration] {
        var scheduler = DebounceScheduler<FakeInstant>(debounce: debounce, maxWait: maxWait)
        var fired: [Duration] = []
        var pending = changes.sorted()[...]
        while true {
            let nextChange = pending.first
            if let deadline = scheduler.deadline, nextChange.map({ deadline.offset <= $0 }) ?? true {
                guard deadline.offset <= end else { break }
                #expect(take(&scheduler, deadline))
                fired.append(deadline.offset)
            } else if let change = nextChange {
                scheduler.changed(at: FakeInstant(offset: change))
                pending.removeFirst()
            } else {
                break
            }
        }
        return fired
    }

    @Test func aBurstOf50ChangesGivesTwoRendersTheFirstAtOnce() {
        // 50 replicas registering 2 ms apart: the first change is rendered at once, the other 49 together.
        let burst = (0..<50).map { Duration.milliseconds(2 * $0) }
        let fired = renders(changes: burst, debounce: .milliseconds(50), maxWait: .seconds(1), end: .seconds(10))
        #expect(fired == [.zero, .milliseconds(98 + 50)])
    }

    @Test func aSteadyStreamRendersEveryMaxWait() {
        // A change every 10 ms for 5 s: after the first, the quiet time never comes; the max wait caps each batch.
        let stream = (0..<500).map { Duration.milliseconds(10 * $0) }
        let fired = renders(changes: stream, debounce: .milliseconds(50), maxWait: .seconds(1), end: .seconds(10))
        #expect(fired == [.zero] + (0..<5).map { .milliseconds(1010) + .seconds($0) })
    }

    @Test func separateChangesRenderAtOnceAndAFollowerWaits() {
        let fired = renders(
            changes: [.zero, .milliseconds(500), .milliseconds(510)], debounce: .milliseconds(50), maxWait: .seconds(1),
            end: .seconds(5))
        #expect(fired == [.zero, .milliseconds(500), .milliseconds(560)])
    }

    @Test func aChangeSoonAfterARenderWaitsForTheQuietTime() {
        var scheduler = DebounceScheduler<FakeInstant>(debounce: .milliseconds(50), maxWait: .seconds(1))
        #expect(scheduler.deadline == nil)
        #expect(!take(&scheduler, .zero))
        scheduler.changed(at: .zero)
        #expect(scheduler.hasPending)
        #expect(scheduler.deadline == .zero)
        #expect(take(&scheduler, .zero))
        #expect(!scheduler.hasPending)

        scheduler.changed(at: FakeInstant(offset: .milliseconds(20)))
        #expect(!take(&scheduler, FakeInstant(offset: .milliseconds(69))))
        scheduler.changed(at: FakeInstant(offset: .milliseconds(40)))
        #expect(scheduler.deadline == FakeInstant(offset: .milliseconds(90)))
        #expect(!take(&scheduler, FakeInstant(offset: .milliseconds(89))))
        #expect(take(&scheduler, FakeInstant(offset: .milliseconds(90))))
        #expect(!scheduler.hasPending)
        #expect(!take(&scheduler, FakeInstant(offset: .seconds(9))))

        // Quiet for longer than the debounce since the last render: at once again.
        scheduler.changed(at: FakeInstant(offset: .seconds(10)))
        #expect(scheduler.deadline == FakeInstant(offset: .seconds(10)))
    }

    @Test func maxWaitIsNeverShorterThanDebounce() {
        let scheduler = DebounceScheduler<FakeInstant>(debounce: .seconds(2), maxWait: .seconds(1))
        #expect(scheduler.maxWait == .seconds(2))
        let zero = DebounceScheduler<FakeInstant>(debounce: .zero, maxWait: .zero)
        var immediate = zero
        immediate.changed(at: .zero)
        #expect(take(&immediate, .zero))
    }
}
