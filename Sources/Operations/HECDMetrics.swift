import CoreMetrics
import Glibc
import Prometheus
import Synchronization

/// hecd's metrics: one Prometheus registry, the help text of every family hecd makes, `hecd_build_info`, and the
/// process metrics (`process_cpu_seconds_total`, `process_resident_memory_bytes`, `process_open_fds`, …) read from
/// `/proc` at each scrape.
///
/// hecd's own families are made on swift-prometheus's registry with their HELP text (promtool's lint asks for
/// one, and swift-metrics' factory API has none). `bootstrapMetricsSystem()` points swift-metrics at the same
/// registry, so that a library's `Counter(label:)` ends up in the same output.
public final class HECDMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let started: Double

    /// - Parameter command: `agent` or `render`, a label of `hecd_build_info`.
    public init(command: String, version: String) {
        registry = PrometheusCollectorRegistry()
        started = ProcessMetrics.startTime() ?? 0
        registry.makeGauge(
            name: "hecd_build_info", labels: [("version", version), ("command", command)],
            help: "Always 1; the labels say which hecd runs and as which command."
        ).set(to: 1)
    }

    /// Routes swift-metrics (`Counter(label:)`, `Timer(label:)`, …) to this registry; once per process.
    public func bootstrapMetricsSystem() {
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
    }

    /// The help text of each family hecd makes. A name must always come with the same text (the registry
    /// stops the process otherwise), so they live here, one line each.
    static let help: [String: String] = [
        "hecd_app_replicas": "Containers of an app per state: desired (the manifest), running, ready (answering its check), registered (announced in etcd).",
        "hecd_app_backoff": "1 while an app's replacements are held back because its containers keep failing.",
        "hecd_container_creates_total": "Containers created and started (result=ok) or failed to create or start (result=error), per app.",
        "hecd_container_failures_total": "Containers found dead (exited or killed) and removed to be replaced, per app.",
        "hecd_container_replacements_total": "Containers of an older spec retired by a rolling replacement, per app.",
        "hecd_agent_passes_total": "Reconcile passes, by result (ok, docker_unreachable).",
        "hecd_agent_last_pass_timestamp_seconds": "When the last pass that could list the containers ended (Unix time).",
        "hecd_agent_invalid_manifests": "Manifest files that are invalid now (their apps are kept as they were).",
        "hecd_docker_requests_total": "Docker Engine API calls, by operation and result (ok, error: the engine answered an error, unreachable).",
        "hecd_docker_request_duration_seconds": "Duration of Docker Engine API calls, by operation.",
        "hecd_etcd_requests_total": "etcd requests, by operation and result (ok, error: etcd answered an error, unreachable).",
        "hecd_etcd_request_duration_seconds": "Duration of etcd requests, by operation.",
        "hecd_etcd_lease_keepalive_failures_total": "Lease keepalives that failed or found the lease gone.",
        "hecd_render_renders_total": "Renders of a template resource, by result (updated, unchanged, would_change, check_failed, reload_failed, write_failed, template_failed).",
        "hecd_render_check_failures_total": "Rendered files that check_cmd refused (the old file stayed), per resource.",
        "hecd_render_reloads_total": "Changes brought to the running service, per resource, by method: reload (reload_cmd) or runtime_api (HAProxy changed in place, no reload).",
        "hecd_render_last_success_timestamp_seconds": "When a render of the resource last ended well (Unix time).",
        "hecd_render_watch_events_total": "etcd watch updates seen by the renderer, by result (events, connected, disconnected).",
    ]

    static func helpText(_ name: String) -> String { help[name] ?? name }

    func counter(_ name: String, _ labels: [(String, String)] = []) -> Prometheus.Counter {
        registry.makeCounter(name: name, labels: labels, help: Self.helpText(name))
    }

    func gauge(_ name: String, _ labels: [(String, String)] = []) -> Prometheus.Gauge {
        registry.makeGauge(name: name, labels: labels, help: Self.helpText(name))
    }

    func durations(_ name: String, _ labels: [(String, String)] = []) -> DurationHistogram {
        registry.makeDurationHistogram(
            name: name, labels: labels,
            buckets: [
                .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
                .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500),
                .seconds(5), .seconds(10), .seconds(30),
            ],
            help: Self.helpText(name))
    }

    /// The Prometheus text format: the registry's families, then the process metrics.
    public func exposition() -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        buffer += Array(ProcessMetrics.read(startTime: started).utf8)
        return buffer
    }
}

/// The process metrics Prometheus' own clients export, read from `/proc/self` (Linux).
enum ProcessMetrics {
    /// The text of the process families, with their HELP and TYPE lines.
    static func read(startTime: Double) -> String {
        var text = ""
        func family(_ name: String, _ type: String, _ help: String, _ value: Double?) {
            guard let value else { return }
            text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n\(name) \(format(value))\n"
        }
        let stat = selfStat()
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        family(
            "process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.",
            stat.map { Double($0.userTicks + $0.systemTicks) / max(ticks, 1) })
        family(
            "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
            stat.map { Double($0.residentPages) * Double(sysconf(Int32(_SC_PAGESIZE))) })
        family("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", stat.map { Double($0.virtualBytes) })
        family("process_open_fds", "gauge", "Number of open file descriptors.", openDescriptors().map(Double.init))
        var limit = rlimit()
        family(
            "process_max_fds", "gauge", "Maximum number of open file descriptors.",
            getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 ? Double(limit.rlim_cur) : nil)
        family(
            "process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.",
            startTime > 0 ? startTime : nil)
        return text
    }

    struct Stat {
        var userTicks: Int
        var systemTicks: Int
        var startTicks: Int
        var virtualBytes: Int
        var residentPages: Int
    }

    /// `/proc/self/stat`'s fields after the command name (which may hold spaces and parentheses).
    static func selfStat() -> Stat? {
        guard let text = readSmallFile("/proc/self/stat"), let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state): field N is fields[N - 3].
        func field(_ number: Int) -> Int? { fields.indices.contains(number - 3) ? Int(fields[number - 3]) : nil }
        guard let user = field(14), let system = field(15), let start = field(22), let virtual = field(23),
            let resident = field(24)
        else { return nil }
        return Stat(userTicks: user, systemTicks: system, startTicks: start, virtualBytes: virtual, residentPages: resident)
    }

    /// When the process started, in Unix seconds: boot time (`btime` in `/proc/stat`) plus its start in ticks.
    static func startTime() -> Double? {
        guard let stat = selfStat(), let text = readSmallFile("/proc/stat") else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("btime ") {
            guard let boot = Double(line.dropFirst(6)) else { return nil }
            return boot + Double(stat.startTicks) / max(Double(sysconf(Int32(_SC_CLK_TCK))), 1)
        }
        return nil
    }

    static func openDescriptors() -> Int? {
        guard let directory = opendir("/proc/self/fd") else { return nil }
        defer { closedir(directory) }
        var count = 0
        while let entry = readdir(directory) {
            let first = withUnsafeBytes(of: entry.pointee.d_name) { $0.first ?? 0 }
            if first != UInt8(ascii: ".") { count += 1 }
        }
        return max(0, count - 1)  // the descriptor opendir holds
    }

    /// A number as Prometheus reads it: integers without a fraction.
    static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}

/// The contents of a small file (`/proc` files report size 0, so it reads until the end), or nil.
func readSmallFile(_ path: String, limit: Int = 1 << 20) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while bytes.count < limit {
        let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        if count < 0, errno == EINTR { continue }
        guard count > 0 else { break }
        bytes += buffer[..<count]
    }
    return String(decoding: bytes, as: UTF8.self)
}
