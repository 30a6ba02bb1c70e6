import ArgumentParser
import Cluster
import Etcd
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import Registry

/// `hecd status`: desired, running and registered counts per app and host, with the problems flagged.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show desired, running and registered containers per app and host, from etcd."
    )

    @OptionGroup(title: "etcd")
    var etcdOptions: EtcdOptions

    @Option(name: .long, help: "Where the agents keep their records.")
    var hecdPrefix: String = "/hecd"

    @Flag(name: .long, help: "Print JSON instead of a table.")
    var json = false

    @Flag(name: .long, help: "Refresh every --interval seconds until interrupted.")
    var watch = false

    @Option(name: .long, help: "Seconds between refreshes with --watch.")
    var interval: Double = 2

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let client = try etcdOptions.requiredClient(environment)
        repeat {
            let report: StatusReport
            do {
                report = try await Self.report(client: client, hecdPrefix: hecdPrefix)
            } catch {
                StandardError.print("cannot read etcd: \(error)")
                throw ExitCode(2)
            }
            if watch { print("\u{1B}[2J\u{1B}[H" + Self.clockTime()) }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
            } else {
                print(report.table, terminator: "")
                // Cluster mode: per app the desired count and its slots per host, the leader, drained hosts, and
                // what cannot be placed.
                if let snapshot = try? await ClusterSnapshot.read(client, keys: ClusterKeys(root: hecdPrefix)),
                   !snapshot.apps.isEmpty || !snapshot.hosts.isEmpty {
                    print("\ncluster\n" + ClusterReport(snapshot).text, terminator: "")
                }
            }
            if !watch, !report.isHealthy { throw ExitCode(1) }
            if watch { try await Task.sleep(for: .seconds(interval)) }
        } while watch
    }

    /// The local time of day, `15:04:05` (ICU-free: `Date.formatted` needs FoundationInternationalization).
    static func clockTime() -> String {
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        var buffer = [CChar](repeating: 0, count: 16)
        let count = strftime(&buffer, buffer.count, "%H:%M:%S", &parts)
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Reads the agents' records, their leases, and the keys under their apps' prefixes.
    static func report(client: EtcdClient, hecdPrefix: String) async throws -> StatusReport {
        var agents: [StatusReport.AgentState] = []
        var prefixes = Set<String>()
        for kv in try await client.range(prefix: hecdPrefix + "/agents/").kvs {
            guard let record = try? JSONDecoder().decode(AgentRecord.self, from: Data(kv.value.utf8)) else { continue }
            let lease = try await client.timeToLive(EtcdLeaseID(record.lease))
            agents.append(StatusReport.AgentState(record: record, leaseRemaining: lease?.ttl, leaseGranted: lease?.grantedTTL))
            for status in record.apps.values { if let prefix = status.prefix { prefixes.insert(prefix) } }
        }
        var keys: [StoredKey] = []
        for prefix in prefixes.sorted() {
            keys += try await client.range(prefix: prefix + "/").kvs.map {
                StoredKey(key: $0.key, value: $0.value, lease: $0.lease?.rawValue ?? 0)
            }
        }
        return StatusReport(agents: agents, keys: keys)
    }
}
