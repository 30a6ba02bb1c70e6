#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Etcd
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Synchronization
import Yams

/// Keys that come from this machine rather than etcd, for rendering at container start and for trying
/// templates offline: confd's `env` and `file` backends. Both answer the renderer as etcd does (`KeySource`):
/// a read returns the keys under a prefix, and a watch reports what changed, found by reading again every
/// `pollInterval`.
public final class LocalKeySource: KeySource, @unchecked Sendable {
    /// Where the keys are read from.
    public enum Origin: Sendable {
        /// confd's env backend: the key `/app/servers/web1` is the variable `APP_SERVERS_WEB1`; a prefix
        /// takes every variable that starts with its name (`/app` → `APP…`), read back in lower case with `_`
        /// as `/`.
        case environment([String: String])
        /// confd's file backend: YAML or JSON files (or folders of them, `filter` a glob on the file names),
        /// nested maps and lists flattened into keys (`{app: {servers: [a]}}` → `/app/servers/0` = `a`).
        case files([String], filter: String)
    }

    let origin: Origin
    let pollInterval: Duration
    private let revision = Mutex<Int64>(1)

    public init(_ origin: Origin, pollInterval: Duration = .seconds(1)) {
        self.origin = origin
        self.pollInterval = pollInterval
    }

    /// Every key, read now. Throws when a file cannot be read or parsed.
    public func snapshot() throws -> [String: String] {
        switch origin {
        case .environment(let variables):
            return variables
        case .files(let paths, let filter):
            var keys: [String: String] = [:]
            for file in try Self.files(paths, filter: filter) {
                guard let data = FileManager.default.contents(atPath: file) else {
                    throw LocalKeySourceError(message: "\(file): cannot read the file")
                }
                let node: Any?
                do {
                    node = try Yams.load(yaml: String(decoding: data, as: UTF8.self))
                } catch {
                    throw LocalKeySourceError(message: "\(file): not YAML or JSON: \(error)")
                }
                if let node { Self.walk(node, key: "/", into: &keys) }
            }
            return keys
        }
    }

    /// The keys under `prefix` as the renderer sees them.
    func keys(under prefix: String) throws -> [String: String] {
        let all = try snapshot()
        switch origin {
        case .environment:
            // confd: the variables whose names start with the key's name.
            let name = Self.variableName(prefix)
            var keys: [String: String] = [:]
            for (variable, value) in all where variable.hasPrefix(name) { keys[Self.keyName(variable)] = value }
            return keys
        case .files:
            return all.filter { $0.key.utf8.starts(with: prefix.utf8) }
        }
    }

    public func readKeys(prefix: String, revision requested: Int64?) async throws -> EtcdRange {
        let keys = try keys(under: prefix)
        let current = revision.withLock { $0 }
        let kvs = keys.keys.sorted().map { EtcdKeyValue(key: $0, value: keys[$0] ?? "", modRevision: current) }
        return EtcdRange(kvs: kvs, revision: current, count: kvs.count)
    }

    public func watchKeys(prefix: String, fromRevision: Int64) -> AsyncStream<EtcdWatchUpdate> {
        AsyncStream { continuation in
            let task = Task { [self] in
                var known = (try? keys(under: prefix)) ?? [:]
                continuation.yield(.connected(revision: revision.withLock { $0 }))
                while !Task.isCancelled {
                    try? await Task.sleep(for: pollInterval)
                    guard let now = try? keys(under: prefix) else { continue }
                    if now == known { continue }
                    let next = revision.withLock { value -> Int64 in
                        value += 1
                        return value
                    }
                    var events: [EtcdEvent] = []
                    for (key, value) in now where known[key] != value {
                        events.append(EtcdEvent(kind: .put, kv: EtcdKeyValue(key: key, value: value, modRevision: next)))
                    }
                    for key in known.keys where now[key] == nil {
                        events.append(EtcdEvent(kind: .delete, kv: EtcdKeyValue(key: key, value: "", modRevision: next)))
                    }
                    known = now
                    continuation.yield(.events(events, revision: next))
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// confd's `transform`: `/app/servers` → `APP_SERVERS`.
    static func variableName(_ key: String) -> String {
        var trimmed = Substring(key)
        if trimmed.hasPrefix("/") { trimmed = trimmed.dropFirst() }
        return trimmed.replacing("/", with: "_").uppercased()
    }

    /// confd's `clean`: `APP_SERVERS_WEB1` → `/app/servers/web1`.
    static func keyName(_ variable: String) -> String {
        "/" + variable.replacing("_", with: "/").lowercased()
    }

    /// confd's `nodeWalk`: maps and lists become keys below `key`; strings, ints, bools and floats values
    /// (floats as Go's `FormatFloat(f, 'f', -1, 64)`); nulls nothing.
    static func walk(_ node: Any, key: String, into keys: inout [String: String]) {
        switch node {
        case let map as [AnyHashable: Any]:
            for (name, value) in map { walk(value, key: KeyPath.join(key, "\(name.base)"), into: &keys) }
        case let list as [Any]:
            for (index, value) in list.enumerated() { walk(value, key: KeyPath.join(key, String(index)), into: &keys) }
        case let text as String:
            keys[key] = text
        case let flag as Bool:
            keys[key] = flag ? "true" : "false"
        case let number as Int:
            keys[key] = String(number)
        case let number as Double:
            keys[key] = number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : "\(number)"
        default:
            break
        }
    }

    /// The files named, and in a folder those whose names match `filter`, sorted.
    static func files(_ paths: [String], filter: String) throws -> [String] {
        var result: [String] = []
        for path in paths {
            var status = stat()
            guard stat(path, &status) == 0 else {
                throw LocalKeySourceError(message: "\(path): no such file")
            }
            if status.st_mode & S_IFMT == S_IFDIR {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
                for name in names.sorted() where fnmatch(filter, name, 0) == 0 {
                    result.append(path + "/" + name)
                }
            } else {
                result.append(path)
            }
        }
        return result
    }
}

/// A file the file backend cannot read.
public struct LocalKeySourceError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
