/// One change to a running HAProxy's servers that its runtime API can make without a reload.
public enum ServerChange: Sendable, Hashable, CustomStringConvertible {
    /// A new `server` line: `add server BACKEND/NAME ARGUMENTS`, then health checks and traffic enabled.
    case add(backend: String, server: HAProxyConfig.Server)
    /// A server whose address alone changed: `set server BACKEND/NAME addr IP port PORT`.
    case move(backend: String, server: String, host: String, port: Int)
    /// A `server` line that is gone: put in maintenance (no new requests, running ones finish), then deleted.
    case remove(backend: String, server: String)

    public var description: String {
        switch self {
        case .add(let backend, let server): "+\(backend)/\(server.name) \(server.address)"
        case .move(let backend, let server, let host, let port): "~\(backend)/\(server) \(host):\(port)"
        case .remove(let backend, let server): "-\(backend)/\(server)"
        }
    }
}

/// What going from one configuration to the next takes.
public enum ServerChangePlan: Sendable, Hashable {
    /// Only servers came, went or moved: these changes (adds first, so capacity never dips) bring the running
    /// HAProxy to the new file. Empty when only comments or blank lines changed.
    case runtime([ServerChange])
    /// Something the runtime API cannot change: the reason, for logs.
    case reload(String)

    /// Compares two configurations. Anything but `server` lines of `backend`/`listen` sections (their order
    /// included), a server whose parameters changed, a new server named by host name rather than IP address
    /// (the runtime API does not resolve names), or a `default-server` line that runtime-added servers would
    /// not inherit: all need a reload.
    public static func between(_ old: HAProxyConfig, _ new: HAProxyConfig) -> ServerChangePlan {
        guard old.sections.count == new.sections.count else { return .reload("sections were added or removed") }
        var adds: [ServerChange] = []
        var others: [ServerChange] = []
        for (before, after) in zip(old.sections, new.sections) {
            let title = ([after.keyword] + (after.name.map { [$0] } ?? [])).joined(separator: " ")
            guard before.keyword == after.keyword, before.name == after.name else {
                return .reload("section \(title) replaces another")
            }
            guard before.otherLines == after.otherLines else { return .reload("\(title) changed beyond its servers") }
            guard after.holdsServers, let backend = after.name else { continue }

            let oldServers = before.servers
            let newServers = after.servers
            let oldByName = Dictionary(oldServers.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
            let newByName = Dictionary(newServers.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
            guard oldByName.count == oldServers.count, newByName.count == newServers.count else {
                return .reload("\(title) names a server twice")
            }
            let inheritsDefaults = new.defaultsSetDefaultServer || after.lines.contains { $0.first == "default-server" }

            // Every word of a change goes to the admin socket: one that could split or bend a command line
            // (`;`, quotes, `#`, control characters) makes the change a reload, where the file is checked.
            for server in newServers + oldServers {
                if let unsafe = AdminCommand.firstUnsafe([backend, server.name, server.address] + server.parameters) {
                    return .reload("\(title): the server line of \(AdminCommand.shown(server.name)) holds the word \(AdminCommand.shown(unsafe)), which the admin socket cannot take safely")
                }
            }
            for server in newServers {
                guard let previous = oldByName[server.name] else {
                    guard !inheritsDefaults else { return .reload("\(title) has default-server settings") }
                    guard SocketAddress(server.address) != nil else {
                        return .reload("\(title)/\(server.name) has no IP address and port (\(server.address))")
                    }
                    adds.append(.add(backend: backend, server: server))
                    continue
                }
                guard previous != server else { continue }
                guard previous.parameters == server.parameters, let address = SocketAddress(server.address) else {
                    return .reload("\(title)/\(server.name) changed its settings")
                }
                others.append(.move(backend: backend, server: server.name, host: address.host, port: address.port))
            }
            for server in oldServers where newByName[server.name] == nil {
                others.append(.remove(backend: backend, server: server.name))
            }
        }
        return .runtime(adds + others)
    }
}

/// A literal `IPv4:port` or `[IPv6]:port` server address.
struct SocketAddress: Hashable {
    var host: String
    var port: Int

    init?(_ text: String) {
        let host: Substring
        let port: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            port = text[text.index(close, offsetBy: 2)...]
            guard host.contains(":"), host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return nil }
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            port = text[text.index(after: colon)...]
            let octets = host.split(separator: ".", omittingEmptySubsequences: false)
            guard octets.count == 4, octets.allSatisfy({ UInt8($0) != nil }) else { return nil }
        }
        guard let number = Int(port), (1...65535).contains(number) else { return nil }
        self.host = String(host)
        self.port = number
    }
}
