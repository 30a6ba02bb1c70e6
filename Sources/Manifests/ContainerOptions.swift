/// How a container runs, beyond its image, command and environment: storage, name resolution, process,
/// limits, privileges, network and logs. Field names follow docker-compose where compose has the field;
/// every value is already checked (see `ManifestValidator`), so the agent maps them to the Engine API as they are.
public struct ContainerOptions: Sendable, Hashable {
    /// `volumes`: bind mounts, named volumes and anonymous volumes, in manifest order.
    public var volumes: [VolumeMount] = []
    /// `tmpfs`: container path → mount options (`size=64m`), empty for none.
    public var tmpfs: [String: String] = [:]
    /// `dns`: name servers, as IP addresses.
    public var dns: [String] = []
    /// `dns_search`: search domains.
    public var dnsSearch: [String] = []
    /// `extra_hosts`: `host:ip` lines for /etc/hosts.
    public var extraHosts: [String] = []
    /// `user`: `name`, `uid` or `uid:gid`.
    public var user: String?
    /// `working_dir`: an absolute path.
    public var workingDir: String?
    /// `entrypoint`: overrides the image's entrypoint.
    public var entrypoint: [String]?
    /// `stop_signal`: `SIGINT`, `SIGQUIT`, … (Docker's default is SIGTERM).
    public var stopSignal: String?
    /// `stdin_open`: keep stdin open (`docker run -i`).
    public var stdinOpen = false
    /// `tty`: allocate a terminal (`docker run -t`).
    public var tty = false
    /// `memory`: the hard limit in bytes.
    public var memoryBytes: Int64?
    /// `memory_reservation`: the soft limit in bytes.
    public var memoryReservationBytes: Int64?
    /// `cpus`: in billionths of a CPU (`1.5` → 1,500,000,000), as Docker's `NanoCpus`.
    public var nanoCPUs: Int64?
    /// `pids_limit`: the most processes; -1 for unlimited.
    public var pidsLimit: Int64?
    /// `ulimits`, sorted by name.
    public var ulimits: [Ulimit] = []
    /// `cap_add` and `cap_drop`: capability names without `CAP_`, upper case (`NET_ADMIN`), or `ALL`.
    public var capAdd: [String] = []
    public var capDrop: [String] = []
    /// `read_only`: mount the root filesystem read-only.
    public var readOnly = false
    /// `privileged`: every capability and every device. Refused by the agent's policy unless allowed.
    public var privileged = false
    /// `network`: a user-defined network (`backend`), or `host`; nil for Docker's default bridge.
    public var network: String?
    /// `pid` and `ipc`: `host` shares the host's namespace (refused unless allowed).
    public var pid: String?
    public var ipc: String?
    /// `devices`: host devices given to the container.
    public var devices: [DeviceMapping] = []
    /// `log`: the logging driver and its options; the default rotates json-file logs.
    public var log: LogSettings = .default

    public init() {}

    /// Whether every field has its default: such a spec hashes exactly as before these fields existed.
    var isDefault: Bool { self == ContainerOptions() }

    /// Every field, one `name=value` line each, in a fixed order (dictionaries sorted): the spec hash's input.
    var canonicalText: String {
        func list(_ items: [String]) -> String { items.map(\.debugDescription).joined(separator: ",") }
        func map(_ items: [String: String]) -> String {
            items.keys.sorted().map { "\($0.debugDescription)=\((items[$0] ?? "").debugDescription)" }.joined(separator: ",")
        }
        func optional<Value>(_ value: Value?) -> String { value.map { "\($0)" } ?? "-" }
        let lines = [
            "volumes=" + list(volumes.map { $0.bind ?? "anonymous:" + $0.target }),
            "tmpfs=" + map(tmpfs), "dns=" + list(dns), "dns_search=" + list(dnsSearch),
            "extra_hosts=" + list(extraHosts), "user=" + optional(user?.debugDescription),
            "working_dir=" + optional(workingDir?.debugDescription),
            "entrypoint=" + optional(entrypoint.map(list)), "stop_signal=" + optional(stopSignal),
            "stdin_open=\(stdinOpen)", "tty=\(tty)", "memory=" + optional(memoryBytes),
            "memory_reservation=" + optional(memoryReservationBytes), "cpus=" + optional(nanoCPUs),
            "pids_limit=" + optional(pidsLimit), "ulimits=" + list(ulimits.map { "\($0.name)=\($0.soft):\($0.hard)" }),
            "cap_add=" + list(capAdd), "cap_drop=" + list(capDrop), "read_only=\(readOnly)",
            "privileged=\(privileged)", "network=" + optional(network?.debugDescription),
            "pid=" + optional(pid), "ipc=" + optional(ipc),
            "devices=" + list(devices.map { "\($0.pathOnHost):\($0.pathInContainer):\($0.permissions)" }),
            "log=" + log.driver.debugDescription + "|" + map(log.options),
        ]
        return lines.map { $0 + "\n" }.joined()
    }
}

/// One entry of `volumes`: `/host:/ctr[:opts]` (a bind mount), `name:/ctr[:opts]` (a named volume) or
/// `/ctr` (an anonymous volume).
public struct VolumeMount: Sendable, Hashable {
    public enum Source: Sendable, Hashable {
        /// An absolute host path, normalised (`/data/./x/` → `/data/x`).
        case bind(String)
        case named(String)
        case anonymous
    }

    public var source: Source
    public var target: String
    /// `ro`, `rw`, `z`, `Z`, `nocopy` and propagation modes, as written.
    public var options: [String]

    public init(source: Source, target: String, options: [String] = []) {
        self.source = source
        self.target = target
        self.options = options
    }

    public var readOnly: Bool { options.contains("ro") }

    /// The `-v` form Docker keeps in `HostConfig.Binds` (nil for an anonymous volume, which goes in `Volumes`).
    public var bind: String? {
        let host: String
        switch source {
        case .bind(let path): host = path
        case .named(let name): host = name
        case .anonymous: return nil
        }
        return ([host, target] + (options.isEmpty ? [] : [options.joined(separator: ",")])).joined(separator: ":")
    }
}

/// One of `ulimits`: `nofile: {soft: 1024, hard: 4096}` or `nproc: 512` (soft = hard).
public struct Ulimit: Sendable, Hashable {
    public var name: String
    public var soft: Int64
    public var hard: Int64

    public init(name: String, soft: Int64, hard: Int64) {
        self.name = name
        self.soft = soft
        self.hard = hard
    }
}

/// One of `devices`: `/dev/fuse` or `/dev/sda:/dev/xvda:rwm`.
public struct DeviceMapping: Sendable, Hashable {
    public var pathOnHost: String
    public var pathInContainer: String
    public var permissions: String

    public init(pathOnHost: String, pathInContainer: String, permissions: String = "rwm") {
        self.pathOnHost = pathOnHost
        self.pathInContainer = pathInContainer
        self.permissions = permissions
    }
}

/// `log: {driver: json-file, options: {max-size: 10m}}`.
public struct LogSettings: Sendable, Hashable {
    public var driver: String
    public var options: [String: String]

    public init(driver: String, options: [String: String] = [:]) {
        self.driver = driver
        self.options = options
    }

    /// json-file, 10 MB a file, 3 files: a chatty app cannot fill the host's disk.
    public static let `default` = LogSettings(driver: "json-file", options: ["max-size": "10m", "max-file": "3"])
}

/// A container port the app publishes, optionally named (`ports: {http: 80}`).
public struct AppPort: Sendable, Hashable {
    public var name: String?
    public var number: Int

    public init(name: String? = nil, number: Int) {
        self.name = name
        self.number = number
    }
}

/// One key per container under `prefix`, pointing at the host port of `port`.
public struct RegisteredPort: Sendable, Hashable {
    /// The container port; nil means the app's first port (or the image's only exposed one).
    public var port: Int?
    /// nil means the agent's default for the app (`/app/<name>`).
    public var prefix: String?

    public init(port: Int? = nil, prefix: String? = nil) {
        self.port = port
        self.prefix = prefix
    }
}
