import Foundation
@testable import Operations
import TestSupport
import Testing

/// With etcd, the status page shows every agent's apps and the problems `hecd status` flags, and in cluster mode
/// the scheduler's leader and the slots.
@Suite("ClusterPage", .serialized)
struct ClusterPageTests {
    @Test("hecd render's status page: apps × hosts from etcd with the problems hecd status flags, and cluster mode's leader, candidates, slots and drained hosts")
    func clusterRowsFromEtcd() async throws {
        try await withEtcd { etcd in
            let granted = try await etcd.etcdctl(["lease", "grant", "60"])
            // "lease 694d7a1b2c3d4e5f granted with TTL(60s)"
            let hex = try #require(granted.split(separator: " ").dropFirst().first.map(String.init), "\(granted)")
            let lease = try #require(Int64(hex, radix: 16), "\(granted)")
            let record = """
                {"agent":"host-7","hostIP":"10.0.0.7","version":"0.1.0","startedAt":1,"lease":\(lease),\
                "apps":{"web":{"desired":3,"running":3,"registered":2,"prefix":"/app/web"}}}
                """
            _ = try await etcd.etcdctl(["put", "--lease", hex, "/hecd/agents/host-7", record])
            _ = try await etcd.etcdctl(["put", "--lease", hex, "/app/web/web-aaaaaa", "10.0.0.7:32001"])
            _ = try await etcd.etcdctl(["put", "/app/web/web-orphan", "10.0.0.9:32002"])
            // Cluster mode's keys: two scheduler candidates (the first leads), a live host, slots on it and on a host
            // that is gone, and a drained host.
            _ = try await etcd.etcdctl(["put", "--lease", hex, "/hecd/leader/host-7", "host-7"])
            _ = try await etcd.etcdctl(["put", "/hecd/leader/host-8", "host-8"])
            _ = try await etcd.etcdctl([
                "put", "--lease", hex, "/hecd/hosts/host-7",
                #"{"id":"host-7","hostIP":"10.0.0.7","labels":{},"cpus":2,"memoryBytes":1000000}"#,
            ])
            for slot in [0, 1] { _ = try await etcd.etcdctl(["put", "/hecd/assign/host-7/web/\(slot)", "abc"]) }
            _ = try await etcd.etcdctl(["put", "/hecd/assign/host-9/web/2", "abc"])
            _ = try await etcd.etcdctl(["put", "/hecd/drained/host-8", ""])

            let folder = NSTemporaryDirectory() + "hecd-cluster-\(UUID().uuidString.prefix(8))"
            defer { try? FileManager.default.removeItem(atPath: folder) }
            try FileManager.default.createDirectory(atPath: folder + "/confd/conf.d", withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: folder + "/confd/templates", withIntermediateDirectories: true)
            try "[template]\nsrc = \"a.tmpl\"\ndest = \"\(folder)/a.txt\"\nkeys = [\"/app/web\"]\n".write(
                toFile: folder + "/confd/conf.d/a.toml", atomically: true, encoding: .utf8)
            try "{{range gets \"/app/web/*\"}}{{.Value}}\n{{end}}".write(
                toFile: folder + "/confd/templates/a.tmpl", atomically: true, encoding: .utf8)
            let port = freePort()
            let render = try Daemon(
                hecdBinaryPath(),
                ["render", "--confdir", folder + "/confd", "--etcd", etcd.clientURL, "--metrics-addr", "127.0.0.1:\(port)"],
                logFile: folder + "/render.log")
            var page = ""
            let shown = await eventually(within: 15) {
                page = await ProxyProbe(port: port).get("/")?.body ?? ""
                return page.contains("<table id=\"cluster\">") && page.contains("<table id=\"slots\">")
            }
            let log = render.log
            await render.stop()
            #expect(shown, "no cluster table: \(page)\nlog: \(log)")
            #expect(page.contains("<th scope=\"row\">web</th><td>host-7 (10.0.0.7)</td><td class=\"desired\">3</td><td class=\"running\">3</td><td class=\"registered\">2</td><td>1 running but not registered</td>"), "\(page)")
            #expect(page.contains("/app/web/web-orphan = 10.0.0.9:32002 has no live agent behind it"), "\(page)")
            #expect(page.contains("a.toml"), "the renderer's own resource table")
            #expect(page.contains("Scheduler: <strong>host-7</strong> leads; also candidates: host-8."), "\(page)")
            #expect(page.contains("Drained (take no slots): host-8."), "\(page)")
            #expect(page.contains("<th scope=\"row\">web</th><td>host-7</td><td class=\"slots\">0, 1</td><td>live</td>"), "\(page)")
            #expect(page.contains("<tr class=\"problem\"><th scope=\"row\">web</th><td>host-9</td><td class=\"slots\">2</td><td>not live</td>"), "\(page)")
        }
    }
}
