import Manifests

/// A live host as its agent announces it under `/hecd/hosts/<agent-id>`.
public struct HostInfo: Sendable, Hashable {
    /// The agent id (`--agent-id`); the `<host>` of `/hecd/assign/<host>/…`.
    public var id: String
    /// `--host-labels zone=a,disk=ssd`.
    public var labels: [String: String]
    /// False once `hecd drain HOST` has finished: the host takes no slots, and slots on it move at once.
    public var schedulable: Bool
    public var cpus: Int
    public var memoryBytes: Int64

    public init(id: String, labels: [String: String] = [:], schedulable: Bool = true, cpus: Int = 1, memoryBytes: Int64 = 0) {
        self.id = id
        self.labels = labels
        self.schedulable = schedulable
        self.cpus = cpus
        self.memoryBytes = memoryBytes
    }
}

extension PlacementConstraint {
    /// Whether `host` may run the app. `!=` admits a host without the label; `==` does not.
    public func admits(_ host: HostInfo) -> Bool { admits(labels: host.labels) }
}

/// What the scheduler needs to know of one cluster app (from `/hecd/apps/<app>`).
public struct AppPlacement: Sendable, Hashable {
    public var name: String
    /// The cluster-wide count; negative counts as 0.
    public var replicas: Int
    /// Written as the value of every slot key; a change rolls the app's containers.
    public var specHash: String
    /// `placement.max_per_host`; nil is no cap.
    public var maxPerHost: Int?
    /// `placement.constraints`: every one must admit a host.
    public var constraints: [PlacementConstraint]
    /// `placement.spread`: a host label whose values share the replicas evenly before hosts do. Hosts without
    /// the label form one more group, the value "".
    public var spreadLabel: String?
    /// Hosts whose agent's policy (`--allow-*`) refuses the app: they would never run its containers.
    public var refusingHosts: Set<String>

    public init(
        name: String, replicas: Int, specHash: String, maxPerHost: Int? = nil,
        constraints: [PlacementConstraint] = [], spreadLabel: String? = nil, refusingHosts: Set<String> = []
    ) {
        self.name = name
        self.replicas = replicas
        self.specHash = specHash
        self.maxPerHost = maxPerHost
        self.constraints = constraints
        self.spreadLabel = spreadLabel
        self.refusingHosts = refusingHosts
    }

    /// Whether the constraints and the host's policy admit `host` (its schedulability aside).
    public func admits(_ host: HostInfo) -> Bool {
        !refusingHosts.contains(host.id) && constraints.allSatisfy { $0.admits(host) }
    }
}

/// One key `/hecd/assign/<host>/<app>/<slot>` = spec hash.
public struct SlotAssignment: Sendable, Hashable, CustomStringConvertible {
    public var app: String
    public var slot: Int
    public var host: String
    public var specHash: String

    public init(app: String, slot: Int, host: String, specHash: String) {
        self.app = app
        self.slot = slot
        self.host = host
        self.specHash = specHash
    }

    /// The etcd key without the `/hecd/assign/` prefix: what identifies an assignment (the hash is its value).
    public var key: SlotKey { SlotKey(host: host, app: app, slot: slot) }

    public var description: String { "\(host)/\(app)/\(slot)=\(specHash)" }
}

/// The identity of an assignment: `<host>/<app>/<slot>`.
public struct SlotKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var host: String
    public var app: String
    public var slot: Int

    public init(host: String, app: String, slot: Int) {
        self.host = host
        self.app = app
        self.slot = slot
    }

    public static func < (lhs: SlotKey, rhs: SlotKey) -> Bool {
        (lhs.app, lhs.slot, lhs.host) < (rhs.app, rhs.slot, rhs.host)
    }

    public var description: String { "\(host)/\(app)/\(slot)" }
}

/// Everything one placement decision reads.
public struct SchedulerInput: Sendable {
    /// The cluster apps. A name given twice counts once (the first).
    public var apps: [AppPlacement]
    /// Live hosts only (their `/hecd/hosts/` key exists). An id given twice counts once (the first).
    public var hosts: [HostInfo]
    /// What `/hecd/assign` holds now; it may name dead hosts, removed apps, and one slot on two hosts.
    public var current: [SlotAssignment]
    /// App → hosts to avoid for now (they kept failing to start it): used only when no other host can take a slot.
    public var passedOver: [String: Set<String>]
    /// Hosts being drained (`hecd drain HOST` in progress): they take no new slots, but their slots stay until
    /// `Scheduler.moveOne` moves them start-first. Mark the host unschedulable once it holds none.
    public var draining: Set<String>
    /// The `retire` half of start-first moves in flight (`Scheduler.moveOne`), matched by host, app and slot:
    /// left exactly as they are (not counted, not trimmed, not rolled) until the caller deletes them once the
    /// move's new slot is registered. One on a dead host is deleted.
    public var retiring: Set<SlotKey>
    /// Hosts whose key went less than `--failover-delay` ago: their slots stay exactly as they are (counted, not
    /// moved, not rolled; a scale-down removes them first) and they take no new ones. They need not be in `hosts`
    /// (if they are, with their last labels, the spread counts their slots in their label's group).
    public var heldBack: Set<String>
    /// Apps with a rollout step in flight: a slot carries the app's spec hash but its host does not serve it
    /// yet. Their slots of an earlier hash keep it for now; for other apps one such slot takes the new hash.
    public var rolling: Set<String>

    public init(
        apps: [AppPlacement], hosts: [HostInfo], current: [SlotAssignment] = [],
        passedOver: [String: Set<String>] = [:], draining: Set<String> = [], retiring: Set<SlotKey> = [],
        heldBack: Set<String> = [], rolling: Set<String> = []
    ) {
        self.apps = apps
        self.hosts = hosts
        self.current = current
        self.passedOver = passedOver
        self.draining = draining
        self.retiring = retiring
        self.heldBack = heldBack
        self.rolling = rolling
    }

    /// Whether new slots may go to `host` as far as draining and failover delay go (eligibility aside).
    func takesNewSlots(_ host: String) -> Bool {
        !draining.contains(host) && !heldBack.contains(host)
    }
}

/// The desired `/hecd/assign` and the writes that get there from `SchedulerInput.current`.
public struct SchedulerDecision: Sendable, Equatable {
    /// The complete desired set of slots, sorted by app, then slot, then host.
    public var assignments: [SlotAssignment]
    /// App → why some replicas have no host, e.g. "2 of 6 replicas: no live host matches zone == c".
    public var unplaceable: [String: String]
    /// Keys to write: new ones and ones whose spec hash changes. Sorted like `assignments`.
    public var puts: [SlotAssignment]
    /// Keys of `current` to delete (with the value they held). Sorted by app, slot, host.
    public var deletes: [SlotAssignment]

    public init(
        assignments: [SlotAssignment], unplaceable: [String: String], puts: [SlotAssignment], deletes: [SlotAssignment]
    ) {
        self.assignments = assignments
        self.unplaceable = unplaceable
        self.puts = puts
        self.deletes = deletes
    }

    /// Whether the decision writes nothing.
    public var isSettled: Bool { puts.isEmpty && deletes.isEmpty }
}
