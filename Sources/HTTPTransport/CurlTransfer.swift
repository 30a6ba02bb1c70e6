import CCurl
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// How a transfer ended, as the event loop saw it.
enum TransferOutcome {
    /// libcurl finished it with this result (`CURLE_OK` or a failure).
    case finished(CURLcode)
    /// It was cancelled before it finished; its connection is closed.
    case cancelled
    /// The multi handle would not take it.
    case refused(String)
}

/// One request or stream on the event loop: an easy handle, the state its callbacks fill in, and what to do
/// when it ends. Created on the caller's thread, then touched only by the loop's thread; `cancel()` may be
/// called from anywhere.
final class CurlTransfer: @unchecked Sendable {
    let handle: CurlHandle
    let sink: TransferSink
    private let headerList: UnsafeMutablePointer<curl_slist>?
    private let reusable: Bool
    private let cancelled = Atomic<Bool>(false)
    /// Set before the transfer is handed to the loop; called once, on the loop's thread.
    var onDone: ((TransferOutcome) -> Void)?

    init(
        _ request: HTTPRequest, endpoint: HTTPEndpoint, tls: TLSFiles?, kind: TransferKind,
        sink: TransferSink = TransferSink()
    ) throws(HTTPTransportError) {
        guard let handle = CurlHandlePool.shared.checkOut() else {
            throw HTTPTransportError(
                kind: .transport(code: -1, message: "curl_easy_init failed"), request: request.summary,
                endpoint: endpoint.description)
        }
        self.handle = handle
        self.sink = sink
        headerList = handle.configure(request, endpoint: endpoint, tls: tls, kind: kind, sink: sink)
        // A connect-only handle keeps its connection until it is cleaned up: never hand it out again.
        if case .connectOnly = kind { reusable = false } else { reusable = true }
    }

    var isCancelled: Bool { cancelled.load(ordering: .relaxed) }

    /// Ends the transfer early, from any thread; its `onDone` then reports `.cancelled` (unless it had
    /// already finished).
    func cancel() {
        guard !cancelled.exchange(true, ordering: .relaxed) else { return }
        CurlEventLoop.shared.cancel(self)
    }

    /// Called by the loop once the handle is out of the multi handle.
    func complete(_ outcome: TransferOutcome) {
        sink.finish()
        if sink.status == 0 { sink.status = handle.responseCode }
        let done = onDone
        onDone = nil
        done?(outcome)
        curl_slist_free_all(headerList)
        if reusable { CurlHandlePool.shared.checkIn(handle) }
    }

    /// The error a failed outcome means, for `request`.
    func error(_ outcome: TransferOutcome, request: String, endpoint: String) -> HTTPTransportError {
        switch outcome {
        case .finished(let code):
            HTTPTransportError(
                kind: .transport(code: Int(code.rawValue), message: handle.message(for: code)),
                request: request, endpoint: endpoint)
        case .cancelled:
            HTTPTransportError(kind: .transport(code: -1, message: "cancelled"), request: request, endpoint: endpoint)
        case .refused(let message):
            HTTPTransportError(kind: .transport(code: -1, message: message), request: request, endpoint: endpoint)
        }
    }
}

/// Easy handles not in use, so that a transfer does not allocate one each time. Connections themselves
/// live in the multi handle's cache, shared by every transfer.
final class CurlHandlePool: Sendable {
    static let shared = CurlHandlePool()
    private static let capacity = 16
    private let idle = Mutex<[CurlHandle]>([])

    func checkOut() -> CurlHandle? {
        idle.withLock { $0.popLast() } ?? CurlHandle()
    }

    func checkIn(_ handle: CurlHandle) {
        idle.withLock { if $0.count < Self.capacity { $0.append(handle) } }
    }
}

/// The state of one transfer, filled in by curl's C callbacks through their user-data pointer.
/// Lives on the event loop's thread only.
final class TransferSink {
    var status = 0
    var headers: [String: String] = [:]
    var body = Data()
    private var pendingLine: [UInt8] = []
    private var opened = false
    /// Set for streams: called with each complete line of a 2xx body.
    let onLine: ((Data) -> Void)?
    /// Set for streams: called once, when 2xx headers are complete.
    let onOpened: ((Int) -> Void)?

    init(onOpened: ((Int) -> Void)? = nil, onLine: ((Data) -> Void)? = nil) {
        self.onOpened = onOpened
        self.onLine = onLine
    }

    private var isStreamingBody: Bool { onLine != nil && (200..<300).contains(status) }

    /// One header line as curl delivers it, CRLF included.
    func receiveHeader(_ bytes: UnsafeBufferPointer<UInt8>) {
        let line = Self.trimmed(bytes[...])
        if line.starts(with: Array("HTTP/".utf8)) {
            // A new status line (after 100 Continue, for instance) starts a new header block.
            let fields = line.split(separator: UInt8(ascii: " "), maxSplits: 2)
            status = fields.count > 1 ? Int(String(decoding: fields[1], as: UTF8.self)) ?? 0 : 0
            headers = [:]
        } else if line.isEmpty {
            if !opened, (200..<300).contains(status), let onOpened {
                opened = true
                onOpened(status)
            }
        } else if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
            let name = String(decoding: line[..<colon], as: UTF8.self).lowercased()
            headers[name] = String(decoding: Self.trimmed(line[(colon + 1)...]), as: UTF8.self)
        }
    }

    func receiveBody(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard isStreamingBody, let onLine else {
            body.append(contentsOf: bytes)
            return
        }
        var start = bytes.startIndex
        while let newline = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) {
            pendingLine.append(contentsOf: bytes[start..<newline])
            deliver(to: onLine)
            start = newline + 1
        }
        pendingLine.append(contentsOf: bytes[start...])
    }

    /// Delivers a last line that had no newline before the stream ended.
    func finish() {
        if isStreamingBody, let onLine, !pendingLine.isEmpty { deliver(to: onLine) }
    }

    private func deliver(to onLine: (Data) -> Void) {
        if pendingLine.last == UInt8(ascii: "\r") { pendingLine.removeLast() }
        if !pendingLine.isEmpty { onLine(Data(pendingLine)) }
        pendingLine.removeAll(keepingCapacity: true)
    }

    private static func trimmed(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> Slice<UnsafeBufferPointer<UInt8>> {
        let isSpace: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == 0x0A }
        guard let first = bytes.firstIndex(where: { !isSpace($0) }),
              let last = bytes.lastIndex(where: { !isSpace($0) })
        else { return bytes[bytes.endIndex...] }
        return bytes[first...last]
    }
}
