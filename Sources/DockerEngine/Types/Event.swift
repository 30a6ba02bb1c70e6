/// One object of `GET /events`, for containers.
public struct DockerEvent: Sendable, Hashable, Decodable {
    /// create, start, die, kill, stop, destroy, …
    public let action: String
    public let containerID: String
    public let attributes: [String: String]
    /// Unix time in nanoseconds.
    public let timeNano: Int64

    public var name: String? { attributes["name"] }

    private enum CodingKeys: String, CodingKey { case action = "Action", actor = "Actor", timeNano }
    private struct Actor: Decodable {
        let ID: String?
        let Attributes: [String: String]?
    }

    public init(action: String, containerID: String, attributes: [String: String] = [:], timeNano: Int64 = 0) {
        self.action = action
        self.containerID = containerID
        self.attributes = attributes
        self.timeNano = timeNano
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        action = try container.decodeIfPresent(String.self, forKey: .action) ?? ""
        let actor = try container.decodeIfPresent(Actor.self, forKey: .actor)
        containerID = actor?.ID ?? ""
        attributes = actor?.Attributes ?? [:]
        timeNano = try container.decodeIfPresent(Int64.self, forKey: .timeNano) ?? 0
    }
}
