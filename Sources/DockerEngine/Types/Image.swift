/// The parts of `GET /images/{name}/json` the agent uses.
public struct ImageDetails: Sendable, Hashable, Decodable {
    public let id: String
    /// Container ports the image declares with EXPOSE, e.g. [80].
    public let exposedPorts: [Int]

    public init(id: String, exposedPorts: [Int]) {
        self.id = id
        self.exposedPorts = exposedPorts
    }

    private enum CodingKeys: String, CodingKey { case id = "Id", config = "Config" }
    private struct Empty: Decodable {}
    private struct Config: Decodable { let ExposedPorts: [String: Empty]? }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        let config = try container.decodeIfPresent(Config.self, forKey: .config)
        exposedPorts = (config?.ExposedPorts ?? [:]).keys
            .filter { $0.hasSuffix("/tcp") || !$0.contains("/") }
            .compactMap { Int($0.split(separator: "/").first ?? "") }
            .sorted()
    }
}

/// An image reference split the way `POST /images/create` wants it.
public struct ImageReference: Sendable, Hashable {
    public let repository: String
    /// A tag, or a digest such as `sha256:…`.
    public let tag: String

    /// `busybox` → busybox:latest; `reg:5000/a/b:1` → reg:5000/a/b + 1; `a@sha256:x` → a + sha256:x.
    public init(_ reference: String) {
        if let at = reference.firstIndex(of: "@") {
            repository = String(reference[..<at])
            tag = String(reference[reference.index(after: at)...])
        } else if let colon = reference.lastIndex(of: ":"), !reference[colon...].contains("/") {
            repository = String(reference[..<colon])
            tag = String(reference[reference.index(after: colon)...])
        } else {
            repository = reference
            tag = "latest"
        }
    }
}

extension ImageReference {
    /// Docker Hub's domain in image references.
    static let dockerHubDomain = "docker.io"
    /// The names that mean Docker Hub.
    static let dockerHubNames: Set<String> = ["docker.io", "index.docker.io", "registry-1.docker.io"]
    /// The address credentials for Docker Hub are stored under, as `docker login` writes it.
    public static let dockerHubServerAddress = "https://index.docker.io/v1/"

    /// The registry the image comes from, found as Docker does: the first path component when it has a `.`
    /// or a `:`, is `localhost`, or has capitals (`127.0.0.1:5000/a/b` → `127.0.0.1:5000`,
    /// `registry.example.com/x` → `registry.example.com`); else Docker Hub, `docker.io` (`busybox`,
    /// `library/busybox`, `team/app`).
    public var registry: String {
        guard let slash = repository.firstIndex(of: "/") else { return Self.dockerHubDomain }
        let first = String(repository[..<slash])
        let isDomain = first.contains(".") || first.contains(":") || first == "localhost" || first.lowercased() != first
        guard isDomain else { return Self.dockerHubDomain }
        return Self.dockerHubNames.contains(first) ? Self.dockerHubDomain : first
    }

    /// The key the docker CLI looks the image's registry up by in config.json, and sends as `serveraddress`:
    /// the registry's host, or `https://index.docker.io/v1/` for Docker Hub.
    public var credentialsKey: String {
        registry == Self.dockerHubDomain ? Self.dockerHubServerAddress : registry
    }
}

/// One line of an image pull's progress stream.
public struct PullProgress: Sendable, Hashable, Decodable {
    public let status: String?
    public let progress: String?
    public let id: String?
    public let error: String?
}
