import Etcd
import Foundation
import Glibc
import HAProxyRuntime
import Logging
import Render
import TestSupport
import Testing

/// Issue 10 against a real etcd and HAProxy with the shipped `Deploy/confd/haproxy` resource: whoever can write
/// under /app/ cannot change the proxy's config, nor the running proxy, through a value or a key name.
@Suite(.serialized) struct InjectionIntegrationTests {
    /// `show servers state servers` reduced to what a takeover would change: backend, server, address, port.
    static func serverState(_ admin: HAProxyAdminSocket) async throws -> [String] {
        let text = try await admin.run { socket in Result { try socket.execute("show servers state servers") } }.get()
        let lines = text.split(separator: "\n").map(String.init)
        guard let header = lines.first(where: { $0.hasPrefix("# ") })?.dropFirst(2).split(separator: " ").map(String.init),
            let backend = header.firstIndex(of: "be_name"), let server = header.firstIndex(of: "srv_name"),
            let address = header.firstIndex(of: "srv_addr"), let port = header.firstIndex(of: "srv_port")
        else { throw TestFailure("unexpected `show servers state` answer: \(text)") }
        return lines.filter { !$0.hasPrefix("#") && $0.contains(" ") }.map { line in
            let fields = line.split(separator: " ").map(String.init)
            return [backend, server, address, port].map { $0 < fields.count ? fields[$0] : "?" }.joined(separator: " ")
        }.sorted()
    }

    @Test func injectionsThroughValuesAndKeyNamesChangeNeitherTheFileNorTheRunningHaproxy() async throws {
        try await withTemporaryFolder("render-injection") { folder in
            try await withEtcd { etcd in
                try await withDaemons { daemons in
                    let client = EtcdClient(endpoints: [etcd.clientURL])
                    let integration = RenderIntegrationTests()
                    let backendPort = try await integration.startBackend(daemons, folder, name: "a", text: "backend A\n")
                    let otherPort = try await integration.startBackend(daemons, folder, name: "b", text: "backend B\n")
                    let proxyPort = freePort()
                    let evilPort = freePort()
                    let statsPort = freePort()
                    let pidFile = folder.file("haproxy.pid")
                    let destination = folder.file("root/etc/hecd/haproxy.cfg")
                    let logs = LogRecorder()
                    let reports = ReportLog()
                    let renderer = try RenderIntegrationTests.shippedHAProxyRenderer(
                        folder, client: client, proxyPort: proxyPort, statsPort: statsPort, logs: logs, reports: reports)
                    try await whileRunning(renderer) {
                        // The first render comes before HAProxy runs; the reload it owes goes with the first server.
                        try await reports.waitFor(1)
                        _ = try daemons.start(
                            RenderIntegrationTests.haproxy, ["-W", "-S", folder.file("master.sock"), "-p", pidFile, "-f", destination],
                            logFile: folder.file("haproxy.log"))
                        let probe = ProxyProbe(port: proxyPort)
                        try await probe.waitUntil { $0?.status == 503 }
                        try await client.put("/app/servers/web1", "127.0.0.1:\(backendPort)")
                        try await probe.waitUntil { $0?.body == "backend A\n" }
                        try await reports.waitFor(2)
                        let admin = HAProxyAdminSocket(path: folder.file("haproxy.sock"))
                        try await Task.sleep(for: .milliseconds(200))
                        let worker = try await integration.workerPid(admin)
                        let file = try String(contentsOfFile: destination, encoding: .utf8)
                        let state = try await Self.serverState(admin)
                        #expect(state == ["servers web1 127.0.0.1 \(backendPort)"])

                        let injections: [(key: String, value: String)] = [
                            ("/app/servers/x", "127.0.0.1:\(backendPort)\nlisten evil\n    bind 127.0.0.1:\(evilPort) #"),
                            ("/app/servers/y", "127.0.0.1:\(backendPort)\n    stats auth admin:pw"),
                            ("/app/servers/inj", "127.0.0.1:\(backendPort) check check-sni \"x;set server servers/web1 addr 127.0.0.1 port \(otherPort);\""),
                            ("/app/servers/evil name\nlisten evil2\n    bind 127.0.0.1:\(evilPort)", "127.0.0.1:\(backendPort)"),
                        ]
                        for (key, value) in injections {
                            let rendersBefore = reports.all.count
                            try await client.put(key, value)
                            try await reports.waitFor(rendersBefore + 1)
                            #expect(reports.all.last?.outcome == .unchanged, "\(key)")
                            #expect(try String(contentsOfFile: destination, encoding: .utf8) == file, "\(key) reached haproxy.cfg")
                            #expect(try await Self.serverState(admin) == state, "\(key) changed the running HAProxy")
                            #expect(try await integration.workerPid(admin) == worker, "\(key) caused a reload")
                            let keyShown = key.replacingOccurrences(of: "\n", with: "\\n")
                            let lines = logs.all.filter { $0.message.contains("left out of") && $0.message.contains("\"\(keyShown)\"") }
                            #expect(lines.count == 1, "\(key): \(lines.map(\.message))")
                            #expect(lines.first?.level == .warning)
                            print("refused: \(lines.first?.message ?? "nothing logged")")
                        }
                        for _ in 0..<10 { #expect(await probe.get()?.body == "backend A\n") }
                        #expect(await ProxyProbe(port: evilPort).get() == nil, "HAProxy listens on the injected port")

                        // Later renders (a real server comes) do not log the refused entries again.
                        try await client.put("/app/servers/web2", "127.0.0.1:\(otherPort)")
                        try await probe.waitUntil { $0?.body == "backend B\n" }
                        #expect(try await Self.serverState(admin) == state + ["servers web2 127.0.0.1 \(otherPort)"])
                        #expect(logs.count(containing: "left out of") == injections.count)

                        // The stats page's password: quoted into one word, kept out of the logs, file 0600, and the
                        // page stays on 127.0.0.1.
                        let password = "s3cr;et\"#x"
                        let rendersBefore = reports.all.count
                        try await client.put("/hecd/haproxy/stats-auth", "admin:\(password)")
                        try await reports.waitFor(rendersBefore + 1)
                        let withAuth = try String(contentsOfFile: destination, encoding: .utf8)
                        #expect(withAuth.contains(##"    stats auth "admin:s3cr;et\"#x""##))
                        #expect(withAuth.contains("    bind 127.0.0.1:\(statsPort)\n"))
                        var info = stat()
                        #expect(stat(destination, &info) == 0 && info.st_mode & 0o777 == 0o600)
                        let curl = try await runProgram("/usr/bin/curl", [
                            "-s", "-o", "/dev/null", "-w", "%{http_code}", "-u", "admin:\(password)", "http://127.0.0.1:\(statsPort)/",
                        ])
                        #expect(curl.output == "200")
                        #expect(!logs.messages.contains { $0.contains("s3cr") }, "the password appeared in a log line")
                    }
                }
            }
        }
    }

    @Test func aRunawayTemplateIsStoppedWhileTheOtherResourcesRender() async throws {
        try await withTemporaryFolder("render-runaway") { folder in
            try await withEtcd { etcd in
                let client = EtcdClient(endpoints: [etcd.clientURL])
                try await client.put("/app/servers/web-1", "127.0.0.1:8081")
                func resource(_ name: String, extra: String = "") -> String {
                    "[template]\nsrc = \"\(name).tmpl\"\ndest = \"\(folder.file("out/\(name).cfg"))\"\nkeys = [\"/app/servers\"]\n\(extra)"
                }
                let confdir = try makeConfdir(
                    in: folder,
                    resources: [
                        "a-good.toml": resource("good"),
                        "b-double.toml": resource("double"),
                        "c-printf.toml": resource("printf"),
                        "d-loop.toml": resource("loop", extra: "max_output = \"1KB\"\n"),
                        "e-fork.toml": resource("fork", extra: "max_steps = 50000\n"),
                    ],
                    templates: [
                        "good.tmpl": ConfigRendererTests.serversTemplate,
                        "double.tmpl": """
                            # doubles a string at each recursion
                            {{define "double"}}{{.}}{{template "double" (printf "%s%s" . .)}}{{end}}
                            {{- template "double" "xxxxxxxx"}}
                            """,
                        "printf.tmpl": #"{{printf "%*d" 2000000000 1}}"#,
                        "loop.tmpl": #"{{range seq 1 1000}}{{.}}{{end}}"#,
                        "fork.tmpl": """
                            {{define "fork"}}{{if lt . 30}}
                            {{- template "fork" (add . 1)}}{{template "fork" (add . 1)}}{{end}}{{end}}
                            {{- template "fork" 0}}
                            """,
                    ])
                let logs = LogRecorder()
                let renderer = ConfigRenderer(
                    resources: try CompiledResource.load(confdir: confdir), source: client,
                    options: RenderOptions(environment: [:]), logger: logs.logger)
                let start = ContinuousClock.now
                let summary = try await renderer.renderOnce()
                #expect(ContinuousClock.now - start < .seconds(20))
                let outcomes = Dictionary(uniqueKeysWithValues: summary.reports.map { ($0.resource.source, $0.outcome) })

                guard case .updated = outcomes["good.tmpl"] else {
                    throw TestFailure("the good resource did not render: \(String(describing: outcomes["good.tmpl"]))")
                }
                #expect(folder.read("out/good.cfg")?.contains("web-1") == true)
                // Go's answer to a huge `*` width: a marker, at once.
                #expect(folder.read("out/printf.cfg") == "%!(BADWIDTH)1")
                for (source, budget) in [("double.tmpl", "max_output"), ("loop.tmpl", "max_output"), ("fork.tmpl", "max_steps")] {
                    guard case .renderFailed(let message) = outcomes[source] else {
                        Issue.record("\(source) was not stopped: \(String(describing: outcomes[source]))")
                        continue
                    }
                    #expect(message.contains(budget), "\(message)")
                    #expect(message.contains("/templates/\(source):"), "\(message)")
                    #expect(folder.read("out/\(source.replacingOccurrences(of: ".tmpl", with: ".cfg"))") == nil)
                    let logged = logs.all.filter { $0.level == .error && $0.message.contains("cannot render \(source)") }
                    #expect(logged.count == 1)
                    print(logged.first?.message ?? "")
                }
                if case .renderFailed(let message) = outcomes["double.tmpl"] { #expect(message.contains("double.tmpl:2:")) }
                #expect(summary.failed)
            }
        }
    }
}
