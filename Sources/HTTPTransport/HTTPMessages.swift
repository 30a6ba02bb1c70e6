#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Where an `HTTPClient` sends its requests.
public enum HTTPEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// HTTP over a Unix socket, e.g. `/var/run/docker.sock`.
    case unixSocket(path: String)
    /// HTTP or HTTPS over TCP, e.g. `http://127.0.0.1:2379` (no trailing slash).
    case url(String)
    /// No fixed server: each request's path is a whole URL (`http://10.0.0.5:32768/healthz`).
    case anyURL

    public var description: String {
        switch self {
        case .unixSocket(let path): "unix://\(path)"
        case .url(let base): base
        case .anyURL: "any URL"
        }
    }

    /// The URL curl is given for a request path; a Unix socket still needs a host for the Host header.
    func url(for path: String) -> String {
        switch self {
        case .unixSocket: "http://localhost" + path
        case .url(let base): base + path
        case .anyURL: path
        }
    }
}

/// Files for HTTPS: the CA that signs the server, and an optional client certificate and key.
public struct TLSFiles: Sendable, Hashable {
    public var caFile: String?
    public var certificateFile: String?
    public var keyFile: String?

    public init(caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil) {
        self.caFile = caFile
        self.certificateFile = certificateFile
        self.keyFile = keyFile
    }
}

/// One HTTP request. `path` includes the query string.
public struct HTTPRequest: Sendable, Hashable {
    public enum Method: String, Sendable, Hashable {
        case get = "GET", post = "POST", put = "PUT", delete = "DELETE", head = "HEAD"
    }

    public var method: Method
    public var path: String
    public var headers: [String: String]
    public var body: Data?
    /// Bounds the whole exchange; ignored by streams, which run until cancelled or closed.
    public var timeout: Duration

    public init(
        _ method: Method, _ path: String, headers: [String: String] = [:], body: Data? = nil,
        timeout: Duration = .seconds(30)
    ) {
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }

    /// A request with a JSON body and its content type.
    public static func json(_ method: Method, _ path: String, body: Data, timeout: Duration = .seconds(30)) -> HTTPRequest {
        HTTPRequest(method, path, headers: ["Content-Type": "application/json"], body: body, timeout: timeout)
    }

    /// `METHOD path`, for error messages and logs.
    public var summary: String { "\(method.rawValue) \(path)" }
}

/// A complete response.
public struct HTTPResponse: Sendable, Hashable {
    public var status: Int
    /// Header names in lower case.
    public var headers: [String: String]
    public var body: Data

    public init(status: Int, headers: [String: String] = [:], body: Data = Data()) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public var isSuccess: Bool { (200..<300).contains(status) }
    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// What a streaming request delivers.
public enum StreamEvent: Sendable, Hashable {
    /// The response headers arrived with a 2xx status: the stream is open.
    case opened(status: Int)
    /// One line of the body, without its newline.
    case line(Data)
}

/// A request that failed before an HTTP status was received, or a stream that ended with an error status.
public struct HTTPTransportError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// curl could not complete the exchange (refused, timed out, TLS, …).
        case transport(code: Int, message: String)
        /// A stream's response had a non-2xx status.
        case status(Int, body: String)
    }

    public var kind: Kind
    public var request: String
    public var endpoint: String

    public init(kind: Kind, request: String, endpoint: String) {
        self.kind = kind
        self.request = request
        self.endpoint = endpoint
    }

    public var description: String {
        switch kind {
        case .transport(let code, let message):
            "\(request) to \(endpoint) failed: \(message) (curl error \(code))"
        case .status(let status, let body):
            "\(request) to \(endpoint) answered \(status): \(body.prefix(500))"
        }
    }
}
