#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Manifests

/// Collects one pass's decisions, at most one per container, and puts them in a stable order:
/// by app name, then container name, with an app's creations after its removals and retirements.
struct PlanBuilder {
    private struct Entry {
        var app: String
        /// Empty for `.create`.
        var containerName: String
        var containerID: String
        var action: Action

        var isCreate: Bool { containerID.isEmpty }
    }

    private var entries: [Entry] = []
    private var decidedIDs: Set<String> = []
    private var backingOff: [String: Date] = [:]

    mutating func retire(_ container: ObservedContainer, _ reason: RetireReason) {
        add(container, .retire(container, reason))
    }

    mutating func remove(_ container: ObservedContainer) {
        add(container, .remove(container))
    }

    mutating func create(_ spec: AppSpec, count: Int) {
        for _ in 0..<max(0, count) {
            entries.append(Entry(app: spec.name, containerName: "", containerID: "", action: .create(spec)))
        }
    }

    /// Notes that the app's new containers wait until `date`.
    mutating func holdBack(_ app: String, until date: Date) {
        backingOff[app] = date
    }

    func build() -> Plan {
        let ordered = entries.sorted { lhs, rhs in
            (lhs.app, lhs.isCreate ? 1 : 0, lhs.containerName, lhs.containerID)
                < (rhs.app, rhs.isCreate ? 1 : 0, rhs.containerName, rhs.containerID)
        }
        return Plan(actions: ordered.map(\.action), backingOff: backingOff, wakeAt: backingOff.values.min())
    }

    private mutating func add(_ container: ObservedContainer, _ action: Action) {
        guard decidedIDs.insert(container.id).inserted else { return }
        entries.append(Entry(app: container.app, containerName: container.name, containerID: container.id, action: action))
    }
}
