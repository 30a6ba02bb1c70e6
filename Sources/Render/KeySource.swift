import Etcd

/// Where the renderer's keys come from: a prefix read and a prefix watch. `EtcdClient` is the real one; tests
/// may script their own.
public protocol KeySource: Sendable {
    /// Every key under `prefix`, read at `revision` (the latest when nil).
    func readKeys(prefix: String, revision: Int64?) async throws -> EtcdRange
    /// Changes under `prefix` from `fromRevision` on, reconnecting by itself (see `EtcdClient.watch`).
    func watchKeys(prefix: String, fromRevision: Int64) -> AsyncStream<EtcdWatchUpdate>
}

extension EtcdClient: KeySource {
    public func readKeys(prefix: String, revision: Int64?) async throws -> EtcdRange {
        try await range(prefix: prefix, revision: revision)
    }

    public func watchKeys(prefix: String, fromRevision: Int64) -> AsyncStream<EtcdWatchUpdate> {
        watch(prefix: prefix, fromRevision: fromRevision)
    }
}

/// The etcd keys the renderer knows, as a plain dictionary kept up to date from reads and watch events.
public struct KeyCache: Sendable, Hashable {
    public private(set) var values: [String: String] = [:]

    public init(_ values: [String: String] = [:]) {
        self.values = values
    }

    /// Replaces everything under `prefix` with a fresh read; true when that changed anything.
    @discardableResult
    public mutating func replace(prefix: String, with kvs: [EtcdKeyValue]) -> Bool {
        var fresh = values.filter { !$0.key.utf8.starts(with: prefix.utf8) }
        for kv in kvs { fresh[kv.key] = kv.value }
        defer { values = fresh }
        return fresh != values
    }

    /// Applies watch events in order; true when that changed anything.
    @discardableResult
    public mutating func apply(_ events: [EtcdEvent]) -> Bool {
        var changed = false
        for event in events {
            switch event.kind {
            case .put:
                if values[event.kv.key] != event.kv.value {
                    values[event.kv.key] = event.kv.value
                    changed = true
                }
            case .delete:
                if values.removeValue(forKey: event.kv.key) != nil { changed = true }
            }
        }
        return changed
    }
}
