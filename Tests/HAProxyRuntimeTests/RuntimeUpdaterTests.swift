import Foundation
import HAProxyRuntime
import Testing
import TestSupport

/// Server changes made through a real HAProxy's admin socket: traffic follows them and no reload happens.
@Suite(.serialized) struct RuntimeUpdaterTests {
    static let haproxy = "/usr/sbin/haproxy"

    /// A config whose backend `servers` (behind the frontend on `port`) holds `servers` (name → port); each
    /// `apps` port answers its own name, standing in for containers.
    static func config(socket: String, port: Int, apps: [String: Int], servers: [(String, Int)]) -> String {
        var text = """
            global
                stats socket \(socket) mode 600 level admin
                httpclient.ssl.verify none
            defaults
                mode http
                timeout connect 2s
                timeout client 10s
                timeout server 10s
            frontend web
                bind 127.0.0.1:\(port)
                default_backend servers
            backend servers
                balance roundrobin

            """
        for (name, serverPort) in servers {
            text += "    server \(name) 127.0.0.1:\(serverPort) check inter 1s\n"
        }
        for (name, appPort) in apps.sorted(by: { $0.key < $1.key }) {
            text += """
                listen app-\(name)
                    bind 127.0.0.1:\(appPort)
                    http-request return status 200 content-type text/plain string "\(name)"

                """
        }
        return text
    }

    /// The bodies of `count` requests through the proxy, each on a new connection.
    static func answers(_ probe: ProxyProbe, count: Int = 12) async -> Set<String> {
        var bodies: Set<String> = []
        for _ in 0..<count {
            if let answer = await probe.get() { bodies.insert(answer.status == 200 ? answer.body : "HTTP \(answer.status)") }
        }
        return bodies
    }

    static func workerPid(_ socket: HAProxyAdminSocket) async throws -> String {
        let info = try await socket.run { admin in Result { try admin.execute("show info") } }.get()
        return info.split(separator: "\n").first { $0.hasPrefix("Pid:") }.map(String.init) ?? "no pid in: \(info)"
    }

    @Test func addMoveAndRemoveServersWithoutAReload() async throws {
        let folder = NSTemporaryDirectory() + "/hecd-runtime-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let socketPath = folder + "/admin.sock"
        let port = freePort()
        let apps = ["a": freePort(), "b": freePort(), "c": freePort()]
        func config(_ servers: [(String, Int)]) -> String {
            Self.config(socket: socketPath, port: port, apps: apps, servers: servers)
        }
        let first = config([("one", apps["a"] ?? 0)])
        try first.write(toFile: folder + "/haproxy.cfg", atomically: true, encoding: .utf8)

        try await withDaemons { daemons in
            let haproxy = try daemons.start(Self.haproxy, ["-W", "-f", folder + "/haproxy.cfg"], logFile: folder + "/haproxy.log")
            let probe = ProxyProbe(port: port)
            try await probe.waitUntil { $0?.body == "a" }
            let socket = HAProxyAdminSocket(path: socketPath)
            let updater = RuntimeUpdater(socket: socket)
            let worker = try await Self.workerPid(socket)

            func apply(from old: String, to new: String) async throws -> RuntimeUpdateReport {
                guard case .runtime(let changes) = ServerChangePlan.between(HAProxyConfig(old), HAProxyConfig(new)) else {
                    throw TestFailure("expected a runtime plan")
                }
                let report = await socket.run { _ in updater.apply(changes) }
                #expect(report.failure == nil)
                #expect(report.applied == changes)
                return report
            }

            // A server comes: traffic reaches it at once.
            let second = config([("one", apps["a"] ?? 0), ("two", apps["b"] ?? 0)])
            _ = try await apply(from: first, to: second)
            #expect(await Self.answers(probe) == ["a", "b"])

            // A server moves to another port.
            let third = config([("one", apps["c"] ?? 0), ("two", apps["b"] ?? 0)])
            _ = try await apply(from: second, to: third)
            #expect(await Self.answers(probe) == ["c", "b"])

            // A server goes: no request reaches it any more; it is deleted once its connections are gone.
            let fourth = config([("one", apps["c"] ?? 0)])
            var undeleted = try await apply(from: third, to: fourth).undeleted
            #expect(await Self.answers(probe) == ["c"])
            let deadline = ContinuousClock.now + .seconds(20)
            while !undeleted.isEmpty, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(200))
                let pending = undeleted
                undeleted = await socket.run { _ in updater.deleteLeftovers(pending) }
            }
            #expect(undeleted.isEmpty)
            let state = try await socket.run { admin in Result { try admin.execute("show servers state servers") } }.get()
            #expect(state.contains(" one "))
            #expect(!state.contains(" two "))

            // The same worker answered throughout: nothing was reloaded.
            #expect(try await Self.workerPid(socket) == worker)
            #expect(haproxy.isRunning)

            // HAProxy refuses a change that does not fit what it runs (a server that is already there): the
            // report says so, and the caller reloads instead.
            let server = try #require(HAProxyConfig(fourth).sections.first { $0.name == "servers" }?.servers.first)
            let refused = await socket.run { _ in updater.apply([.add(backend: "servers", server: server)]) }
            #expect(refused.failure?.contains("Already exists") == true)
            #expect(refused.applied.isEmpty)
        }
    }
}
