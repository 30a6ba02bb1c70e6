import DockerEngine
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Manifests
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
    /// On containers of cluster apps (`hecd apply`), which follow the host's slots rather than a local manifest.
    public static let cluster = "io.hecd.cluster"
    /// With several registered ports: `PORT=PREFIX,PORT=PREFIX` (the first one also in `port` and `prefix`).
    public static let registered = "io.hecd.register"

    /// The `registered` label's value.
    static func registeredLabel(_ ports: [RegisteredPort], defaultPort: Int) -> String {
        ports.map { "\($0.port ?? defaultPort)=\($0.prefix ?? "")" }.joined(separator: ",")
    }

    /// Reads the `registered` label back: port → prefix (empty when the app's default).
    static func registeredPorts(_ label: String?) -> [(port: Int, prefix: String?)] {
        guard let label else { return [] }
        return label.split(separator: ",").compactMap { item in
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, let port = Int(parts[0]) else { return nil }
            return (port, parts[1].isEmpty ? nil : String(parts[1]))
        }
    }

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
