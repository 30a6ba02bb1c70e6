import CCurl
import Foundation
import Synchronization

/// An HTTP/1.1 client on libcurl for one endpoint (a Unix socket or a base URL).
///
/// Requests run on threads of the client's own and reuse idle connections; streams get a thread each
/// for as long as they last. Nothing blocks Swift's cooperative pool.
public final class HTTPClient: Sendable {
    public let endpoint: HTTPEndpoint
    private let tls: TLSFiles?
    private let executor: BlockingExecutor
    /// Handles not in use, each possibly holding an open connection.
    private let idleHandles = Mutex<[CurlHandle]>([])

    /// - Parameter concurrency: how many requests may be in flight at once (streams not counted).
    public init(endpoint: HTTPEndpoint, tls: TLSFiles? = nil, concurrency: Int = 4) {
        self.endpoint = endpoint
        self.tls = tls
        self.executor = BlockingExecutor(threads: concurrency, name: "hecd-http")
    }

    /// Sends a request and returns the whole response, whatever its status.
    /// Throws `HTTPTransportError` when no response was received (refused, timed out, …).
    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let endpoint = self.endpoint
        let tls = self.tls
        return try await executor.run { [self] in
            guard let handle = checkOutHandle() else {
                throw HTTPTransportError(
                    kind: .transport(code: -1, message: "curl_easy_init failed"), request: request.summary,
                    endpoint: endpoint.description)
            }
            let sink = TransferSink(cancel: CancelFlag())
            let code = handle.perform(request, endpoint: endpoint, tls: tls, sink: sink, streaming: false)
            guard code == CURLE_OK else {
                let message = handle.message(for: code)
                throw HTTPTransportError(
                    kind: .transport(code: Int(code.rawValue), message: message), request: request.summary,
                    endpoint: endpoint.description)
            }
            checkIn(handle)
            return HTTPResponse(status: sink.status, headers: sink.headers, body: sink.body)
        }
    }

    /// Opens a streaming request and delivers its body line by line.
    ///
    /// The stream yields `.opened` once the 2xx headers are in, then one `.line` per newline-delimited
    /// line. It finishes when the server closes the response, and throws `HTTPTransportError` when the
    /// connection fails or the status is not 2xx. Cancelling the consuming task (or dropping the stream)
    /// closes the connection within about a second, and so does leaving a `for try await` loop over it
    /// early: the stream's iterator cancels the transfer when it is released.
    public func stream(_ request: HTTPRequest) -> HTTPStream {
        let (events, continuation) = AsyncThrowingStream<StreamEvent, any Error>.makeStream()
        let cancel = CancelFlag()
        continuation.onTermination = { _ in cancel.cancel() }
        let endpoint = self.endpoint
        let tls = self.tls
        BlockingExecutor.detach(name: "hecd-stream") {
            guard let handle = CurlHandle() else {
                continuation.finish(throwing: HTTPTransportError(
                    kind: .transport(code: -1, message: "curl_easy_init failed"), request: request.summary,
                    endpoint: endpoint.description))
                return
            }
            let sink = TransferSink(
                cancel: cancel,
                onOpened: { continuation.yield(.opened(status: $0)) },
                onLine: { continuation.yield(.line($0)) })
            let code = handle.perform(request, endpoint: endpoint, tls: tls, sink: sink, streaming: true)
            if cancel.isCancelled {
                continuation.finish()
            } else if code != CURLE_OK {
                continuation.finish(throwing: HTTPTransportError(
                    kind: .transport(code: Int(code.rawValue), message: handle.message(for: code)),
                    request: request.summary, endpoint: endpoint.description))
            } else if !(200..<300).contains(sink.status) {
                continuation.finish(throwing: HTTPTransportError(
                    kind: .status(sink.status, body: String(decoding: sink.body, as: UTF8.self)),
                    request: request.summary, endpoint: endpoint.description))
            } else {
                continuation.finish()
            }
        }
        return HTTPStream(events: events, cancel: cancel)
    }

    /// Whether a TCP connection to `host:port` opens within `timeout`. Maps to curl's CONNECT_ONLY; the
    /// connection is closed at once.
    public func canConnect(host: String, port: Int, timeout: Duration = .seconds(1)) async -> Bool {
        let milliseconds = Int(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        let result = try? await executor.run {
            guard let handle = CurlHandle() else { return false }
            let address = host.contains(":") ? "[\(host)]" : host
            return handle.connectOnly(url: "http://\(address):\(port)/", timeoutMilliseconds: max(1, milliseconds))
        }
        return result ?? false
    }

    private func checkOutHandle() -> CurlHandle? {
        if let idle = idleHandles.withLock({ $0.popLast() }) { return idle }
        return CurlHandle()
    }

    private func checkIn(_ handle: CurlHandle) {
        idleHandles.withLock { $0.append(handle) }
    }
}

/// The lines of a streaming response (see `HTTPClient.stream`). Iterate it once; when the iterator is
/// released, early or not, the transfer is cancelled and its connection closed.
public struct HTTPStream: AsyncSequence, Sendable {
    public typealias Element = StreamEvent

    let events: AsyncThrowingStream<StreamEvent, any Error>
    let cancel: CancelFlag

    public func makeAsyncIterator() -> Iterator {
        Iterator(base: events.makeAsyncIterator(), release: ReleaseToken(cancel))
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

    /// Cancels the transfer when the last copy of the iterator goes away.
    final class ReleaseToken: Sendable {
        let cancel: CancelFlag
        init(_ cancel: CancelFlag) { self.cancel = cancel }
        deinit { cancel.cancel() }
    }
}
