import Etcd

/// The registry's store on etcd (v3 JSON gateway).
public struct EtcdStore: RegistryStore {
    public let client: EtcdClient

    public init(client: EtcdClient) {
        self.client = client
    }

    public func grantLease(ttl: Int) async throws -> Int64 {
        try await client.grantLease(ttl: ttl).id.rawValue
    }

    public func keepAlive(_ lease: Int64) async throws -> Int? {
        try await client.keepAlive(EtcdLeaseID(lease))
    }

    public func revokeLease(_ lease: Int64) async throws {
        try await client.revokeLease(EtcdLeaseID(lease))
    }

    public func put(_ key: String, _ value: String, lease: Int64) async throws {
        _ = try await client.put(key, value, lease: lease == 0 ? nil : EtcdLeaseID(lease))
    }

    public func delete(_ key: String) async throws {
        _ = try await client.delete(key)
    }

    public func get(_ key: String) async throws -> StoredKey? {
        try await client.get(key).map(Self.stored)
    }

    public func list(prefix: String) async throws -> [StoredKey] {
        try await client.range(prefix: prefix).kvs.map(Self.stored)
    }

    private static func stored(_ kv: EtcdKeyValue) -> StoredKey {
        StoredKey(key: kv.key, value: kv.value, lease: kv.lease?.rawValue ?? 0)
    }
}
