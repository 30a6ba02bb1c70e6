#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What is announced at which address: the one place that decides it, as pure functions.
///
/// The agent describes its containers and apps (`AnnouncementInput`), asks for the candidates (each running
/// container with an address, and how to probe it), probes them, and gets the `Announcement` for the ready
/// ones: the keys to hold, the keys each container holds (withdrawn at once when it dies, drained before it is
/// stopped), and the keys it owns (for the registry's diff). It carries the result out and decides nothing.
public enum Announcements {
    /// The registry prefix of an app that names none.
    public static func defaultPrefix(app: String) -> String { "/app/\(app)" }

    /// Every running container that can be announced, with its key, value and probe target; and, per app, why
    /// its containers cannot be announced (to be logged once).
    public static func candidates(_ input: AnnouncementInput) -> Candidates {
        var result = Candidates()
        for container in input.containers {
            let app = input.apps[container.app]
            let prefix = app?.prefix ?? container.labelledPrefix ?? defaultPrefix(app: container.app)
            let key = "\(prefix)/\(container.name)"
            result.prefixes.insert(prefix)
            result.owned.insert(key)
            if let labelled = container.labelledPrefix, labelled != prefix {
                result.prefixes.insert(labelled)
                result.owned.insert("\(labelled)/\(container.name)")
            }
            guard container.running, !container.hidden,
                let containerPort = container.labelledPort ?? app?.port
            else { continue }
            let bindings = container.bindings.filter { $0.containerPort == containerPort && $0.hostPort != nil }
            // An IPv4 binding first, as Docker lists both for `-P`.
            guard let binding = bindings.first(where: { !($0.hostIP ?? "").contains(":") }) ?? bindings.first,
                let hostPort = binding.hostPort
            else { continue }
            let bindingIP = binding.hostIP.flatMap { ["", "0.0.0.0", "::"].contains($0) ? nil : $0 }
            guard let hostIP = input.hostIP ?? bindingIP else {
                result.problems[container.app] = "Docker publishes its ports on all addresses, so the host IP is not known; start the agent with --host-ip IP or --host-interface NAME"
                continue
            }
            guard let value = RegisteredAddress.value(hostIP: hostIP, hostPort: hostPort) else {
                result.problems[container.app] = "\(hostIP) port \(hostPort) is not an IP address and port"
                continue
            }
            result.candidates.append(Candidate(
                containerID: container.id, app: container.app, key: key, value: value,
                probeHost: bindingIP ?? (binding.hostIP == "::" ? "::1" : "127.0.0.1"), probePort: hostPort,
                healthPath: app?.healthPath))
        }
        return result
    }

    /// The announcement once the candidates in `ready` answered their probes.
    public static func announcement(_ candidates: Candidates, ready: Set<String>) -> Announcement {
        let announced = candidates.candidates.filter { ready.contains($0.containerID) }
        return Announcement(
            hold: Dictionary(announced.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first }),
            keyByContainer: Dictionary(announced.map { ($0.containerID, $0.key) }, uniquingKeysWith: { first, _ in first }),
            owned: candidates.owned, prefixes: candidates.prefixes,
            announcedPerApp: Dictionary(grouping: announced, by: \.app).mapValues(\.count))
    }
}

/// What the decision needs to know of the agent's containers, apps and host.
public struct AnnouncementInput: Sendable, Hashable {
    public struct Container: Sendable, Hashable {
        public var id: String
        public var name: String
        public var app: String
        public var running: Bool
        /// Being retired, removed, or reported dead: not announced whatever the engine lists.
        public var hidden: Bool
        /// The prefix and port the container was created with (its labels), if any.
        public var labelledPrefix: String?
        public var labelledPort: Int?
        public var bindings: [Binding]

        public init(
            id: String, name: String, app: String, running: Bool, hidden: Bool = false, labelledPrefix: String? = nil,
            labelledPort: Int? = nil, bindings: [Binding]
        ) {
            self.id = id
            self.name = name
            self.app = app
            self.running = running
            self.hidden = hidden
            self.labelledPrefix = labelledPrefix
            self.labelledPort = labelledPort
            self.bindings = bindings
        }
    }

    /// A published port: container port → host address ("0.0.0.0", "::", one address) and host port.
    public struct Binding: Sendable, Hashable {
        public var containerPort: Int
        public var hostIP: String?
        public var hostPort: Int?

        public init(containerPort: Int, hostIP: String?, hostPort: Int?) {
            self.containerPort = containerPort
            self.hostIP = hostIP
            self.hostPort = hostPort
        }
    }

    /// What a manifest says about announcing its app.
    public struct App: Sendable, Hashable {
        public var prefix: String?
        public var port: Int?
        public var healthPath: String?

        public init(prefix: String?, port: Int?, healthPath: String? = nil) {
            self.prefix = prefix
            self.port = port
            self.healthPath = healthPath
        }
    }

    public var containers: [Container]
    /// By app name.
    public var apps: [String: App]
    /// `--host-ip` (or the address of `--host-interface`); nil: only a binding's own address will do.
    public var hostIP: String?

    public init(containers: [Container], apps: [String: App], hostIP: String?) {
        self.containers = containers
        self.apps = apps
        self.hostIP = hostIP
    }
}

/// A running container that can be announced once its probe passes.
public struct Candidate: Sendable, Hashable {
    public let containerID: String
    public let app: String
    public let key: String
    /// `IPv4:PORT` or `[IPv6]:PORT`.
    public let value: String
    /// Where a probe reaches it from this host.
    public let probeHost: String
    public let probePort: Int
    public let healthPath: String?
}

/// The result of `Announcements.candidates`.
public struct Candidates: Sendable, Hashable {
    public var candidates: [Candidate] = []
    /// Keys named after every container of the agent, running or not: the agent's to delete.
    public var owned: Set<String> = []
    public var prefixes: Set<String> = []
    /// Per app, why none of its containers can be announced.
    public var problems: [String: String] = [:]

    public init() {}
}

/// What to announce now.
public struct Announcement: Sendable, Hashable {
    /// The keys the registry holds: key → `host:port`.
    public let hold: [String: String]
    /// The key of each announced container: withdrawn at once when it dies, drained before it is stopped.
    public let keyByContainer: [String: String]
    public let owned: Set<String>
    public let prefixes: Set<String>
    public let announcedPerApp: [String: Int]
}

/// The only values the agent writes to the registry: `IPv4:PORT` or `[IPv6]:PORT`, from an IP literal and a
/// port from 1 to 65535; anything else (a name, a zone, text from a misbehaving engine) is not registered.
public enum RegisteredAddress {
    public static func value(hostIP: String, hostPort: Int) -> String? {
        guard (1...65535).contains(hostPort) else { return nil }
        var ipv4 = in_addr()
        var ipv6 = in6_addr()
        if !hostIP.contains(":"), inet_pton(AF_INET, hostIP, &ipv4) == 1 { return "\(hostIP):\(hostPort)" }
        if hostIP.contains(":"), inet_pton(AF_INET6, hostIP, &ipv6) == 1 { return "[\(hostIP)]:\(hostPort)" }
        return nil
    }
}
