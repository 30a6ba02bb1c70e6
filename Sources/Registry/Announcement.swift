import Primitives

/// What is announced at which address: the one place that decides it, as pure functions.
///
/// The agent describes its containers and apps (`AnnouncementInput`), asks for the candidates (each running
/// container with an address, and how to probe it), probes them, and gets the `Announcement` for the ready
/// ones: the keys to hold, the keys each container holds (withdrawn at once when it dies, drained before it is
/// stopped), and the keys it owns (for the registry's diff). It carries the result out and decides nothing.
public enum Announcements {
    /// The registry prefix of an app that names none.
    public static func defaultPrefix(app: String) -> String { "/app/\(app)" }

    /// Every running container that can be announced, one candidate per registered port, with its key, value
    /// and how to tell it is ready; and, per app, why its containers cannot be announced (to be logged once).
    public static func candidates(_ input: AnnouncementInput) -> Candidates {
        var result = Candidates()
        for container in input.containers {
            let app = input.apps[container.app]
            let registrations = registrations(of: container, app: app)
            for registration in registrations {
                result.prefixes.insert(registration.prefix)
                result.owned.insert("\(registration.prefix)/\(container.name)")
            }
            if let labelled = container.labelledPrefix {
                result.prefixes.insert(labelled)
                result.owned.insert("\(labelled)/\(container.name)")
            }
            for labelled in container.labelledRegistrations {
                let prefix = labelled.prefix ?? defaultPrefix(app: container.app)
                result.prefixes.insert(prefix)
                result.owned.insert("\(prefix)/\(container.name)")
            }
            guard container.running, !container.hidden else { continue }
            // How readiness is told: the manifest's check, else Docker's HEALTHCHECK status, else a connection.
            let dockerHealthy: Bool? = app?.hasHealthCheck == true ? nil : container.dockerHealth.map { $0 == "healthy" }
            var probe: (host: String, port: Int)?
            if let tcpPort = app?.healthTCPPort, let binding = binding(of: container, port: tcpPort) {
                probe = (binding.probeHost, binding.hostPort)
            }
            for registration in registrations {
                guard let containerPort = registration.port, let binding = binding(of: container, port: containerPort)
                else { continue }
                guard let hostIP = input.hostIP ?? binding.ip else {
                    result.problems[container.app] = "Docker publishes its ports on all addresses, so the host IP is not known; start the agent with --host-ip IP or --host-interface NAME"
                    continue
                }
                guard let value = RegisteredAddress.value(hostIP: hostIP, hostPort: binding.hostPort) else {
                    result.problems[container.app] = "\(hostIP) port \(binding.hostPort) is not an IP address and port"
                    continue
                }
                // Every key of a container shares one readiness check: the first registered port's, unless
                // the manifest names a TCP port.
                let target = probe ?? (binding.probeHost, binding.hostPort)
                probe = target
                result.candidates.append(Candidate(
                    containerID: container.id, app: container.app, key: "\(registration.prefix)/\(container.name)",
                    value: value, probeHost: target.host, probePort: target.port,
                    healthPath: app?.healthTCPPort == nil ? app?.healthPath : nil, dockerHealthy: dockerHealthy))
            }
        }
        return result
    }

    /// The ports a container is announced on and their prefixes: the app's registrations (a port left out
    /// means the container's first port), else those it was created with.
    private static func registrations(
        of container: AnnouncementInput.Container, app: AnnouncementInput.App?
    ) -> [(port: Int?, prefix: String)] {
        let firstPort = container.labelledPort ?? app?.port
        if let app {
            return app.registrations.map { ($0.port ?? firstPort, $0.prefix ?? defaultPrefix(app: container.app)) }
        }
        if !container.labelledRegistrations.isEmpty {
            return container.labelledRegistrations.map { ($0.port ?? firstPort, $0.prefix ?? defaultPrefix(app: container.app)) }
        }
        return [(firstPort, container.labelledPrefix ?? defaultPrefix(app: container.app))]
    }

    /// Where a container port is reachable: its published binding (IPv4 first, as Docker lists both for
    /// `-P`), or the port itself on the host's network.
    private static func binding(
        of container: AnnouncementInput.Container, port: Int
    ) -> (ip: String?, hostPort: Int, probeHost: String)? {
        if container.hostNetwork { return (nil, port, "127.0.0.1") }
        let bindings = container.bindings.filter { $0.containerPort == port && $0.hostPort != nil }
        guard let binding = bindings.first(where: { !($0.hostIP ?? "").contains(":") }) ?? bindings.first,
            let hostPort = binding.hostPort
        else { return nil }
        let bindingIP = binding.hostIP.flatMap { ["", "0.0.0.0", "::"].contains($0) ? nil : $0 }
        return (bindingIP, hostPort, bindingIP ?? (binding.hostIP == "::" ? "::1" : "127.0.0.1"))
    }

    /// The announcement once the candidates in `ready` answered their probes (those that Docker's health
    /// status decides are ready when Docker says healthy).
    public static func announcement(_ candidates: Candidates, ready: Set<String>) -> Announcement {
        let announced = candidates.candidates.filter { $0.dockerHealthy ?? ready.contains($0.containerID) }
        var keys: [String: [String]] = [:]
        for candidate in announced where !(keys[candidate.containerID] ?? []).contains(candidate.key) {
            keys[candidate.containerID, default: []].append(candidate.key)
        }
        return Announcement(
            hold: Dictionary(announced.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first }),
            keysByContainer: keys, owned: candidates.owned, prefixes: candidates.prefixes,
            announcedPerApp: Dictionary(grouping: Set(announced.map { ContainerOfApp(id: $0.containerID, app: $0.app) }), by: \.app)
                .mapValues(\.count))
    }

    private struct ContainerOfApp: Hashable {
        let id: String
        let app: String
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
        /// Every registered port and prefix it was created with, when there were several.
        public var labelledRegistrations: [PortPrefix]
        public var bindings: [Binding]
        /// Docker's health status (`starting`, `healthy`, `unhealthy`) when the image has a HEALTHCHECK.
        public var dockerHealth: String?
        /// On the host's network: its ports are the host's, with no bindings.
        public var hostNetwork: Bool

        public init(
            id: String, name: String, app: String, running: Bool, hidden: Bool = false, labelledPrefix: String? = nil,
            labelledPort: Int? = nil, labelledRegistrations: [PortPrefix] = [], bindings: [Binding],
            dockerHealth: String? = nil, hostNetwork: Bool = false
        ) {
            self.id = id
            self.name = name
            self.app = app
            self.running = running
            self.hidden = hidden
            self.labelledPrefix = labelledPrefix
            self.labelledPort = labelledPort
            self.labelledRegistrations = labelledRegistrations
            self.bindings = bindings
            self.dockerHealth = dockerHealth
            self.hostNetwork = hostNetwork
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

    /// A registered container port (nil: the container's first port) and its prefix (nil: the app's default).
    public struct PortPrefix: Sendable, Hashable {
        public var port: Int?
        public var prefix: String?

        public init(port: Int?, prefix: String?) {
            self.port = port
            self.prefix = prefix
        }
    }

    /// What a manifest says about announcing its app.
    public struct App: Sendable, Hashable {
        /// One key per entry; never empty.
        public var registrations: [PortPrefix]
        /// The app's first port.
        public var port: Int?
        /// The manifest's own readiness check: `GET path`, or a connection to a container port.
        public var healthPath: String?
        public var healthTCPPort: Int?
        /// Whether the manifest has a `health` check at all (it then decides, not Docker's HEALTHCHECK).
        public var hasHealthCheck: Bool

        public init(
            prefix: String?, port: Int?, healthPath: String? = nil, healthTCPPort: Int? = nil,
            hasHealthCheck: Bool? = nil, registrations: [PortPrefix]? = nil
        ) {
            self.registrations = registrations.flatMap { $0.isEmpty ? nil : $0 } ?? [PortPrefix(port: nil, prefix: prefix)]
            self.port = port
            self.healthPath = healthPath
            self.healthTCPPort = healthTCPPort
            self.hasHealthCheck = hasHealthCheck ?? (healthPath != nil || healthTCPPort != nil)
        }

        /// The first registration's prefix.
        public var prefix: String? { registrations.first?.prefix }
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
    /// Set when Docker's HEALTHCHECK decides readiness (true once `healthy`): no probe of hecd's own.
    public let dockerHealthy: Bool?

    public init(
        containerID: String, app: String, key: String, value: String, probeHost: String, probePort: Int,
        healthPath: String?, dockerHealthy: Bool? = nil
    ) {
        self.containerID = containerID
        self.app = app
        self.key = key
        self.value = value
        self.probeHost = probeHost
        self.probePort = probePort
        self.healthPath = healthPath
        self.dockerHealthy = dockerHealthy
    }
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
    /// The keys of each announced container (one per registered port): withdrawn at once when it dies,
    /// drained before it is stopped.
    public let keysByContainer: [String: [String]]
    public let owned: Set<String>
    public let prefixes: Set<String>
    public let announcedPerApp: [String: Int]
}

/// The only values the agent writes to the registry: `IPv4:PORT` or `[IPv6]:PORT`, from an IP literal and a
/// port from 1 to 65535; anything else (a name, a zone, text from a misbehaving engine) is not registered.
public enum RegisteredAddress {
    public static func value(hostIP: String, hostPort: Int) -> String? {
        guard (1...65535).contains(hostPort) else { return nil }
        if IPLiteral.isIPv4(hostIP) { return "\(hostIP):\(hostPort)" }
        if IPLiteral.isIPv6(hostIP) { return "[\(hostIP)]:\(hostPort)" }
        return nil
    }
}
