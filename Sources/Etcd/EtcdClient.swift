#if canImport(FoundationEssentials)
import Primitives
import FoundationEssentials
#else
import Foundation
#endif
import HTTPTransport
import Synchronization

/// A client of etcd v3 through its JSON gateway (`POST /v3/...`), for etcd 3.4 and later.
///
/// Endpoints are grouped in `Endpoints/`; each maps to one gateway call named in its doc comment. Keys and
/// values are Swift strings sent as UTF-8 bytes. Requests go to the current endpoint; when it cannot be
/// reached (refused, timed out, TLS failure), the others are tried in order for the same request, each once,
/// and the first that answers becomes current. HTTP error statuses are answers and are not retried elsewhere.
/// A request that timed out may still have been applied by the member that timed out: a put sent again is
/// harmless, a transaction sent again may report `succeeded == false` against its own first write.
/// With `credentials`, the client authenticates on first use and once more whenever etcd refuses its token
/// (401, e.g. an expired simple token).
public final class EtcdClient: Sendable {
    /// The base URLs, in the order they are tried, e.g. `http://127.0.0.1:2379`.
    public let endpoints: [String]
    public let requestTimeout: Duration
    let credentials: EtcdCredentials?
    /// One connection pool per endpoint, same order as `endpoints`.
    let clients: [HTTPClient]
    private let state = Mutex(State())

    private struct State {
        /// Index of the endpoint that answered last.
        var current = 0
        /// The auth token in use; `""` when etcd said authentication is not enabled.
        var token: String?
    }

    /// - Parameters:
    ///   - endpoints: base URLs such as `http://127.0.0.1:2379` (a bare `host:port` means `http://`).
    ///   - tls: CA, client certificate and key for `https://` endpoints.
    ///   - credentials: an etcd user, when etcd has authentication enabled.
    ///   - requestTimeout: bounds each request to one endpoint (watches are not bounded).
    public init(
        endpoints: [String], tls: TLSFiles? = nil, credentials: EtcdCredentials? = nil,
        requestTimeout: Duration = .seconds(5)
    ) {
        let normalized = endpoints.map(Self.normalize).filter { !$0.isEmpty }
        self.endpoints = normalized
        self.credentials = credentials
        self.requestTimeout = requestTimeout
        self.clients = normalized.map { HTTPClient(endpoint: .url($0), tls: tls) }
    }

    /// The endpoint requests go to first.
    public var currentEndpoint: String? {
        let index = state.withLock { $0.current }
        return endpoints.indices.contains(index) ? endpoints[index] : nil
    }

    static func normalize(_ endpoint: String) -> String {
        var text = endpoint.trimmingWhitespace(newlines: false)
        while text.hasSuffix("/") { text.removeLast() }
        if !text.isEmpty, !text.contains("://") { text = "http://" + text }
        return text
    }

    // MARK: - Plumbing shared by the endpoints

    /// Posts a JSON body to a gateway path and decodes the 2xx answer. Authenticates first when needed, and
    /// once more when etcd refuses the token.
    func call<Response: Decodable>(
        _ path: String, _ body: some Encodable, as type: Response.Type, accept: Set<Int> = []
    ) async throws(EtcdError) -> Response {
        let response = try await post(path, Self.jsonBody(body), accept: accept)
        return try Self.decode(type, response.body, call: "POST \(path)")
    }

    /// Posts with authentication and failover; returns a 2xx answer (or one of `accept`), throws otherwise.
    func post(_ path: String, _ body: Data, accept: Set<Int> = []) async throws(EtcdError) -> HTTPResponse {
        let call = "POST \(path)"
        var token = try await currentToken()
        var response = try await send(path, body, token: token)
        if credentials != nil, Self.isAuthenticationFailure(response) {
            invalidateToken(token)
            token = try await currentToken()
            response = try await send(path, body, token: token)
        }
        guard response.isSuccess || accept.contains(response.status) else {
            throw Self.statusError(call: call, response: response)
        }
        return response
    }

    /// One request to the current endpoint, then to each other endpoint in turn while they cannot be reached.
    /// HTTP error statuses are answers, not reasons to fail over.
    func send(_ path: String, _ body: Data, token: String?) async throws(EtcdError) -> HTTPResponse {
        var request = HTTPRequest.json(.post, path, body: body, timeout: requestTimeout)
        if let token, !token.isEmpty { request.headers["Authorization"] = token }
        guard !clients.isEmpty else { throw .transport(call: request.summary, failures: []) }
        let start = state.withLock { $0.current }
        var failures: [HTTPTransportError] = []
        for offset in 0..<clients.count {
            let index = (start + offset) % clients.count
            do {
                let response = try await clients[index].send(request)
                if offset > 0 { state.withLock { $0.current = index } }
                return response
            } catch let error as HTTPTransportError {
                failures.append(error)
            } catch {
                failures.append(HTTPTransportError(
                    kind: .transport(code: -1, message: "\(error)"), request: request.summary,
                    endpoint: endpoints[index]))
            }
        }
        throw .transport(call: request.summary, failures: failures)
    }

    /// Moves on from an endpoint that could not be reached (used by watches, which do their own retries).
    func endpointFailed(_ index: Int) {
        guard !clients.isEmpty else { return }
        state.withLock { if $0.current == index { $0.current = (index + 1) % clients.count } }
    }

    var currentIndex: Int { state.withLock { $0.current } }

    // MARK: Tokens

    /// The token to send: nil without credentials; authenticates when there is none yet.
    func currentToken() async throws(EtcdError) -> String? {
        guard let credentials else { return nil }
        if let token = state.withLock({ $0.token }) { return token }
        let token = try await authenticate(credentials)
        state.withLock { $0.token = token }
        return token
    }

    /// The token in use, if any, without authenticating.
    var cachedToken: String? { state.withLock { $0.token } }

    /// Forgets `token` unless another request already replaced it.
    func invalidateToken(_ token: String?) {
        state.withLock { if $0.token == token { $0.token = nil } }
    }

    /// etcd refused the token: 401 ("invalid auth token", expired simple tokens included), or 400 "user name
    /// is empty" when authentication was enabled after this client learned it was off.
    static func isAuthenticationFailure(_ response: HTTPResponse) -> Bool {
        if response.status == 401 { return true }
        return response.status == 400 && GatewayError(response.body)?.message.contains("user name is empty") == true
    }

    // MARK: JSON

    static func jsonBody(_ value: some Encodable) -> Data {
        // The request structs hold strings, numbers, booleans and bytes: encoding them cannot fail.
        (try? JSONEncoder().encode(value)) ?? Data("{}".utf8)
    }

    static func decode<Value: Decodable>(_ type: Value.Type, _ body: Data, call: String) throws(EtcdError) -> Value {
        do {
            return try JSONDecoder().decode(type, from: body)
        } catch {
            throw .decoding(call: call, body: String(decoding: body, as: UTF8.self), reason: "\(error)")
        }
    }

    static func statusError(call: String, response: HTTPResponse) -> EtcdError {
        if let error = GatewayError(response.body) {
            return .status(call: call, status: response.status, code: error.code, message: error.message)
        }
        let text = response.bodyText.trimmingWhitespace()
        return .status(call: call, status: response.status, code: nil, message: text)
    }
}

/// How the gateway explains a failure: `{"error": "...", "message": "...", "code": 5}` for unary calls, and
/// `{"error": {"grpc_code": 16, "message": "..."}}` inside a streamed answer.
struct GatewayError: Decodable {
    let code: Int?
    let message: String

    private enum CodingKeys: String, CodingKey { case error, message, code, grpcCode = "grpc_code" }

    init?(_ body: Data) {
        guard let decoded = try? JSONDecoder().decode(GatewayError.self, from: body) else { return nil }
        self = decoded
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let nested = try? container.nestedContainer(keyedBy: CodingKeys.self, forKey: .error) {
            code = try nested.decodeIfPresent(Int.self, forKey: .grpcCode)
            message = try nested.decodeIfPresent(String.self, forKey: .message) ?? ""
        } else {
            code = try container.decodeIfPresent(Int.self, forKey: .code)
            guard let text = try container.decodeIfPresent(String.self, forKey: .message)
                ?? container.decodeIfPresent(String.self, forKey: .error)
            else {
                throw DecodingError.keyNotFound(
                    CodingKeys.message, .init(codingPath: [], debugDescription: "not an error answer"))
            }
            message = text
        }
    }
}
