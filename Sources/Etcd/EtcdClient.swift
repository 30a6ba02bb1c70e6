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
/// values are Swift strings sent as UTF-8 bytes.
///
/// Failover: a request goes to the endpoint that answered last. When that one cannot be reached, or answers
/// that it cannot serve now (503 / gRPC code 14: "no leader", "leader changed", "request timed out"), the
/// next endpoint gets the request at once; when it is merely silent for `hedgeDelay` (a hung member, or a
/// follower whose proposal went to a leader that just died and will time out only after etcd's 7 s), the next
/// endpoint gets the same request beside it, and the first usable answer wins (the others are cancelled).
/// This goes round the endpoints until `requestTimeout`, pausing longer between rounds in which every member
/// failed (quorum lost). Every request asks etcd to refuse at once when the member has no leader
/// (`Grpc-Metadata-hasleader`), so a member cut off from the majority answers "no leader" instead of hanging.
/// Members that failed or stayed silent are tried last for a while. Other HTTP error statuses are answers.
///
/// A request sent twice may be applied twice: a put again is harmless; a lease grant again leaves an unused
/// lease that expires after its TTL; a transaction again may report `succeeded == false` against its own
/// first write, so a compare-and-swap that "lost" after a failover should re-read before concluding someone
/// else won. `compact` is never hedged.
/// With `credentials`, the client authenticates on first use and once more whenever etcd refuses its token
/// (401, e.g. an expired simple token).
public final class EtcdClient: Sendable {
    /// The base URLs, in the order they are tried, e.g. `http://127.0.0.1:2379`.
    public let endpoints: [String]
    /// Bounds each request, all its attempts on all endpoints together (watches are not bounded).
    public let requestTimeout: Duration
    /// How long an attempt may go unanswered before the next endpoint also gets the request.
    public let hedgeDelay: Duration
    /// How long an endpoint that failed or stayed silent is tried after the others.
    static let penalty = Duration.seconds(30)
    let credentials: EtcdCredentials?
    /// Told of every finished request (not of watch streams): a metrics sink.
    let observer: (@Sendable (EtcdRequestRecord) -> Void)?
    /// One connection pool per endpoint, same order as `endpoints`.
    let clients: [HTTPClient]
    private let state = Mutex(State())

    private struct State {
        /// Index of the endpoint that answered last.
        var current = 0
        /// The auth token in use; `""` when etcd said authentication is not enabled.
        var token: String?
        /// Endpoints that failed or stayed silent lately → until when they are tried last.
        var penalized: [Int: ContinuousClock.Instant] = [:]
    }

    /// - Parameters:
    ///   - endpoints: base URLs such as `http://127.0.0.1:2379` (a bare `host:port` means `http://`).
    ///   - tls: CA, client certificate and key for `https://` endpoints.
    ///   - credentials: an etcd user, when etcd has authentication enabled.
    ///   - requestTimeout: bounds each request, failover included (watches are not bounded).
    ///   - hedgeDelay: how long an attempt may go unanswered before the next endpoint also gets the request;
    ///     at most a quarter of `requestTimeout`. A healthy etcd answers in milliseconds.
    ///   - observer: told of every finished request, failover included (watch streams are not requests).
    public init(
        endpoints: [String], tls: TLSFiles? = nil, credentials: EtcdCredentials? = nil,
        requestTimeout: Duration = .seconds(5), hedgeDelay: Duration = .milliseconds(250),
        observer: (@Sendable (EtcdRequestRecord) -> Void)? = nil
    ) {
        let normalized = endpoints.map(Self.normalize).filter { !$0.isEmpty }
        self.endpoints = normalized
        self.credentials = credentials
        self.observer = observer
        self.requestTimeout = requestTimeout
        self.hedgeDelay = min(hedgeDelay, requestTimeout / 4)
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
        _ path: String, _ body: some Encodable, as type: Response.Type, accept: Set<Int> = [], hedge: Bool = true
    ) async throws(EtcdError) -> Response {
        let response = try await post(path, Self.jsonBody(body), accept: accept, hedge: hedge)
        return try Self.decode(type, response.body, call: "POST \(path)")
    }

    /// Posts with authentication and failover; returns a 2xx answer (or one of `accept`), throws otherwise.
    /// Without `hedge`, an attempt is never doubled while it may still be working (a physical compaction).
    func post(_ path: String, _ body: Data, accept: Set<Int> = [], hedge: Bool = true) async throws(EtcdError) -> HTTPResponse {
        guard let observer else { return try await authenticatedPost(path, body, accept: accept, hedge: hedge) }
        let started = ContinuousClock.now
        let operation = EtcdRequestRecord.operation(of: path)
        do {
            let response = try await authenticatedPost(path, body, accept: accept, hedge: hedge)
            observer(EtcdRequestRecord(operation: operation, result: .ok, duration: .now - started))
            return response
        } catch {
            guard !Task.isCancelled else { throw error }
            observer(EtcdRequestRecord(operation: operation, result: error.isUnreachable ? .unreachable : .error, duration: .now - started))
            throw error
        }
    }

    private func authenticatedPost(_ path: String, _ body: Data, accept: Set<Int>, hedge: Bool) async throws(EtcdError) -> HTTPResponse {
        let call = "POST \(path)"
        var token = try await currentToken()
        var response = try await send(path, body, token: token, hedge: hedge)
        if credentials != nil, Self.isAuthenticationFailure(response) {
            invalidateToken(token)
            token = try await currentToken()
            response = try await send(path, body, token: token, hedge: hedge)
        }
        guard response.isSuccess || accept.contains(response.status) else {
            throw Self.statusError(call: call, response: response)
        }
        return response
    }

    /// What one attempt of a request, or the schedule's timer, reports to `send`.
    private enum AttemptEvent: Sendable {
        case answered(endpoint: Int, response: HTTPResponse)
        case failed(endpoint: Int, failure: HTTPTransportError)
        case timer(generation: Int)
    }

    /// Sends one request with failover and hedging (see the type's doc comment and `FailoverSchedule`) and
    /// returns the first answer that is not "try another member". Throws `.transport` with each endpoint's
    /// last failure once `requestTimeout` has passed.
    func send(_ path: String, _ body: Data, token: String?, hedge: Bool = true) async throws(EtcdError) -> HTTPResponse {
        var request = HTTPRequest.json(.post, path, body: body, timeout: requestTimeout)
        request.headers[Self.requireLeaderHeader] = "true"
        if let token, !token.isEmpty { request.headers["Authorization"] = token }
        guard !clients.isEmpty else { throw .transport(call: request.summary, failures: []) }
        let started = ContinuousClock.now
        var schedule = FailoverSchedule(
            order: attemptOrder(now: started), hedgeDelay: hedge ? hedgeDelay : requestTimeout,
            maximumPause: .seconds(1), now: started, deadline: started + requestTimeout)
        let outcome = await withTaskGroup(of: AttemptEvent.self, returning: Result<HTTPResponse, EtcdError>.self) { group in
            var failures: [Int: HTTPTransportError] = [:]
            var sentAt: [Int: ContinuousClock.Instant] = [:]
            var generation = 0
            /// Carries out a step; false when the request has to give up.
            func perform(_ step: FailoverSchedule.Step) -> Bool {
                if case .giveUp = step { return false }
                if case .send(let index) = step {
                    var attempt = request
                    attempt.timeout = max(.milliseconds(1), schedule.deadline - .now)
                    sentAt[index] = sentAt[index] ?? .now
                    let client = clients[index]
                    let endpoint = endpoints[index]
                    group.addTask {
                        do {
                            return .answered(endpoint: index, response: try await client.send(attempt))
                        } catch let error as HTTPTransportError {
                            return .failed(endpoint: index, failure: error)
                        } catch {
                            return .failed(endpoint: index, failure: HTTPTransportError(
                                kind: .transport(code: -1, message: "\(error)"), request: attempt.summary, endpoint: endpoint))
                        }
                    }
                }
                generation += 1
                let armed = generation
                let wakeUp = schedule.wakeUp
                group.addTask {
                    try? await Task.sleep(until: wakeUp, clock: .continuous)
                    return .timer(generation: armed)
                }
                return true
            }
            guard perform(schedule.start(now: started)) else {
                return .failure(.transport(call: request.summary, failures: []))
            }
            while let event = await group.next() {
                let step: FailoverSchedule.Step
                switch event {
                case .answered(let index, let response) where !Self.isUnavailable(response):
                    group.cancelAll()
                    answered(index, slow: sentAt.filter { $0.key != index && $0.value < (sentAt[index] ?? .now) }.map(\.key))
                    return .success(response)
                case .answered(let index, let response):
                    failures[index] = HTTPTransportError(
                        kind: .status(response.status, body: response.bodyText), request: request.summary,
                        endpoint: endpoints[index])
                    penalize(index)
                    step = schedule.attemptFailed(now: .now)
                case .failed(let index, let failure):
                    failures[index] = failure
                    penalize(index)
                    step = schedule.attemptFailed(now: .now, refused: Self.isRefusal(failure))
                case .timer(let armed):
                    guard armed == generation else { continue }
                    step = schedule.timerFired(now: .now)
                }
                if !perform(step) { break }
            }
            group.cancelAll()
            for (index, sent) in sentAt where failures[index] == nil {
                failures[index] = HTTPTransportError(
                    kind: .transport(code: 28, message: "no answer within \((ContinuousClock.now - sent).wholeMilliseconds) ms"),
                    request: request.summary, endpoint: endpoints[index])
            }
            return .failure(.transport(
                call: request.summary, failures: failures.sorted { $0.key < $1.key }.map(\.value)))
        }
        return try outcome.get()
    }

    /// Asks etcd to refuse a request at once when the member has no leader (gRPC metadata `hasleader`,
    /// which the gateway takes from this header), instead of waiting out its own 7 s request timeout.
    static let requireLeaderHeader = "Grpc-Metadata-hasleader"

    /// An answer that means "this member cannot serve now, another may": 503 / gRPC code 14 (no leader,
    /// leader changed, request timed out, server stopping), or etcd's own deadline passing (500, code 2).
    static func isUnavailable(_ response: HTTPResponse) -> Bool {
        guard !response.isSuccess else { return false }
        let error = GatewayError(response.body)
        if response.status == 503 || error?.code == 14 { return true }
        return error?.message.contains("context deadline exceeded") == true
    }

    /// Nothing listens at the endpoint: curl could not connect (CURLE_COULDNT_CONNECT, 7).
    static func isRefusal(_ failure: HTTPTransportError) -> Bool {
        if case .transport(7, _) = failure.kind { true } else { false }
    }

    /// The endpoints in the order a new request tries them: the current one, then the others in turn, and
    /// endpoints that failed or stayed silent lately last.
    func attemptOrder(now: ContinuousClock.Instant) -> [Int] {
        let (current, penalized) = state.withLock { ($0.current, $0.penalized) }
        let rotation = clients.indices.map { (current + $0) % clients.count }
        let isPenalized = { (index: Int) in penalized[index].map { $0 > now } ?? false }
        return rotation.filter { !isPenalized($0) } + rotation.filter(isPenalized)
    }

    /// `index` answered: it becomes current; `slow` (asked earlier, still silent) are tried last for a while.
    private func answered(_ index: Int, slow: [Int]) {
        let until = ContinuousClock.now + Self.penalty
        state.withLock {
            $0.current = index
            $0.penalized[index] = nil
            for other in slow { $0.penalized[other] = until }
        }
    }

    private func penalize(_ index: Int) {
        let until = ContinuousClock.now + Self.penalty
        state.withLock { $0.penalized[index] = until }
    }

    /// Moves on from an endpoint that could not be reached or stopped answering (used by watches, which do
    /// their own retries): the next one in `attemptOrder` becomes current.
    func endpointFailed(_ index: Int) {
        guard !clients.isEmpty else { return }
        penalize(index)
        let next = attemptOrder(now: .now).first { $0 != index } ?? index
        state.withLock { if $0.current == index { $0.current = next } }
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

/// One finished request of an `EtcdClient`, for its `observer`.
public struct EtcdRequestRecord: Sendable, Hashable {
    public enum Result: String, Sendable {
        /// etcd answered.
        case ok
        /// etcd answered with an error (a refused compare is `ok`: the transaction answered).
        case error
        /// No member answered within the request timeout.
        case unreachable
    }

    /// `txn`, `range`, `put`, `delete`, `lease_grant`, `lease_keepalive`, … (as `hecd_etcd_requests_total` names them).
    public var operation: String
    public var result: Result
    public var duration: Duration

    public init(operation: String, result: Result, duration: Duration) {
        self.operation = operation
        self.result = result
        self.duration = duration
    }

    /// The operation name of a gateway path: `/v3/kv/txn` → `txn`, `/v3/lease/grant` → `lease_grant`.
    public static func operation(of path: String) -> String {
        let parts = path.split(separator: "/").map(String.init)
        guard parts.count >= 3 else { return parts.last ?? path }
        switch (parts[1], parts[2]) {
        case ("kv", "deleterange"): return "delete"
        case ("kv", let name): return name
        case ("lease", let name): return "lease_" + name
        case (let group, let name): return group + "_" + name
        }
    }
}
