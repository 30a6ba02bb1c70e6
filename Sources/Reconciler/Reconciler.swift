#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Manifests
import Primitives

/// Decides, pass by pass, which containers to create, retire and remove so that every declared app runs its
/// replicas. A plain state machine: observations in, a `Plan` out; it never talks to Docker itself.
///
/// Between passes it remembers only what a single observation cannot tell: each app's consecutive failures
/// (for backoff), which stopped containers were already counted, and which containers it retired itself.
public struct Reconciler: Sendable {
    private let policy: BackoffPolicy
    /// Consecutive failures per app; an app without an entry has none.
    private var failureRecords: [String: FailureRecord] = [:]
    /// Stopped containers already accounted for (counted as a failure, or deliberately not), by id.
    private var accountedIDs: Set<String> = []
    /// Containers this reconciler emitted `.retire` for, by id: their later exit is no failure.
    private var retiredIDs: Set<String> = []

    public init(policy: BackoffPolicy = BackoffPolicy()) {
        self.policy = policy
    }

    /// One pass: what to do now. Mutating because it remembers failures (backoff) and retirements between passes.
    public mutating func plan(desired: DesiredState, observed: [ObservedContainer], now: Date) -> Plan {
        forgetVanished(observed)
        let specs = Self.specsByName(desired.apps)
        forgetFailures(keeping: Set(specs.keys).union(desired.untouchable))

        let containersByApp = Dictionary(grouping: observed.filter { $0.state != .removing }, by: \.app)
        var builder = PlanBuilder()
        for (app, containers) in containersByApp where specs[app] == nil && !desired.untouchable.contains(app) {
            if !desired.keepUndeclared {
                retireUndeclared(containers, into: &builder)
            }
        }
        for (app, spec) in specs where !desired.untouchable.contains(app) {
            reconcile(
                spec, containers: containersByApp[app] ?? [], outdatedAllowed: desired.outdatedAllowed[app] ?? 0, now: now,
                into: &builder)
        }

        let plan = builder.build()
        for case .retire(let container, _) in plan.actions {
            retiredIDs.insert(container.id)
        }
        return plan
    }

    /// The runtime reports that creating or starting a container of `app` failed (pull error, bad command, …).
    public mutating func recordFailure(app: String, at date: Date) {
        var record = failureRecords[app] ?? FailureRecord()
        record.count += 1
        // A report that arrives out of order must not move the backoff window back.
        record.lastFailure = max(record.lastFailure ?? date, date)
        failureRecords[app] = record
    }

    /// Current consecutive failure count for an app (for status and logs).
    public func failures(of app: String) -> Int {
        failureRecords[app]?.count ?? 0
    }
}

// MARK: - One declared app

extension Reconciler {
    private mutating func reconcile(
        _ spec: AppSpec, containers: [ObservedContainer], outdatedAllowed: Int, now: Date, into builder: inout PlanBuilder
    ) {
        let app = spec.name
        let replicas = max(0, spec.replicas)

        // Being stopped by the agent: neither a replica nor a container to remove, but still running.
        let stopping = containers.filter { $0.state == .stopping }.count
        let stopped = containers.filter { !$0.state.isAlive && $0.state != .stopping }
        accountFailures(of: app, among: stopped, now: now)
        for container in stopped {
            builder.remove(container)
        }

        let alive = containers.filter(\.state.isAlive)
        resetFailuresIfStable(app, alive: alive, now: now)

        let hash = spec.specHash
        let current = alive.filter { $0.specHash == hash }
        // Outdated containers the caller lets stay (the ready ones, then the newest) count as replicas; the
        // others are replaced.
        let allOutdated = alive.filter { $0.specHash != hash }.sorted(by: Self.outdatedRetireOrder)
        let keptCount = min(allOutdated.count, max(0, min(outdatedAllowed, replicas)))
        let outdated = Array(allOutdated.dropLast(keptCount))
        let wanted: Int
        if outdated.isEmpty {
            wanted = steadyState(current: current, replicas: replicas - keptCount, into: &builder)
        } else {
            wanted = rollout(
                current: current, outdated: outdated, stopping: stopping, replicas: replicas - keptCount, into: &builder)
        }

        guard wanted > 0 else { return }
        if let retryAt = retryTime(of: app, now: now) {
            builder.holdBack(app, until: retryAt)
        } else {
            builder.create(spec, count: wanted)
        }
    }

    /// All containers are on the current spec: scale up or down. Returns how many containers to create.
    private func steadyState(current: [ObservedContainer], replicas: Int, into builder: inout PlanBuilder) -> Int {
        if current.count > replicas {
            for extra in current.sorted(by: Self.scaleDownOrder).prefix(current.count - replicas) {
                builder.retire(extra, .scaleDown)
            }
        }
        return max(0, replicas - current.count)
    }

    /// Replaces outdated containers with a surge of one: a new container is created only while none is
    /// starting and no retired one is still stopping (so at most replicas + 1 run at any time), and an old one
    /// is retired only once its replacement is ready. Returns how many to create.
    private func rollout(
        current: [ObservedContainer], outdated: [ObservedContainer], stopping: Int, replicas: Int,
        into builder: inout PlanBuilder
    ) -> Int {
        var remaining = outdated.sorted(by: Self.outdatedRetireOrder)[...]
        let ceiling = replicas == 0 ? 0 : replicas + 1
        while current.count + remaining.count > ceiling, let oldest = remaining.popFirst() {
            builder.retire(oldest, .outdated)
        }
        guard !remaining.isEmpty else {
            // Trimming retired every outdated container: what is left is plain scaling.
            return steadyState(current: current, replicas: replicas, into: &builder)
        }
        guard current.allSatisfy(\.ready) else {
            return 0  // A replacement is still starting: wait for it.
        }
        if current.count + remaining.count > replicas, let oldest = remaining.first {
            builder.retire(oldest, .outdated)
            return 0
        }
        guard current.count + remaining.count + stopping < ceiling else {
            return 0  // A retired container still stops: the surge is in use.
        }
        return current.count < replicas ? 1 : 0
    }

    /// Containers of an app no manifest declares: live ones are retired, stopped ones removed (no failure).
    private mutating func retireUndeclared(_ containers: [ObservedContainer], into builder: inout PlanBuilder) {
        for container in containers where container.state != .stopping {
            if container.state.isAlive {
                builder.retire(container, .undeclared)
            } else {
                accountedIDs.insert(container.id)
                builder.remove(container)
            }
        }
    }

    /// Not-ready containers first (they serve nobody), then the newest.
    private static func scaleDownOrder(_ lhs: ObservedContainer, _ rhs: ObservedContainer) -> Bool {
        if lhs.ready != rhs.ready { return !lhs.ready }
        if lhs.createdAt != rhs.createdAt { return lhs.createdAt > rhs.createdAt }
        return lhs.name < rhs.name
    }

    /// Not-ready containers first (retiring them costs no capacity), then the oldest.
    private static func outdatedRetireOrder(_ lhs: ObservedContainer, _ rhs: ObservedContainer) -> Bool {
        if lhs.ready != rhs.ready { return !lhs.ready }
        if lhs.createdAt != rhs.createdAt { return lhs.createdAt < rhs.createdAt }
        return lhs.name < rhs.name
    }

    /// The first spec for each name (the manifest loader should never declare a name twice).
    private static func specsByName(_ apps: [AppSpec]) -> [String: AppSpec] {
        var specs: [String: AppSpec] = [:]
        for spec in apps where specs[spec.name] == nil {
            specs[spec.name] = spec
        }
        return specs
    }
}

// MARK: - Failures and backoff

extension Reconciler {
    /// Consecutive failures of one app.
    private struct FailureRecord: Sendable {
        var count = 0
        var lastFailure: Date?
    }

    /// Accounts each exited or dead container once, unless this reconciler retired it. Containers of an app
    /// found dead in the same pass count as one failure: several replicas dying together (a dockerd restart,
    /// a host event) is one event, not a crash loop.
    private mutating func accountFailures(of app: String, among stopped: [ObservedContainer], now: Date) {
        let newlyFailed = stopped
            .filter { ($0.state == .exited || $0.state == .dead) && !accountedIDs.contains($0.id) }
        accountedIDs.formUnion(newlyFailed.map(\.id))
        let failed = newlyFailed.filter { !retiredIDs.contains($0.id) }
        guard !failed.isEmpty else { return }
        var record = failureRecords[app] ?? FailureRecord()
        record.count = failed.allSatisfy(ranLongEnough) ? 1 : record.count + 1
        record.lastFailure = now
        failureRecords[app] = record
    }

    private func ranLongEnough(_ container: ObservedContainer) -> Bool {
        guard let startedAt = container.startedAt, let finishedAt = container.finishedAt else { return false }
        return finishedAt.timeIntervalSince(startedAt) >= policy.resetAfter.seconds
    }

    /// Clears the count once a ready container has run for `resetAfter` and no failure happened meanwhile.
    ///
    /// The quiet period matters: without it, an old replica that keeps running through a rollout of a broken
    /// spec would reset the count on every pass and the broken replacement would be recreated without backoff.
    private mutating func resetFailuresIfStable(_ app: String, alive: [ObservedContainer], now: Date) {
        guard let record = failureRecords[app] else { return }
        let resetAfter = policy.resetAfter.seconds
        if let lastFailure = record.lastFailure, now.timeIntervalSince(lastFailure) < resetAfter {
            return
        }
        let hasLongRunner = alive.contains { container in
            guard container.ready, let startedAt = container.startedAt else { return false }
            return now.timeIntervalSince(startedAt) >= resetAfter
        }
        if hasLongRunner {
            failureRecords[app] = nil
        }
    }

    /// When the app may get a new container again, if that is still in the future.
    private func retryTime(of app: String, now: Date) -> Date? {
        guard let record = failureRecords[app], let lastFailure = record.lastFailure else { return nil }
        let retryAt = lastFailure.addingTimeInterval(policy.delay(afterFailures: record.count).seconds)
        return retryAt > now ? retryAt : nil
    }

    /// Drops remembered ids of containers that are gone, so memory stays bounded; a container that runs again
    /// (someone started it by hand) may fail again.
    private mutating func forgetVanished(_ observed: [ObservedContainer]) {
        retiredIDs.formIntersection(observed.map(\.id))
        accountedIDs.formIntersection(observed.filter { !$0.state.isAlive }.map(\.id))
    }

    private mutating func forgetFailures(keeping apps: Set<String>) {
        failureRecords = failureRecords.filter { apps.contains($0.key) }
    }
}

extension BackoffPolicy {
    /// How long to hold back new containers after `count` consecutive failures: nothing for the first,
    /// then `initial`, doubling each time, at most `maximum`.
    func delay(afterFailures count: Int) -> Duration {
        guard count > 1, initial > .zero else { return .zero }
        var delay = initial
        for _ in 0..<(count - 2) {
            if delay >= maximum { break }
            delay *= 2
        }
        return min(delay, maximum)
    }
}

extension ContainerState {
    /// Running, or about to run again: counts as a replica.
    var isAlive: Bool {
        switch self {
        case .running, .restarting, .paused: true
        case .created, .exited, .dead, .removing, .stopping: false
        }
    }
}

