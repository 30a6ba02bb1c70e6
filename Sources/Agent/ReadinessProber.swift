#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import HTTPTransport
import Primitives
import Registry
import Synchronization

/// Where and how to check that a container takes traffic.
struct ProbeTarget: Sendable, Hashable {
    let containerID: String
    let host: String
    let port: Int
    /// When set, `GET <path>` must answer 2xx or 3xx; otherwise a TCP connection must open.
    let healthPath: String?
    /// The manifest's `health.interval`, `timeout` and `retries`; nil for the defaults.
    var interval: Duration? = nil
    var timeout: Duration? = nil
    var retries: Int? = nil
    /// The manifest's `health.start_period`: a container not ready by then is reported once.
    var startPeriod: Duration? = nil
}

/// Decides which containers are ready to be announced: new ones are probed quickly (50 ms, growing to 1 s)
/// until they answer; ready ones are checked every few seconds and lose their readiness after two failed
/// checks in a row. Calls `onChange` whenever the set of ready containers changes, and after a container's first
/// probe.
final class ReadinessProber: Sendable {
    private struct Entry {
        var target: ProbeTarget
        var ready = false
        /// Whether it was probed at least once (before that, "not ready" only means "not known yet").
        var checked = false
        var failures = 0
        var nextCheck: ContinuousClock.Instant
        var retryDelay = Duration.milliseconds(50)
        /// When probing began, and whether a slow start was reported.
        var since: ContinuousClock.Instant
        var reportedSlow = false
    }

    static let recheckInterval = Duration.seconds(3)
    /// Rechecks of ready containers fall on this grid, so that containers that became ready at different
    /// moments are checked together: with 200 containers, a few wake-ups a second rather than one every
    /// 15 ms (which cost the agent 3 to 5 % of a core while idle).
    static let recheckGrid = Duration.seconds(1)
    private let epoch = ContinuousClock.now
    private let http = HTTPClient(endpoint: .anyURL)
    private let entries = Mutex<[String: Entry]>([:])
    private let wake = WakeSignal()
    private let onChange: @Sendable () -> Void
    private let onSlowStart: @Sendable (_ containerID: String, _ after: Duration) -> Void

    /// `onSlowStart` is called once for a container that is still not ready when its start period is over.
    init(
        onSlowStart: @escaping @Sendable (_ containerID: String, _ after: Duration) -> Void = { _, _ in },
        onChange: @escaping @Sendable () -> Void
    ) {
        self.onSlowStart = onSlowStart
        self.onChange = onChange
    }

    /// Sets what to probe; returns the ids among `targets` that are ready now.
    func update(_ targets: [ProbeTarget]) -> Set<String> {
        let now = ContinuousClock.now
        var added = false
        let ready = entries.withLock { entries in
            var next: [String: Entry] = [:]
            for target in targets {
                if let entry = entries[target.containerID], entry.target == target {
                    next[target.containerID] = entry
                } else {
                    next[target.containerID] = Entry(target: target, nextCheck: now, since: now)
                    added = true
                }
            }
            entries = next
            return Set(next.values.filter(\.ready).map(\.target.containerID))
        }
        if added { wake.signal() }
        return ready
    }

    /// Whether every container given to `update` has had its first probe.
    var everyTargetChecked: Bool { entries.withLock { $0.values.allSatisfy(\.checked) } }

    /// Forgets a container at once (it died): it is not ready any more.
    func forget(_ containerID: String) {
        entries.withLock { _ = $0.removeValue(forKey: containerID) }
    }

    func run() async {
        while !Task.isCancelled {
            let now = ContinuousClock.now
            let due = entries.withLock { $0.values.filter { $0.nextCheck <= now }.map(\.target) }
            if !due.isEmpty, await probe(due) { onChange() }
            let next = entries.withLock { $0.values.map(\.nextCheck).min() }
            let wait = next.map { max(.milliseconds(5), $0 - ContinuousClock.now) } ?? .seconds(60)
            await wake.wait(timeout: wait)
        }
    }

    /// Probes the targets, 16 at a time; returns whether any readiness changed.
    private func probe(_ targets: [ProbeTarget]) async -> Bool {
        var changed = false
        await withTaskGroup(of: (ProbeTarget, Bool).self) { group in
            var pending = targets.makeIterator()
            for _ in 0..<16 {
                guard let target = pending.next() else { break }
                group.addTask { (target, await self.check(target)) }
            }
            while let (target, passed) = await group.next() {
                if record(target, passed: passed) { changed = true }
                if let target = pending.next() { group.addTask { (target, await self.check(target)) } }
            }
        }
        return changed
    }

    private func check(_ target: ProbeTarget) async -> Bool {
        let host = target.host.contains(":") ? "[\(target.host)]" : target.host
        guard let path = target.healthPath else {
            return await http.canConnect(host: target.host, port: target.port, timeout: target.timeout ?? .seconds(1))
        }
        let request = HTTPRequest(.get, "http://\(host):\(target.port)\(path)", timeout: target.timeout ?? .seconds(2))
        guard let response = try? await http.send(request) else { return false }
        return (200..<400).contains(response.status)
    }

    /// The first instant of the recheck grid at or after `instant`.
    private func onGrid(_ instant: ContinuousClock.Instant) -> ContinuousClock.Instant {
        let elapsed = epoch.duration(to: instant)
        let steps = (elapsed / Self.recheckGrid).rounded(.up)
        return epoch + Self.recheckGrid * steps
    }

    /// Stores a result; returns whether the target's readiness changed.
    private func record(_ target: ProbeTarget, passed: Bool) -> Bool {
        var slow: Duration?
        defer { if let slow { onSlowStart(target.containerID, slow) } }
        return entries.withLock { entries in
            guard var entry = entries[target.containerID], entry.target == target else { return false }
            let wasReady = entry.ready
            let wasChecked = entry.checked
            entry.checked = true
            let now = ContinuousClock.now
            if passed {
                entry.ready = true
                entry.failures = 0
                entry.retryDelay = .milliseconds(50)
                entry.nextCheck = target.interval.map { now + $0 } ?? onGrid(now + Self.recheckInterval)
            } else {
                entry.failures += 1
                if entry.ready && entry.failures >= (target.retries ?? 2) { entry.ready = false }
                if !entry.ready, !entry.reportedSlow, let period = target.startPeriod, now - entry.since >= period {
                    entry.reportedSlow = true
                    slow = period
                }
                entry.nextCheck = now + (entry.ready ? .milliseconds(200) : entry.retryDelay)
                if !entry.ready { entry.retryDelay = min(entry.retryDelay * 3 / 2, .seconds(1)) }
            }
            entries[target.containerID] = entry
            // A first verdict is news too: the agent waits for the first ones before its first announcement.
            return entry.ready != wasReady || !wasChecked
        }
    }
}
