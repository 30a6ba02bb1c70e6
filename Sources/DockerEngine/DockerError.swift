#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import HTTPTransport

/// A failed call to the Docker Engine API.
public enum DockerError: Error, Sendable, CustomStringConvertible {
    /// No HTTP answer: the socket is missing, refused the connection, or timed out.
    case transport(HTTPTransportError)
    /// The engine answered with an error status; `message` is the engine's own explanation.
    case status(call: String, status: Int, message: String)
    /// The engine answered 2xx with a body this client could not read.
    case decoding(call: String, body: String, reason: String)
    /// An image pull reported an error inside its progress stream.
    case pull(image: String, message: String)
    /// The registry refused a pull for lack of (valid) credentials; `advice` says what to do.
    case pullUnauthorized(image: String, registry: String, message: String, advice: String)

    public var description: String {
        switch self {
        case .transport(let error):
            "cannot reach the Docker engine: \(error) (is dockerd running? DOCKER_HOST and --docker choose the socket)"
        case .status(let call, let status, let message):
            "Docker: \(call) answered \(status): \(message)"
        case .decoding(let call, let body, let reason):
            "Docker: cannot read the answer to \(call): \(reason); body: \(body.prefix(300))"
        case .pull(let image, let message):
            "Docker: pulling \(image) failed: \(message)"
        case .pullUnauthorized(let image, let registry, let message, let advice):
            "Docker: pulling \(image) failed: the registry \(registry) refused it (\(message)): \(advice)"
        }
    }

    /// The engine answered 404: no such container or image.
    public var isNotFound: Bool {
        if case .status(_, 404, _) = self { true } else { false }
    }

    /// The engine answered 409: a name in use, or a running container that cannot be removed.
    public var isConflict: Bool {
        if case .status(_, 409, _) = self { true } else { false }
    }

    /// The container is gone or on its way out (404, or 409 "removal … is already in progress"): for a stop
    /// or a removal, nothing is left to do.
    public var isGoingAway: Bool {
        switch self {
        case .status(_, 404, _): true
        case .status(_, 409, let message): message.contains("already in progress")
        default: false
        }
    }

    /// A pull the registry refused for lack of valid credentials.
    public var isUnauthorizedPull: Bool {
        if case .pullUnauthorized = self { true } else { false }
    }

    /// The engine could not be reached at all.
    public var isUnreachable: Bool {
        if case .transport = self { true } else { false }
    }
}
