#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Manifests

/// What a cluster agent announces about its host under `hosts/<agent-id>`, on its lease: when the lease
/// goes (the agent or the host died, or lost etcd), the key goes and the host's slots move.
public struct HostRecord: Sendable, Hashable, Codable {
    public var id: String
    public var hostIP: String
    public var labels: [String: String]
    public var cpus: Int
    public var memoryBytes: Int64
    /// What the agent's `--allow-*` flags let manifests do on this host, so the scheduler places an app only
    /// where it would run. Nil in a record of an agent from before policies were published: it admits all.
    public var policy: ManifestPolicy?

    public init(
        id: String, hostIP: String, labels: [String: String], cpus: Int, memoryBytes: Int64, policy: ManifestPolicy? = nil
    ) {
        self.id = id
        self.hostIP = hostIP
        self.labels = labels
        self.cpus = cpus
        self.memoryBytes = memoryBytes
        self.policy = policy
    }

    /// The record as the key's value (sorted keys: the same host always writes the same bytes).
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    public static func decode(_ text: String) -> HostRecord? {
        try? JSONDecoder().decode(HostRecord.self, from: Data(text.utf8))
    }

    /// This machine's CPUs and memory, from the C library and /proc/meminfo.
    public static func localResources() -> (cpus: Int, memoryBytes: Int64) {
        let cpus = ProcessInfo.processInfo.activeProcessorCount
        return (cpus, Int64(ProcessInfo.processInfo.physicalMemory))
    }

    /// Parses `--host-labels zone=a,disk=ssd`; throws a message naming the bad item.
    public static func parseLabels(_ text: String) throws(ClusterError) -> [String: String] {
        var labels: [String: String] = [:]
        for item in text.split(separator: ",") where !item.isEmpty {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, !parts[0].contains(where: \.isWhitespace),
                !parts[1].contains(where: \.isWhitespace)
            else {
                throw ClusterError("--host-labels: '\(item)' is not NAME=VALUE; write e.g. --host-labels zone=a,disk=ssd")
            }
            labels[parts[0]] = parts[1]
        }
        return labels
    }
}

/// A cluster-mode failure with a message that says what to do.
public struct ClusterError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
