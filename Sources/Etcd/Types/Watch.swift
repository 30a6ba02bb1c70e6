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

    init(fromRevision: Int64?) {
        nextRevision = fromRevision
    }

    /// A new connection is about to open.
    mutating func connecting() {
        createdRevision = 0
    }

    /// After a resync, continue after the revision the consumer re-reads at.
    mutating func resynced(at revision: Int64) {
        nextRevision = revision + 1
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
            if nextRevision == nil { nextRevision = response.revision + 1 }
            return .deliver(.connected(revision: response.revision))
        }
        if let last = response.events.last {
            // Resume after the last event, not the header revision: a catch-up batch may stop short of it.
            nextRevision = max(nextRevision ?? 0, last.revision + 1)
            return .deliver(.events(response.events, revision: response.revision))
        }
        // A progress notification: everything up to its revision has been sent.
        if response.revision > 0, createdRevision > 0 {
            nextRevision = max(nextRevision ?? 0, response.revision + 1)
        }
        return .none
    }

    /// A watch created with a token etcd does not accept (expired simple token, or none while auth is on).
    static func isTokenProblem(_ reason: String) -> Bool {
        reason.contains("Unauthenticated") || reason.contains("invalid auth token")
            || reason.contains("token expired") || reason.contains("user name is empty")
    }
}
