#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import HTTPTransport

/// What `followEvents` reports.
public enum EventStreamUpdate: Sendable, Hashable {
    /// The stream is (re)connected. Anything may have happened while it was down: re-list.
    case connected
    case event(DockerEvent)
    /// The stream dropped; it reconnects after `retryIn`.
    case disconnected(reason: String, retryIn: Duration)
}

extension DockerClient {
    /// One connection to the engine's event stream for containers that carry all of `labels`.
    /// Ends when the engine closes it (dockerd restarting), or at `until` (Unix seconds) when given:
    /// `since` and `until` in the past replay history. Maps to `GET /events?filters=…`.
    public func events(
        labels: [String], actions: [String] = [], since: Int? = nil, until: Int? = nil
    ) -> HTTPStream {
        var filters = ["type": ["container"]]
        if !labels.isEmpty { filters["label"] = labels }
        if !actions.isEmpty { filters["event"] = actions }
        var path = "/v\(apiVersion)/events?" + Self.filtersQuery(filters)
        if let since { path += "&since=\(since)" }
        if let until { path += "&until=\(until)" }
        return http.stream(HTTPRequest(.get, path))
    }

    /// The event stream, reconnected for as long as the consumer listens: after a drop it waits
    /// (100 ms doubling to `maximumBackoff`, reset once connected) and reports `.connected` again,
    /// so that the consumer re-lists what it may have missed.
    public func followEvents(
        labels: [String], maximumBackoff: Duration = .seconds(5)
    ) -> AsyncStream<EventStreamUpdate> {
        AsyncStream { continuation in
            let task = Task {
                var backoff = Duration.milliseconds(100)
                while !Task.isCancelled {
                    var reason = "the engine closed the event stream"
                    do {
                        for try await item in events(labels: labels) {
                            switch item {
                            case .opened:
                                backoff = .milliseconds(100)
                                continuation.yield(.connected)
                            case .line(let line):
                                if let event = try? JSONDecoder().decode(DockerEvent.self, from: line) {
                                    continuation.yield(.event(event))
                                }
                            }
                        }
                    } catch {
                        reason = "\(error)"
                    }
                    if Task.isCancelled { break }
                    continuation.yield(.disconnected(reason: reason, retryIn: backoff))
                    try? await Task.sleep(for: backoff)
                    backoff = min(backoff * 2, maximumBackoff)
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
