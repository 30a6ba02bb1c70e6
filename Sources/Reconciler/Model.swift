#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Manifests

/// Docker's view of a container's lifecycle, as `GET /containers/json` reports it in `State`, and one state
/// of the agent's own: `stopping`, a running container the agent is deregistering and stopping (it still runs,
/// so it still counts against the surge of a rollout, but no longer as a replica).
public enum ContainerState: String, Sendable, Hashable {
    case created, running, restarting, paused, exited, dead, removing, stopping
}

/// A container that carries this agent's labels, as the runtime observed it.
public struct ObservedContainer: Sendable, Hashable {
    public var id: String
    /// Name without Docker's leading slash.
    public var name: String
    /// The `io.hecd.app` label.
    public var app: String
    /// The `io.hecd.spec` label: the `AppSpec.specHash` it was created from.
    public var specHash: String
    public var state: ContainerState
    public var createdAt: Date
    /// When it last started, if the runtime knows (from inspect).
    public var startedAt: Date?
    /// When it last stopped, if the runtime knows (from inspect).
    public var finishedAt: Date?
    /// Running and able to take traffic. The runtime decides: running (agent only), or port answering
    /// and registered (with a registry).
    public var ready: Bool

    public init(
        id: String, name: String, app: String, specHash: String, state: ContainerState,
        createdAt: Date, startedAt: Date? = nil, finishedAt: Date? = nil, ready: Bool
    ) {
        self.id = id
        self.name = name
        self.app = app
        self.specHash = specHash
        self.state = state
        self.createdAt = createdAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.ready = ready
    }
}

/// What the agent should be running, after manifests were loaded.
public struct DesiredState: Sendable {
    /// Apps with a valid manifest (or the last valid version of a manifest that is now invalid).
    public var apps: [AppSpec]
    /// Apps whose containers must be left exactly as they are (their manifest is broken and there is no
    /// earlier valid version to hold on to).
    public var untouchable: Set<String>
    /// When true, containers of apps that no manifest declares are left alone instead of retired
    /// (a broken manifest whose app name cannot be told might declare them).
    public var keepUndeclared: Bool
    /// App → how many running containers of an earlier spec it may keep (cluster slots the scheduler has not
    /// rolled to the current spec yet). Absent: none; every outdated container is replaced.
    public var outdatedAllowed: [String: Int]

    public init(
        apps: [AppSpec], untouchable: Set<String> = [], keepUndeclared: Bool = false, outdatedAllowed: [String: Int] = [:]
    ) {
        self.apps = apps
        self.untouchable = untouchable
        self.keepUndeclared = keepUndeclared
        self.outdatedAllowed = outdatedAllowed
    }
}

/// How long to wait before replacing the containers of an app that keeps failing.
public struct BackoffPolicy: Sendable, Hashable {
    /// Delay after the second consecutive failure (the first is replaced at once); doubles after each one.
    public var initial: Duration
    /// The longest delay.
    public var maximum: Duration
    /// A container that ran this long resets the app's failure count.
    public var resetAfter: Duration

    public init(initial: Duration = .seconds(10), maximum: Duration = .seconds(300), resetAfter: Duration = .seconds(600)) {
        self.initial = initial
        self.maximum = maximum
        self.resetAfter = resetAfter
    }
}

/// Why a live container is being taken out of service.
public enum RetireReason: String, Sendable, Hashable {
    /// More replicas than declared.
    case scaleDown = "scale-down"
    /// Created from an older version of the app's spec; replaced one at a time.
    case outdated
    /// No manifest declares its app any more.
    case undeclared
}

/// One step for the runtime to carry out.
public enum Action: Sendable, Hashable {
    /// Create a container for the app with all ports published, then start it.
    case create(AppSpec)
    /// Take a live container out of service: deregister it, wait the drain period, stop it, remove it.
    case retire(ObservedContainer, RetireReason)
    /// Remove a container that is not running (exited, dead, or created and never started).
    case remove(ObservedContainer)
}

/// The reconciler's answer for one pass.
public struct Plan: Sendable {
    public var actions: [Action]
    /// Apps whose replacements are held back, with the time they may be created again.
    public var backingOff: [String: Date]
    /// The earliest time a new pass would decide something different without any new observation
    /// (a backoff expiring), if there is one.
    public var wakeAt: Date?

    public init(actions: [Action] = [], backingOff: [String: Date] = [:], wakeAt: Date? = nil) {
        self.actions = actions
        self.backingOff = backingOff
        self.wakeAt = wakeAt
    }
}
