import HTTPTransport

/// Which Docker engine to talk to: `unix:///var/run/docker.sock` (the default) or `tcp://HOST:PORT`.
public struct DockerHost: Sendable, Hashable, CustomStringConvertible {
    public static let defaultSocket = "unix:///var/run/docker.sock"

    public let endpoint: HTTPEndpoint
    public let description: String

    /// The engine at /var/run/docker.sock.
    public static let defaultEngine = DockerHost(endpoint: .unixSocket(path: "/var/run/docker.sock"), description: defaultSocket)

    private init(endpoint: HTTPEndpoint, description: String) {
        self.endpoint = endpoint
        self.description = description
    }

    /// Parses a `DOCKER_HOST`-style address. Throws a message that says what is accepted.
    public init(_ address: String) throws(DockerHostError) {
        if address.hasPrefix("unix://") {
            let path = String(address.dropFirst("unix://".count))
            guard path.hasPrefix("/") else { throw DockerHostError(address: address) }
            endpoint = .unixSocket(path: path)
        } else if address.hasPrefix("tcp://") || address.hasPrefix("http://") {
            let rest = address.split(separator: "://", maxSplits: 1).last.map(String.init) ?? ""
            guard !rest.isEmpty else { throw DockerHostError(address: address) }
            endpoint = .url("http://" + rest.trimmingSuffix("/"))
        } else if address.hasPrefix("/") {
            endpoint = .unixSocket(path: address)
        } else {
            throw DockerHostError(address: address)
        }
        description = address
    }

    /// `DOCKER_HOST` from the environment, or the default socket.
    public static func fromEnvironment(_ environment: [String: String]) throws(DockerHostError) -> DockerHost {
        guard let address = environment["DOCKER_HOST"], !address.isEmpty else { return defaultEngine }
        return try DockerHost(address)
    }
}

/// A Docker address that is neither `unix:///path` nor `tcp://host:port`.
public struct DockerHostError: Error, Sendable, CustomStringConvertible {
    public let address: String
    public var description: String {
        "'\(address)' is not a Docker address: use unix:///var/run/docker.sock or tcp://HOST:PORT"
    }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String {
        var text = self
        while text.hasSuffix(suffix) { text.removeLast(suffix.count) }
        return text
    }
}
