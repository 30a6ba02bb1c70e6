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

    /// A test's folder (admin socket, config, logs), its frontend port and three backend ports.
    struct Scratch {
        let folder = NSTemporaryDirectory() + "/hecd-runtime-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        var socketPath: String { folder + "/admin.sock" }
        let port = freePort()
        let apps = ["a": freePort(), "b": freePort(), "c": freePort()]

        init() throws { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }

        func config(_ servers: [(String, Int)]) -> String {
            RuntimeUpdaterTests.config(socket: socketPath, port: port, apps: apps, servers: servers)
        }

        func remove() { try? FileManager.default.removeItem(atPath: folder) }
    }

    static func workerPid(_ socket: HAProxyAdminSocket) async throws -> String {
        let info = try await socket.run { admin in Result { try admin.execute("show info") } }.get()
        return info.split(separator: "\n").first { $0.hasPrefix("Pid:") }.map(String.init) ?? "no pid in: \(info)"
    }

    @Test func addMoveAndRemoveServersWithoutAReload() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let (folder, socketPath, port, apps) = (scratch.folder, scratch.socketPath, scratch.port, scratch.apps)
        let config = scratch.config
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

    /// A server removed while a request is still in flight on it stays in maintenance;
    /// when the same server comes back (a container that flapped), it is taken back at its new address at once
    /// instead of being refused (which would cost a reload).
    @Test func aServerBackBeforeItsConnectionsClosedIsTakenBack() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let (folder, socketPath, port, apps) = (scratch.folder, scratch.socketPath, scratch.port, scratch.apps)
        let config = scratch.config
        // Server two stands for a slow container: it takes connections and never answers.
        let silent = freePort()
        let both = config([("one", apps["a"] ?? 0), ("two", silent)])
        try both.write(toFile: folder + "/haproxy.cfg", atomically: true, encoding: .utf8)

        try await withDaemons { daemons in
            _ = try daemons.start("/usr/bin/socat", ["TCP-LISTEN:\(silent),bind=127.0.0.1,fork,reuseaddr", "EXEC:sleep 60"],
                logFile: folder + "/silent.log")
            let haproxy = try daemons.start(Self.haproxy, ["-W", "-f", folder + "/haproxy.cfg"], logFile: folder + "/haproxy.log")
            let probe = ProxyProbe(port: port)
            try await probe.waitUntil { $0?.body == "a" }
            let socket = HAProxyAdminSocket(path: socketPath)
            let updater = RuntimeUpdater(socket: socket)
            let worker = try await Self.workerPid(socket)
            // Two clients whose requests stay in flight (round robin: one of them is on server two).
            for index in 0..<2 {
                let request = #"printf 'GET / HTTP/1.1\r\nHost: test\r\n\r\n' >&3"#
                _ = try daemons.start("/bin/bash", ["-c", "exec 3<>/dev/tcp/127.0.0.1/\(port); \(request); sleep 60"],
                    logFile: folder + "/client-\(index).log")
            }
            try await Task.sleep(for: .milliseconds(300))

            let one = config([("one", apps["a"] ?? 0)])
            guard case .runtime(let removal) = ServerChangePlan.between(HAProxyConfig(both), HAProxyConfig(one)) else {
                throw TestFailure("expected a runtime plan")
            }
            let removed = await socket.run { _ in updater.apply(removal) }
            #expect(removed.failure == nil)
            #expect(removed.undeleted == [ServerReference(backend: "servers", server: "two")],
                "a kept-alive connection keeps the removed server in maintenance")

            let back = config([("one", apps["a"] ?? 0), ("two", apps["c"] ?? 0)])
            guard case .runtime(let addition) = ServerChangePlan.between(HAProxyConfig(one), HAProxyConfig(back)) else {
                throw TestFailure("expected a runtime plan")
            }
            let added = await socket.run { _ in updater.apply(addition) }
            #expect(added.failure == nil)
            #expect(added.applied == addition)
            #expect(await Self.answers(probe) == ["a", "c"], "the server is back, at its new address")
            #expect(try await Self.workerPid(socket) == worker)
            #expect(haproxy.isRunning)
        }
    }
}
