import Primitives
import Synchronization
import Testing

@Suite struct WakeSignalTests {
    @Test func oneSignalWakesEveryTaskThatWaits() async throws {
        let signal = WakeSignal()
        let woken = Counter()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<2 {
                group.addTask {
                    await signal.wait()
                    woken.add()
                }
            }
            // Both tasks are waiting before the signal: a signal sent earlier would be kept for one of them only.
            try await Task.sleep(for: .milliseconds(100))
            #expect(woken.value == 0)
            signal.signal()
            let deadline = ContinuousClock.now + .seconds(5)
            while woken.value < 2, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
            #expect(woken.value == 2, "a second waiter was never woken")
            group.cancelAll()
        }
    }

    @Test func aSignalWithNobodyWaitingEndsTheNextWaitOnly() async {
        let signal = WakeSignal()
        signal.signal()
        signal.signal()
        let start = ContinuousClock.now
        await signal.wait()  // The kept signal: returns at once.
        #expect(ContinuousClock.now - start < .milliseconds(500))
        // Signals do not add up: the next wait waits for its timeout.
        let second = ContinuousClock.now
        await signal.wait(timeout: .milliseconds(200))
        #expect(ContinuousClock.now - second >= .milliseconds(200))
    }

    @Test func cancellingAWaiterEndsItsWaitAndLeavesTheOthers() async throws {
        let signal = WakeSignal()
        let woken = Counter()
        let cancelled = Task {
            await signal.wait()
        }
        let other = Task {
            await signal.wait()
            woken.add()
        }
        try await Task.sleep(for: .milliseconds(50))
        cancelled.cancel()
        await cancelled.value
        #expect(woken.value == 0)
        signal.signal()
        await other.value
        #expect(woken.value == 1)
    }
}

/// A count shared between tasks.
private final class Counter: Sendable {
    private let count = Mutex(0)
    var value: Int { count.withLock { $0 } }
    func add() { count.withLock { $0 += 1 } }
}
