import Cluster
import DockerEngine
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
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

extension Agent {
    /// The candidates for announcement among `containers`, decided by `Announcements` (Registry); problems are
    /// logged once per app.
    func announcementCandidates(
        _ containers: [ContainerSummary], specs: [String: AppSpec], hidden: Set<String>,
        reportedHostIPProblems: inout Set<String>
    ) -> Candidates {
        let input = AnnouncementInput(
            containers: containers.compactMap { summary in
                guard let app = summary.labels[ManagedLabels.app] else { return nil }
                return AnnouncementInput.Container(
                    id: summary.id, name: summary.name, app: app, running: summary.state == "running",
                    hidden: hidden.contains(summary.id), labelledPrefix: summary.labels[ManagedLabels.prefix],
                    labelledPort: summary.labels[ManagedLabels.port].flatMap { Int($0) },
                    labelledRegistrations: ManagedLabels.registeredPorts(summary.labels[ManagedLabels.registered]).map {
                        AnnouncementInput.PortPrefix(port: $0.port, prefix: $0.prefix)
                    },
                    bindings: summary.ports.filter { $0.type == "tcp" }.map {
                        AnnouncementInput.Binding(containerPort: $0.privatePort, hostIP: $0.ip, hostPort: $0.publicPort)
                    },
                    dockerHealth: summary.health,
                    hostNetwork: specs[app]?.options.network == "host")
            },
            apps: specs.mapValues { spec in
                AnnouncementInput.App(
                    prefix: spec.register.prefix, port: spec.port, healthPath: spec.health?.http,
                    healthTCPPort: spec.health?.tcpPort, hasHealthCheck: spec.health != nil,
                    registrations: spec.register.ports.map { AnnouncementInput.PortPrefix(port: $0.port, prefix: $0.prefix) })
            },
            hostIP: configuration.hostIP)
        let candidates = Announcements.candidates(input)
        for (app, problem) in candidates.problems.sorted(by: { $0.key < $1.key })
        where reportedHostIPProblems.insert(app).inserted {
            logger.error("cannot register \(app): \(problem)", metadata: ["app": "\(app)"])
        }
        return candidates
    }

    /// Probes the candidates (one check per container, whatever its number of keys; none for those that
    /// Docker's HEALTHCHECK decides) and returns what to announce.
    func decideAnnouncement(_ candidates: Candidates, prober: ReadinessProber, specs: [String: AppSpec]) -> Announcement {
        var seen: Set<String> = []
        let targets = candidates.candidates.compactMap { candidate -> ProbeTarget? in
            guard candidate.dockerHealthy == nil, seen.insert(candidate.containerID).inserted else { return nil }
            let health = specs[candidate.app]?.health
            return ProbeTarget(
                containerID: candidate.containerID, host: candidate.probeHost, port: candidate.probePort,
                healthPath: candidate.healthPath, interval: health?.interval, timeout: health?.timeout,
                retries: health?.retries, startPeriod: health?.startPeriod)
        }
        return Announcements.announcement(candidates, ready: prober.update(targets))
    }

    /// Tells the registry what to announce, and publishes the agent's record.
    func publish(
        _ announcement: Announcement, containers: [ContainerSummary], observed: [ObservedContainer], plan: Plan,
        apps specs: [AppSpec]
    ) async {
        guard let registry else { return }
        keysByContainer.withLock { $0 = announcement.keysByContainer }
        var registeredBySpec: [String: [String: Int]] = [:]
        var runningIncludingStopping: [String: Int] = [:]
        var counted: Set<String> = []
        for summary in containers where counted.insert(summary.id).inserted {
            guard let app = summary.labels[ManagedLabels.app] else { continue }
            if summary.state == "running" { runningIncludingStopping[app, default: 0] += 1 }
            if announcement.keysByContainer[summary.id] != nil, let hash = summary.labels[ManagedLabels.spec] {
                registeredBySpec[app, default: [:]][hash, default: 0] += 1
            }
        }
        var apps: [String: AgentRecord.AppStatus] = [:]
        for spec in specs {
            apps[spec.name] = AgentRecord.AppStatus(
                desired: spec.replicas,
                running: observed.filter { $0.app == spec.name && $0.state == .running }.count,
                registered: announcement.announcedPerApp[spec.name] ?? 0,
                backingOffUntil: plan.backingOff[spec.name]?.timeIntervalSince1970,
                prefix: spec.register.prefix ?? Announcements.defaultPrefix(app: spec.name),
                registeredBySpec: registeredBySpec[spec.name] ?? [:],
                runningIncludingStopping: runningIncludingStopping[spec.name] ?? 0)
        }
        let record = AgentRecord(
            agent: configuration.agentID, hostIP: configuration.hostIP ?? "", version: HECDVersion.current,
            startedAt: startedAt.timeIntervalSince1970, lease: 0, apps: apps)
        // Cluster mode: the host record and the scheduler candidacy hang on the same lease as the containers' keys.
        let held = cluster?.heldKeys ?? [:]
        var prefixes = announcement.prefixes
        if let keys = cluster?.settings.keys { prefixes.formUnion([String(keys.hosts.dropLast()), String(keys.leader.dropLast())]) }
        await registry.update(
            desired: announcement.hold.merging(held) { container, _ in container },
            owned: announcement.owned.union(held.keys), prefixes: prefixes, record: record)
    }
}

extension Agent {
    /// While a pass creates containers (50 take seconds, 8 at a time), announces each one as soon as it is
    /// ready rather than after the last create: woken by `start` events and readiness changes, until cancelled.
    /// The agent record keeps the pass's counts until the next pass.
    func registerWhileCreating(
        specs: [String: AppSpec], listed: [ContainerSummary], observed: [ObservedContainer], plan: Plan,
        hiddenApps: Set<String> = []
    ) async {
        guard let prober, registry != nil else { return }
        var reportedHostIPProblems: Set<String> = []
        let apps = Array(specs.values)
        while !Task.isCancelled {
            await registrationRefresh.wait()
            guard !Task.isCancelled else { return }
            // The pass's list and what its creates learned since: no list call per new container.
            let created = createdThisPass.withLock { $0 }
            let containers = listed + created
            // Containers being retired or reported dead stay out, as in a pass.
            let hidden = inFlight.withLock { $0 }.union(diedByEvent.withLock { Set($0.keys) })
                .union(containers.filter { ($0.labels[ManagedLabels.app]).map(hiddenApps.contains) ?? false }.map(\.id))
            let candidates = announcementCandidates(
                containers, specs: specs, hidden: hidden, reportedHostIPProblems: &reportedHostIPProblems)
            let announcement = decideAnnouncement(candidates, prober: prober, specs: specs)
            guard !Task.isCancelled else { return }
            await publish(announcement, containers: containers, observed: observed, plan: plan, apps: apps)
        }
    }
}
