#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Registry
import Synchronization

/// An in-memory store with leases, for tests of the registry and the agent: it counts requests, can be taken
/// down, and can expire a lease on demand.
public final class MemoryStore: RegistryStore {
    public init() {}

    public struct Unreachable: Error, CustomStringConvertible {
        public var description: String { "the store is down" }
    }

    private struct State {
        public var keys: [String: StoredKey] = [:]
        var leases: Set<Int64> = []
        var nextLease: Int64 = 0x100
        var down = false
        public var requests: [String] = []
        /// Every request, answered or refused while down.
        var attempts = 0
    }

    private let state = Mutex(State())

    public var keys: [String: String] { state.withLock { $0.keys.mapValues(\.value) } }
    public func lease(of key: String) -> Int64? { state.withLock { $0.keys[key]?.lease } }
    public var requests: [String] { state.withLock { $0.requests } }
    /// How many requests were made, including those refused while the store was down.
    public var attempts: Int { state.withLock { $0.attempts } }
    public var liveLeases: Set<Int64> { state.withLock { $0.leases } }

    public func setDown(_ down: Bool) { state.withLock { $0.down = down } }
    public func clearRequests() { state.withLock { $0.requests = [] } }

    /// Seeds a key as another party would have written it.
    public func seed(_ key: String, _ value: String, lease: Int64 = 0) {
        state.withLock { state in
            if lease != 0 { state.leases.insert(lease) }
            state.keys[key] = StoredKey(key: key, value: value, lease: lease)
        }
    }

    /// Expires a lease as etcd does when its TTL runs out: its keys go.
    public func expire(_ lease: Int64) {
        state.withLock { state in
            state.leases.remove(lease)
            state.keys = state.keys.filter { $0.value.lease != lease }
        }
    }

    private func request<T>(_ name: String, _ body: (inout State) throws -> T) throws -> T {
        try state.withLock { state in
            state.attempts += 1
            guard !state.down else { throw Unreachable() }
            state.requests.append(name)
            return try body(&state)
        }
    }

    public func grantLease(ttl: Int) async throws -> Int64 {
        try request("grant") { state in
            state.nextLease += 1
            state.leases.insert(state.nextLease)
            return state.nextLease
        }
    }

    public func keepAlive(_ lease: Int64) async throws -> Int? {
        try request("keepalive") { $0.leases.contains(lease) ? 10 : nil }
    }

    public func revokeLease(_ lease: Int64) async throws {
        try request("revoke") { state in
            state.leases.remove(lease)
            state.keys = state.keys.filter { $0.value.lease != lease }
        }
    }

    public func put(_ key: String, _ value: String, lease: Int64) async throws {
        try request("put") { state in
            state.keys[key] = StoredKey(key: key, value: value, lease: lease)
        }
    }

    public func delete(_ key: String) async throws {
        try request("delete") { _ = $0.keys.removeValue(forKey: key) }
    }

    public func get(_ key: String) async throws -> StoredKey? {
        try request("get") { $0.keys[key] }
    }

    public func list(prefix: String) async throws -> [StoredKey] {
        try request("list") { state in state.keys.values.filter { $0.key.hasPrefix(prefix) }.sorted { $0.key < $1.key } }
    }
}
