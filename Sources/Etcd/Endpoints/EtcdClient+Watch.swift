#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import HTTPTransport

extension EtcdClient {
    /// Watches every key under `prefix` (all keys for "") and reports changes in batches, for as long as the
    /// consumer listens.
    ///
    /// Starts at `fromRevision` (e.g. a `range`'s revision + 1), or at the next change when nil. After a
    /// dropped connection it reconnects (100 ms doubling to `maximumBackoff`, reset once connected; on the
    /// next endpoint if this one cannot be reached) and resumes after the last revision it reported, so
    /// nothing is missed or repeated. When that revision has been compacted it reports `.resyncNeeded` and
    /// continues from the current revision. Permission errors end it with `.failed`.
    /// Maps to `POST /v3/watch {"create_request": {…}}`, one streamed `{"result": …}` line per message.
    public func watch(
        prefix: String, fromRevision: Int64? = nil, maximumBackoff: Duration = .seconds(5)
    ) -> AsyncStream<EtcdWatchUpdate> {
        AsyncStream { continuation in
            let task = Task {
                await runWatch(prefix: prefix, fromRevision: fromRevision, maximumBackoff: maximumBackoff) {
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
        prefix: String, fromRevision: Int64?, maximumBackoff: Duration,
        yield: @Sendable (EtcdWatchUpdate) -> Void
    ) async {
        let initialBackoff = Duration.milliseconds(100)
        var cursor = WatchCursor(fromRevision: fromRevision)
        var backoff = initialBackoff
        var triedFreshToken = false
        while !Task.isCancelled {
            let end = await watchConnection(prefix: prefix, cursor: &cursor, yield: yield)
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

    /// Opens one watch stream on the current endpoint and reads it until it ends or must be ended.
    private func watchConnection(
        prefix: String, cursor: inout WatchCursor, yield: @Sendable (EtcdWatchUpdate) -> Void
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
        if let token, !token.isEmpty { request.headers["Authorization"] = token }
        do {
            for try await item in clients[index].stream(request) {
                guard case .line(let line) = item else { continue }
                if let error = GatewayError(line) {
                    // An error inside the stream, e.g. the member shutting down (14) or a refused token (16).
                    if error.code == 16 { return .reauthenticate(reason: error.message) }
                    if error.code == 7 { return .failed(.watchCanceled(prefix: prefix, reason: error.message)) }
                    return .dropped(reason: "etcd ended the watch: \(error.message)")
                }
                let message: StreamedResponse<WatchResponse>
                do {
                    message = try JSONDecoder().decode(StreamedResponse<WatchResponse>.self, from: line)
                } catch {
                    // Resuming from the last revision seen loses nothing.
                    return .dropped(reason: "cannot read a watch message (\(error)): \(String(decoding: line, as: UTF8.self).prefix(300))")
                }
                guard let response = message.result else { continue }
                switch cursor.receive(response) {
                case .deliver(let update): yield(update)
                case .none: break
                case .compacted(let currentRevision): return .compacted(currentRevision: currentRevision)
                case .reauthenticate(let reason): return .reauthenticate(reason: reason)
                case .canceled(let reason): return .failed(.watchCanceled(prefix: prefix, reason: reason))
                }
            }
            return .dropped(reason: "etcd at \(endpoints[index]) closed the watch stream")
        } catch let error as HTTPTransportError {
            switch error.kind {
            case .status(401, let body):
                return .reauthenticate(reason: GatewayError(Data(body.utf8))?.message ?? body)
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
}
