import DockerEngine
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Reconciler

/// The labels by which an agent knows its own containers. A container without them is never touched.
public enum ManagedLabels {
    public static let agent = "io.hecd.agent"
    public static let app = "io.hecd.app"
    public static let spec = "io.hecd.spec"
    /// The container port that is published and registered.
    public static let port = "io.hecd.port"
    /// The registry prefix the container was created under.
    public static let prefix = "io.hecd.prefix"

    /// The list filter that selects one agent's containers.
    public static func filter(agentID: String) -> [String] {
        ["\(agent)=\(agentID)"]
    }

    /// The reconciler's view of a listed container, or nil when it lacks the agent's labels.
    static func observed(_ summary: ContainerSummary, details: ContainerDetails?) -> ObservedContainer? {
        guard let app = summary.labels[app], let spec = summary.labels[spec],
            let state = ContainerState(rawValue: summary.state)
        else { return nil }
        return ObservedContainer(
            id: summary.id, name: summary.name, app: app, specHash: spec, state: state,
            createdAt: Date(timeIntervalSince1970: TimeInterval(summary.created)),
            startedAt: details?.state.startedAt, finishedAt: details?.state.finishedAt,
            ready: state == .running)
    }
}
