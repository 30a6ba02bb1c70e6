import Manifests
import Reconciler
import Registry

/// How an agent runs: which containers are its own, where the manifests are, how it paces itself.
public struct AgentConfiguration: Sendable {
    /// Labels every container of this agent; several agents can share one engine under different ids.
    public var agentID: String
    /// The directory of manifests, one app per YAML file.
    public var manifestsDirectory: String
    /// A full re-list and reconcile this often, whatever the events say.
    public var resyncInterval: Duration
    /// Delays for apps whose containers keep failing.
    public var backoff: BackoffPolicy
    /// How many Docker calls for creating containers run at once.
    public var parallelActions: Int
    /// Labels added to every container, e.g. to mark a test's containers.
    public var extraLabels: [String: String]
    /// The address announced for this host's containers; nil means the binding's own address, when the
    /// engine publishes on a specific one (never a guess).
    public var hostIP: String?
    /// Seconds between withdrawing a container's key and stopping it, unless its manifest says otherwise.
    public var defaultDrain: Double
    /// Leave the keys in the registry when the agent stops (they expire with the lease unless a new agent
    /// with the same id takes over in time).
    public var keepRegistered: Bool
    /// What manifests may do to this host (privileged, host namespaces, devices, capabilities, binds); a
    /// manifest that asks for more is refused like an invalid one. Strict by default.
    public var policy: ManifestPolicy
    /// Cluster mode (`--cluster`): nil for host-local manifests only.
    public var cluster: ClusterSettings?

    public init(
        agentID: String,
        manifestsDirectory: String,
        resyncInterval: Duration = .seconds(30),
        backoff: BackoffPolicy = BackoffPolicy(),
        parallelActions: Int = 8,
        extraLabels: [String: String] = [:],
        hostIP: String? = nil,
        defaultDrain: Double = 2,
        keepRegistered: Bool = false,
        policy: ManifestPolicy = ManifestPolicy(),
        cluster: ClusterSettings? = nil
    ) {
        self.cluster = cluster
        self.policy = policy
        self.agentID = agentID
        self.manifestsDirectory = manifestsDirectory
        self.resyncInterval = resyncInterval
        self.backoff = backoff
        self.parallelActions = parallelActions
        self.extraLabels = extraLabels
        self.hostIP = hostIP
        self.defaultDrain = defaultDrain
        self.keepRegistered = keepRegistered
    }

    /// The registry prefix of an app whose manifest names none.
    public static func defaultPrefix(app: String) -> String { Announcements.defaultPrefix(app: app) }
}
