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

/// One line of an image pull's progress stream.
public struct PullProgress: Sendable, Hashable, Decodable {
    public let status: String?
    public let progress: String?
    public let id: String?
    public let error: String?
}
