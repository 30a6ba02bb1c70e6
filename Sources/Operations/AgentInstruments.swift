import Agent
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Primitives
import Prometheus
import Synchronization

/// Turns the agent's pass reports into metrics (`hecd_app_replicas`, creates, failures, replacements, backoff,
/// the last pass), and answers readiness, systemd's STATUS= line and the status page from the latest report.
public final class AgentInstruments: OperationsView {
    private let metrics: HECDMetrics
    private let docker: Reachability
    /// nil when the agent runs without etcd.
    private let etcd: Reachability?
    private let agentID: String
    private let changed: WakeSignal

    private struct AppGauges {
        var byState: [String: Prometheus.Gauge]
        var backoff: Prometheus.Gauge
    }

    private struct State {
        var last: PassReport?
        var lastGood: PassReport?
        var gauges: [String: AppGauges] = [:]
        var counters: [String: Prometheus.Counter] = [:]
    }

    private let state = Mutex(State())
    private let passesOK: Prometheus.Counter
    private let passesUnreachable: Prometheus.Counter
    private let lastPass: Prometheus.Gauge
    private let invalidManifests: Prometheus.Gauge

    /// - Parameter changed: signalled after every report (wakes the systemd notifier).
    public init(metrics: HECDMetrics, agentID: String, docker: Reachability, etcd: Reachability?, changed: WakeSignal) {
        self.metrics = metrics
        self.agentID = agentID
        self.docker = docker
        self.etcd = etcd
        self.changed = changed
        passesOK = metrics.counter("hecd_agent_passes_total", [("result", "ok")])
        passesUnreachable = metrics.counter("hecd_agent_passes_total", [("result", "docker_unreachable")])
        lastPass = metrics.gauge("hecd_agent_last_pass_timestamp_seconds")
        invalidManifests = metrics.gauge("hecd_agent_invalid_manifests")
    }

    /// The agent's `PassObserver`.
    public func record(_ report: PassReport) {
        guard report.dockerReachable else {
            passesUnreachable.increment()
            state.withLock { $0.last = report }
            changed.signal()
            return
        }
        passesOK.increment()
        lastPass.set(to: report.at.timeIntervalSince1970)
        invalidManifests.set(to: Double(report.invalidManifests))
        state.withLock { state in
            let names = Set(report.apps.map(\.name))
            for (app, gauges) in state.gauges where !names.contains(app) {
                for gauge in gauges.byState.values { metrics.registry.unregisterGauge(gauge) }
                metrics.registry.unregisterGauge(gauges.backoff)
                state.gauges[app] = nil
            }
            for app in report.apps {
                let gauges = state.gauges[app.name] ?? makeGauges(app.name)
                state.gauges[app.name] = gauges
                gauges.byState["desired"]?.set(to: Double(app.desired))
                gauges.byState["running"]?.set(to: Double(app.running))
                gauges.byState["ready"]?.set(to: Double(app.ready))
                gauges.byState["registered"]?.set(to: Double(app.registered ?? 0))
                gauges.backoff.set(to: app.backingOffUntil == nil ? 0 : 1)
            }
            func add(_ name: String, _ counts: [String: Int], extra: [(String, String)] = []) {
                for (app, count) in counts where count > 0 {
                    let key = ([name, app] + extra.map { $0.1 }).joined(separator: "\u{0}")
                    let counter = state.counters[key] ?? metrics.counter(name, [("app", app)] + extra)
                    state.counters[key] = counter
                    counter.increment(by: Int64(count))
                }
            }
            add("hecd_container_creates_total", report.created, extra: [("result", "ok")])
            add("hecd_container_creates_total", report.createFailures, extra: [("result", "error")])
            add("hecd_container_failures_total", report.failedContainers)
            add("hecd_container_replacements_total", report.replaced)
            state.last = report
            state.lastGood = report
        }
        changed.signal()
    }

    private func makeGauges(_ app: String) -> AppGauges {
        var byState: [String: Prometheus.Gauge] = [:]
        for name in ["desired", "running", "ready", "registered"] where name != "registered" || etcd != nil {
            byState[name] = metrics.gauge("hecd_app_replicas", [("app", app), ("state", name)])
        }
        return AppGauges(byState: byState, backoff: metrics.gauge("hecd_app_backoff", [("app", app)]))
    }

    public var firstCycleDone: Bool { state.withLock { $0.lastGood != nil } }

    public func notReadyReasons() -> [String] {
        var reasons: [String] = []
        if !firstCycleDone { reasons.append("the first full pass is not done") }
        if docker.reachable == false { reasons.append("Docker does not answer: \(docker.reason)") }
        if let etcd, etcd.reachable != true {
            reasons.append(etcd.reachable == nil ? "etcd has not answered yet" : "etcd does not answer: \(etcd.reason)")
        }
        return reasons
    }

    /// `3 apps: 9/9 running, 9 registered; backing off: web` (what `systemctl status` shows).
    public func statusLine() -> String {
        let (last, good) = state.withLock { ($0.last, $0.lastGood) }
        guard let good else { return "starting: the first pass is not done" }
        let desired = good.apps.reduce(0) { $0 + $1.desired }
        let running = good.apps.reduce(0) { $0 + $1.running }
        var line = "\(good.apps.count) app\(good.apps.count == 1 ? "" : "s"): \(running)/\(desired) running"
        if etcd != nil { line += ", \(good.apps.reduce(0) { $0 + ($1.registered ?? 0) }) registered" }
        let backing = good.apps.filter { $0.backingOffUntil != nil }.map(\.name)
        if !backing.isEmpty { line += "; backing off: " + backing.joined(separator: ", ") }
        if good.invalidManifests > 0 { line += "; \(good.invalidManifests) invalid manifest(s)" }
        if last?.dockerReachable == false { line += "; Docker does not answer" }
        if let etcd, etcd.reachable == false { line += "; etcd does not answer" }
        return line
    }

    public func statusHTML() -> String {
        let (last, good) = state.withLock { ($0.last, $0.lastGood) }
        var html = "<h2>Agent \(htmlEscaped(agentID))</h2>\n"
        let reasons = notReadyReasons()
        html += reasons.isEmpty
            ? "<p class=\"ok\">Ready.</p>\n"
            : "<ul class=\"problems\">" + reasons.map { "<li>\(htmlEscaped($0))</li>" }.joined() + "</ul>\n"
        guard let good else { return html + "<p>No pass yet.</p>\n" }
        html += "<p>Last pass: \(utcTimestamp(good.at.timeIntervalSince1970))"
        if last?.dockerReachable == false { html += " (later passes could not reach Docker)" }
        html += "</p>\n"
        html += "<div class=\"table\"><table>\n<thead><tr><th scope=\"col\">App</th><th scope=\"col\">Desired</th><th scope=\"col\">Running</th><th scope=\"col\">Ready</th>"
        if etcd != nil { html += "<th scope=\"col\">Registered</th>" }
        html += "<th scope=\"col\">Problems</th></tr></thead>\n<tbody>\n"
        for app in good.apps.sorted(by: { $0.name < $1.name }) {
            var problems: [String] = []
            if app.running < app.desired { problems.append("\(app.desired - app.running) missing") }
            if app.running > app.desired { problems.append("\(app.running - app.desired) too many") }
            if let registered = app.registered, registered < app.running {
                problems.append("\(app.running - registered) running but not registered")
            }
            if let until = app.backingOffUntil {
                problems.append("backing off until \(utcTimestamp(until.timeIntervalSince1970))")
            }
            html += "<tr class=\"\(problems.isEmpty ? "ok" : "problem")\" id=\"app-\(htmlEscaped(app.name))\">"
            html += "<th scope=\"row\">\(htmlEscaped(app.name))</th><td class=\"desired\">\(app.desired)</td>"
            html += "<td class=\"running\">\(app.running)</td><td class=\"ready\">\(app.ready)</td>"
            if etcd != nil { html += "<td class=\"registered\">\(app.registered ?? 0)</td>" }
            html += "<td>\(problems.isEmpty ? "none" : htmlEscaped(problems.joined(separator: "; ")))</td></tr>\n"
        }
        html += "</tbody>\n</table></div>\n"
        if good.invalidManifests > 0 {
            html += "<p class=\"problem\">\(good.invalidManifests) manifest file(s) invalid: their apps are kept as they were (see the log or <code>hecd validate</code>).</p>\n"
        }
        return html
    }
}
