import CCurl

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Primitives

/// `curl_global_init` must run once, before any handle is used on any thread.
let curlGlobalInit: Void = {
    curl_global_init(Int(CURL_GLOBAL_ALL))
}()

/// One libcurl easy handle: the options of one transfer. A handle is configured by the thread that
/// creates the transfer and then used only by the event loop's thread, which is all libcurl asks.
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

    /// Forgets every option of the previous transfer.
    func reset() {
        curl_easy_reset(raw)
        errorBuffer[0] = 0
        set(CURLOPT_ERRORBUFFER, pointer: UnsafeMutableRawPointer(errorBuffer))
        set(CURLOPT_NOSIGNAL, 1)
    }

    func set(_ option: CURLoption, _ value: Int) {
        hecd_setopt_long(raw, option, value)
    }

    /// libcurl copies string options, so the Swift string only has to live for this call.
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

/// What a transfer asks of libcurl beyond the request itself.
enum TransferKind {
    /// A request with a response: bounded by the request's timeout.
    case exchange
    /// A response read as it arrives, with no overall timeout: it runs until cancelled or closed.
    case stream
    /// Only open a new TCP connection (a readiness probe); it is closed when the transfer ends.
    case connectOnly(timeout: Duration)
}

extension CurlHandle {
    /// Sets every option of one transfer. Returns the header list, which libcurl reads until the transfer
    /// ends: free it then, not before.
    func configure(
        _ request: HTTPRequest, endpoint: HTTPEndpoint, tls: TLSFiles?, kind: TransferKind,
        sink: TransferSink
    ) -> UnsafeMutablePointer<curl_slist>? {
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
        switch kind {
        case .exchange:
            set(CURLOPT_CONNECTTIMEOUT_MS, min(5_000, request.timeout.curlMilliseconds))
            set(CURLOPT_TIMEOUT_MS, request.timeout.curlMilliseconds)
        case .stream:
            // No overall timeout. TCP keepalive notices a peer that vanished without closing.
            set(CURLOPT_CONNECTTIMEOUT_MS, 5_000)
            set(CURLOPT_TCP_KEEPALIVE, 1)
            set(CURLOPT_TCP_KEEPIDLE, 15)
            set(CURLOPT_TCP_KEEPINTVL, 5)
        case .connectOnly(let timeout):
            set(CURLOPT_CONNECT_ONLY, 1)
            set(CURLOPT_FRESH_CONNECT, 1)
            set(CURLOPT_FORBID_REUSE, 1)
            set(CURLOPT_CONNECTTIMEOUT_MS, timeout.curlMilliseconds)
            set(CURLOPT_TIMEOUT_MS, timeout.curlMilliseconds)
            return nil
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
        hecd_setopt_slist(raw, CURLOPT_HTTPHEADER, headerList)

        let context = Unmanaged.passUnretained(sink).toOpaque()
        set(CURLOPT_HEADERDATA, pointer: context)
        set(CURLOPT_WRITEDATA, pointer: context)
        hecd_setopt_header_function(raw) { data, size, count, userData in
            guard let data, let userData else { return 0 }
            let sink = Unmanaged<TransferSink>.fromOpaque(userData).takeUnretainedValue()
            let length = size * count
            data.withMemoryRebound(to: UInt8.self, capacity: length) {
                sink.receiveHeader(UnsafeBufferPointer(start: $0, count: length))
            }
            return length
        }
        hecd_setopt_write_function(raw) { data, size, count, userData in
            guard let data, let userData else { return 0 }
            let sink = Unmanaged<TransferSink>.fromOpaque(userData).takeUnretainedValue()
            let length = size * count
            data.withMemoryRebound(to: UInt8.self, capacity: length) {
                sink.receiveBody(UnsafeBufferPointer(start: $0, count: length))
            }
            return length
        }
        return headerList
    }
}

extension Duration {
    /// Whole milliseconds for a curl timeout: at least 1 for any positive duration (curl reads 0 as "no limit").
    var curlMilliseconds: Int {
        self > .zero ? max(1, Int(wholeMilliseconds)) : 0
    }
}
