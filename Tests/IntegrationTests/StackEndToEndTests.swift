import DockerEngine
import Foundation
import Testing
import TestSupport

/// The seed article's flow, end to end, with every real part: dockerd, etcd, `hecd agent`, `hecd render`
/// with Deploy/confd/haproxy, and HAProxy. What a user sees is what `curl` through HAProxy answers.
@Suite(.serialized) struct StackEndToEndTests {
    /// The names of the containers that answered `count` requests through the proxy.
    func servedBy(_ proxy: ProxyProbe, requests count: Int = 30) async -> Set<String> {
        var names = Set<String>()
        for _ in 0..<count {
            if let answer = await proxy.get(), answer.status == 200,
                let line = answer.body.split(separator: "\n").first(where: { $0.hasPrefix("hello from ") })
            {
                names.insert(String(line.dropFirst("hello from ".count)))
            }
        }
        return names
    }

    @Test func scaleKillAndScaleDownThroughHAProxy() async throws {
        try await withEtcd { etcd in
            try await withDaemons { daemons in
                try await withAgentHarness { harness in
                    let folder = harness.directory + "-stack"
                    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                    defer { try? FileManager.default.removeItem(atPath: folder) }
                    let proxyPort = freePort()
                    let environment = [
                        "HECD_HAPROXY_BIND": "127.0.0.1:\(proxyPort)",
                        "HECD_HAPROXY_STATS_PORT": String(freePort()),
                        "HECD_HAPROXY_PIDFILE": "\(folder)/haproxy.pid",
                        "HECD_HAPROXY_SOCKET": "\(folder)/haproxy.sock",
                        "HECD_DEST_ROOT": folder,
                        "HECD_ETCD": etcd.clientURL,
                    ]
                    let confdir = IntegrationEnvironment.repositoryRoot + "/Deploy/confd/haproxy"
                    let manifest = { (replicas: Int) in
                        harness.webManifest(app: "web", replicas: replicas, extra: "register: {prefix: /app/servers, drain: 1}")
                    }
                    try harness.writeManifest("web", manifest(2))

                    // The README's start order: a first render, HAProxy, then the agent and the renderer.
                    let first = try AgentProcess(arguments: ["--confdir", confdir, "--onetime", "--sync-only"], command: "render", environment: environment)
                    await first.wait()
                    let config = "\(folder)/etc/hecd/haproxy.cfg"
                    #expect(FileManager.default.fileExists(atPath: config), "the first render wrote \(config)\n\(first.log)")
                    let haproxy = try daemons.start(
                        "/usr/sbin/haproxy", ["-W", "-S", "\(folder)/master.sock", "-p", "\(folder)/haproxy.pid", "-f", config],
                        logFile: "\(folder)/haproxy.log")
                    let render = try AgentProcess(arguments: ["--confdir", confdir], command: "render", environment: environment)
                    let agent = try AgentProcess(arguments: [
                        "--manifests", harness.directory, "--agent-id", harness.agentID, "--etcd", etcd.clientURL,
                        "--host-ip", "127.0.0.1", "--ttl", "5",
                    ])
                    do {
                        try await scenario(harness: harness, proxyPort: proxyPort, haproxy: haproxy, render: render, agent: agent)
                    } catch {
                        await agent.terminate()
                        await render.terminate()
                        throw error
                    }
                    await agent.terminate()
                    await render.terminate()
                }
            }
        }
    }

    func scenario(harness: AgentHarness, proxyPort: Int, haproxy: Daemon, render: AgentProcess, agent: AgentProcess) async throws {
        let manifest = { (replicas: Int) in
            harness.webManifest(app: "web", replicas: replicas, extra: "register: {prefix: /app/servers, drain: 1}")
        }
        let proxy = ProxyProbe(port: proxyPort)
        let logs = { "agent:\n\(agent.log)\nrender:\n\(render.log)\nhaproxy:\n\(haproxy.log)" }

        func expectServedByRunning(_ count: Int, within seconds: Double = 20) async throws {
            var served = Set<String>()
            var running = Set<String>()
            let met = await eventually(within: seconds) {
                running = Set(((try? await harness.runningContainers(app: "web")) ?? []).map(\.name))
                served = await servedBy(proxy)
                return running.count == count && served == running
            }
            #expect(met, "HAProxy should rotate over the \(count) running containers \(running); it answered from \(served)\n\(logs())")
        }

        try await expectServedByRunning(2)

        // 2 → 5: HAProxy routes to 5 distinct containers.
        try harness.writeManifest("web", manifest(5))
        try await expectServedByRunning(5)

        // A killed container leaves HAProxy, and its replacement joins.
        let victim = try #require(try await harness.runningContainers(app: "web").first)
        try await harness.docker.killContainer(victim.id)
        let left = await eventually(within: 5) { await !servedBy(proxy, requests: 15).contains(victim.name) }
        #expect(left, "the killed container left HAProxy\n\(logs())")
        try await expectServedByRunning(5)

        // 5 → 1 while a client keeps sending requests: none of them fails.
        let load = Task {
            var sent = 0
            var failed: [String] = []
            while !Task.isCancelled, sent < 5000 {
                let answer = await proxy.get()
                // The request in flight when the loop is stopped is cancelled, not failed.
                if Task.isCancelled { break }
                sent += 1
                if answer?.status != 200 { failed.append(answer.map { "\($0.status)" } ?? "no answer") }
            }
            return (sent, failed)
        }
        try harness.writeManifest("web", manifest(1))
        try await harness.waitForRunning("web", count: 1, within: 30)
        try await Task.sleep(for: .milliseconds(500))
        load.cancel()
        let (sent, failed) = await load.value
        #expect(sent > 50, "the client loop ran (\(sent) requests)")
        #expect(failed.isEmpty, "\(failed.count) of \(sent) requests failed during 5 → 1: \(failed.prefix(10))\n\(logs())")
        try await expectServedByRunning(1)
    }
}
