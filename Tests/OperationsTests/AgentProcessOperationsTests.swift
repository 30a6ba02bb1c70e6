import DockerEngine
import Foundation
import Glibc
@testable import Operations
import TestSupport
import Testing

/// The real `hecd agent` binary on the real dockerd and a real etcd, watched as an operator would: systemd's
/// notify socket (owned by the test) and a real Prometheus scraping `--metrics-addr`.
@Suite("AgentProcessOperations", .serialized)
struct AgentProcessOperationsTests {
    static let image = ProcessInfo.processInfo.environment["HECD_TEST_IMAGE"] ?? "hecd-demo:1"

    @Test(
        "hecd agent: READY=1 after the first pass; Prometheus reads hecd_app_replicas and a killed container as a failure",
        .enabled(if: PrometheusServer.available, "needs Debian's prometheus package (Deploy/lib.sh's hecd_ensure_packages installs it)"))
    func agentUnderSystemdAndPrometheus() async throws {
        let docker = DockerClient(host: .defaultEngine)
        do {
            try await docker.negotiateVersion()
        } catch {
            Issue.record("this test needs the Docker engine at the default socket (Deploy/test.sh starts it): \(error)")
            return
        }
        let agentID = "ops-\(UUID().uuidString.prefix(8).lowercased())"
        let folder = NSTemporaryDirectory() + "hecd-ops-agent-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder + "/manifests", withIntermediateDirectories: true)
        try """
            name: opsweb
            image: \(Self.image)
            replicas: 2
            port: 80
            stop_timeout: 1
            register: {prefix: /app/opsweb, drain: 0}
            """.write(toFile: folder + "/manifests/opsweb.yaml", atomically: true, encoding: .utf8)
        let socket = try NotifySocket()
        let port = freePort()
        try await withEtcd { etcd in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: hecdBinaryPath())
            process.arguments = [
                "agent", "--manifests", folder + "/manifests", "--agent-id", agentID, "--etcd", etcd.clientURL,
                "--host-ip", "127.0.0.1", "--metrics-addr", "127.0.0.1:\(port)", "--log-format", "json",
            ]
            var environment = ProcessInfo.processInfo.environment
            environment["NOTIFY_SOCKET"] = socket.path
            environment["WATCHDOG_USEC"] = "2000000"
            process.environment = environment
            FileManager.default.createFile(atPath: folder + "/agent.log", contents: nil)
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: folder + "/agent.log"))
            process.standardOutput = process.standardError
            let prometheus = try PrometheusServer(targets: ["hecd-agent": "127.0.0.1:\(port)"])
            try process.run()
            let result: Result<Void, any Error>
            do {
                try await check(socket: socket, prometheus: prometheus, docker: docker, agentID: agentID)
                let page = try #require(await ProxyProbe(port: port).get("/metrics"))
                let lint = try await promtoolCheck(page.body)
                #expect(lint.status == 0, "promtool check metrics on the agent binary's /metrics: \(lint.output)")
                result = .success(())
            } catch {
                result = .failure(error)
            }
            if result.isFailure {
                print((try? String(contentsOfFile: folder + "/agent.log", encoding: .utf8)) ?? "")
            }
            process.terminate()
            while process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
            #expect(socket.lines().contains { $0.line == "STOPPING=1" })
            await prometheus.destroy()
            if let leftovers = try? await docker.listContainers(labels: ["io.hecd.agent=\(agentID)"]) {
                for container in leftovers { try? await docker.removeContainer(container.id, force: true) }
            }
            try? FileManager.default.removeItem(atPath: folder)
            try result.get()
        }
    }

    private func check(socket: NotifySocket, prometheus: PrometheusServer, docker: DockerClient, agentID: String) async throws {
        let ready = await socket.waitFor(within: 30) { $0 == "READY=1" }
        #expect(ready != nil, "no READY=1: \(socket.lines().map(\.line))")
        func replicas() async throws -> [String: String] {
            var byState: [String: String] = [:]
            for sample in try await prometheus.query("hecd_app_replicas{app=\"opsweb\"}") {
                byState[sample.labels["state"] ?? "?"] = sample.value
            }
            return byState
        }
        var last: [String: String] = [:]
        let counted = try await eventually(within: 30) {
            last = try await replicas()
            return last == ["desired": "2", "running": "2", "ready": "2", "registered": "2"]
        }
        #expect(counted, "hecd_app_replicas{app=\"opsweb\"} in Prometheus: \(last)")
        let status = socket.lines().last { $0.line.hasPrefix("STATUS=") }?.line
        #expect(status == "STATUS=1 app: 2/2 running, 2 registered", "\(String(describing: status))")

        // An operator's `docker kill`: counted as a failure, replaced, and Prometheus sees both.
        let victim = try #require(try await docker.listContainers(labels: ["io.hecd.agent=\(agentID)"]).first)
        _ = try await runProgram("/usr/bin/env", ["docker", "kill", victim.id])
        var failures: [(labels: [String: String], value: String)] = []
        let seen = try await eventually(within: 30) {
            failures = try await prometheus.query("hecd_container_failures_total{app=\"opsweb\"}")
            let running = try await replicas()["running"]
            return failures.first?.value == "1" && running == "2"
        }
        let replicasNow = try await replicas()
        #expect(seen, "failures: \(failures), replicas: \(replicasNow)")
        let keepalives = try await prometheus.query("hecd_etcd_requests_total{operation=\"lease_keepalive\",result=\"ok\"}")
        #expect(keepalives.count <= 1)
        let docker = try await prometheus.query("hecd_docker_request_duration_seconds_count{operation=\"create\"}")
        #expect((Double(docker.first?.value ?? "") ?? 0) >= 3, "\(docker)")
    }
}

extension Result {
    var isFailure: Bool {
        if case .failure = self { true } else { false }
    }
}
