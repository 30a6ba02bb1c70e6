import Scheduler
import Testing

/// The issue's simulation size: 1,000 replicas of 50 apps on 100 hosts. Prints the times, asserts only correctness.
/// Run alone with `swift test --filter SchedulerTests.TimingTests` (a debug build is several times slower than
/// release: `swift test -c release --filter SchedulerTests.TimingTests`).
@Suite struct TimingTests {
    static let hosts = (0..<100).map { index in
        host("host\(index)", ["zone": "z\(index % 5)", "disk": index % 4 == 0 ? "hdd" : "ssd"])
    }

    /// 50 apps of 20 replicas; every third spreads over zones, every fifth has max_per_host 1, every seventh avoids hdd.
    static let apps = (0..<50).map { index in
        app(
            "app\(index)", replicas: 20, hash: "v1", maxPerHost: index % 5 == 0 ? 1 : nil,
            constraints: index % 7 == 0 ? ["disk != hdd"] : [], spread: index % 3 == 0 ? "zone" : nil
        )
    }

    /// The best of `runs` timings of `body`, in milliseconds.
    func milliseconds(runs: Int = 5, _ body: () -> Void) -> Double {
        let clock = ContinuousClock()
        let best = (0..<runs).map { _ in clock.measure(body) }.min() ?? .zero
        let (seconds, attoseconds) = best.components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }

    func format(_ milliseconds: Double) -> String {
        let hundredths = Int((milliseconds * 100).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    @Test func placesAThousandReplicasOnAHundredHosts() {
        let empty = SchedulerInput(apps: Self.apps, hosts: Self.hosts)
        var placed = Scheduler.place(empty)
        let fromEmpty = milliseconds { placed = Scheduler.place(empty) }
        #expect(placed.assignments.count == 1000)
        #expect(placed.unplaceable.isEmpty)
        print("scheduler: placed \(placed.assignments.count) replicas of \(Self.apps.count) apps on \(Self.hosts.count) hosts in \(format(fromEmpty)) ms")

        let settled = empty.applying(placed)
        var again = Scheduler.place(settled)
        let unchanged = milliseconds { again = Scheduler.place(settled) }
        #expect(again.isSettled)
        print("scheduler: checked \(again.assignments.count) settled replicas on \(Self.hosts.count) hosts in \(format(unchanged)) ms")

        var afterDeaths = settled
        afterDeaths.hosts = Array(Self.hosts.dropFirst(10))
        var moved = Scheduler.place(afterDeaths)
        let failover = milliseconds { moved = Scheduler.place(afterDeaths) }
        #expect(moved.assignments.count == 1000)
        #expect(moved.deletes.allSatisfy { Int($0.host.dropFirst(4)).map { $0 < 10 } == true })
        print("scheduler: moved \(moved.puts.count) replicas off 10 dead hosts (\(afterDeaths.hosts.count) left) in \(format(failover)) ms")

        var scaledDown = settled
        scaledDown.apps = Self.apps.map { var app = $0; app.replicas = 2; return app }
        var trimmed = Scheduler.place(scaledDown)
        let scaleDown = milliseconds { trimmed = Scheduler.place(scaledDown) }
        #expect(trimmed.assignments.count == 100)
        print("scheduler: scaled \(settled.current.count) replicas down to \(trimmed.assignments.count) in \(format(scaleDown)) ms")
    }
}
