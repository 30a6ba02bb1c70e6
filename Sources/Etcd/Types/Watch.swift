#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What `EtcdClient.watch` reports.
public enum EtcdWatchUpdate: Sendable, Hashable {
    /// The watch is (re)established; `revision` is the store revision when it was created.
    case connected(revision: Int64)
    /// Changes, in revision order. `revision` is the store revision etcd reported with them.
    case events([EtcdEvent], revision: Int64)
    /// The revision to resume from has been compacted away: changes were lost. Read everything again
    /// (`range(prefix:revision: currentRevision)` for exactly that state); events continue from
    /// `currentRevision + 1`.
    case resyncNeeded(currentRevision: Int64)
    /// The connection dropped; the watch reconnects after `retryIn`, resuming after the last revision seen.
    case disconnected(reason: String, retryIn: Duration)
    /// The watch cannot go on (permission denied, credentials refused); the stream finishes after this.
    case failed(EtcdError)
}

/// Where a watch stands between connections, and what each message means for it. Decisions only, no I/O.
struct WatchCursor: Sendable {
    /// The revision to ask for on the next connection; nil means "from now".
    private(set) var nextRevision: Int64?
    /// The store revision when the current connection's watch was created (0 before that).
    private(set) var createdRevision: Int64 = 0

    /// What a message asks of the watch loop.
    enum Step: Sendable, Hashable {
        /// Pass this on and keep reading.
        case deliver(EtcdWatchUpdate)
        /// Nothing to report (a progress notification); keep reading.
        case none
        /// The start revision is compacted: end this connection, resync at `currentRevision`.
        case compacted(currentRevision: Int64)
        /// etcd refused the token: end this connection, authenticate again, reconnect.
        case reauthenticate(reason: String)
        /// etcd canceled the watch for good.
        case canceled(reason: String)
    }

    /// What one line of the watch stream is.
    enum Line {
        /// An error inside the stream, e.g. the member shutting down (14) or a refused token (16).
        case failure(GatewayError)
        /// Not a watch message: end this connection (resuming from the last revision seen loses nothing).
        case unreadable(String)
        /// A watch message, and what it asks of the loop.
        case step(Step)
    }

    init(fromRevision: Int64?) {
        nextRevision = fromRevision
    }

    /// Reads one line of the stream (`{"result": …}` or `{"error": …}`) and takes in its message.
    mutating func read(_ line: Data) -> Line {
        if let error = GatewayError(line) { return .failure(error) }
        let message: StreamedResponse<WatchResponse>
        do {
            message = try JSONDecoder().decode(StreamedResponse<WatchResponse>.self, from: line)
        } catch {
            return .unreadable(
                "cannot read a watch message (\(error)): \(String(decoding: line, as: UTF8.self).prefix(300))")
        }
        guard let response = message.result else { return .step(.none) }
        return .step(receive(response))
    }

    /// A new connection is about to open.
    mutating func connecting() {
        createdRevision = 0
    }

    /// After a resync, continue after the revision the consumer re-reads at.
    mutating func resynced(at revision: Int64) {
        nextRevision = Self.after(revision)
        createdRevision = 0
    }

    mutating func receive(_ response: WatchResponse) -> Step {
        if response.canceled {
            if response.compactRevision > 0 {
                // etcd 3.4 leaves the header revision out of this message: the created one before it has it.
                return .compacted(currentRevision: max(createdRevision, response.revision, response.compactRevision))
            }
            let reason = response.cancelReason ?? "canceled by etcd without a reason"
            if Self.isTokenProblem(reason) { return .reauthenticate(reason: reason) }
            return .canceled(reason: reason)
        }
        if response.created {
            createdRevision = response.revision
            // Watching "from now" means from the revision after the one the watch was created at.
            if nextRevision == nil { nextRevision = Self.after(response.revision) }
            return .deliver(.connected(revision: response.revision))
        }
        if let newest = response.events.map(\.revision).max() {
            // Resume after the newest event, not the header revision: a catch-up batch may stop short of it.
            // (etcd sends events in revision order; the newest, not the last, is what a garbled batch can trust.)
            nextRevision = max(nextRevision ?? 0, Self.after(newest))
            return .deliver(.events(response.events, revision: response.revision))
        }
        // A progress notification: everything up to its revision has been sent.
        if response.revision > 0, createdRevision > 0 {
            nextRevision = max(nextRevision ?? 0, Self.after(response.revision))
        }
        return .none
    }

    /// The revision after `revision`; a revision is whatever the answer said, and Int64.max has none after it.
    static func after(_ revision: Int64) -> Int64 {
        revision == .max ? .max : revision + 1
    }

    /// A watch created with a token etcd does not accept (expired simple token, or none while auth is on).
    static func isTokenProblem(_ reason: String) -> Bool {
        reason.contains("Unauthenticated") || reason.contains("invalid auth token")
            || reason.contains("token expired") || reason.contains("user name is empty")
    }
}
