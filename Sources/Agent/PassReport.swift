#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Manifests
import Reconciler

/// What one reconcile pass saw and decided, handed to the agent's observer (metrics, health, systemd status)
/// after the pass. Counts only: never container names, so that whoever turns it into metrics keeps labels few.
public struct PassReport: Sendable, Hashable {
    /// The counts of one app after the pass.
    public struct App: Sendable, Hashable {
        public var name: String
        public var desired: Int
        public var running: Int
        /// Running and answering its readiness check (with a registry; without one, running).
        public var ready: Int
        /// Announced in etcd; nil when the agent runs without etcd.
        public var registered: Int?
        /// Replacements are held back until then (the app's containers keep failing).
        public var backingOffUntil: Date?
    }

    /// When the pass ended.
    public var at: Date
    /// False when the pass could not list the containers (then `apps` is empty and nothing was decided).
    public var dockerReachable: Bool
    /// Every app a manifest declares, by name.
    public var apps: [App]
    /// Containers created and started, per app.
    public var created: [String: Int] = [:]
    /// Creates that failed (a missing image counts once), per app.
    public var createFailures: [String: Int] = [:]
    /// Containers found dead and removed so that a new one takes their place, per app.
    public var failedContainers: [String: Int] = [:]
    /// Containers of an older spec retired by a rolling replacement, per app.
    public var replaced: [String: Int] = [:]
    /// Invalid manifests at the time of the pass.
    public var invalidManifests: Int = 0
}

/// Called after every pass; must return quickly (it runs on the reconcile loop).
public typealias PassObserver = @Sendable (PassReport) -> Void

extension PassReport {
    /// The report of a pass that decided `plan` over `observed`.
    /// `createdApps` names the app of each container the pass created and started.
    static func after(
        plan: Plan, observed: [ObservedContainer], specs: [AppSpec], registered: [String: Int]?,
        createdApps: [String], createFailures failedApps: [String], invalidManifests: Int
    ) -> PassReport {
        var report = PassReport(at: Date(), dockerReachable: true, apps: [], invalidManifests: invalidManifests)
        for spec in specs {
            let mine = observed.filter { $0.app == spec.name && $0.state == .running }
            report.apps.append(App(
                name: spec.name, desired: spec.replicas, running: mine.count, ready: mine.filter(\.ready).count,
                registered: registered.map { $0[spec.name] ?? 0 }, backingOffUntil: plan.backingOff[spec.name]))
        }
        for app in failedApps { report.createFailures[app, default: 0] += 1 }
        for app in createdApps { report.created[app, default: 0] += 1 }
        for action in plan.actions {
            switch action {
            case .create:
                break
            case .retire(let container, .outdated):
                report.replaced[container.app, default: 0] += 1
            case .retire:
                break
            case .remove(let container):
                if container.state != .created { report.failedContainers[container.app, default: 0] += 1 }
            }
        }
        return report
    }
}
