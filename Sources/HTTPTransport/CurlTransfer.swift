import CCurl
import Foundation
import Synchronization

/// `curl_global_init` must run once, before any handle is used on any thread.
private let curlGlobalInit: Void = {
    curl_global_init(Int(CURL_GLOBAL_ALL))
}()

/// Set by another thread to stop a running transfer from curl's progress callback.
final class CancelFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    func cancel() { flag.store(true, ordering: .relaxed) }
    var isCancelled: Bool { flag.load(ordering: .relaxed) }
}

/// One libcurl easy handle. Only one thread uses it at a time (the pool hands it out to one transfer),
/// which is all libcurl asks.
final class CurlHandle: @unchecked Sendable {
    let raw: UnsafeMutableRawPointer
    private let errorBuffer: UnsafeMutablePointer<CChar>

    init?() {
        _ = curlGlobalInit
        guard let raw = curl_easy_init() else { return nil }
        self.raw = raw
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit {
        curl_easy_cleanup(raw)
        errorBuffer.deallocate()
    }

    /// Forgets every option of the previous transfer but keeps its open connection for reuse.
    func reset() {
        curl_easy_reset(raw)
        errorBuffer[0] = 0
        set(CURLOPT_ERRORBUFFER, pointer: UnsafeMutableRawPointer(errorBuffer))
        set(CURLOPT_NOSIGNAL, 1)
    }

    func set(_ option: CURLoption, _ value: Int) {
        hecd_setopt_long(raw, option, value)
    }

    func set(_ option: CURLoption, _ value: String) {
        value.withCString { _ = hecd_setopt_string(raw, option, $0) }
    }

    func set(_ option: CURLoption, pointer: UnsafeMutableRawPointer?) {
        hecd_setopt_pointer(raw, option, pointer)
    }

    var responseCode: Int {
        var code = 0
        hecd_getinfo_long(raw, CURLINFO_RESPONSE_CODE, &code)
        return code
    }

    /// curl's detailed message for the last failure, or its generic text for `code`.
    func message(for code: CURLcode) -> String {
        let detail = String(cString: errorBuffer)
        return detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
    }
}

/// The state of one transfer, reached from curl's C callbacks through their user-data pointer.
/// Lives on the transfer's thread only.
final class TransferSink {
    var status = 0
    var headers: [String: String] = [:]
    var body = Data()
    private var pendingLine = Data()
    private var opened = false
    /// Set for streams: called with each complete line of a 2xx body.
    let onLine: ((Data) -> Void)?
    /// Set for streams: called once, when 2xx headers are complete.
    let onOpened: ((Int) -> Void)?
    let cancel: CancelFlag

    init(cancel: CancelFlag, onOpened: ((Int) -> Void)? = nil, onLine: ((Data) -> Void)? = nil) {
        self.cancel = cancel
        self.onOpened = onOpened
        self.onLine = onLine
    }

    private var isStreamingBody: Bool { onLine != nil && (200..<300).contains(status) }

    func receiveHeader(_ line: String) {
        let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.hasPrefix("HTTP/") {
            // A new status line (after 100 Continue, for instance) starts a new header block.
            let parts = trimmed.split(separator: " ", maxSplits: 2)
            status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
            headers = [:]
        } else if trimmed.isEmpty {
            if !opened, (200..<300).contains(status), let onOpened {
                opened = true
                onOpened(status)
            }
        } else if let colon = trimmed.firstIndex(of: ":") {
            let name = trimmed[..<colon].lowercased()
            headers[name] = trimmed[trimmed.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
    }

    func receiveBody(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard isStreamingBody, let onLine else {
            body.append(contentsOf: bytes)
            return
        }
        pendingLine.append(contentsOf: bytes)
        while let newline = pendingLine.firstIndex(of: UInt8(ascii: "\n")) {
            let line = pendingLine[pendingLine.startIndex..<newline]
            pendingLine = Data(pendingLine[pendingLine.index(after: newline)...])
            deliver(Data(line), to: onLine)
        }
    }

    /// Delivers a last line that had no newline before the stream ended.
    func finish() {
        if isStreamingBody, let onLine, !pendingLine.isEmpty {
            deliver(pendingLine, to: onLine)
            pendingLine = Data()
        }
    }

    private func deliver(_ line: Data, to onLine: (Data) -> Void) {
        var line = line
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        if !line.isEmpty { onLine(line) }
    }
}

extension CurlHandle {
    /// Opens a connection and returns whether that worked; the handle should then be released (closing it).
    func connectOnly(url: String, timeoutMilliseconds: Int) -> Bool {
        reset()
        set(CURLOPT_URL, url)
        set(CURLOPT_CONNECT_ONLY, 1)
        set(CURLOPT_CONNECTTIMEOUT_MS, timeoutMilliseconds)
        set(CURLOPT_TIMEOUT_MS, timeoutMilliseconds)
        return curl_easy_perform(raw) == CURLE_OK
    }

    /// Runs one transfer to its end on the calling thread. Returns curl's result code.
    func perform(
        _ request: HTTPRequest, endpoint: HTTPEndpoint, tls: TLSFiles?, sink: TransferSink, streaming: Bool
    ) -> CURLcode {
        reset()
        set(CURLOPT_URL, endpoint.url(for: request.path))
        if case .unixSocket(let path) = endpoint {
            set(CURLOPT_UNIX_SOCKET_PATH, path)
        }
        if let tls {
            if let ca = tls.caFile { set(CURLOPT_CAINFO, ca) }
            if let cert = tls.certificateFile { set(CURLOPT_SSLCERT, cert) }
            if let key = tls.keyFile { set(CURLOPT_SSLKEY, key) }
        }
        set(CURLOPT_CONNECTTIMEOUT_MS, 5_000)
        if streaming {
            // No overall timeout: a stream runs until it is cancelled or the peer closes it.
            // TCP keepalive notices a peer that vanished without closing.
            set(CURLOPT_TCP_KEEPALIVE, 1)
            set(CURLOPT_TCP_KEEPIDLE, 15)
            set(CURLOPT_TCP_KEEPINTVL, 5)
        } else {
            set(CURLOPT_TIMEOUT_MS, Int(request.timeout.components.seconds * 1000
                + request.timeout.components.attoseconds / 1_000_000_000_000_000))
        }

        switch request.method {
        case .get: set(CURLOPT_HTTPGET, 1)
        case .head: set(CURLOPT_NOBODY, 1)
        case .post: set(CURLOPT_POST, 1)
        case .put, .delete: set(CURLOPT_CUSTOMREQUEST, request.method.rawValue)
        }
        if request.method == .post || request.body != nil {
            let body = request.body ?? Data()
            set(CURLOPT_POSTFIELDSIZE, body.count)
            if body.isEmpty {
                set(CURLOPT_COPYPOSTFIELDS, "")
            } else {
                // COPYPOSTFIELDS copies the bytes: the Swift buffer only lives for this call.
                body.withUnsafeBytes { bytes in
                    _ = hecd_setopt_pointer(raw, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress))
                }
            }
        }

        var headerList: UnsafeMutablePointer<curl_slist>? = curl_slist_append(nil, "Expect:")
        for (name, value) in request.headers.sorted(by: { $0.key < $1.key }) {
            headerList = curl_slist_append(headerList, "\(name): \(value)")
        }
        defer { curl_slist_free_all(headerList) }
        hecd_setopt_slist(raw, CURLOPT_HTTPHEADER, headerList)

        let context = Unmanaged.passUnretained(sink).toOpaque()
        set(CURLOPT_HEADERDATA, pointer: context)
        set(CURLOPT_WRITEDATA, pointer: context)
        set(CURLOPT_XFERINFODATA, pointer: context)
        hecd_setopt_header_function(raw) { data, size, count, userData in
            guard let data, let userData else { return 0 }
            let sink = Unmanaged<TransferSink>.fromOpaque(userData).takeUnretainedValue()
            let length = size * count
            sink.receiveHeader(String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self))
            return length
        }
        hecd_setopt_write_function(raw) { data, size, count, userData in
            guard let data, let userData else { return 0 }
            let sink = Unmanaged<TransferSink>.fromOpaque(userData).takeUnretainedValue()
            let length = size * count
            if sink.cancel.isCancelled { return 0 }
            data.withMemoryRebound(to: UInt8.self, capacity: length) {
                sink.receiveBody(UnsafeBufferPointer(start: $0, count: length))
            }
            return length
        }
        set(CURLOPT_NOPROGRESS, 0)
        hecd_setopt_xferinfo_function(raw) { userData, _, _, _, _ in
            guard let userData else { return 0 }
            return Unmanaged<TransferSink>.fromOpaque(userData).takeUnretainedValue().cancel.isCancelled ? 1 : 0
        }

        let code = curl_easy_perform(raw)
        sink.finish()
        if sink.status == 0 { sink.status = responseCode }
        return code
    }
}
