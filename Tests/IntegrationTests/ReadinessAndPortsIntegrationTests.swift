import DockerEngine
import Etcd
import Foundation
import Testing
import TestSupport

/// Several registered ports, and Docker's HEALTHCHECK as readiness, with the real agent, dockerd and etcd
/// (`etcdctl` is the reference for what is registered).
@Suite(.serialized) struct ReadinessAndPortsIntegrationTests {
    /// key → value under `prefix`, as `etcdctl get --prefix` prints them.
    static func keys(_ etcd: EtcdProcess, _ prefix: String) async throws -> [String: String] {
        let lines = try await etcd.etcdctl(["get", "--prefix", prefix + "/"]).split(separator: "\n").map(String.init)
        var result: [String: String] = [:]
        var index = 0
        while index + 1 < lines.count {
            result[lines[index]] = lines[index + 1]
            index += 2
        }
        return result
    }

    func withAgent(
        manifest: String, _ body: (EtcdProcess, AgentHarness, AgentProcess) async throws -> Void
    ) async throws {
        try await withEtcd { etcd in
            try await withAgentHarness { harness in
                try harness.writeManifest("web", manifest)
                let agent = try AgentProcess(arguments: [
                    "--manifests", harness.directory, "--agent-id", harness.agentID, "--etcd", etcd.clientURL,
                    "--host-ip", "127.0.0.1", "--ttl", "3", "--resync", "5", "--drain", "0",
                ])
                do {
                    try await body(etcd, harness, agent)
                } catch {
                    await agent.kill()
                    throw error
                }
                await agent.terminate()
            }
        }
    }

    @Test func eachRegisteredPortHasItsKeyAndEachKeyAnswers() async throws {
        let manifest = """
            name: web
            image: \(IntegrationEnvironment.image)
            replicas: 2
            stop_timeout: 1
            ports: {http: 80, admin: 2222}
            command: [/bin/sh, -c, "httpd -p 2222 -h /www; exec /bin/serve"]
            register:
              - {port: http, prefix: /app/servers}
              - {port: 2222, prefix: /app/admin}
            """
        try await withAgent(manifest: manifest) { etcd, harness, agent in
            var servers: [String: String] = [:]
            var admin: [String: String] = [:]
            let met = await eventually(within: 20) {
                servers = (try? await Self.keys(etcd, "/app/servers")) ?? [:]
                admin = (try? await Self.keys(etcd, "/app/admin")) ?? [:]
                return servers.count == 2 && admin.count == 2
            }
            #expect(met, "servers \(servers), admin \(admin)\n\(agent.log)")
            let running = try await harness.runningContainers(app: "web")
            for container in running {
                let http = try #require(servers["/app/servers/\(container.name)"], "\(servers)")
                let second = try #require(admin["/app/admin/\(container.name)"], "\(admin)")
                #expect(http != second)
                // Each key points at its own published port of that container, and answers as it.
                let published = container.ports.filter { $0.ip == "0.0.0.0" || $0.ip == nil }
                #expect(published.contains { "127.0.0.1:\($0.publicPort ?? 0)" == http && $0.privatePort == 80 })
                #expect(published.contains { "127.0.0.1:\($0.publicPort ?? 0)" == second && $0.privatePort == 2222 })
                for value in [http, second] {
                    #expect(try await shell("curl -sf --max-time 5 http://\(value)/").contains("hello from \(container.name)"))
                }
            }
            // Both keys go when the container dies.
            let victim = try #require(running.first)
            try await shell("docker kill \(victim.id) >/dev/null")
            let gone = await eventually(within: 5) {
                let all = ((try? await Self.keys(etcd, "/app/servers")) ?? [:]).merging((try? await Self.keys(etcd, "/app/admin")) ?? [:]) { a, _ in a }
                return !all.keys.contains { $0.hasSuffix("/\(victim.name)") }
            }
            #expect(gone, "a key of the killed container stayed\n\(agent.log)")
        }
    }

    @Test func aHealthcheckImageIsRegisteredOnlyOnceDockerSaysHealthy() async throws {
        let image = "hecd-test-health:\(UUID().uuidString.prefix(8).lowercased())"
        let base = try await shell("docker create --label io.hecd.test=1 \(IntegrationEnvironment.image)")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try await shell("docker commit --change 'HEALTHCHECK --interval=1s --timeout=1s --retries=1 CMD test -f /tmp/ready' \(base) \(image) >/dev/null")
        try await shell("docker rm -f \(base) >/dev/null")
        defer { Task { _ = try? await shell("docker rmi -f \(image) >/dev/null 2>&1") } }
        let manifest = """
            name: web
            image: \(image)
            replicas: 1
            port: 80
            stop_timeout: 1
            register: {prefix: /app/servers}
            """
        try await withAgent(manifest: manifest) { etcd, harness, agent in
            let container = try #require(try await harness.waitForRunning("web", count: 1).first)
            // It serves, but Docker does not call it healthy yet: no key.
            let port = try #require(container.ports.first { $0.privatePort == 80 }?.publicPort)
            let served = await eventually(within: 10) {
                (try? await shell("curl -sf --max-time 2 http://127.0.0.1:\(port)/")) != nil
            }
            #expect(served)
            try await Task.sleep(for: .seconds(2))
            #expect(try await Self.keys(etcd, "/app/servers").isEmpty, "registered before healthy\n\(agent.log)")
            // Healthy: registered within a couple of health intervals.
            try await shell("docker exec \(container.id) touch /tmp/ready")
            let registered = await eventually(within: 8) {
                (try? await Self.keys(etcd, "/app/servers"))?["/app/servers/\(container.name)"] == "127.0.0.1:\(port)"
            }
            #expect(registered, "not registered once healthy\n\(agent.log)")
            // Unhealthy again: withdrawn.
            try await shell("docker exec \(container.id) rm /tmp/ready")
            let withdrawn = await eventually(within: 8) {
                (try? await Self.keys(etcd, "/app/servers"))?.isEmpty == true
            }
            #expect(withdrawn, "still registered while unhealthy\n\(agent.log)")
        }
    }
}
