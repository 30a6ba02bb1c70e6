import Manifests
import Scheduler
import Testing

func host(_ id: String, _ labels: [String: String] = [:], schedulable: Bool = true) -> HostInfo {
    HostInfo(id: id, labels: labels, schedulable: schedulable, cpus: 2, memoryBytes: 1 << 30)
}

/// A constraint written as in a manifest; records an issue when the text does not parse.
func constraint(_ text: String) -> PlacementConstraint {
    switch PlacementConstraint.parse(text) {
    case .success(let constraint):
        return constraint
    case .failure(let error):
        Issue.record("fixture constraint: \(error)")
        return PlacementConstraint(label: "invalid", op: .equal, value: "invalid")
    }
}

func app(
    _ name: String = "web", replicas: Int, hash: String = "h1", maxPerHost: Int? = nil, constraints: [String] = [],
    spread: String? = nil
) -> AppPlacement {
    AppPlacement(
        name: name, replicas: replicas, specHash: hash, maxPerHost: maxPerHost, constraints: constraints.map(constraint),
        spreadLabel: spread
    )
}

func slot(_ app: String, _ slot: Int, on host: String, hash: String = "h1") -> SlotAssignment {
    SlotAssignment(app: app, slot: slot, host: host, specHash: hash)
}

/// A slot of "web".
func slot(_ number: Int, on host: String, hash: String = "h1") -> SlotAssignment {
    slot("web", number, on: host, hash: hash)
}

extension SchedulerDecision {
    /// Slots of `app` per host; hosts without any are absent.
    func count(_ app: String = "web") -> [String: Int] {
        var counts: [String: Int] = [:]
        for assignment in assignments where assignment.app == app {
            counts[assignment.host, default: 0] += 1
        }
        return counts
    }

    /// Slot numbers of `app` on `host`, ascending.
    func slots(_ app: String = "web", on host: String) -> [Int] {
        assignments.filter { $0.app == app && $0.host == host }.map(\.slot).sorted()
    }

    /// Slot numbers of `app`, ascending.
    func slots(_ app: String = "web") -> [Int] {
        assignments.filter { $0.app == app }.map(\.slot).sorted()
    }
}

extension SchedulerInput {
    /// The same input with `current` replaced by a decision's assignments: the next pass after its writes,
    /// before any host serves what they wrote (the apps written to are rolling).
    func applying(_ decision: SchedulerDecision) -> SchedulerInput {
        var next = self
        next.current = decision.assignments
        next.rolling.formUnion(decision.puts.map(\.app))
        return next
    }
}

/// SplitMix64: a small seeded generator, so a failing property names a seed that reproduces it.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
