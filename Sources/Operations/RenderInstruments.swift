#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Primitives
import Prometheus
import Render
import Synchronization

/// Turns the renderer's per-resource reports into metrics (renders by result, check failures, reloads against
/// runtime API changes, the last good render), and answers readiness, STATUS= and the status page.
public final class RenderInstruments: OperationsView {
    private let metrics: HECDMetrics
    private let etcd: Reachability
    private let resourceNames: [String]
    private let changed: WakeSignal

    private struct Latest {
        var result: String
        var at: Double
        var lastSuccess: Double?
        var detail: String
    }

    private struct State {
        var latest: [String: Latest] = [:]
        var counters: [String: Prometheus.Counter] = [:]
        var lastSuccess: [String: Prometheus.Gauge] = [:]
    }

    private let state = Mutex(State())

    /// - Parameter resources: the resources' names (`haproxy.toml`), in order.
    public init(metrics: HECDMetrics, resources: [String], etcd: Reachability, changed: WakeSignal) {
        self.metrics = metrics
        self.resourceNames = resources
        self.etcd = etcd
        self.changed = changed
    }

    /// The renderer's observer.
    public func record(_ report: ResourceReport) {
        let name = report.resource.name
        let (result, reload, detail) = Self.classify(report.outcome)
        let now = Date().timeIntervalSince1970
        state.withLock { state in
            func count(_ family: String, _ labels: [(String, String)]) {
                let key = ([family] + labels.map(\.1)).joined(separator: "\u{0}")
                let counter = state.counters[key] ?? metrics.counter(family, labels)
                state.counters[key] = counter
                counter.increment()
            }
            count("hecd_render_renders_total", [("resource", name), ("result", result)])
            if result == "check_failed" { count("hecd_render_check_failures_total", [("resource", name)]) }
            if let reload { count("hecd_render_reloads_total", [("resource", name), ("method", reload)]) }
            var latest = state.latest[name] ?? Latest(result: result, at: now, lastSuccess: nil, detail: detail)
            latest.result = result
            latest.at = now
            latest.detail = detail
            if !report.outcome.isFailure {
                latest.lastSuccess = now
                let gauge = state.lastSuccess[name]
                    ?? metrics.gauge("hecd_render_last_success_timestamp_seconds", [("resource", name)])
                state.lastSuccess[name] = gauge
                gauge.set(to: now)
            }
            state.latest[name] = latest
        }
        changed.signal()
    }

    /// The `result` label, the reload method (nil: the running service was not touched) and a few words.
    static func classify(_ outcome: SyncOutcome) -> (result: String, reload: String?, detail: String) {
        switch outcome {
        case .unchanged: ("unchanged", nil, "up to date")
        case .wouldChange: ("would_change", nil, "would change (--noop)")
        case .updated(_, let reload, _): ("updated", reload == nil ? nil : "reload", reload == nil ? "updated" : "updated and reloaded")
        case .updatedAtRuntime(_, let changes, _, _):
            ("updated", changes.isEmpty ? nil : "runtime_api", "updated through HAProxy's runtime API, no reload")
        case .reloaded: ("updated", "reload", "reloaded (after a failed reload)")
        case .checkFailed: ("check_failed", nil, "check_cmd refused the new file; the old one stays")
        case .reloadFailed: ("reload_failed", nil, "updated, but reload_cmd failed")
        case .writeFailed: ("write_failed", nil, "could not write the file")
        case .renderFailed: ("template_failed", nil, "the template failed")
        }
    }

    public var firstCycleDone: Bool {
        state.withLock { state in resourceNames.allSatisfy { state.latest[$0] != nil } }
    }

    public func notReadyReasons() -> [String] {
        var reasons: [String] = []
        if !firstCycleDone { reasons.append("the first render is not done") }
        if etcd.reachable == false { reasons.append("etcd does not answer: \(etcd.reason)") }
        return reasons
    }

    public func statusLine() -> String {
        let latest = state.withLock { $0.latest }
        guard firstCycleDone else { return "starting: waiting for etcd and the first render" }
        let failing = resourceNames.filter { name in
            guard let result = latest[name]?.result else { return false }
            return !["updated", "unchanged", "would_change"].contains(result)
        }
        var line = "\(resourceNames.count) resource\(resourceNames.count == 1 ? "" : "s"): "
        line += failing.isEmpty ? "all good" : "failing: " + failing.joined(separator: ", ")
        if let at = latest.values.map(\.at).max() { line += "; last render \(utcTimestamp(at))" }
        if etcd.reachable == false { line += "; etcd does not answer" }
        return line
    }

    public func statusHTML() -> String {
        let latest = state.withLock { $0.latest }
        var html = "<h2>Renderer</h2>\n"
        let reasons = notReadyReasons()
        html += reasons.isEmpty
            ? "<p class=\"ok\">Ready.</p>\n"
            : "<ul class=\"problems\">" + reasons.map { "<li>\(htmlEscaped($0))</li>" }.joined() + "</ul>\n"
        html += "<div class=\"table\"><table>\n<thead><tr><th scope=\"col\">Resource</th><th scope=\"col\">Last render</th><th scope=\"col\">Result</th><th scope=\"col\">Last good render</th></tr></thead>\n<tbody>\n"
        for name in resourceNames {
            let entry = latest[name]
            let bad = entry.map { !["updated", "unchanged", "would_change"].contains($0.result) } ?? false
            html += "<tr class=\"\(bad ? "problem" : "ok")\"><th scope=\"row\">\(htmlEscaped(name))</th>"
            html += "<td>\(entry.map { utcTimestamp($0.at) } ?? "not yet")</td>"
            html += "<td>\(htmlEscaped(entry?.detail ?? "not rendered yet"))</td>"
            html += "<td>\(entry?.lastSuccess.map { utcTimestamp($0) } ?? "never")</td></tr>\n"
        }
        return html + "</tbody>\n</table></div>\n"
    }
}
