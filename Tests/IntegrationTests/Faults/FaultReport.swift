import Foundation
import HTTPTransport
import TestSupport

/// A client that keeps sending requests through the proxy, each on a new connection, and remembers when each
/// failed: a user of the apps, while the faults happen.
actor ClientLoop {
    struct Failure: Sendable {
        /// When it was sent, and when it failed.
        var sent: ContinuousClock.Instant
        var failed: ContinuousClock.Instant
        var reason: String
    }

    let probe: ProxyProbe
    let pause: Duration
    private(set) var sent = 0
    private(set) var failures: [Failure] = []
    private var loop: Task<Void, Never>?

    init(proxyPort: Int, pause: Duration = .milliseconds(20)) {
        probe = ProxyProbe(port: proxyPort)
        self.pause = pause
    }

    func start() {
        loop = Task {
            while !Task.isCancelled {
                let sentAt = ContinuousClock.now
                let answer = await probe.get()
                // The request in flight when the loop is stopped is cancelled, not failed.
                if Task.isCancelled { break }
                record(sentAt, answer)
                try? await Task.sleep(for: pause)
            }
        }
    }

    private func record(_ sentAt: ContinuousClock.Instant, _ answer: (status: Int, body: String)?) {
        sent += 1
        if let answer, answer.status == 200, answer.body.hasPrefix("hello from ") { return }
        failures.append(Failure(sent: sentAt, failed: .now, reason: answer.map { "HTTP \($0.status)" } ?? "no answer"))
    }

    func stop() async {
        loop?.cancel()
        await loop?.value
        loop = nil
    }
}

/// One row of the fault table: what a scenario did and what the checker saw.
struct FaultRow: Sendable {
    var scenario: String
    var duration: Duration
    var faults: [String]
    var requests: Int
    /// Failed requests put down to a fault that killed what served them.
    var failedAttributed: Int
    /// Failed requests no fault explains.
    var failedFlagged: Int
    var longestStale: Duration
    var duplicates: Int
    var keysLost: Int
    /// During the outage, when the scenario has one: the agent's CPU (share of one core) and log lines a minute.
    var outageCPU: Double?
    var outageLogLinesPerMinute: Double?
    var violations: [String]

    static let header = """
        | scenario | duration | faults | requests | failed (by a fault / flagged) | longest stale key | duplicates | keys lost | agent in outage |
        |---|---|---|---|---|---|---|---|---|
        """

    var markdown: String {
        let outage = outageCPU.map { cpu in
            String(format: "%.2f%% CPU, %.0f log lines/min", cpu * 100, outageLogLinesPerMinute ?? 0)
        } ?? "–"
        return "| \(scenario) | \(String(format: "%.0f s", duration.seconds)) | \(faults.joined(separator: "; ")) | \(requests) | "
            + "\(failedAttributed + failedFlagged) (\(failedAttributed) / \(failedFlagged)) | "
            + "\(String(format: "%.1f s", longestStale.seconds)) | \(duplicates) | \(keysLost) | \(outage) |"
    }

    /// Appends the row to the table file (`HECD_FAULT_REPORT`, default /tmp/hecd-faults.md) and prints it.
    func publish() {
        let path = ProcessInfo.processInfo.environment["HECD_FAULT_REPORT"] ?? NSTemporaryDirectory() + "hecd-faults.md"
        if !FileManager.default.fileExists(atPath: path) {
            FileManager.default.createFile(atPath: path, contents: Data((Self.header + "\n").utf8))
        }
        if let handle = FileHandle(forWritingAtPath: path) {
            handle.seekToEndOfFile()
            handle.write(Data((markdown + "\n").utf8))
            try? handle.close()
        }
        print("fault row: \(markdown)")
        for violation in violations { print("fault row \(scenario): \(violation)") }
    }
}

/// How long the scenarios' faults last: `HECD_FAULT_SCALE=full` gives the issue's durations (an etcd down for
/// 60 s, quorum lost for 30 s, stops of 30 s); the default is a short version of each, for every CI run.
enum FaultScale {
    static let full = ProcessInfo.processInfo.environment["HECD_FAULT_SCALE"] == "full"

    static func outage(full long: Duration, short: Duration) -> Duration { full ? long : short }
}

/// The CPU time (user + system) a process has used so far, from /proc.
func cpuTime(of pid: Int32) -> Duration? {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return nil }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    // After the command: state is field 3, utime 14 and stime 15 (1-based, in clock ticks).
    guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
    let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
    return .milliseconds(Int64((user + system) / ticks * 1000))
}
