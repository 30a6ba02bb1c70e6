#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What `hecd status` shows: one row per app and host, and the problems found, from the agents' records and
/// the registry's keys.
public struct StatusReport: Sendable, Codable, Hashable {
    /// One app on one host.
    public struct Row: Sendable, Codable, Hashable {
        public var app: String
        public var agent: String
        public var hostIP: String
        public var desired: Int
        public var running: Int
        public var registered: Int
        public var problems: [String]
    }

    /// What an agent's record says, with how fresh its lease is.
    public struct AgentState: Sendable, Hashable {
        public var record: AgentRecord
        /// Seconds left on the record's lease, nil when the lease is unknown to etcd.
        public var leaseRemaining: Int?
        public var leaseGranted: Int?

        public init(record: AgentRecord, leaseRemaining: Int?, leaseGranted: Int?) {
            self.record = record
            self.leaseRemaining = leaseRemaining
            self.leaseGranted = leaseGranted
        }
    }

    public var rows: [Row]
    /// Problems that belong to no single row: keys with no live agent behind them, stale agents.
    public var problems: [String]

    public var isHealthy: Bool { problems.isEmpty && rows.allSatisfy(\.problems.isEmpty) }

    /// Builds the report. `keys` are the registry keys under the apps' prefixes, with their leases.
    public init(agents: [AgentState], keys: [StoredKey], now: Date = Date()) {
        var rows: [Row] = []
        var problems: [String] = []
        let liveLeases = Set(agents.filter { ($0.leaseRemaining ?? 0) > 0 }.map(\.record.lease))
        for state in agents.sorted(by: { $0.record.agent < $1.record.agent }) {
            let record = state.record
            var stale: String?
            if let remaining = state.leaseRemaining, let granted = state.leaseGranted, granted > 0 {
                // Keepalives go every TTL/3: under a third left means at least two were missed.
                if remaining * 3 < granted { stale = "agent \(record.agent) missed its keepalives (lease \(remaining) s of \(granted) s left)" }
            } else {
                stale = "agent \(record.agent)'s lease is gone: its record and keys are stale"
            }
            if let stale { problems.append(stale) }
            for (app, status) in record.apps.sorted(by: { $0.key < $1.key }) {
                var rowProblems: [String] = []
                if status.running > status.registered {
                    rowProblems.append("\(status.running - status.registered) running but not registered")
                }
                if status.running < status.desired {
                    rowProblems.append("\(status.desired - status.running) of \(status.desired) not running")
                }
                if let until = status.backingOffUntil, until > now.timeIntervalSince1970 {
                    rowProblems.append("backing off, next try in \(Int((until - now.timeIntervalSince1970).rounded(.up))) s")
                }
                if stale != nil { rowProblems.append("stale agent") }
                rows.append(Row(
                    app: app, agent: record.agent, hostIP: record.hostIP, desired: status.desired,
                    running: status.running, registered: status.registered, problems: rowProblems))
            }
        }
        for key in keys.sorted(by: { $0.key < $1.key }) where !liveLeases.contains(key.lease) {
            problems.append("\(key.key) = \(key.value) has no live agent behind it" + (key.lease == 0 ? " (no lease: written by hand?)" : ""))
        }
        self.rows = rows.sorted { ($0.app, $0.agent) < ($1.app, $1.agent) }
        self.problems = problems
    }

    /// A plain-text table, one line per app and host, then the problems.
    public var table: String {
        let header = ["APP", "AGENT", "HOST IP", "DESIRED", "RUNNING", "REGISTERED", "PROBLEMS"]
        let lines = rows.map {
            [$0.app, $0.agent, $0.hostIP.isEmpty ? "-" : $0.hostIP, String($0.desired), String($0.running),
             String($0.registered), $0.problems.isEmpty ? "ok" : $0.problems.joined(separator: "; ")]
        }
        let all = [header] + lines
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        var text = all.map { line in
            line.enumerated().map { index, cell in
                index == line.count - 1 ? cell : cell + String(repeating: " ", count: max(0, widths[index] - cell.count))
            }.joined(separator: "  ")
        }.joined(separator: "\n")
        if rows.isEmpty { text += "\n(no agent records: is an agent running with --etcd?)" }
        for problem in problems { text += "\n! " + problem }
        return text + "\n"
    }
}
