import Foundation
@testable import Operations
import TestSupport
import Testing

/// A real Prometheus scrapes `hecd agent`'s and `hecd render`'s listeners; its HTTP API must then give the
/// agent's counts, and promtool must accept what both serve.
@Suite("PrometheusScrape", .serialized)
struct PrometheusScrapeTests {
    @Test(
        "Prometheus scrapes the agent and render: hecd_app_replicas per app and state, render and build metrics",
        .enabled(if: PrometheusServer.available, "needs Debian's prometheus package (Deploy/lib.sh's hecd_ensure_packages installs it)"))
    func prometheusScrapesAgentAndRender() async throws {
        try await withEtcd { etcd in
            try await withObservedAgent { agent in
                try agent.write("web", replicas: 3)
                try agent.write("api", replicas: 1)
                agent.start()
                let folder = NSTemporaryDirectory() + "hecd-ops-render-\(UUID().uuidString.prefix(8))"
                try writeResource(in: folder)
                defer { try? FileManager.default.removeItem(atPath: folder) }
                try await etcd.etcdctl(["put", "/wt/one", "1.2.3.4:80"])
                let renderPort = freePort()
                let render = try Daemon(
                    hecdBinaryPath(),
                    ["render", "--confdir", folder + "/confd", "--etcd", etcd.clientURL,
                     "--metrics-addr", "127.0.0.1:\(renderPort)", "--log-format", "json"],
                    logFile: folder + "/render.log")
                let prometheus = try PrometheusServer(targets: [
                    "hecd-agent": agent.address, "hecd-render": "127.0.0.1:\(renderPort)",
                ])
                do {
                    try await check(prometheus: prometheus, agent: agent, renderPort: renderPort)
                } catch {
                    print("render log:\n\(render.log)\nprometheus log:\n\(prometheus.log)")
                    await render.stop()
                    await prometheus.destroy()
                    throw error
                }
                await render.stop()
                await prometheus.destroy()
            }
        }
    }

    private func check(prometheus: PrometheusServer, agent: ObservedAgent, renderPort: Int) async throws {
        // Every app × state, as Prometheus stored it from its scrapes.
        func replicas() async throws -> [String: String] {
            var byKey: [String: String] = [:]
            for sample in try await prometheus.query("hecd_app_replicas") {
                byKey["\(sample.labels["app"] ?? "?")/\(sample.labels["state"] ?? "?")"] = sample.value
            }
            return byKey
        }
        var expected = [
            "web/desired": "3", "web/running": "3", "web/ready": "3", "web/registered": "3",
            "api/desired": "1", "api/running": "1", "api/ready": "1", "api/registered": "1",
        ]
        var last: [String: String] = [:]
        let first = try await eventually(within: 20) {
            last = try await replicas()
            return last == expected
        }
        #expect(first, "hecd_app_replicas in Prometheus: \(last)")

        // A scale-up shows in the next scrapes.
        try agent.write("web", replicas: 5)
        for state in ["desired", "running", "ready", "registered"] { expected["web/\(state)"] = "5" }
        let scaled = try await eventually(within: 20) {
            last = try await replicas()
            return last == expected
        }
        #expect(scaled, "after web 3 → 5, hecd_app_replicas in Prometheus: \(last)")

        let up = try await prometheus.query("up")
        #expect(Set(up.map { "\($0.labels["job"] ?? "")=\($0.value)" }) == ["hecd-agent=1", "hecd-render=1"])
        let builds = try await prometheus.query("hecd_build_info")
        #expect(Set(builds.compactMap { $0.labels["command"] }) == ["agent", "render"])
        var renders: [(labels: [String: String], value: String)] = []
        let rendered = try await eventually(within: 10) {
            renders = try await prometheus.query("hecd_render_renders_total{resource=\"app.toml\",result=\"updated\"}")
            return renders.first?.value == "1"
        }
        #expect(rendered, "hecd_render_renders_total: \(renders)")
        let memory = try await prometheus.query("process_resident_memory_bytes")
        #expect(memory.count == 2 && memory.allSatisfy { (Double($0.value) ?? 0) > 1_000_000 }, "\(memory)")
        let etcdRequests = try await prometheus.query("hecd_etcd_requests_total{job=\"hecd-agent\",operation=\"lease_keepalive\"}")
        #expect(etcdRequests.isEmpty || etcdRequests.allSatisfy { $0.labels["result"] == "ok" })

        // What both serve passes promtool's checks and lint.
        for (name, port) in [("agent", agent.port), ("render", renderPort)] {
            let page = try #require(await ProxyProbe(port: port).get("/metrics"))
            #expect(page.status == 200)
            #expect(!page.body.contains("=\"web-") && !page.body.contains("=\"api-"), "no container names in labels")
            let lint = try await promtoolCheck(page.body)
            #expect(lint.status == 0, "promtool check metrics on \(name)'s /metrics: \(lint.output)")
        }
    }

    /// A confd folder with one resource that writes `/wt/*` keys to a file in `folder`.
    private func writeResource(in folder: String) throws {
        let manager = FileManager.default
        try manager.createDirectory(atPath: folder + "/confd/conf.d", withIntermediateDirectories: true)
        try manager.createDirectory(atPath: folder + "/confd/templates", withIntermediateDirectories: true)
        try """
            [template]
            src = "app.tmpl"
            dest = "\(folder)/app.txt"
            keys = ["/wt"]
            """.write(toFile: folder + "/confd/conf.d/app.toml", atomically: true, encoding: .utf8)
        try "{{range gets \"/wt/*\"}}{{.Key}} {{.Value}}\n{{end}}".write(
            toFile: folder + "/confd/templates/app.tmpl", atomically: true, encoding: .utf8)
    }
}
