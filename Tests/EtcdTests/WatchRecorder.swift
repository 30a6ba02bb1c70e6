import Etcd
import Foundation
import Synchronization

/// Consumes a watch in the background and keeps every update, so that a test can act and then wait for
/// what it expects. `stop()` ends the watch (its connection closes).
final class WatchRecorder: Sendable {
    struct Timeout: Error, CustomStringConvertible {
        let description: String
    }

    private final class Storage: Sendable {
        let updates = Mutex<[EtcdWatchUpdate]>([])
        let finished = Atomic<Bool>(false)
    }

    private let storage = Storage()
    private let task: Task<Void, Never>

    init(_ stream: AsyncStream<EtcdWatchUpdate>) {
        let storage = self.storage
        task = Task {
            for await update in stream { storage.updates.withLock { $0.append(update) } }
            storage.finished.store(true, ordering: .relaxed)
        }
    }

    deinit { task.cancel() }

    var updates: [EtcdWatchUpdate] { storage.updates.withLock { $0 } }
    /// True once the watch stream finished by itself.
    var isFinished: Bool { storage.finished.load(ordering: .relaxed) }

    /// Every event so far, in order.
    var events: [EtcdEvent] {
        updates.flatMap { update -> [EtcdEvent] in
            if case .events(let events, _) = update { return events }
            return []
        }
    }

    /// Waits until `condition` holds for the updates so far; throws with what arrived after `timeout`.
    @discardableResult
    func wait(
        timeout: Duration = .seconds(10), _ what: String = "the expected updates",
        until condition: ([EtcdWatchUpdate]) -> Bool
    ) async throws -> [EtcdWatchUpdate] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let seen = updates
            if condition(seen) { return seen }
            guard ContinuousClock.now < deadline else {
                throw Timeout(description: "no \(what) within \(timeout); got \(seen)")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Waits until the events seen include `count` of them.
    @discardableResult
    func waitForEvents(_ count: Int, timeout: Duration = .seconds(10)) async throws -> [EtcdEvent] {
        try await wait(timeout: timeout, "\(count) events") { _ in events.count >= count }
        return events
    }

    func stop() { task.cancel() }
}

extension EtcdWatchUpdate {
    var isConnected: Bool { if case .connected = self { true } else { false } }
    var isDisconnected: Bool { if case .disconnected = self { true } else { false } }
    var resyncRevision: Int64? { if case .resyncNeeded(let revision) = self { revision } else { nil } }
    var failure: EtcdError? { if case .failed(let error) = self { error } else { nil } }
}
