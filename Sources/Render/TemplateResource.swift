#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Templates

/// One confd template resource: the `[template]` table of a `conf.d/*.toml` file.
///
/// confd semantics: `prefix` (default `/`) is joined to each of `keys`, every key is read as a string prefix
/// of etcd keys (`/app/servers` reads `/app/servers/web-1`, and also `/app/servers2/…`, as confd's etcd v3
/// backend does), and the template sees each key with `prefix` stripped and a leading `/`.
public struct TemplateResource: Sendable, Hashable {
    /// The `.toml` file the resource came from, for messages.
    public var file: String
    /// `src` as written: a path relative to the templates folder.
    public var source: String
    /// The template file: the templates folder joined with `src`.
    public var sourcePath: String
    /// `dest` as written (an absolute path; `--dest-root` goes in front of it when writing).
    public var destination: String
    /// The normalized prefix: starts with `/`, no trailing `/` (the root is `/`).
    public var prefix: String
    /// `keys` as written.
    public var keys: [String]
    /// Permission bits for the destination (`mode = "0644"`); nil keeps the current file's, or 0644 for a new one.
    public var mode: UInt32?
    /// Owner and group for the destination (`uid`/`gid`, or `owner = "user[:group]"`); nil keeps the current ones.
    public var uid: UInt32?
    public var gid: UInt32?
    /// Runs on the staged file before it replaces the destination; `{{.src}}` names the staged file.
    public var checkCommand: String?
    /// Runs after the destination was replaced.
    public var reloadCommand: String?
    /// hecd's own key `haproxy_runtime_api`: when only servers change, the running HAProxy gets them through
    /// the admin socket the config opens, and `reload_cmd` runs only for other changes.
    public var haproxyRuntimeAPI: Bool
    /// hecd's own keys `max_output` and `max_steps`: what one render of the template may spend.
    public var limits: RenderLimits

    public init(
        file: String, source: String, sourcePath: String, destination: String, prefix: String = "/",
        keys: [String], mode: UInt32? = nil, uid: UInt32? = nil, gid: UInt32? = nil,
        checkCommand: String? = nil, reloadCommand: String? = nil, haproxyRuntimeAPI: Bool = false,
        limits: RenderLimits = RenderLimits()
    ) {
        self.file = file
        self.source = source
        self.sourcePath = sourcePath
        self.destination = destination
        self.prefix = KeyPath.normalizedPrefix(prefix)
        self.keys = keys
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.checkCommand = checkCommand
        self.reloadCommand = reloadCommand
        self.haproxyRuntimeAPI = haproxyRuntimeAPI
        self.limits = limits
    }

    /// A short name for logs: the `.toml` file's name.
    public var name: String { PathText.lastComponent(file) }

    /// The etcd key prefixes this resource reads: `prefix` joined with each key (Go's `path.Join`).
    public var etcdKeys: [String] {
        keys.map { KeyPath.join(prefix, $0) }
    }

    /// Whether an etcd key is one this resource reads.
    public func reads(_ etcdKey: String) -> Bool {
        etcdKeys.contains { etcdKey.utf8.starts(with: $0.utf8) }
    }

    /// The key as the template sees it: `prefix` stripped, then `path.Join("/", …)`, as confd does.
    public func templateKey(for etcdKey: String) -> String {
        let stripped = etcdKey.utf8.starts(with: prefix.utf8)
            ? String(decoding: etcdKey.utf8.dropFirst(prefix.utf8.count), as: UTF8.self) : etcdKey
        return KeyPath.join("/", stripped)
    }

    /// The data the template sees, from all the etcd keys known: only the keys this resource reads, renamed
    /// by `templateKey(for:)`.
    public func view(of etcdKeys: [String: String]) -> [String: String] {
        var view: [String: String] = [:]
        for (key, value) in etcdKeys where reads(key) {
            view[templateKey(for: key)] = value
        }
        return view
    }

    /// Where the destination is written: `root` (when given) in front of `destination`.
    public func destinationPath(root: String?) -> String {
        guard let root, !root.isEmpty else { return destination }
        var base = root
        while base.count > 1, base.hasSuffix("/") { base.removeLast() }
        return base + (destination.hasPrefix("/") ? destination : "/" + destination)
    }
}

/// Slash-separated key paths with Go's `path` package rules, which confd applies to keys.
public enum KeyPath {
    /// Go's `path.Join`: the non-empty elements joined with `/`, then cleaned.
    public static func join(_ elements: String...) -> String {
        let nonEmpty = elements.filter { !$0.isEmpty }
        guard !nonEmpty.isEmpty else { return "" }
        return clean(nonEmpty.joined(separator: "/"))
    }

    /// Go's `path.Clean`: single slashes, no `.` elements, `..` resolved, no trailing slash (but `/`).
    public static func clean(_ path: String) -> String {
        guard !path.isEmpty else { return "." }
        let rooted = path.hasPrefix("/")
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch part {
            case ".": continue
            case "..":
                if let last = parts.last, last != ".." {
                    parts.removeLast()
                } else if !rooted {
                    parts.append(part)
                }
            default: parts.append(part)
            }
        }
        let body = parts.joined(separator: "/")
        if rooted { return "/" + body }
        return body.isEmpty ? "." : body
    }

    /// A resource prefix as confd uses it: a leading `/`, cleaned.
    public static func normalizedPrefix(_ prefix: String) -> String {
        clean("/" + prefix)
    }

    /// The fewest prefixes that cover all of `keys` (string prefixes, as etcd ranges are): a key that another
    /// key is a prefix of needs no watch of its own. Sorted.
    public static func coveringPrefixes(_ keys: [String]) -> [String] {
        var result: [String] = []
        for key in Set(keys).sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            // Sorted order puts a prefix before every key it covers.
            if let last = result.last, key.utf8.starts(with: last.utf8) { continue }
            result.append(key)
        }
        return result
    }
}
