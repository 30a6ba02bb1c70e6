import DockerEngine
import Foundation
import Logging
import Manifests
import Reconciler
import Registry
import Synchronization
import Primitives

/// The version hecd reports in its agent records and `--version`.
public enum HECDVersion {
    public static let current = "0.1.0"
}

/// A running container as the registry sees it: its key, its address, and how to tell it is ready.
struct Registration: Sendable, Hashable {
    let containerID: String
    let app: String
    let key: String
    /// `<host-ip>:<host-port>`.
    let value: String
    let target: ProbeTarget
}

/// The only values the agent writes to the registry: `IPv4:PORT` or `[IPv6]:PORT`, from an IP literal and a
/// port from 1 to 65535; anything else (a name, a zone, text from a misbehaving engine) is not registered.
enum RegisteredAddress {
    static func value(hostIP: String, hostPort: Int) -> String? {
        guard (1...65535).contains(hostPort) else { return nil }
        var ipv4 = in_addr()
        var ipv6 = in6_addr()
        if !hostIP.contains(":"), inet_pton(AF_INET, hostIP, &ipv4) == 1 { return "\(hostIP):\(hostPort)" }
        if hostIP.contains(":"), inet_pton(AF_INET6, hostIP, &ipv6) == 1 { return "[\(hostIP)]:\(hostPort)" }
        return nil
    }
}

/// What a pass hands to the registry.
struct RegistrationView {
    var registrations: [Registration] = []
    /// Keys named after every container of the agent, running or not.
    var owned: Set<String> = []
    var prefixes: Set<String> = []
}

extension Agent {
    /// Registry keys, addresses and probe targets of the running containers.
    func registrationView(
        _ containers: [ContainerSummary], specs: [String: AppSpec], hidden: Set<String>,
        reportedHostIPProblems: inout Set<String>
    ) -> RegistrationView {
        var view = RegistrationView()
        for summary in containers {
            guard let app = summary.labels[ManagedLabels.app] else { continue }
            let spec = specs[app]
            let prefix = spec?.register.prefix ?? summary.labels[ManagedLabels.prefix]
                ?? AgentConfiguration.defaultPrefix(app: app)
            let key = "\(prefix)/\(summary.name)"
            view.prefixes.insert(prefix)
            view.owned.insert(key)
            if let labelled = summary.labels[ManagedLabels.prefix], labelled != prefix {
                view.prefixes.insert(labelled)
                view.owned.insert("\(labelled)/\(summary.name)")
            }
            guard summary.state == "running", !hidden.contains(summary.id),
                let containerPort = summary.labels[ManagedLabels.port].flatMap({ Int($0) }) ?? spec?.port
            else { continue }
            let bindings = summary.ports.filter { $0.privatePort == containerPort && $0.type == "tcp" && $0.publicPort != nil }
            guard let binding = bindings.first(where: { !($0.ip ?? "").contains(":") }) ?? bindings.first,
                let hostPort = binding.publicPort
            else { continue }
            let bindingIP = binding.ip.flatMap { ["", "0.0.0.0", "::"].contains($0) ? nil : $0 }
            guard let hostIP = configuration.hostIP ?? bindingIP else {
                if reportedHostIPProblems.insert(app).inserted {
                    logger.error(
                        "cannot register \(app): Docker publishes its ports on all addresses, so the host IP is not known; start the agent with --host-ip IP or --host-interface NAME",
                        metadata: ["app": "\(app)"])
                }
                continue
            }
            guard let value = RegisteredAddress.value(hostIP: hostIP, hostPort: hostPort) else {
                if reportedHostIPProblems.insert(app).inserted {
                    logger.error(
                        "cannot register \(app): \(hostIP) port \(hostPort) is not an IP address and port",
                        metadata: ["app": "\(app)"])
                }
                continue
            }
            view.registrations.append(Registration(
                containerID: summary.id, app: app, key: key, value: value,
                target: ProbeTarget(
                    containerID: summary.id, host: bindingIP ?? "127.0.0.1", port: hostPort,
                    healthPath: spec?.health?.http)))
        }
        return view
    }

    /// Tells the registry what to announce, and publishes the agent's record.
    func publish(_ view: RegistrationView, ready: Set<String>, observed: [ObservedContainer], plan: Plan, apps specs: [AppSpec]) async {
        guard let registry else { return }
        let announced = view.registrations.filter { ready.contains($0.containerID) }
        keysByContainer.withLock { keys in
            keys = Dictionary(announced.map { ($0.containerID, $0.key) }, uniquingKeysWith: { first, _ in first })
        }
        var apps: [String: AgentRecord.AppStatus] = [:]
        for spec in specs {
            apps[spec.name] = AgentRecord.AppStatus(
                desired: spec.replicas,
                running: observed.filter { $0.app == spec.name && $0.state == .running }.count,
                registered: announced.filter { $0.app == spec.name }.count,
                backingOffUntil: plan.backingOff[spec.name]?.timeIntervalSince1970,
                prefix: spec.register.prefix ?? AgentConfiguration.defaultPrefix(app: spec.name))
        }
        let record = AgentRecord(
            agent: configuration.agentID, hostIP: configuration.hostIP ?? "", version: HECDVersion.current,
            startedAt: startedAt.timeIntervalSince1970, lease: 0, apps: apps)
        await registry.update(
            desired: Dictionary(announced.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first }),
            owned: view.owned, prefixes: view.prefixes, record: record)
    }
}

extension Agent {
    /// While a pass creates containers (50 take seconds, 8 at a time), announces each one as soon as it is
    /// ready rather than after the last create: woken by `start` events and readiness changes, until cancelled.
    /// The agent record keeps the pass's counts until the next pass.
    func registerWhileCreating(specs: [String: AppSpec], observed: [ObservedContainer], plan: Plan) async {
        guard let prober, registry != nil else { return }
        var reportedHostIPProblems: Set<String> = []
        let apps = Array(specs.values)
        while !Task.isCancelled {
            await registrationRefresh.wait()
            guard !Task.isCancelled,
                let containers = try? await engine.listContainers(labels: ManagedLabels.filter(agentID: configuration.agentID))
            else { continue }
            // Containers being retired or reported dead stay out, as in a pass.
            let hidden = inFlight.withLock { $0 }.union(diedByEvent.withLock { Set($0.keys) })
            let view = registrationView(containers, specs: specs, hidden: hidden, reportedHostIPProblems: &reportedHostIPProblems)
            let ready = prober.update(view.registrations.map(\.target))
            guard !Task.isCancelled else { return }
            await publish(view, ready: ready, observed: observed, plan: plan, apps: apps)
        }
    }
}
