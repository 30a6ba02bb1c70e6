#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import HTTPTransport

/// A failed call to etcd.
public enum EtcdError: Error, Sendable, Hashable, CustomStringConvertible {
    /// No endpoint answered usefully within the request timeout; `failures` holds each endpoint's last failure
    /// (silent, refused, or an answer such as 503 "no leader"), in endpoint order (empty: no endpoints configured).
    case transport(call: String, failures: [HTTPTransportError])
    /// etcd answered with an error status; `code` (a gRPC code) and `message` are etcd's own.
    case status(call: String, status: Int, code: Int?, message: String)
    /// etcd answered 2xx with a body this client could not read.
    case decoding(call: String, body: String, reason: String)
    /// etcd refused the user name or password.
    case authentication(user: String, message: String)
    /// etcd canceled a watch, e.g. because the user may not read the prefix.
    case watchCanceled(prefix: String, reason: String)

    public var description: String {
        switch self {
        case .transport(let call, let failures) where failures.isEmpty:
            "etcd: no endpoints to send \(call) to: pass --etcd URL[,URL…]"
        case .transport(let call, let failures) where failures.contains(where: Self.saysNoLeader):
            "etcd cannot serve \(call): "
                + failures.map { "\($0.endpoint): \(Self.reason($0))" }.joined(separator: "; ")
                + " (the etcd cluster has no leader: a majority of its members must run and reach each other)"
        case .transport(let call, let failures):
            "cannot reach etcd for \(call): "
                + failures.map { "\($0.endpoint): \(Self.reason($0))" }.joined(separator: "; ")
                + " (is etcd running at \(failures.map(\.endpoint).joined(separator: ", "))? pass --etcd URL[,URL…])"
        case .status(let call, let status, let code, let message):
            "etcd: \(call) answered \(status)\(code.map { " (code \($0))" } ?? ""): \(message)"
                + Self.hint(status: status, code: code, message: message)
        case .decoding(let call, let body, let reason):
            "etcd: cannot read the answer to \(call): \(reason); body: \(body.prefix(300))"
        case .authentication(let user, let message):
            "etcd refused user '\(user)': \(message) (check the etcd user name and password)"
        case .watchCanceled(let prefix, let reason):
            "etcd canceled the watch on '\(prefix)': \(reason)"
                + (reason.contains("ermission") ? " (grant the etcd user read access to that prefix)" : "")
        }
    }

    /// gRPC code 5: no such lease (or member).
    public var isNotFound: Bool {
        if case .status(_, _, 5, _) = self { true } else { false }
    }

    /// gRPC code 7: the etcd user may not do this.
    public var isPermissionDenied: Bool {
        if case .status(_, _, 7, _) = self { true } else { false }
    }

    /// gRPC code 11: the requested revision has been compacted away.
    public var isCompacted: Bool {
        if case .status(_, _, 11, _) = self { true } else { false }
    }

    /// No endpoint could be reached, or none could serve (quorum lost: every member answered "no leader").
    public var isUnreachable: Bool {
        if case .transport = self { true } else { false }
    }

    private static func reason(_ error: HTTPTransportError) -> String {
        switch error.kind {
        case .transport(let code, let message): "\(message) (curl error \(code))"
        case .status(let status, let body):
            "answered \(status): \(GatewayError(Data(body.utf8))?.message ?? String(body.prefix(200)))"
        }
    }

    /// An endpoint answered that it has no leader (503, gRPC code 14 "etcdserver: no leader").
    private static func saysNoLeader(_ error: HTTPTransportError) -> Bool {
        if case .status(_, let body) = error.kind { body.contains("no leader") } else { false }
    }

    private static func hint(status: Int, code: Int?, message: String) -> String {
        if code == 7 { return " (grant the etcd user access to these keys)" }
        if status == 401 || message.contains("user name is empty") {
            return " (etcd has authentication enabled: pass an etcd user and password)"
        }
        return ""
    }
}
