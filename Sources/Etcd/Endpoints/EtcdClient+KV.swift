#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension EtcdClient {
    /// Writes `value` at `key`, attached to `lease` when given; returns the store revision of the write.
    /// An unknown lease fails with a 404 (`isNotFound`). Maps to `POST /v3/kv/put`.
    @discardableResult
    public func put(_ key: String, _ value: String, lease: EtcdLeaseID? = nil) async throws(EtcdError) -> Int64 {
        try await call("/v3/kv/put", PutRequest(key: key, value: value, lease: lease), as: HeaderResponse.self).header.revision
    }

    /// The key, or nil when it does not exist. Maps to `POST /v3/kv/range` with the key alone.
    public func get(_ key: String) async throws(EtcdError) -> EtcdKeyValue? {
        try await call("/v3/kv/range", RangeRequest(key: key), as: EtcdRange.self).kvs.first
    }

    /// Every key that starts with `prefix` (all keys for ""), sorted by key, and the revision read at.
    /// With `revision`, reads the store as it was then (fails with `isCompacted` once compacted away).
    /// Maps to `POST /v3/kv/range` with `range_end` = the prefix with its last byte incremented.
    public func range(prefix: String, revision: Int64? = nil) async throws(EtcdError) -> EtcdRange {
        try await call("/v3/kv/range", RangeRequest(prefix: prefix, revision: revision), as: EtcdRange.self)
    }

    /// How many keys start with `prefix`, and the current store revision, without reading values.
    /// Maps to `POST /v3/kv/range` with `count_only`.
    public func count(prefix: String) async throws(EtcdError) -> EtcdRange {
        try await call("/v3/kv/range", RangeRequest(prefix: prefix, countOnly: true), as: EtcdRange.self)
    }

    /// Deletes one key; returns how many were deleted (0 or 1). Maps to `POST /v3/kv/deleterange`.
    @discardableResult
    public func delete(_ key: String) async throws(EtcdError) -> Int {
        try await call("/v3/kv/deleterange", DeleteRangeRequest(key: key), as: DeleteRangeResponse.self).deleted
    }

    /// Deletes every key that starts with `prefix`; returns how many were deleted.
    /// Maps to `POST /v3/kv/deleterange` with `range_end`.
    @discardableResult
    public func delete(prefix: String) async throws(EtcdError) -> Int {
        try await call("/v3/kv/deleterange", DeleteRangeRequest(prefix: prefix), as: DeleteRangeResponse.self).deleted
    }

    /// Runs a transaction. A comparison that fails is not an error: see `succeeded`. Maps to `POST /v3/kv/txn`.
    public func txn(_ txn: EtcdTxn) async throws(EtcdError) -> EtcdTxnResult {
        try await call("/v3/kv/txn", txn, as: EtcdTxnResult.self)
    }

    /// Forgets the history before `revision`: watches and reads from earlier revisions then fail.
    /// With `physical`, answers only once the space is reclaimed. Never sent twice while an attempt may still
    /// be working (a second one would answer "compacted"). Maps to `POST /v3/kv/compaction`.
    public func compact(revision: Int64, physical: Bool = false) async throws(EtcdError) {
        _ = try await call(
            "/v3/kv/compaction", CompactionRequest(revision: String(revision), physical: physical ? true : nil),
            as: HeaderResponse.self, hedge: false)
    }
}
