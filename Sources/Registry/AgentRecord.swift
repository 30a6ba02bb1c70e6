#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What an agent publishes about itself under `<hecd-prefix>/agents/<agent-id>`, on its lease, for
/// `hecd status` and for its own next start.
public struct AgentRecord: Sendable, Hashable, Codable {
    public var agent: String
    public var hostIP: String
    public var version: String
    /// Unix seconds.
    public var startedAt: Double
    /// The lease the agent's keys hang on, so a restarted agent can clear what its predecessor left.
    public var lease: Int64
    public var apps: [String: AppStatus]

    /// Counts of one app on one host.
    public struct AppStatus: Sendable, Hashable, Codable {
        public var desired: Int
        public var running: Int
        public var registered: Int
        /// Unix seconds of the next attempt, when the app is backing off.
        public var backingOffUntil: Double?
        /// The registry prefix of the app's keys.
        public var prefix: String?
        /// Registered containers by the spec hash they run (`io.hecd.spec`): how the cluster's scheduler knows
        /// that a slot rolled to a new spec is served before it rolls the next one. Absent from older agents.
        public var registeredBySpec: [String: Int]?
        /// Containers Docker lists as running, those being stopped included: a rollout step is over only once
        /// the container it replaced is gone (the surge stays one for the whole cluster).
        public var runningIncludingStopping: Int?

        public init(
            desired: Int, running: Int, registered: Int, backingOffUntil: Double? = nil, prefix: String? = nil,
            registeredBySpec: [String: Int]? = nil, runningIncludingStopping: Int? = nil
        ) {
            self.desired = desired
            self.running = running
            self.registered = registered
            self.backingOffUntil = backingOffUntil
            self.prefix = prefix
            self.registeredBySpec = registeredBySpec
            self.runningIncludingStopping = runningIncludingStopping
        }
    }

    public init(agent: String, hostIP: String, version: String, startedAt: Double, lease: Int64, apps: [String: AppStatus]) {
        self.agent = agent
        self.hostIP = hostIP
        self.version = version
        self.startedAt = startedAt
        self.lease = lease
        self.apps = apps
    }

    /// The record's key under a hecd prefix such as `/hecd`.
    public static func key(prefix: String, agent: String) -> String {
        "\(prefix)/agents/\(agent)"
    }
}
