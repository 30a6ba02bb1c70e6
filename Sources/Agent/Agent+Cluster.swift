import Cluster
import DockerEngine
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Etcd
import Logging
import Manifests
import Reconciler

/// How an agent takes part in cluster mode (`hecd agent --cluster`).
public struct ClusterSettings: Sendable {
    public var keys: ClusterKeys
    /// `--host-labels zone=a,disk=ssd`.
    public var hostLabels: [String: String]
    /// Campaign for scheduler leadership (`--no-schedule` turns it off).
    public var schedule: Bool
    /// How long a dead host's slots wait before they move (`--failover-delay`, default 0).
    public var failoverDelay: Duration

    public init(keys: ClusterKeys = ClusterKeys(), hostLabels: [String: String] = [:], schedule: Bool = true, failoverDelay: Duration = .zero) {
        self.keys = keys
        self.hostLabels = hostLabels
        self.schedule = schedule
        self.failoverDelay = failoverDelay
    }
}

/// The agent's cluster parts: its slots (watched), its host record and candidacy (registry keys on its lease),
/// and, when it may schedule, the scheduler.
struct ClusterMember: Sendable {
    let settings: ClusterSettings
    let assignments: ClusterAssignments
    let scheduler: SchedulerService?
    /// `hosts/<id>` and `leader/<id>`, held on the agent's lease with its container keys.
    let heldKeys: [String: String]
}

extension Agent {
    /// The desired state with the cluster's apps for this host merged in, and the apps whose containers must not
    /// be announced now:
    /// - before the first read of the cluster, containers of cluster apps are left alone and not announced;
    /// - while etcd is lost, the last view holds (containers keep running, or stop with `on_partition: stop`)
    ///   and nothing of the cluster's is announced: the host's keys expire and its slots move elsewhere;
    /// - with a fresh view, each app runs as many containers as it has slots here, and containers of apps with no
    ///   slot here are retired without being announced.
    func mergeCluster(
        _ local: DesiredState, containers: [ContainerSummary], state: inout PassState
    ) -> (desired: DesiredState, hiddenApps: Set<String>, justRefreshed: Bool) {
        guard let cluster else { return (local, [], false) }
        let clusterContainerApps = Set(containers.compactMap { summary in
            summary.labels[ManagedLabels.cluster] != nil ? summary.labels[ManagedLabels.app] : nil
        })
        var desired = local
        let localNames = Set(local.apps.map(\.name))
        guard let view = cluster.assignments.view else {
            desired.untouchable.formUnion(clusterContainerApps.subtracting(localNames))
            state.clusterWasFresh = false
            return (desired, clusterContainerApps.subtracting(localNames), false)
        }
        var apps = view.apps.filter { !localNames.contains($0.name) }
        for clash in view.apps.map(\.name) where localNames.contains(clash) && state.reportedClusterClashes.insert(clash).inserted {
            logger.error("cluster: \(clash) is both a local manifest and a cluster app; this host runs the local one only", metadata: ["app": "\(clash)"])
        }
        if view.stale {
            apps = apps.map { spec in
                var spec = spec
                if spec.placement.onPartition == .stop { spec.replicas = 0 }
                return spec
            }
        }
        desired.apps += apps
        for app in apps { desired.outdatedAllowed[app.name] = view.outdatedSlots[app.name] }
        desired.untouchable.formUnion(view.untouchable.subtracting(localNames))
        let clusterApps = clusterContainerApps.union(view.apps.map(\.name)).subtracting(localNames)
        let justRefreshed = !view.stale && !state.clusterWasFresh
        state.clusterWasFresh = !view.stale
        let hidden = view.stale ? clusterApps : clusterApps.subtracting(apps.map(\.name))
        return (desired, hidden, justRefreshed)
    }

    /// Whether `spec` is one of the cluster's apps on this host (its containers carry the cluster label).
    func isClusterApp(_ spec: AppSpec) -> Bool {
        guard let view = cluster?.assignments.view else { return false }
        return view.slots[spec.name] != nil
    }

    static func makeClusterMember(
        settings: ClusterSettings, client: EtcdClient, agentID: String, hostIP: String?, policy: ManifestPolicy,
        logger: Logger, onChange: @escaping @Sendable () -> Void
    ) -> ClusterMember {
        let resources = HostRecord.localResources()
        let record = HostRecord(
            id: agentID, hostIP: hostIP ?? "", labels: settings.hostLabels, cpus: resources.cpus, memoryBytes: resources.memoryBytes,
            policy: policy)
        var held = [settings.keys.host(agentID): record.json]
        if settings.schedule { held[settings.keys.leader(agentID)] = agentID }
        return ClusterMember(
            settings: settings,
            assignments: ClusterAssignments(
                client: client, keys: settings.keys, hostID: agentID, policy: policy, logger: logger, onChange: onChange),
            scheduler: settings.schedule
                ? SchedulerService(client: client, keys: settings.keys, agentID: agentID, failoverDelay: settings.failoverDelay, logger: logger)
                : nil,
            heldKeys: held)
    }
}
