#if canImport(FoundationEssentials)
import Primitives
import FoundationEssentials
#else
import Foundation
#endif
import HTTPTransport
import Synchronization

/// A client of the Docker Engine API (1.41 and later, and older engines down to their own version).
///
/// Endpoints are grouped by resource in `Endpoints/`; each maps to one API call named in its doc comment.
public final class DockerClient: Sendable {
    /// The newest API version this client was written against.
    public static let preferredAPIVersion = "1.41"

    public let host: DockerHost
    /// The API version given by the operator (`DOCKER_API_VERSION`): used as it is, never negotiated.
    public let pinnedAPIVersion: String?
    /// Where pulls find registry credentials; nil: pulls are anonymous.
    public let registryAuth: RegistryAuthSource?
    let http: HTTPClient
    private let negotiatedVersion = Mutex<String?>(nil)

    /// - Parameters:
    ///   - host: the engine, over TLS when `host.tls` is set.
    ///   - pinnedAPIVersion: an API version to use instead of negotiating one (`DOCKER_API_VERSION`).
    ///   - registryAuth: the file that pulls take their `X-Registry-Auth` from, read again at each pull.
    public init(host: DockerHost, pinnedAPIVersion: String? = nil, registryAuth: RegistryAuthSource? = nil) {
        self.host = host
        self.pinnedAPIVersion = pinnedAPIVersion
        self.registryAuth = registryAuth
        self.http = HTTPClient(endpoint: host.endpoint, tls: host.tls)
    }

    /// The API version in use: the pinned one, else the one negotiated by `negotiateVersion()`, else the
    /// preferred one.
    public var apiVersion: String {
        pinnedAPIVersion ?? negotiatedVersion.withLock { $0 } ?? Self.preferredAPIVersion
    }

    /// Agrees on an API version: the engine's, when it is older than ours, else ours. With a pinned version,
    /// only checks that the engine answers and returns the pinned version, as the docker CLI does with
    /// `DOCKER_API_VERSION`. Maps to `GET /_ping` (its `Api-Version` header).
    @discardableResult
    public func negotiateVersion() async throws(DockerError) -> String {
        let response = try await send(HTTPRequest(.get, "/_ping", timeout: .seconds(10)), versioned: false)
        if let pinnedAPIVersion { return pinnedAPIVersion }
        let server = response.headers["api-version"] ?? Self.preferredAPIVersion
        let chosen = Self.isOlder(server, than: Self.preferredAPIVersion) ? server : Self.preferredAPIVersion
        negotiatedVersion.withLock { $0 = chosen }
        return chosen
    }

    /// `DOCKER_API_VERSION` from the environment: nil when unset or empty; an error when it is not a version
    /// such as `1.41`.
    public static func pinnedAPIVersion(fromEnvironment environment: [String: String]) throws(DockerHostError) -> String? {
        guard let version = environment["DOCKER_API_VERSION"], !version.isEmpty else { return nil }
        let parts = version.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) })
        else {
            throw DockerHostError(
                address: version,
                message: "DOCKER_API_VERSION='\(version)' is not an Engine API version such as 1.41 (unset it to negotiate)")
        }
        return version
    }

    /// Compares dotted versions numerically ("1.9" is older than "1.41").
    static func isOlder(_ version: String, than other: String) -> Bool {
        let left = version.split(separator: ".").map { Int($0) ?? 0 }
        let right = other.split(separator: ".").map { Int($0) ?? 0 }
        return left.lexicographicallyPrecedes(right)
    }

    // MARK: - Plumbing shared by the endpoints

    /// Sends a request under the negotiated version prefix and returns the response if it is 2xx
    /// (or one of `accept`); otherwise throws the engine's message.
    func send(_ request: HTTPRequest, versioned: Bool = true, accept: Set<Int> = []) async throws(DockerError) -> HTTPResponse {
        var request = request
        if versioned { request.path = "/v\(apiVersion)" + request.path }
        let response: HTTPResponse
        do {
            response = try await http.send(request)
        } catch let error as HTTPTransportError {
            throw .transport(error)
        } catch {
            throw .transport(HTTPTransportError(
                kind: .transport(code: -1, message: "\(error)"), request: request.summary, endpoint: host.description))
        }
        guard response.isSuccess || accept.contains(response.status) else {
            throw .status(call: request.summary, status: response.status, message: Self.engineMessage(response.body))
        }
        return response
    }

    /// Sends and decodes a JSON answer.
    func sendDecoding<Value: Decodable>(_ type: Value.Type, _ request: HTTPRequest) async throws(DockerError) -> Value {
        let response = try await send(request)
        return try decode(type, response.body, call: request.summary)
    }

    func decode<Value: Decodable>(_ type: Value.Type, _ body: Data, call: String) throws(DockerError) -> Value {
        do {
            return try JSONDecoder().decode(type, from: body)
        } catch {
            throw .decoding(call: call, body: String(decoding: body, as: UTF8.self), reason: "\(error)")
        }
    }

    static func jsonBody<Value: Encodable>(_ value: Value) -> Data {
        // Encoding plain structs of strings, numbers and dictionaries cannot fail.
        (try? JSONEncoder().encode(value)) ?? Data("{}".utf8)
    }

    /// The engine explains errors as `{"message": "..."}` (or plain text on very old versions).
    static func engineMessage(_ body: Data) -> String {
        struct Message: Decodable { let message: String }
        if let decoded = try? JSONDecoder().decode(Message.self, from: body) { return decoded.message }
        return String(decoding: body, as: UTF8.self).trimmingWhitespace()
    }

    /// `filters=` as the engine expects it: a JSON object of lists, URL-encoded.
    static func filtersQuery(_ filters: [String: [String]]) -> String {
        let json = String(decoding: jsonBody(filters), as: UTF8.self)
        return "filters=" + percentEncode(json)
    }

    /// Percent-encodes every byte but ASCII letters, digits and `-._~` (RFC 3986's unreserved characters).
    static func percentEncode(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count * 3)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                bytes.append(byte)
            default:
                bytes += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
