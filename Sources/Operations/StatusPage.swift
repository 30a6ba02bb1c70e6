import Cluster
import Registry

/// The page at `/` of the operations listener: plain HTML with its styles inline, no script and no external
/// asset, refreshed every 5 s by `<meta http-equiv="refresh">`, readable on a phone.
enum StatusPage {
    static func html(title: String, body: String, generatedAt: Double) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta http-equiv="refresh" content="5">
        <title>\(htmlEscaped(title))</title>
        <style>
        body { font: 15px/1.4 system-ui, sans-serif; margin: 1em; color: #111; background: #fff; max-width: 60em; }
        h1 { font-size: 1.3em; } h2 { font-size: 1.1em; }
        table { border-collapse: collapse; width: 100%; }
        div.table { overflow-x: auto; }
        th, td { text-align: left; padding: .3em .35em; border-bottom: 1px solid #ddd; }
        @media (max-width: 30em) { body { margin: .5em; font-size: 14px; } }
        td.desired, td.running, td.ready, td.registered { text-align: right; font-variant-numeric: tabular-nums; }
        tr.problem, p.problem, ul.problems { color: #a00; }
        p.ok { color: #070; }
        footer { margin-top: 1em; color: #555; font-size: .9em; }
        @media (prefers-color-scheme: dark) { body { color: #eee; background: #111; } th, td { border-color: #333; }
          tr.problem, p.problem, ul.problems { color: #f77; } p.ok { color: #7d7; } footer { color: #aaa; } }
        </style>
        </head>
        <body>
        <h1>\(htmlEscaped(title))</h1>
        \(body)<footer>Generated \(utcTimestamp(generatedAt)); refreshes every 5 s. \
        Also here: <a href="/metrics">/metrics</a>, <a href="/healthz">/healthz</a>, <a href="/readyz">/readyz</a>.</footer>
        </body>
        </html>

        """
    }

    /// Every app on every host, as `hecd status` shows them, with the problems it flags; in cluster mode also
    /// the scheduler's leader and candidates, and the slots of each app on each host.
    static func clusterHTML(_ view: ClusterStatus, at seconds: Double) -> String {
        var html = clusterHTML(view.report, at: seconds)
        guard let snapshot = view.snapshot, !snapshot.candidates.isEmpty || !snapshot.slots.isEmpty else { return html }
        html += "<h2>Cluster mode</h2>\n<p id=\"leader\">Scheduler: "
        html += snapshot.leader.map { "<strong>\(htmlEscaped($0))</strong> leads" } ?? "<span class=\"problem\">no leader</span>"
        let others = snapshot.candidates.dropFirst().map(\.id)
        if !others.isEmpty { html += "; also candidates: " + htmlEscaped(others.joined(separator: ", ")) }
        html += ".</p>\n"
        if !snapshot.drained.isEmpty {
            html += "<p>Drained (take no slots): \(htmlEscaped(snapshot.drained.sorted().joined(separator: ", "))).</p>\n"
        }
        var byAppHost: [String: [Int]] = [:]
        for slot in snapshot.slots { byAppHost["\(slot.app)\u{0}\(slot.host)", default: []].append(slot.slot) }
        html += "<div class=\"table\"><table id=\"slots\">\n<thead><tr><th scope=\"col\">App</th><th scope=\"col\">Host</th><th scope=\"col\">Slots</th><th scope=\"col\">Host state</th></tr></thead>\n<tbody>\n"
        for (key, slots) in byAppHost.sorted(by: { $0.key < $1.key }) {
            let parts = key.split(separator: "\u{0}", maxSplits: 1).map(String.init)
            let app = parts.first ?? ""
            let host = parts.count > 1 ? parts[1] : ""
            let state = snapshot.hosts[host] == nil ? "not live" : snapshot.drained.contains(host) ? "drained" : "live"
            html += "<tr class=\"\(state == "live" ? "ok" : "problem")\"><th scope=\"row\">\(htmlEscaped(app))</th>"
            html += "<td>\(htmlEscaped(host))</td><td class=\"slots\">\(slots.sorted().map(String.init).joined(separator: ", "))</td><td>\(state)</td></tr>\n"
        }
        return html + "</tbody>\n</table></div>\n"
    }

    /// Every app on every host, as `hecd status` shows them, with the problems it flags.
    static func clusterHTML(_ report: StatusReport, at seconds: Double) -> String {
        var html = "<h2>Cluster</h2>\n<p>From etcd at \(utcTimestamp(seconds)): every agent's record and the registered keys.</p>\n"
        html += "<div class=\"table\"><table id=\"cluster\">\n<thead><tr><th scope=\"col\">App</th><th scope=\"col\">Host</th><th scope=\"col\">Desired</th><th scope=\"col\">Running</th><th scope=\"col\">Registered</th><th scope=\"col\">Problems</th></tr></thead>\n<tbody>\n"
        for row in report.rows {
            let host = row.hostIP.isEmpty ? row.agent : "\(row.agent) (\(row.hostIP))"
            html += "<tr class=\"\(row.problems.isEmpty ? "ok" : "problem")\"><th scope=\"row\">\(htmlEscaped(row.app))</th>"
            html += "<td>\(htmlEscaped(host))</td><td class=\"desired\">\(row.desired)</td><td class=\"running\">\(row.running)</td>"
            html += "<td class=\"registered\">\(row.registered)</td>"
            html += "<td>\(row.problems.isEmpty ? "none" : htmlEscaped(row.problems.joined(separator: "; ")))</td></tr>\n"
        }
        html += "</tbody>\n</table></div>\n"
        if !report.problems.isEmpty {
            html += "<ul class=\"problems\">" + report.problems.map { "<li>\(htmlEscaped($0))</li>" }.joined() + "</ul>\n"
        }
        return html
    }
}
