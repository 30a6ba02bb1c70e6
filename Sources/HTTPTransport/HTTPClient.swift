import CCurl
import Synchronization

/// An HTTP/1.1 client on libcurl for one endpoint (a Unix socket or a base URL).
///
/// Every request and every stream is a transfer on one libcurl multi handle driven by one event thread
/// (`CurlEventLoop`), so the number of calls in flight is not bounded by threads: a slow call (a stop that
/// waits out its timeout, a pull, a stream) never delays a fast one. Idle connections are reused. Callers
/// suspend on continuations; nothing blocks Swift's cooperative pool. Cancelling the calling task takes its
/// transfer off the loop and closes its connection.
public final class HTTPClient: Sendable {
    public let endpoint: HTTPEndpoint
    private let tls: TLSFiles?
    private let inFlight = Atomic<Int>(0)

    public init(endpoint: HTTPEndpoint, tls: TLSFiles? = nil) {
        self.endpoint = endpoint
        self.tls = tls
    }

    /// Sends a request and returns the whole response, whatever its status.
    /// Throws `HTTPTransportError` when no response was received (refused, timed out, …), and
    /// `CancellationError` when the calling task is cancelled first.
    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let transfer = try CurlTransfer(request, endpoint: endpoint, tls: tls, kind: .exchange)
        let endpoint = endpoint.description
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<HTTPResponse, any Error>) in
                transfer.onDone = { [self] outcome in
                    inFlight.subtract(1, ordering: .relaxed)
                    switch outcome {
                    case .finished(CURLE_OK):
                        let sink = transfer.sink
                        continuation.resume(returning: HTTPResponse(status: sink.status, headers: sink.headers, body: sink.body))
                    case .cancelled:
                        continuation.resume(throwing: CancellationError())
                    default:
                        continuation.resume(throwing: transfer.error(outcome, request: request.summary, endpoint: endpoint))
                    }
                }
                inFlight.add(1, ordering: .relaxed)
                CurlEventLoop.shared.start(transfer)
            }
        } onCancel: {
            transfer.cancel()
        }
    }

    /// Opens a streaming request and delivers its body line by line.
    ///
    /// The stream yields `.opened` once the 2xx headers are in, then one `.line` per newline-delimited
    /// line. It finishes when the server closes the response, and throws `HTTPTransportError` when the
    /// connection fails or the status is not 2xx. Cancelling the consuming task (or dropping the stream)
    /// closes the connection at once, and so does leaving a `for try await` loop over it early: the
    /// stream's iterator cancels the transfer when it is released.
    public func stream(_ request: HTTPRequest) -> HTTPStream {
        let (events, continuation) = AsyncThrowingStream<StreamEvent, any Error>.makeStream()
        let endpoint = endpoint.description
        let sink = TransferSink(
            onOpened: { continuation.yield(.opened(status: $0)) },
            onLine: { continuation.yield(.line($0)) })
        let transfer: CurlTransfer
        do {
            transfer = try CurlTransfer(request, endpoint: self.endpoint, tls: tls, kind: .stream, sink: sink)
        } catch {
            continuation.finish(throwing: error)
            return HTTPStream(events: events, cancel: {})
        }
        transfer.onDone = { [self] outcome in
            inFlight.subtract(1, ordering: .relaxed)
            switch outcome {
            case .cancelled:
                continuation.finish()
            case .finished(CURLE_OK) where !(200..<300).contains(sink.status):
                continuation.finish(throwing: HTTPTransportError(
                    kind: .status(sink.status, body: String(decoding: sink.body, as: UTF8.self)),
                    request: request.summary, endpoint: endpoint))
            case .finished(CURLE_OK):
                continuation.finish()
            default:
                continuation.finish(throwing: transfer.error(outcome, request: request.summary, endpoint: endpoint))
            }
        }
        continuation.onTermination = { _ in transfer.cancel() }
        inFlight.add(1, ordering: .relaxed)
                CurlEventLoop.shared.start(transfer)
        return HTTPStream(events: events, cancel: { transfer.cancel() })
    }

    /// Whether a new TCP connection to `host:port` opens within `timeout`. Maps to curl's CONNECT_ONLY;
    /// the connection is closed at once.
    public func canConnect(host: String, port: Int, timeout: Duration = .seconds(1)) async -> Bool {
        let address = host.contains(":") ? "[\(host)]" : host
        let request = HTTPRequest(.get, "http://\(address):\(port)/", timeout: timeout)
        guard let transfer = try? CurlTransfer(request, endpoint: .anyURL, tls: nil, kind: .connectOnly(timeout: timeout))
        else { return false }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                transfer.onDone = { [self] outcome in
                    inFlight.subtract(1, ordering: .relaxed)
                    if case .finished(CURLE_OK) = outcome {
                        continuation.resume(returning: true)
                    } else {
                        continuation.resume(returning: false)
                    }
                }
                inFlight.add(1, ordering: .relaxed)
                CurlEventLoop.shared.start(transfer)
            }
        } onCancel: {
            transfer.cancel()
        }
    }

    /// This client's requests and streams that have not ended yet.
    public var transfersInFlight: Int { inFlight.load(ordering: .relaxed) }
}

/// The lines of a streaming response (see `HTTPClient.stream`). Iterate it once; when the stream and its
/// iterator are released, early or not, the transfer is cancelled and its connection closed.
public struct HTTPStream: AsyncSequence, Sendable {
    public typealias Element = StreamEvent

    let events: AsyncThrowingStream<StreamEvent, any Error>
    let release: ReleaseToken

    init(events: AsyncThrowingStream<StreamEvent, any Error>, cancel: @escaping @Sendable () -> Void) {
        self.events = events
        self.release = ReleaseToken(cancel)
    }

    public func makeAsyncIterator() -> Iterator {
        Iterator(base: events.makeAsyncIterator(), release: release)
    }

    public struct Iterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<StreamEvent, any Error>.Iterator
        let release: ReleaseToken

        public mutating func next() async throws -> StreamEvent? {
            // Keeps the token alive for as long as the iterator is used (Swift may end an unused
            // property's lifetime early).
            defer { withExtendedLifetime(release) {} }
            return try await base.next()
        }
    }

    /// Cancels the transfer when the last copy of the stream and of its iterator goes away.
    final class ReleaseToken: Sendable {
        let cancel: @Sendable () -> Void
        init(_ cancel: @escaping @Sendable () -> Void) { self.cancel = cancel }
        deinit { cancel() }
    }
}
