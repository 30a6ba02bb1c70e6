#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

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

    /// Docker's health status when the container has a HEALTHCHECK: `starting`, `healthy` or `unhealthy`
    /// (read from `Status`, e.g. "Up 5 seconds (healthy)"); nil without one.
    public var health: String? {
        guard status.hasSuffix(")"), let open = status.lastIndex(of: "(") else { return nil }
        let inside = status[status.index(after: open)..<status.index(before: status.endIndex)]
        switch inside {
        case "healthy", "unhealthy": return String(inside)
        case "health: starting": return "starting"
        default: return nil
        }
    }

    public init(
        id: String, names: [String], image: String, state: String, status: String = "",
        labels: [String: String] = [:], created: Int = 0, ports: [PublishedPort] = []
    ) {
        self.id = id
        self.names = names
        self.image = image
        self.state = state
        self.status = status
        self.labels = labels
        self.created = created
        self.ports = ports
    }

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

    public init(ip: String?, privatePort: Int, publicPort: Int?, type: String = "tcp") {
        self.ip = ip
        self.privatePort = privatePort
        self.publicPort = publicPort
        self.type = type
    }

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
    /// Container ports, e.g. 80: published on a random host port (`-P`), with every port the image exposes.
    public var exposedPorts: [Int]
    public var hostname: String?
    public var stopTimeout: Int?
    public var entrypoint: [String]?
    public var user: String?
    public var workingDir: String?
    public var stopSignal: String?
    /// `docker run -i` and `-t`.
    public var openStdin = false
    public var tty = false
    /// Anonymous volumes (`-v /path`): `Config.Volumes`.
    public var anonymousVolumes: [String] = []
    /// Everything that goes in `HostConfig`.
    public var host = HostConfiguration()

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

    private enum CodingKeys: String, CodingKey {
        case image = "Image", command = "Cmd", env = "Env", labels = "Labels", exposedPorts = "ExposedPorts"
        case hostname = "Hostname", stopTimeout = "StopTimeout", hostConfig = "HostConfig"
        case entrypoint = "Entrypoint", user = "User", workingDir = "WorkingDir", stopSignal = "StopSignal"
        case openStdin = "OpenStdin", tty = "Tty", volumes = "Volumes"
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
        try container.encodeIfPresent(entrypoint, forKey: .entrypoint)
        try container.encodeIfPresent(user, forKey: .user)
        try container.encodeIfPresent(workingDir, forKey: .workingDir)
        try container.encodeIfPresent(stopSignal, forKey: .stopSignal)
        if openStdin { try container.encode(true, forKey: .openStdin) }
        if tty { try container.encode(true, forKey: .tty) }
        if !anonymousVolumes.isEmpty {
            try container.encode(Dictionary(uniqueKeysWithValues: Set(anonymousVolumes).map { ($0, Empty()) }), forKey: .volumes)
        }
        try container.encode(host, forKey: .hostConfig)
    }
}

/// `HostConfig` of `POST /containers/create`. Every port is published on a random host port (`-P`) and the
/// restart policy is `no`: restarts are the agent's job, not the engine's.
public struct HostConfiguration: Sendable, Hashable, Encodable {
    /// `-v` entries: `/host:/ctr[:opts]` and `name:/ctr[:opts]`.
    public var binds: [String] = []
    /// Container path → mount options.
    public var tmpfs: [String: String] = [:]
    public var dns: [String] = []
    public var dnsSearch: [String] = []
    /// `host:ip`.
    public var extraHosts: [String] = []
    /// Bytes.
    public var memory: Int64?
    public var memoryReservation: Int64?
    public var nanoCPUs: Int64?
    public var pidsLimit: Int64?
    public var ulimits: [Ulimit] = []
    public var capAdd: [String] = []
    public var capDrop: [String] = []
    public var readonlyRootfs = false
    public var privileged = false
    /// A network name, `host`, or nil for the default bridge.
    public var networkMode: String?
    public var pidMode: String?
    public var ipcMode: String?
    public var devices: [Device] = []
    public var logConfig: LogConfig?

    public init() {}

    public struct Ulimit: Sendable, Hashable, Encodable {
        public var name: String
        public var soft: Int64
        public var hard: Int64

        public init(name: String, soft: Int64, hard: Int64) {
            self.name = name
            self.soft = soft
            self.hard = hard
        }

        enum CodingKeys: String, CodingKey { case name = "Name", soft = "Soft", hard = "Hard" }
    }

    public struct Device: Sendable, Hashable, Encodable {
        public var pathOnHost: String
        public var pathInContainer: String
        public var cgroupPermissions: String

        public init(pathOnHost: String, pathInContainer: String, cgroupPermissions: String) {
            self.pathOnHost = pathOnHost
            self.pathInContainer = pathInContainer
            self.cgroupPermissions = cgroupPermissions
        }

        enum CodingKeys: String, CodingKey {
            case pathOnHost = "PathOnHost", pathInContainer = "PathInContainer", cgroupPermissions = "CgroupPermissions"
        }
    }

    public struct LogConfig: Sendable, Hashable, Encodable {
        public var type: String
        public var config: [String: String]

        public init(type: String, config: [String: String]) {
            self.type = type
            self.config = config
        }

        enum CodingKeys: String, CodingKey { case type = "Type", config = "Config" }
    }

    private struct RestartPolicy: Encodable { let Name: String }

    private enum CodingKeys: String, CodingKey {
        case publishAllPorts = "PublishAllPorts", restartPolicy = "RestartPolicy", binds = "Binds", tmpfs = "Tmpfs"
        case dns = "Dns", dnsSearch = "DnsSearch", extraHosts = "ExtraHosts", memory = "Memory"
        case memoryReservation = "MemoryReservation", nanoCPUs = "NanoCpus", pidsLimit = "PidsLimit"
        case ulimits = "Ulimits", capAdd = "CapAdd", capDrop = "CapDrop", readonlyRootfs = "ReadonlyRootfs"
        case privileged = "Privileged", networkMode = "NetworkMode", pidMode = "PidMode", ipcMode = "IpcMode"
        case devices = "Devices", logConfig = "LogConfig"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(true, forKey: .publishAllPorts)
        try container.encode(RestartPolicy(Name: "no"), forKey: .restartPolicy)
        if !binds.isEmpty { try container.encode(binds, forKey: .binds) }
        if !tmpfs.isEmpty { try container.encode(tmpfs, forKey: .tmpfs) }
        if !dns.isEmpty { try container.encode(dns, forKey: .dns) }
        if !dnsSearch.isEmpty { try container.encode(dnsSearch, forKey: .dnsSearch) }
        if !extraHosts.isEmpty { try container.encode(extraHosts, forKey: .extraHosts) }
        try container.encodeIfPresent(memory, forKey: .memory)
        try container.encodeIfPresent(memoryReservation, forKey: .memoryReservation)
        try container.encodeIfPresent(nanoCPUs, forKey: .nanoCPUs)
        try container.encodeIfPresent(pidsLimit, forKey: .pidsLimit)
        if !ulimits.isEmpty { try container.encode(ulimits, forKey: .ulimits) }
        if !capAdd.isEmpty { try container.encode(capAdd, forKey: .capAdd) }
        if !capDrop.isEmpty { try container.encode(capDrop, forKey: .capDrop) }
        if readonlyRootfs { try container.encode(true, forKey: .readonlyRootfs) }
        if privileged { try container.encode(true, forKey: .privileged) }
        try container.encodeIfPresent(networkMode, forKey: .networkMode)
        try container.encodeIfPresent(pidMode, forKey: .pidMode)
        try container.encodeIfPresent(ipcMode, forKey: .ipcMode)
        if !devices.isEmpty { try container.encode(devices, forKey: .devices) }
        try container.encodeIfPresent(logConfig, forKey: .logConfig)
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
        /// `starting`, `healthy` or `unhealthy` when the container has a HEALTHCHECK.
        public let health: String?

        public init(
            status: String, running: Bool, exitCode: Int = 0, startedAt: Date? = nil, finishedAt: Date? = nil,
            health: String? = nil
        ) {
            self.status = status
            self.running = running
            self.exitCode = exitCode
            self.startedAt = startedAt
            self.finishedAt = finishedAt
            self.health = health
        }

        enum CodingKeys: String, CodingKey {
            case status = "Status", running = "Running", exitCode = "ExitCode"
            case startedAt = "StartedAt", finishedAt = "FinishedAt", health = "Health"
        }
        private struct Health: Decodable { let Status: String? }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            status = try container.decodeIfPresent(String.self, forKey: .status) ?? ""
            running = try container.decodeIfPresent(Bool.self, forKey: .running) ?? false
            exitCode = try container.decodeIfPresent(Int.self, forKey: .exitCode) ?? 0
            startedAt = DockerTime.parse(try container.decodeIfPresent(String.self, forKey: .startedAt))
            finishedAt = DockerTime.parse(try container.decodeIfPresent(String.self, forKey: .finishedAt))
            health = (try? container.decodeIfPresent(Health.self, forKey: .health))?.Status
        }
    }

    public struct HostBinding: Sendable, Hashable, Decodable {
        public let hostIP: String
        public let hostPort: Int?

        public init(hostIP: String, hostPort: Int?) {
            self.hostIP = hostIP
            self.hostPort = hostPort
        }

        enum CodingKeys: String, CodingKey { case hostIP = "HostIp", hostPort = "HostPort" }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            hostIP = try container.decodeIfPresent(String.self, forKey: .hostIP) ?? ""
            hostPort = (try container.decodeIfPresent(String.self, forKey: .hostPort)).flatMap { Int($0) }
        }
    }

    public init(id: String, name: String, state: State, labels: [String: String] = [:], ports: [String: [HostBinding]] = [:]) {
        self.id = id
        self.name = name
        self.state = state
        self.labels = labels
        self.ports = ports
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
///
/// Parsed by hand rather than with `ISO8601DateFormatter`: on Linux that class is backed by ICU, and
/// the first one created pulls about 4 MB of ICU code and calendar data into the agent's memory.
enum DockerTime {
    static func parse(_ text: String?) -> Date? {
        guard let text, !text.hasPrefix("0001-") else { return nil }
        var scanner = TimeScanner(text)
        guard let year = scanner.digits(4), scanner.skip("-"), let month = scanner.digits(2), scanner.skip("-"),
            let day = scanner.digits(2), scanner.skip("T") || scanner.skip("t"),
            let hour = scanner.digits(2), scanner.skip(":"), let minute = scanner.digits(2), scanner.skip(":"),
            let second = scanner.digits(2),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second <= 60
        else { return nil }
        let fraction = scanner.skip(".") ? scanner.fraction() : 0
        let offsetSeconds: Int
        if scanner.skip("Z") || scanner.skip("z") {
            offsetSeconds = 0
        } else {
            let sign = scanner.skip("+") ? 1 : scanner.skip("-") ? -1 : 0
            guard sign != 0, let offsetHours = scanner.digits(2), scanner.skip(":"),
                let offsetMinutes = scanner.digits(2)
            else { return nil }
            offsetSeconds = sign * (offsetHours * 3600 + offsetMinutes * 60)
        }
        guard scanner.isAtEnd else { return nil }
        let days = daysSinceEpoch(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        return Date(timeIntervalSince1970: TimeInterval(seconds) + fraction)
    }

    /// Days from 1970-01-01 to a date of the proleptic Gregorian calendar (Howard Hinnant's
    /// `days_from_civil`).
    static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * ((month + 9) % 12) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}

/// Reads a timestamp's ASCII fields front to back.
private struct TimeScanner {
    private let bytes: [UInt8]
    private var index = 0

    init(_ text: String) { bytes = Array(text.utf8) }

    var isAtEnd: Bool { index == bytes.count }

    /// Consumes `character` if it comes next.
    mutating func skip(_ character: Unicode.Scalar) -> Bool {
        guard index < bytes.count, bytes[index] == UInt8(ascii: character) else { return false }
        index += 1
        return true
    }

    /// Consumes exactly `count` decimal digits and returns their value.
    mutating func digits(_ count: Int) -> Int? {
        guard index + count <= bytes.count else { return nil }
        var value = 0
        for byte in bytes[index..<index + count] {
            guard let digit = Self.digit(byte) else { return nil }
            value = value * 10 + digit
        }
        index += count
        return value
    }

    /// Consumes the digits after a decimal point and returns them as a fraction of a second (to the
    /// nanosecond; further digits are skipped).
    mutating func fraction() -> Double {
        var nanoseconds = 0
        var scale = 100_000_000
        while index < bytes.count, let digit = Self.digit(bytes[index]) {
            nanoseconds += digit * scale
            scale /= 10
            index += 1
        }
        return Double(nanoseconds) / 1e9
    }

    private static func digit(_ byte: UInt8) -> Int? {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) ? Int(byte - UInt8(ascii: "0")) : nil
    }
}
