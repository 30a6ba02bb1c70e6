/// A lease id, as etcd numbers them (sent as a decimal string).
public struct EtcdLeaseID: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: Int64
    public init(rawValue: Int64) { self.rawValue = rawValue }
    public init(_ rawValue: Int64) { self.rawValue = rawValue }
    public var description: String { String(rawValue) }
    /// The hexadecimal form etcdctl prints.
    public var hex: String { String(UInt64(bitPattern: rawValue), radix: 16) }
}

/// A granted lease.
public struct EtcdLease: Sendable, Hashable {
    public var id: EtcdLeaseID
    /// The TTL etcd granted, in seconds (it may raise a TTL below its minimum).
    public var ttl: Int

    public init(id: EtcdLeaseID, ttl: Int) {
        self.id = id
        self.ttl = ttl
    }
}

/// What `timeToLive` tells about a live lease.
public struct EtcdLeaseInfo: Sendable, Hashable {
    public var id: EtcdLeaseID
    /// Seconds left.
    public var ttl: Int
    /// The TTL the lease was granted with.
    public var grantedTTL: Int
    /// The keys attached to the lease (asked for with `keys: true`).
    public var keys: [String]

    public init(id: EtcdLeaseID, ttl: Int, grantedTTL: Int, keys: [String] = []) {
        self.id = id
        self.ttl = ttl
        self.grantedTTL = grantedTTL
        self.keys = keys
    }
}

/// An etcd user for clusters with authentication enabled.
public struct EtcdCredentials: Sendable, Hashable, CustomStringConvertible {
    public var user: String
    public var password: String

    public init(user: String, password: String) {
        self.user = user
        self.password = password
    }

    /// The user name only: passwords stay out of logs.
    public var description: String { "etcd user \(user)" }
}
