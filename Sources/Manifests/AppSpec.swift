import Primitives
/// One app as a manifest declares it: what to run and how many replicas to keep running.
public struct AppSpec: Sendable, Hashable {
    /// The app's name, `[a-z0-9][a-z0-9_.-]*`; container names and registry keys derive from it.
    public var name: String
    /// Image reference, e.g. `demo-web:1`. A reference without a tag means `latest`.
    public var image: String
    /// How many containers to keep running.
    public var replicas: Int
    /// The container port to publish and register; `nil` means the image's only exposed port.
    public var port: Int?
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
    /// An optional HTTP check that decides when a container is ready.
    public var health: HealthCheck?

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
        health: HealthCheck? = nil
    ) {
        self.name = name
        self.image = image
        self.replicas = replicas
        self.port = port
        self.command = command
        self.env = env
        self.labels = labels
        self.stopTimeout = stopTimeout
        self.register = register
        self.health = health
    }

    public static let defaultStopTimeout = 10

    /// A short, stable digest of everything that shapes a container (image, command, env, labels, port,
    /// stop timeout). Containers whose digest differs from their app's are replaced one at a time.
    /// `replicas`, `register` and `health` are left out: changing them never recreates containers.
    public var specHash: String {
        var text = "image=\(image)\nport=\(port.map(String.init) ?? "-")\nstop=\(stopTimeout)\n"
        if let command { text += "command=" + command.map { $0.debugDescription }.joined(separator: ",") + "\n" }
        for key in env.keys.sorted() { text += "env.\(key)=\(env[key] ?? "")\n" }
        for key in labels.keys.sorted() { text += "label.\(key)=\(labels[key] ?? "")\n" }
        return StableHash.hex(of: text)
    }
}

/// Where an app's containers are announced: `<prefix>/<container-name>`.
public struct Registration: Sendable, Hashable {
    /// Key prefix without a trailing slash; `nil` means the agent's default for the app.
    public var prefix: String?
    /// Seconds between removing a key and stopping its container, so no new request reaches it.
    public var drainSeconds: Double?

    public init(prefix: String? = nil, drainSeconds: Double? = nil) {
        self.prefix = prefix
        self.drainSeconds = drainSeconds
    }
}

/// A readiness check: the container is ready when `GET <http>` answers 2xx or 3xx.
public struct HealthCheck: Sendable, Hashable {
    /// Absolute path, e.g. `/healthz`.
    public var http: String

    public init(http: String) {
        self.http = http
    }
}
