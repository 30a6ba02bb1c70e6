#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import HTTPTransport
import Synchronization

extension EtcdClient {
    /// Watches every key under `prefix` (all keys for "") and reports changes in batches, for as long as the
    /// consumer listens.
    ///
    /// Starts at `fromRevision` (e.g. a `range`'s revision + 1), or at the next change when nil. After a
    /// dropped connection it reconnects (100 ms doubling to `maximumBackoff`, reset once connected; on the
    /// next endpoint if this one cannot be reached or has no leader) and resumes after the last revision it
    /// reported, so nothing is missed or repeated. A quiet watch stream cannot tell a paused or cut-off member
    /// from a quiet prefix, so every `probeInterval` the member is asked for a cheap local count (with "no
    /// leader" refused at once); when it does not answer within a second (or the request timeout, if shorter),
    /// or has no leader, the watch moves to another member. When that revision has been compacted it reports `.resyncNeeded` and
    /// continues from the current revision. Permission errors end it with `.failed`.
    /// Maps to `POST /v3/watch {"create_request": {…}}`, one streamed `{"result": …}` line per message.
    public func watch(
        prefix: String, fromRevision: Int64? = nil, maximumBackoff: Duration = .seconds(5),
        probeInterval: Duration = .seconds(2)
    ) -> AsyncStream<EtcdWatchUpdate> {
        AsyncStream { continuation in
            let task = Task {
                await runWatch(
                    prefix: prefix, fromRevision: fromRevision, maximumBackoff: maximumBackoff, probeInterval: probeInterval
                ) {
                    continuation.yield($0)
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// How one watch connection ended.
    private enum WatchConnectionEnd {
        case dropped(reason: String)
        case compacted(currentRevision: Int64)
        case reauthenticate(reason: String)
        case failed(EtcdError)
    }

    private func runWatch(
        prefix: String, fromRevision: Int64?, maximumBackoff: Duration, probeInterval: Duration,
        yield: @escaping @Sendable (EtcdWatchUpdate) -> Void
    ) async {
        let initialBackoff = Duration.milliseconds(100)
        var cursor = WatchCursor(fromRevision: fromRevision)
        var backoff = initialBackoff
        var triedFreshToken = false
        while !Task.isCancelled {
            let end = await watchConnection(prefix: prefix, cursor: &cursor, probeInterval: probeInterval, yield: yield)
            if Task.isCancelled { return }
            let wasCreated = cursor.createdRevision > 0
            if wasCreated {
                backoff = initialBackoff
                triedFreshToken = false
            }
            switch end {
            case .compacted(let currentRevision):
                yield(.resyncNeeded(currentRevision: currentRevision))
                cursor.resynced(at: currentRevision)
                continue
            case .reauthenticate(let reason):
                // One fresh token per failure; a fresh token refused again is not going to work.
                guard credentials != nil, !triedFreshToken else {
                    yield(.failed(.watchCanceled(
                        prefix: prefix,
                        reason: reason + (credentials == nil
                            ? " (etcd has authentication enabled: pass an etcd user and password)" : ""))))
                    return
                }
                triedFreshToken = true
                invalidateToken(cachedToken)
                continue
            case .failed(let error):
                yield(.failed(error))
                return
            case .dropped(let reason):
                yield(.disconnected(reason: reason, retryIn: backoff))
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, maximumBackoff)
            }
        }
    }

    /// Opens one watch stream on the current endpoint and reads it until it ends or must be ended, while a
    /// probe checks that the member still answers.
    private func watchConnection(
        prefix: String, cursor: inout WatchCursor, probeInterval: Duration,
        yield: @escaping @Sendable (EtcdWatchUpdate) -> Void
    ) async -> WatchConnectionEnd {
        cursor.connecting()
        let token: String?
        do {
            token = try await currentToken()
        } catch {
            if case .authentication = error { return .failed(error) }
            return .dropped(reason: "\(error)")
        }
        guard !clients.isEmpty else { return .failed(.transport(call: "POST /v3/watch", failures: [])) }
        let index = currentIndex % clients.count
        let body = Self.jsonBody(WatchCreateRequest(prefix: prefix, startRevision: cursor.nextRevision))
        var request = HTTPRequest.json(.post, "/v3/watch", body: body)
        request.headers[Self.requireLeaderHeader] = "true"
        if let token, !token.isEmpty { request.headers["Authorization"] = token }
        let shared = SharedCursor(cursor)
        let streamRequest = request
        let end = await withTaskGroup(of: WatchConnectionEnd?.self) { group in
            group.addTask {
                await self.readWatchStream(streamRequest, index: index, prefix: prefix, cursor: shared, yield: yield)
            }
            group.addTask {
                await self.probeWatchedMember(index: index, prefix: prefix, token: token, every: probeInterval)
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? .dropped(reason: "the watch was cancelled")
        }
        cursor = shared.value.withLock { $0 }
        return end
    }

    /// Reads one watch stream to its end.
    private func readWatchStream(
        _ request: HTTPRequest, index: Int, prefix: String, cursor: SharedCursor,
        yield: @Sendable (EtcdWatchUpdate) -> Void
    ) async -> WatchConnectionEnd {
        do {
            for try await item in clients[index].stream(request) {
                guard case .line(let line) = item else { continue }
                switch cursor.value.withLock({ $0.read(line) }) {
                case .failure(let error):
                    if error.code == 16 { return .reauthenticate(reason: error.message) }
                    if error.code == 7 { return .failed(.watchCanceled(prefix: prefix, reason: error.message)) }
                    if error.code == 14 { endpointFailed(index) }
                    return .dropped(reason: "etcd ended the watch: \(error.message)")
                case .unreadable(let reason): return .dropped(reason: reason)
                case .step(.deliver(let update)): yield(update)
                case .step(.none): break
                case .step(.compacted(let currentRevision)): return .compacted(currentRevision: currentRevision)
                case .step(.reauthenticate(let reason)): return .reauthenticate(reason: reason)
                case .step(.canceled(let reason)): return .failed(.watchCanceled(prefix: prefix, reason: reason))
                }
            }
            return .dropped(reason: "etcd at \(endpoints[index]) closed the watch stream")
        } catch let error as HTTPTransportError {
            switch error.kind {
            case .status(401, let body):
                return .reauthenticate(reason: GatewayError(Data(body.utf8))?.message ?? body)
            case .status(503, _):
                endpointFailed(index)
                return .dropped(reason: error.description)
            case .status:
                return .dropped(reason: error.description)
            case .transport:
                endpointFailed(index)
                return .dropped(reason: error.description)
            }
        } catch {
            return .dropped(reason: "\(error)")
        }
    }

    /// Asks the watched member every `interval` for a local count of the prefix; returns when the member does
    /// not answer in time or answers that it has no leader (the watch then moves on), or nil when cancelled.
    /// Maps to `POST /v3/kv/range {"count_only": true, "serializable": true}` with `Grpc-Metadata-hasleader`.
    private func probeWatchedMember(index: Int, prefix: String, token: String?, every interval: Duration) async -> WatchConnectionEnd? {
        let timeout = min(requestTimeout, .seconds(1))
        var probe = RangeRequest(prefix: prefix, countOnly: true)
        probe.serializable = true
        var request = HTTPRequest.json(.post, "/v3/kv/range", body: Self.jsonBody(probe), timeout: timeout)
        request.headers[Self.requireLeaderHeader] = "true"
        if let token, !token.isEmpty { request.headers["Authorization"] = token }
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: interval)
                let response = try await clients[index].send(request)
                guard Self.isUnavailable(response) else { continue }
                endpointFailed(index)
                let message = GatewayError(response.body)?.message ?? response.bodyText
                return .dropped(reason: "etcd at \(endpoints[index]) cannot serve (\(message)): watching through another member")
            } catch is CancellationError {
                return nil
            } catch {
                if Task.isCancelled { return nil }
                endpointFailed(index)
                return .dropped(reason: "etcd at \(endpoints[index]) stopped answering (\(error)): watching through another member")
            }
        }
        return nil
    }
}

/// A watch connection's cursor, read by the stream and handed back when the connection ends.
private final class SharedCursor: Sendable {
    let value: Mutex<WatchCursor>
    init(_ cursor: WatchCursor) { value = Mutex(cursor) }
}
