import Logging
import Synchronization

/// Logs etcd's comings and goings once per change of state, not once per failed attempt: the first failed
/// read, the first lost watch, and the moment everything answers again.
final class EtcdConnectionLog: Sendable {
    private struct State {
        /// The last read failure logged; nil while reads succeed.
        var lastReadFailure: String?
        /// Prefixes whose watch is disconnected right now.
        var disconnected: Set<String> = []
    }

    private let state = Mutex(State())
    private let logger: Logger

    init(logger: Logger) {
        self.logger = logger
    }

    func readFailed(_ error: any Error) {
        let message = "\(error)"
        let isNew = state.withLock { state in
            defer { state.lastReadFailure = message }
            return state.lastReadFailure == nil
        }
        if isNew {
            logger.warning("cannot read etcd: \(message); keeping the current files until it answers (retrying)")
        } else {
            logger.debug("cannot read etcd: \(message)")
        }
    }

    func readSucceeded() {
        let wasFailing = state.withLock { state in
            defer { state.lastReadFailure = nil }
            return state.lastReadFailure != nil
        }
        if wasFailing { logger.notice("etcd answers again") }
    }

    func watchDisconnected(_ prefix: String, reason: String) {
        let first = state.withLock { state in
            defer { state.disconnected.insert(prefix) }
            return state.disconnected.isEmpty
        }
        if first {
            logger.warning("lost etcd (\(reason)); keeping the current files and reconnecting")
        } else {
            logger.debug("watch on \(prefix) disconnected: \(reason)")
        }
    }

    func watchConnected(_ prefix: String) {
        let back = state.withLock { state in
            guard state.disconnected.remove(prefix) != nil else { return false }
            return state.disconnected.isEmpty
        }
        if back { logger.notice("etcd is back; the watches resumed where they stopped") }
    }
}
