import Etcd
import Foundation
import Glibc
import HAProxyRuntime
import Logging
import Render
import TestSupport
import Testing
import Primitives

/// The renderer against a real etcd, HAProxy (master-worker), nginx and a busybox httpd backend, with the
/// resources and templates shipped in Deploy/confd.
@Suite(.serialized) struct RenderIntegrationTests {
    static let haproxy = "/usr/sbin/haproxy"
    static let nginx = "/usr/sbin/nginx"
    static let busybox = "/usr/bin/busybox"

    /// A busybox httpd serving `text` at `/` on a free loopback port.
    /// `hecd render` on the shipped HAProxy resource (Deploy/confd/haproxy), writing under `folder/root`, with
    /// HAProxy's listener, stats port, admin socket and pid file in the test's own places.
    static func shippedHAProxyRenderer(
        _ folder: TemporaryFolder, client: EtcdClient, proxyPort: Int, statsPort: Int = freePort(),
        logs: LogRecorder, reports: ReportLog
    ) throws -> ConfigRenderer {
        ConfigRenderer(
            resources: try CompiledResource.load(confdir: Fixtures.deployConfd + "/haproxy"), source: client,
            options: RenderOptions(
                write: WriteSettings(
                    destinationRoot: folder.file("root"), commandTimeout: .seconds(30),
                    commandEnvironment: ["HECD_HAPROXY_PIDFILE": folder.file("haproxy.pid")]),
                environment: [
                    "HECD_HAPROXY_BIND": "127.0.0.1:\(proxyPort)", "HECD_HAPROXY_STATS_PORT": "\(statsPort)",
                    "HECD_HAPROXY_SOCKET": folder.file("haproxy.sock"),
                ]),
            logger: logs.logger, observer: reports.observer)
    }

    func startBackend(_ daemons: DaemonGroup, _ folder: TemporaryFolder, name: String, text: String) async throws -> Int {
        try folder.write("www-\(name)/index.html", text)
        let port = freePort()
        _ = try daemons.start(
            Self.busybox, ["httpd", "-f", "-p", "127.0.0.1:\(port)", "-h", folder.file("www-\(name)")],
            logFile: folder.file("httpd-\(name).log"))
        let probe = ProxyProbe(port: port)
        try await probe.waitUntil(timeout: .seconds(5)) { $0?.body == text }
        return port
    }

    /// The pid of the HAProxy worker that answers on the admin socket (it changes with each reload).
    func workerPid(_ admin: HAProxyAdminSocket) async throws -> String {
        let info = try await admin.run { socket in Result { try socket.execute("show info") } }.get()
        return info.split(separator: "\n").first { $0.hasPrefix("Pid:") }.map(String.init) ?? "no pid in: \(info)"
    }

    @Test func haproxyFollowsEtcdAndNeverLoadsABrokenConfig() async throws {
        try await withTemporaryFolder("render-haproxy") { folder in
            try await withEtcd { etcd in
                try await withDaemons { daemons in
                    let client = EtcdClient(endpoints: [etcd.clientURL])
                    let backendPort = try await startBackend(daemons, folder, name: "a", text: "backend A\n")
                    let proxyPort = freePort()
                    let pidFile = folder.file("haproxy.pid")
                    let destination = folder.file("root/etc/hecd/haproxy.cfg")
                    let logs = LogRecorder()
                    let reports = ReportLog()
                    let renderer = try Self.shippedHAProxyRenderer(
                        folder, client: client, proxyPort: proxyPort, logs: logs, reports: reports)
                    try await whileRunning(renderer) {
                        // The first render comes before HAProxy runs: its reload fails and is owed.
                        try await reports.waitFor(1)
                        #expect(reports.all.first?.outcome.isReloadFailed == true)
                        // As the stack starts it (with files of the test's own).
                        let haproxy = try daemons.start(
                            Self.haproxy, ["-W", "-S", folder.file("master.sock"), "-p", pidFile, "-f", destination],
                            logFile: folder.file("haproxy.log"))
                        let probe = ProxyProbe(port: proxyPort)
                        try await probe.waitUntil { $0?.status == 503 }

                        // A server appears in etcd: HAProxy routes to it. The reload owed since the start
                        // carries it (HAProxy may not run the file of before).
                        try await client.put("/app/servers/web-a", "127.0.0.1:\(backendPort)")
                        let routed = try await probe.waitUntil { $0?.body == "backend A\n" }
                        // The reload command returns once the new worker runs: its report may come just after.
                        try await reports.waitFor(2)
                        guard case .updated(let check?, let reload?, _) = reports.all.last?.outcome else {
                            throw TestFailure("the owed reload did not run: \(String(describing: reports.all.last?.outcome))")
                        }
                        print("etcd put → HAProxy routing, by a reload: \(milliseconds(routed)) (haproxy -c \(milliseconds(check.duration)), reload command \(milliseconds(reload.duration)))")
                        #expect(try String(contentsOfFile: destination, encoding: .utf8)
                            .contains("server web-a 127.0.0.1:\(backendPort) check inter 2s fall 2 rise 1"))
                        let admin = HAProxyAdminSocket(path: folder.file("haproxy.sock"))
                        let worker = try await workerPid(admin)

                        // It goes away, and comes back: the runtime API changes the running HAProxy, which
                        // keeps its worker (no reload).
                        try await client.delete("/app/servers/web-a")
                        let gone = try await probe.waitUntil { $0?.status == 503 }
                        try await reports.waitFor(3)
                        guard case .updatedAtRuntime(let check?, let changes, _, _) = reports.all.last?.outcome else {
                            throw TestFailure("a removed server took no runtime change: \(String(describing: reports.all.last?.outcome))")
                        }
                        #expect(changes == [.remove(backend: "servers", server: "web-a")])
                        print("etcd delete → HAProxy stops routing, by the runtime API: \(milliseconds(gone)) (haproxy -c \(milliseconds(check.duration)))")
                        try await client.put("/app/servers/web-a", "127.0.0.1:\(backendPort)")
                        let back = try await probe.waitUntil { $0?.body == "backend A\n" }
                        try await reports.waitFor(4)
                        guard case .updatedAtRuntime(_, let added, _, _) = reports.all.last?.outcome, added.count == 1 else {
                            throw TestFailure("a new server took no runtime change: \(String(describing: reports.all.last?.outcome))")
                        }
                        print("etcd put → HAProxy routing, by the runtime API: \(milliseconds(back))")
                        #expect(try await workerPid(admin) == worker)
                        #expect(logs.all.contains { $0.message.contains("HAProxy changed at run time") })

                        // A change beyond servers (the stats page's password) needs a reload, and gets one.
                        try await client.put("/hecd/haproxy/stats-auth", "admin:s3cret")
                        try await reports.waitFor(5)
                        guard case .updated(_, _?, let fallback?) = reports.all.last?.outcome else {
                            throw TestFailure("a change beyond servers was not reloaded: \(String(describing: reports.all.last?.outcome))")
                        }
                        #expect(fallback.contains("listen stats changed beyond its servers"))
                        try await client.delete("/hecd/haproxy/stats-auth")
                        try await reports.waitFor(6)
                        #expect(try await workerPid(admin) != worker)
                        for _ in 0..<5 {
                            #expect(await probe.get()?.body == "backend A\n")
                        }

                        // A value that is not host:port: the template leaves it out and says so; HAProxy never sees it.
                        let good = try String(contentsOfFile: destination, encoding: .utf8)
                        let rendersBefore = reports.all.count
                        try await client.put("/app/servers/web-bad", "not an address!!")
                        try await reports.waitFor(rendersBefore + 1)
                        #expect(reports.all.last?.outcome == .unchanged)
                        #expect(try String(contentsOfFile: destination, encoding: .utf8) == good)
                        #expect(logs.all.contains { $0.level == .warning && $0.message.contains(#"key "/app/servers/web-bad" = "not an address!!": the value is not a plain host:port"#) })
                        #expect(folder.stageFiles(in: "root/etc/hecd").isEmpty)
                        for _ in 0..<20 {
                            let answer = await probe.get()
                            #expect(answer?.body == "backend A\n")
                        }
                        #expect(haproxy.isRunning)

                        // Removing the bad key renders the same file as before: nothing to do.
                        try await client.delete("/app/servers/web-bad")
                        try await reports.waitFor(rendersBefore + 2)
                        #expect(reports.all.last?.outcome == .unchanged)
                    }
                }
            }
        }
    }

    @Test func theMultiAppHaproxyRoutesEachAppByHost() async throws {
        try await withTemporaryFolder("render-apps") { folder in
            try await withEtcd { etcd in
                try await withDaemons { daemons in
                    let client = EtcdClient(endpoints: [etcd.clientURL])
                    let webPort = try await startBackend(daemons, folder, name: "web", text: "web\n")
                    let apiPort = try await startBackend(daemons, folder, name: "api", text: "api\n")
                    try await client.put("/app/web/web-1", "127.0.0.1:\(webPort)")
                    let proxyPort = freePort()
                    let pidFile = folder.file("haproxy.pid")
                    let destination = folder.file("root/etc/hecd/haproxy.cfg")
                    let reports = ReportLog()
                    let renderer = ConfigRenderer(
                        resources: try CompiledResource.load(confdir: Fixtures.deployConfd + "/haproxy-apps"), source: client,
                        options: RenderOptions(
                            write: WriteSettings(
                                destinationRoot: folder.file("root"), commandEnvironment: ["HECD_HAPROXY_PIDFILE": pidFile]),
                            environment: [
                                "HECD_HAPROXY_BIND": "127.0.0.1:\(proxyPort)", "HECD_HAPROXY_STATS_PORT": "\(freePort())",
                                "HECD_HAPROXY_SOCKET": folder.file("haproxy.sock"),
                            ]),
                        logger: LogRecorder().logger, observer: reports.observer)
                    try await whileRunning(renderer) {
                        try await reports.waitFor(1)
                        _ = try daemons.start(
                            Self.haproxy, ["-W", "-S", folder.file("master.sock"), "-p", pidFile, "-f", destination],
                            logFile: folder.file("haproxy.log"))
                        let probe = ProxyProbe(port: proxyPort)
                        try await probe.waitUntil(host: "web") { $0?.body == "web\n" }
                        // An app nobody routes to yet: no backend of its own, so HAProxy answers 503.
                        #expect(await probe.get(host: "api.example.com")?.status == 503)
                        try await client.put("/app/api/api-1", "127.0.0.1:\(apiPort)")
                        let routed = try await probe.waitUntil(host: "api.example.com:\(proxyPort)") { $0?.body == "api\n" }
                        print("etcd put of a new app → HAProxy routing: \(milliseconds(routed))")
                        #expect(await probe.get(host: "web")?.body == "web\n")
                    }
                }
            }
        }
    }

    @Test func theShippedTemplatesRenderFromEtcdAndPassHaproxyAndNginxChecks() async throws {
        try await withTemporaryFolder("render-deploy") { folder in
            try await withEtcd { etcd in
                let client = EtcdClient(endpoints: [etcd.clientURL])
                try await client.put("/app/servers/web-1", "127.0.0.1:8081")
                try await client.put("/app/servers/web-2", "127.0.0.1:8082")
                try await client.put("/app/api/api-1", "127.0.0.1:9081")
                // An app with a key but no servers: nginx needs a placeholder server.
                try await client.put("/app/empty/meta/owner", "nobody")
                try await client.put("/hecd/haproxy/stats-auth", "admin:s3cret")

                func render(_ name: String) async throws -> String {
                    // The shipped check_cmd runs for real; the reload is left out (no service runs here).
                    let resources = try CompiledResource.load(confdir: Fixtures.deployConfd + "/" + name).map { compiled in
                        var resource = compiled.resource
                        resource.reloadCommand = nil
                        return CompiledResource(resource: resource, template: compiled.template)
                    }
                    let renderer = ConfigRenderer(
                        resources: resources, source: client,
                        options: RenderOptions(
                            write: WriteSettings(destinationRoot: folder.file(name)),
                            environment: ["HECD_HAPROXY_BIND": "127.0.0.1:8080", "HECD_NGINX_LISTEN": "127.0.0.1:8080"]))
                    let summary = try await renderer.renderOnce()
                    let outcome = try #require(summary.reports.first?.outcome)
                    guard case .updated(let check, _, _) = outcome else {
                        throw TestFailure("\(name) did not render and pass its check_cmd: \(outcome)")
                    }
                    #expect(check?.succeeded == true)
                    let file = try #require(resources.first).resource.destinationPath(root: folder.file(name))
                    return file
                }

                // HAProxy, the seed's single-app layout.
                let single = try await render("haproxy")
                var text = try String(contentsOfFile: single, encoding: .utf8)
                #expect(text.contains("    server web-1 127.0.0.1:8081 check inter 2s fall 2 rise 1\n"))
                #expect(text.contains("    server web-2 127.0.0.1:8082 check inter 2s fall 2 rise 1\n"))
                #expect(!text.contains("api-1"))
                #expect(text.contains("master-worker"))
                #expect(text.contains("balance roundrobin"))
                #expect(text.contains(#"stats auth "admin:s3cret""#))
                // The file holds a password: only its owner reads it; the stats page stays on 127.0.0.1.
                #expect(((try? FileManager.default.attributesOfItem(atPath: single))?[.posixPermissions] as? Int) == 0o600)
                #expect(text.contains("listen stats\n    bind 127.0.0.1:8404\n"))
                var check = try await runProgram(Self.haproxy, ["-c", "-f", single])
                #expect(check.status == 0, "\(check.output)")

                // HAProxy, one backend per app.
                let multi = try await render("haproxy-apps")
                text = try String(contentsOfFile: multi, encoding: .utf8)
                #expect(text.contains("backend app-servers\n"))
                #expect(text.contains("backend app-api\n"))
                #expect(text.contains("backend app-empty\n"))
                #expect(text.contains("    server api-1 127.0.0.1:9081 check inter 2s fall 2 rise 1\n"))
                check = try await runProgram(Self.haproxy, ["-c", "-f", multi])
                #expect(check.status == 0, "\(check.output)")

                // nginx, one upstream per app; nginx -t with a minimal main config around the rendered file.
                let upstreams = try await render("nginx")
                text = try String(contentsOfFile: upstreams, encoding: .utf8)
                #expect(text.contains("upstream app-api {\n    server 127.0.0.1:9081 max_fails=2 fail_timeout=10s;\n}"))
                #expect(text.contains("upstream app-empty {\n    # No containers registered"))
                #expect(text.contains("    server 127.0.0.1:1 down;\n}"))
                let main = try folder.write("nginx-main/nginx.conf", """
                    pid \(folder.file("nginx-main/nginx.pid"));
                    error_log \(folder.file("nginx-main/error.log"));
                    events {}
                    http { include \(upstreams); }

                    """)
                check = try await runProgram(Self.nginx, ["-t", "-q", "-p", folder.file("nginx-main"), "-c", main])
                #expect(check.status == 0, "\(check.output)")

                // Without the stats-auth key, the stats page is on 127.0.0.1 only and has no password.
                try await client.delete("/hecd/haproxy/stats-auth")
                text = try String(contentsOfFile: try await render("haproxy"), encoding: .utf8)
                #expect(!text.contains("stats auth"))
                #expect(text.contains("listen stats\n    bind 127.0.0.1:8404\n"))
                check = try await runProgram(Self.haproxy, ["-c", "-f", single])
                #expect(check.status == 0, "\(check.output)")
            }
        }
    }

    @Test func whileEtcdIsDownTheFileStaysAndRenderingResumesAfterwards() async throws {
        try await withTemporaryFolder("render-outage") { folder in
            try await withEtcd { etcd in
                let client = EtcdClient(endpoints: [etcd.clientURL], requestTimeout: .seconds(1))
                try await client.put("/app/servers/web-1", "127.0.0.1:8081")
                let confdir = try makeConfdir(
                    in: folder,
                    resources: ["s.toml": "[template]\nsrc = \"s.tmpl\"\ndest = \"\(folder.file("out/s.cfg"))\"\nkeys = [\"/app/servers\"]\n"],
                    templates: ["s.tmpl": ConfigRendererTests.serversTemplate])
                let logs = LogRecorder()
                let reports = ReportLog()
                let renderer = ConfigRenderer(
                    resources: try CompiledResource.load(confdir: confdir), source: client,
                    options: RenderOptions(environment: [:]), logger: logs.logger, observer: reports.observer)
                try await whileRunning(renderer) {
                    try await reports.waitFor(1)
                    let before = folder.read("out/s.cfg")
                    #expect(before?.contains("web-1") == true)
                    await etcd.stop()
                    try await Task.sleep(for: .seconds(2))
                    #expect(reports.all.count == 1)
                    #expect(folder.read("out/s.cfg") == before)
                    #expect(logs.count(containing: "lost etcd") == 1)
                    try await etcd.start()
                    try await client.put("/app/servers/web-2", "127.0.0.1:8082")
                    try await reports.waitFor(2)
                }
                #expect(folder.read("out/s.cfg")?.contains("web-2") == true)
                #expect(logs.count(containing: "etcd is back") == 1)
            }
        }
    }

    @Test func theCommandLine() async throws {
        try await withTemporaryFolder("render-cli") { folder in
            try await withEtcd { etcd in
                let client = EtcdClient(endpoints: [etcd.clientURL])
                try await client.put("/app/servers/web-1", "127.0.0.1:8081")
                let binary = Self.hecdBinary
                let confdir = Fixtures.deployConfd + "/haproxy"
                let environment = ["HECD_HAPROXY_BIND=127.0.0.1:8080"]

                // --noop: a diff on standard output, nothing written.
                var run = try await runProgram("/usr/bin/env", environment + [
                    binary, "render", "--confdir", confdir, "--etcd", etcd.clientURL, "--onetime", "--noop",
                    "--dest-root", folder.file("root"),
                ])
                #expect(run.status == 0, "\(run.output)")
                #expect(run.output.contains("+    server web-1 127.0.0.1:8081 check inter 2s fall 2 rise 1"))
                #expect(!FileManager.default.fileExists(atPath: folder.file("root")))

                // --onetime --sync-only: written, exit 0.
                run = try await runProgram("/usr/bin/env", environment + [
                    binary, "render", "--confdir", confdir, "--etcd", etcd.clientURL, "--onetime", "--sync-only",
                    "--dest-root", folder.file("root"),
                ])
                #expect(run.status == 0, "\(run.output)")
                #expect(folder.read("root/etc/hecd/haproxy.cfg")?.contains("server web-1 127.0.0.1:8081") == true)

                // --onetime with the reload owed to an HAProxy that does not run: exit 1.
                try await client.put("/app/servers/web-2", "127.0.0.1:8082")
                run = try await runProgram("/usr/bin/env", environment + [
                    "HECD_HAPROXY_PIDFILE=\(folder.file("none.pid"))",
                    binary, "render", "--confdir", confdir, "--etcd", etcd.clientURL, "--onetime",
                    "--dest-root", folder.file("root"),
                ])
                #expect(run.status == 1)
                #expect(run.output.contains("reload_cmd failed"))

                // etcd unreachable: exit 1, nothing touched.
                run = try await runProgram(binary, [
                    "render", "--confdir", confdir, "--etcd", "http://127.0.0.1:\(freePort())", "--onetime",
                    "--dest-root", folder.file("other-root"),
                ])
                #expect(run.status == 1)
                #expect(run.output.contains("nothing was rendered"))
                #expect(!FileManager.default.fileExists(atPath: folder.file("other-root")))

                // A broken resource file: exit 2 with file:line.
                try folder.write("bad/conf.d/x.toml", "[template]\nsrc = \"x.tmpl\"\ndest = \"/x\"\nkeys = [\"/x\"]\nreload = \"x\"\n")
                try folder.write("bad/templates/x.tmpl", "x")
                run = try await runProgram(binary, [
                    "render", "--confdir", folder.file("bad"), "--etcd", etcd.clientURL, "--onetime",
                ])
                #expect(run.status == 2)
                #expect(run.output.contains("x.toml:5: unknown key reload in [template]"))
            }
        }
    }

    /// `hecd`, next to the test bundle in the build folder (or HECD_BINARY).
    static var hecdBinary: String {
        if let path = ProcessInfo.processInfo.environment["HECD_BINARY"] { return path }
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        while folder.path != "/", !FileManager.default.fileExists(atPath: folder.appendingPathComponent("hecd").path) {
            folder = folder.deletingLastPathComponent()
        }
        return folder.appendingPathComponent("hecd").path
    }
}

/// A duration as whole milliseconds, for printed measurements.
func milliseconds(_ duration: Duration) -> String {
    "\(duration.wholeMilliseconds) ms"
}
