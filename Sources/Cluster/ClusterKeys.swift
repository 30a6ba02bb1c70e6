/// Where cluster mode keeps its state in etcd, under one root (`/hecd`):
///
/// - `apps/<app>`: the app's manifest, as YAML text (`hecd apply`);
/// - `hosts/<agent-id>`: a live host (`HostRecord` as JSON), on its agent's lease;
/// - `leader/<agent-id>`: a scheduler candidate, on its agent's lease; the lowest create revision leads;
/// - `assign/<host>/<app>/<slot>`: one replica placed on a host, the value is the app's spec hash;
/// - `drained/<host>`: a host that takes no slots (`hecd drain`);
/// - `moving/<host>/<app>/<slot>`: a start-first move in flight: that slot retires once the slot named in the value
///   (`<host>/<slot>`) is registered.
public struct ClusterKeys: Sendable, Hashable {
    public let root: String

    public init(root: String = "/hecd") {
        var root = root
        while root.hasSuffix("/") { root.removeLast() }
        self.root = root
    }

    public var apps: String { root + "/apps/" }
    public var hosts: String { root + "/hosts/" }
    public var leader: String { root + "/leader/" }
    public var assign: String { root + "/assign/" }
    public var drained: String { root + "/drained/" }
    public var agents: String { root + "/agents/" }
    public var moving: String { root + "/moving/" }
    /// `rebalance/<app>`: `hecd rebalance` asks the leader to even the app out, one start-first move at a time.
    public var rebalance: String { root + "/rebalance/" }
    public func rebalance(_ app: String) -> String { rebalance + app }

    public func moving(host: String, app: String, slot: Int) -> String { moving + "\(host)/\(app)/\(slot)" }

    /// `(host, app, slot)` of a key under `moving/`.
    public func move(of key: String) -> (host: String, app: String, slot: Int)? {
        guard key.hasPrefix(moving) else { return nil }
        return slot(of: assign + key.dropFirst(moving.count))
    }

    public func app(_ name: String) -> String { apps + name }
    public func host(_ id: String) -> String { hosts + id }
    public func leader(_ id: String) -> String { leader + id }
    public func assignments(of host: String) -> String { assign + host + "/" }
    public func slot(host: String, app: String, slot: Int) -> String { assign + "\(host)/\(app)/\(slot)" }
    public func drained(_ host: String) -> String { drained + host }

    /// The last path element of a key under `prefix` (an app, host or candidate id), if it is one.
    public func name(of key: String, under prefix: String) -> String? {
        guard key.hasPrefix(prefix) else { return nil }
        let rest = key.dropFirst(prefix.count)
        guard !rest.isEmpty, !rest.contains("/") else { return nil }
        return String(rest)
    }

    /// `(host, app, slot)` of a key under `assign/`.
    public func slot(of key: String) -> (host: String, app: String, slot: Int)? {
        guard key.hasPrefix(assign) else { return nil }
        let parts = key.dropFirst(assign.count).split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty, let slot = Int(parts[2]), slot >= 0 else { return nil }
        return (String(parts[0]), String(parts[1]), slot)
    }
}
