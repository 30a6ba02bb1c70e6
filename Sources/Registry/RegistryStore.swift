/// A key in the store with the lease it hangs on (0: none).
public struct StoredKey: Sendable, Hashable {
    public var key: String
    public var value: String
    public var lease: Int64

    public init(key: String, value: String, lease: Int64) {
        self.key = key
        self.value = value
        self.lease = lease
    }
}

/// What the registry needs of a key-value store with leases: etcd in production, an in-memory store in tests.
public protocol RegistryStore: Sendable {
    /// Grants a lease; returns its id.
    func grantLease(ttl: Int) async throws -> Int64
    /// Refreshes a lease; returns its remaining TTL, or nil when the lease is gone.
    func keepAlive(_ lease: Int64) async throws -> Int?
    /// Revokes a lease, deleting its keys. An unknown lease is not an error.
    func revokeLease(_ lease: Int64) async throws
    func put(_ key: String, _ value: String, lease: Int64) async throws
    func delete(_ key: String) async throws
    func get(_ key: String) async throws -> StoredKey?
    func list(prefix: String) async throws -> [StoredKey]
}
