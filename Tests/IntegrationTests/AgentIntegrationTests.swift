import Agent
import DockerEngine
import Foundation
import HTTPTransport
import Reconciler
import Testing
import TestSupport

/// `hecd agent` against the real dockerd: what an operator sees with `docker ps` as they edit manifests,
/// kill containers and restart the agent.
@Suite(.serialized) struct AgentIntegrationTests {
    @Test func scalesWithEditsOfReplicas() async throws {
        try await withAgentHarness { harness in
            try harness.writeManifest("web", harness.webManifest(app: "web", replicas: 0))
            harness.startAgent()
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await harness.containers(app: "web").isEmpty)

            try harness.writeManifest("web", harness.webManifest(app: "web", replicas: 3))
            let three = try await harness.waitForRunning("web", count: 3)
            // Every replica is published on a host port (-P) and answers through it.
            for container in three {
                let port = try #require(container.ports.first { $0.privatePort == 80 }?.publicPort)
                let page = try await shell("curl -sf --max-time 5 http://127.0.0.1:\(port)/")
                #expect(page.contains("hello from \(container.name)"))
            }

            try harness.writeManifest("web", harness.webManifest(app: "web", replicas: 1))
            let one = try await harness.waitForRunning("web", count: 1)
            #expect(Set(three.map(\.id)).isSuperset(of: one.map(\.id)), "scaling down keeps a running replica")

            try harness.writeManifest("web", harness.webManifest(app: "web", replicas: 0))
            try await harness.waitForRunning("web", count: 0)
        }
    }

    @Test func aKilledContainerIsReplaced() async throws {
        try await withAgentHarness { harness in
            try harness.writeManifest("web", harness.webManifest(app: "web", replicas: 2))
            harness.startAgent()
            let before = try await harness.waitForRunning("web", count: 2)
            let victim = try #require(before.first)
            try await harness.docker.killContainer(victim.id)

            let after = try await harness.waitForRunning("web", count: 2, within: 10)
            #expect(!after.map(\.id).contains(victim.id), "the killed container is removed, not restarted in place")
            #expect(after.map(\.id).contains { $0 == before[1].id }, "the other replica is untouched")
        }
    }

    @Test func aRestartedAgentAdoptsItsContainers() async throws {
        try await withAgentHarness { harness in
            try harness.writeManifest("web", harness.webManifest(app: "web", replicas: 2))
            harness.startAgent()
            let before = try await harness.waitForRunning("web", count: 2)
            await harness.stopAgent()
            // Stopping the agent leaves its containers running.
            #expect(try await harness.runningContainers(app: "web").map(\.id).sorted() == before.map(\.id).sorted())

            harness.startAgent()
            try await Task.sleep(for: .seconds(2))
            let after = try await harness.containers(app: "web")
            #expect(after.map(\.id).sorted() == before.map(\.id).sorted(), "no duplicates, no orphans")
        }
    }

    @Test func anInvalidManifestStopsNothingAndHoldsUpNoOtherApp() async throws {
        try await withAgentHarness { harness in
            try harness.writeManifest("web", harness.webManifest(app: "web", replicas: 2))
            try harness.writeManifest("api", harness.webManifest(app: "api", replicas: 1))
            harness.startAgent()
            let web = try await harness.waitForRunning("web", count: 2)
            try await harness.waitForRunning("api", count: 1)

            try harness.writeManifest("web", "name: web\nimage: \(IntegrationEnvironment.image)\nreplicas: lots\n")
            try harness.writeManifest("api", harness.webManifest(app: "api", replicas: 2))
            try await harness.waitForRunning("api", count: 2)
            #expect(try await harness.runningContainers(app: "web").map(\.id).sorted() == web.map(\.id).sorted())

            // A fresh agent that meets the broken manifest first does not touch that app either.
            await harness.stopAgent()
            harness.startAgent()
            try await Task.sleep(for: .seconds(2))
            #expect(try await harness.runningContainers(app: "web").map(\.id).sorted() == web.map(\.id).sorted())

            // Fixed, it takes effect.
            try harness.writeManifest("web", harness.webManifest(app: "web", replicas: 1))
            try await harness.waitForRunning("web", count: 1)
        }
    }

    @Test func aManifestReplacedByRemoveAndWriteKeepsItsContainers() async throws {
        try await withAgentHarness { harness in
            try harness.writeManifest("web", harness.webManifest(app: "web", replicas: 2))
            harness.startAgent()
            let before = try await harness.waitForRunning("web", count: 2)
            // What `git checkout` and some editors do: the file is gone for a moment, then back.
            harness.removeManifest("web")
            try await Task.sleep(for: .milliseconds(400))
            try harness.writeManifest("web", harness.webManifest(app: "web", replicas: 2))
            try await Task.sleep(for: .seconds(2.5))
            #expect(try await harness.runningContainers(app: "web").map(\.id).sorted() == before.map(\.id).sorted())

            // Deleted for good, the app goes after the grace period.
            harness.removeManifest("web")
            try await harness.waitForRunning("web", count: 0, within: 15)
        }
    }

    @Test func aSpecChangeReplacesContainersOneAtATime() async throws {
        try await withAgentHarness { harness in
            try harness.writeManifest("web", harness.webManifest(app: "web", replicas: 2))
            harness.startAgent()
            let before = try await harness.waitForRunning("web", count: 2)

            try harness.writeManifest("web", harness.webManifest(app: "web", replicas: 2, extra: "env: {GREETING: v2}"))
            var fewestRunning = Int.max
            let replaced = await eventually(within: 30) {
                let now = (try? await harness.containers(app: "web")) ?? []
                let running = now.filter { $0.state == "running" }
                fewestRunning = min(fewestRunning, running.count)
                return now.count == 2 && running.count == 2 && Set(now.map(\.id)).isDisjoint(with: before.map(\.id))
            }
            #expect(replaced, "both containers replaced by ones of the new spec")
            #expect(fewestRunning >= 2, "never fewer running replicas than declared during the rollout")
            for container in try await harness.runningContainers(app: "web") {
                let port = try #require(container.ports.first { $0.privatePort == 80 }?.publicPort)
                #expect(try await shell("curl -sf --max-time 5 http://127.0.0.1:\(port)/").contains("v2"))
            }
        }
    }

    @Test func aCrashLoopBacksOff() async throws {
        let fast = BackoffPolicy(initial: .seconds(3), maximum: .seconds(30), resetAfter: .seconds(600))
        try await withAgentHarness(backoff: fast) { harness in
            // A command that exits at once.
            try harness.writeManifest("crash", """
                name: crash
                image: \(IntegrationEnvironment.image)
                replicas: 1
                port: 80
                command: ["/bin/sh", "-c", "exit 3"]
                """)
            // Count creations from the live event stream (dockerd's replay buffer holds only 256 events).
            let events = harness.docker.events(labels: ["io.hecd.agent=\(harness.agentID)"], actions: ["create"])
            let counter = Task {
                var count = 0
                for try await item in events {
                    if case .line(let line) = item, !line.isEmpty { count += 1 }
                }
                return count
            }
            try await Task.sleep(for: .milliseconds(300))
            harness.startAgent()
            try await Task.sleep(for: .seconds(12))
            counter.cancel()
            // Failures at about 0 s and 0.1 s (replaced at once), then retries after 3 s and 6 s more:
            // 3 or 4 containers in 12 s. Without a backoff there would be hundreds.
            let creations = try await counter.value
            #expect((3...4).contains(creations), "containers created in 12 s of a crash loop: \(creations)")
            #expect(try await harness.containers(app: "crash").count <= 1, "dead containers are removed")
        }
    }
}

/// The agent against a Docker daemon of its own (Deploy/dockerd-instance.sh), which the test crashes and
/// restarts: the agent must reconnect, re-list, and bring the declared count back.
@Suite(.serialized) struct DockerRestartTests {
    static let instance = 7

    @Test func aDockerdRestartIsSurvived() async throws {
        let script = IntegrationEnvironment.repositoryRoot + "/Deploy/dockerd-instance.sh"
        let purge = { _ = try? await shell("\(script) purge \(Self.instance) >/dev/null 2>&1") }
        do {
            let address = try await shell("set -o pipefail; \(script) start \(Self.instance) | tail -n 1", timeout: .seconds(300))
                .split(separator: "\n").last.map(String.init) ?? ""
            let docker = DockerClient(host: try DockerHost(address))
            try await restartScenario(docker: docker, script: script)
        } catch {
            await purge()
            throw error
        }
        await purge()
    }

    /// What the instance's dockerd logged last, for a failure message.
    static func dockerdLogTail() async -> String {
        (try? await shell("tail -n 30 /tmp/hecd-dockerd-\(instance).log")) ?? "(no dockerd log)"
    }

    func restartScenario(docker: DockerClient, script: String) async throws {
        try await withAgentHarness(docker: docker) { harness in
            try harness.writeManifest("web", harness.webManifest(app: "web", replicas: 2))
            harness.startAgent()
            let before = try await harness.waitForRunning("web", count: 2)

            // A crash of dockerd; on its restart it kills the containers it had (no live-restore).
            try await shell("\(script) kill \(Self.instance)", timeout: .seconds(30))
            try await Task.sleep(for: .milliseconds(500))
            try await shell("\(script) start \(Self.instance)", timeout: .seconds(300))

            let after = try await harness.waitForRunning("web", count: 2, within: 60)
            #expect(Set(after.map(\.id)).isDisjoint(with: before.map(\.id)), "the killed containers were replaced")

            // The event stream and the loop still work after the reconnect.
            try harness.writeManifest("web", harness.webManifest(app: "web", replicas: 3))
            let scaled = try await harness.waitForRunning("web", count: 3, within: 20)
            if scaled.count != 3 || after.count != 2 { print("dockerd-\(Self.instance) log:\n\(await Self.dockerdLogTail())") }
        }
    }
}
