import Primitives
/// One app as a manifest declares it: what to run and how many replicas to keep running.
public struct AppSpec: Sendable, Hashable {
    /// The app's name, `[a-z0-9][a-z0-9_.-]*`; container names and registry keys derive from it.
    public var name: String
    /// Image reference, e.g. `demo-web:1`. A reference without a tag means `latest`.
    public var image: String
    /// How many containers to keep running.
    public var replicas: Int
    /// The container ports to publish (every port the image exposes is published too); the first one is
    /// registered unless `register` lists others. Empty means the image's only exposed port.
    public var ports: [AppPort]
    /// Overrides the image's command when set.
    public var command: [String]?
    /// Environment variables given to every container.
    public var env: [String: String]
    /// Extra container labels (the agent's own `io.hecd.*` labels are added to these).
    public var labels: [String: String]
    /// Seconds Docker waits after SIGTERM before it kills a container.
    public var stopTimeout: Int
    /// Where the registry announces the app's containers.
    public var register: Registration
    /// An optional HTTP or TCP check that decides when a container is ready.
    public var health: HealthCheck?
    /// Storage, name resolution, process, limits, privileges, network and logs.
    public var options: ContainerOptions
    /// Cluster mode only: where the replicas may run.
    public var placement: Placement

    public init(
        name: String,
        image: String,
        replicas: Int,
        port: Int? = nil,
        command: [String]? = nil,
        env: [String: String] = [:],
        labels: [String: String] = [:],
        stopTimeout: Int = AppSpec.defaultStopTimeout,
        register: Registration = Registration(),
        health: HealthCheck? = nil,
        ports: [AppPort] = [],
        options: ContainerOptions = ContainerOptions(),
        placement: Placement = Placement()
    ) {
        self.placement = placement
        self.name = name
        self.image = image
        self.replicas = replicas
        self.ports = ports.isEmpty ? port.map { [AppPort(number: $0)] } ?? [] : ports
        self.options = options
        self.command = command
        self.env = env
        self.labels = labels
        self.stopTimeout = stopTimeout
        self.register = register
        self.health = health
    }

    public static let defaultStopTimeout = 10

    /// The first declared port: the one registered by default.
    public var port: Int? {
        get { ports.first?.number }
        set { ports = newValue.map { [AppPort(number: $0)] } ?? [] }
    }

    /// A short, stable digest of everything that shapes a container (image, command, env, labels, ports,
    /// stop timeout and every container option). Containers whose digest differs from their app's are replaced
    /// one at a time. `replicas`, `register` and `health` are left out: changing them never recreates containers.
    /// A spec that sets none of the newer fields hashes as it did before they existed, so an upgrade of hecd
    /// replaces nothing.
    public var specHash: String {
        var text = "image=\(image)\nport=\(port.map(String.init) ?? "-")\nstop=\(stopTimeout)\n"
        if let command { text += "command=" + command.map { $0.debugDescription }.joined(separator: ",") + "\n" }
        for key in env.keys.sorted() { text += "env.\(key)=\(env[key] ?? "")\n" }
        for key in labels.keys.sorted() { text += "label.\(key)=\(labels[key] ?? "")\n" }
        if ports.count > 1 { text += "ports=" + ports.map { String($0.number) }.joined(separator: ",") + "\n" }
        if !options.isDefault { text += options.canonicalText }
        return StableHash.hex(of: text)
    }
}

/// Where an app's containers are announced: `<prefix>/<container-name>`, one key per registered port.
public struct Registration: Sendable, Hashable {
    /// The ports to register, each under its own prefix; never empty (the default registers the first port
    /// under the agent's default prefix).
    public var ports: [RegisteredPort]
    /// Seconds between removing a key and stopping its container, so no new request reaches it.
    public var drainSeconds: Double?

    public init(prefix: String? = nil, drainSeconds: Double? = nil) {
        self.ports = [RegisteredPort(prefix: prefix)]
        self.drainSeconds = drainSeconds
    }

    public init(ports: [RegisteredPort], drainSeconds: Double? = nil) {
        self.ports = ports.isEmpty ? [RegisteredPort()] : ports
        self.drainSeconds = drainSeconds
    }

    /// The prefix of the first registered port: key prefix without a trailing slash; `nil` means the agent's
    /// default for the app.
    public var prefix: String? {
        get { ports.first?.prefix }
        set {
            if ports.isEmpty { ports = [RegisteredPort(prefix: newValue)] } else { ports[0].prefix = newValue }
        }
    }
}

/// A readiness check: the container is ready when `GET <http>` answers 2xx or 3xx, or when a TCP connection
/// to `tcp` opens. Without one, a connection to the registered port decides, or Docker's own health status
/// when the image has a HEALTHCHECK.
public struct HealthCheck: Sendable, Hashable {
    /// Absolute path, e.g. `/healthz`, asked of the first registered port.
    public var http: String?
    /// A container port that must accept connections.
    public var tcpPort: Int?
    /// Between checks of a ready container.
    public var interval: Duration?
    /// The longest a check may take.
    public var timeout: Duration?
    /// Failed checks in a row before a ready container is withdrawn.
    public var retries: Int?
    /// How long a new container may take to become ready before the agent reports it.
    public var startPeriod: Duration?

    public init(
        http: String? = nil, tcpPort: Int? = nil, interval: Duration? = nil, timeout: Duration? = nil,
        retries: Int? = nil, startPeriod: Duration? = nil
    ) {
        self.http = http
        self.tcpPort = tcpPort
        self.interval = interval
        self.timeout = timeout
        self.retries = retries
        self.startPeriod = startPeriod
    }
}
