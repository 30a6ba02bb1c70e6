import Foundation

/// One row of `GET /containers/json`.
public struct ContainerSummary: Sendable, Hashable, Decodable {
    public let id: String
    /// Names with Docker's leading slash removed.
    public let names: [String]
    public let image: String
    /// created, running, restarting, paused, exited, dead, removing.
    public let state: String
    /// Human text such as "Up 5 minutes".
    public let status: String
    public let labels: [String: String]
    /// Creation time, Unix seconds.
    public let created: Int
    public let ports: [PublishedPort]

    public var name: String { names.first ?? id }

    enum CodingKeys: String, CodingKey {
        case id = "Id", names = "Names", image = "Image", state = "State", status = "Status"
        case labels = "Labels", created = "Created", ports = "Ports"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        names = (try container.decodeIfPresent([String].self, forKey: .names) ?? []).map {
            $0.hasPrefix("/") ? String($0.dropFirst()) : $0
        }
        image = try container.decodeIfPresent(String.self, forKey: .image) ?? ""
        state = try container.decodeIfPresent(String.self, forKey: .state) ?? ""
        status = try container.decodeIfPresent(String.self, forKey: .status) ?? ""
        labels = try container.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
        created = try container.decodeIfPresent(Int.self, forKey: .created) ?? 0
        ports = try container.decodeIfPresent([PublishedPort].self, forKey: .ports) ?? []
    }
}

/// A container port and, when published, the host address and port it is reachable on.
public struct PublishedPort: Sendable, Hashable, Decodable {
    /// Host address of the binding ("0.0.0.0", "::", or a specific address); nil when unpublished.
    public let ip: String?
    public let privatePort: Int
    public let publicPort: Int?
    public let type: String

    enum CodingKeys: String, CodingKey {
        case ip = "IP", privatePort = "PrivatePort", publicPort = "PublicPort", type = "Type"
    }
}

/// The body of `POST /containers/create`.
public struct ContainerConfig: Sendable, Hashable, Encodable {
    public var image: String
    public var command: [String]?
    public var env: [String: String]
    public var labels: [String: String]
    /// Container ports, e.g. 80: published on a random host port (`-P`).
    public var exposedPorts: [Int]
    public var hostname: String?
    public var stopTimeout: Int?

    public init(
        image: String, command: [String]? = nil, env: [String: String] = [:], labels: [String: String] = [:],
        exposedPorts: [Int] = [], hostname: String? = nil, stopTimeout: Int? = nil
    ) {
        self.image = image
        self.command = command
        self.env = env
        self.labels = labels
        self.exposedPorts = exposedPorts
        self.hostname = hostname
        self.stopTimeout = stopTimeout
    }

    private struct Empty: Encodable, Hashable {}
    private struct RestartPolicy: Encodable { let Name: String }
    private struct HostConfig: Encodable {
        let PublishAllPorts: Bool
        let RestartPolicy: RestartPolicy
    }

    private enum CodingKeys: String, CodingKey {
        case image = "Image", command = "Cmd", env = "Env", labels = "Labels", exposedPorts = "ExposedPorts"
        case hostname = "Hostname", stopTimeout = "StopTimeout", hostConfig = "HostConfig"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(image, forKey: .image)
        try container.encodeIfPresent(command, forKey: .command)
        try container.encode(env.keys.sorted().map { "\($0)=\(env[$0] ?? "")" }, forKey: .env)
        try container.encode(labels, forKey: .labels)
        let exposed = Dictionary(uniqueKeysWithValues: Set(exposedPorts).map { ("\($0)/tcp", Empty()) })
        try container.encode(exposed, forKey: .exposedPorts)
        try container.encodeIfPresent(hostname, forKey: .hostname)
        try container.encodeIfPresent(stopTimeout, forKey: .stopTimeout)
        // All ports published on random host ports; restarts are the agent's job, not the engine's.
        try container.encode(
            HostConfig(PublishAllPorts: true, RestartPolicy: RestartPolicy(Name: "no")), forKey: .hostConfig)
    }
}

/// The parts of `GET /containers/{id}/json` the agent uses.
public struct ContainerDetails: Sendable, Hashable, Decodable {
    public let id: String
    /// Without Docker's leading slash.
    public let name: String
    public let state: State
    public let labels: [String: String]
    /// "80/tcp" → bindings; empty until the container runs, and different after every start.
    public let ports: [String: [HostBinding]]

    public struct State: Sendable, Hashable, Decodable {
        public let status: String
        public let running: Bool
        public let exitCode: Int
        public let startedAt: Date?
        public let finishedAt: Date?

        enum CodingKeys: String, CodingKey {
            case status = "Status", running = "Running", exitCode = "ExitCode"
            case startedAt = "StartedAt", finishedAt = "FinishedAt"
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            status = try container.decodeIfPresent(String.self, forKey: .status) ?? ""
            running = try container.decodeIfPresent(Bool.self, forKey: .running) ?? false
            exitCode = try container.decodeIfPresent(Int.self, forKey: .exitCode) ?? 0
            startedAt = DockerTime.parse(try container.decodeIfPresent(String.self, forKey: .startedAt))
            finishedAt = DockerTime.parse(try container.decodeIfPresent(String.self, forKey: .finishedAt))
        }
    }

    public struct HostBinding: Sendable, Hashable, Decodable {
        public let hostIP: String
        public let hostPort: Int?

        enum CodingKeys: String, CodingKey { case hostIP = "HostIp", hostPort = "HostPort" }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            hostIP = try container.decodeIfPresent(String.self, forKey: .hostIP) ?? ""
            hostPort = (try container.decodeIfPresent(String.self, forKey: .hostPort)).flatMap { Int($0) }
        }
    }

    private enum CodingKeys: String, CodingKey {
        case id = "Id", name = "Name", state = "State", config = "Config", networkSettings = "NetworkSettings"
    }
    private struct Config: Decodable { let Labels: [String: String]? }
    private struct NetworkSettings: Decodable { let Ports: [String: [HostBinding]?]? }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        let rawName = try container.decodeIfPresent(String.self, forKey: .name) ?? ""
        name = rawName.hasPrefix("/") ? String(rawName.dropFirst()) : rawName
        state = try container.decode(State.self, forKey: .state)
        labels = (try container.decodeIfPresent(Config.self, forKey: .config))?.Labels ?? [:]
        let settings = try container.decodeIfPresent(NetworkSettings.self, forKey: .networkSettings)
        ports = (settings?.Ports ?? [:]).compactMapValues { $0 }
    }

    /// The host port a container port is published on (IPv4 binding preferred).
    public func hostPort(for containerPort: Int) -> HostBinding? {
        let bindings = ports["\(containerPort)/tcp"] ?? []
        return bindings.first { !$0.hostIP.contains(":") && $0.hostPort != nil } ?? bindings.first { $0.hostPort != nil }
    }
}

/// Docker's RFC 3339 times with nanoseconds; "0001-01-01T00:00:00Z" means never.
enum DockerTime {
    static func parse(_ text: String?) -> Date? {
        guard let text, !text.hasPrefix("0001-") else { return nil }
        var base = text
        var fraction = 0.0
        if let dot = text.firstIndex(of: ".") {
            let afterDot = text[text.index(after: dot)...]
            let digits = afterDot.prefix { $0.isNumber }
            fraction = Double("0." + digits) ?? 0
            base = String(text[..<dot]) + String(afterDot.dropFirst(digits.count))
        }
        let formatter = ISO8601DateFormatter()
        guard let date = formatter.date(from: base) else { return nil }
        return date.addingTimeInterval(fraction)
    }
}
