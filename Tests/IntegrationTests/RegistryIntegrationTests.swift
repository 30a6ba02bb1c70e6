import DockerEngine
import Etcd
import Foundation
import Testing
import TestSupport

/// `hecd agent --etcd` against real dockerd and etcd: what `etcdctl get --prefix /app/servers` shows as
/// containers come and go, as the agent dies, and as etcd restarts.
@Suite(.serialized) struct RegistryIntegrationTests {
    /// A manifest directory, an etcd, and an agent process with a short TTL; everything removed afterwards.
    func withStack(
        replicas: Int, ttl: Int = 3, drain: Double = 0.5, _ body: (Stack) async throws -> Void
    ) async throws {
        try await withEtcd { etcd in
            try await withAgentHarness { harness in
                try harness.writeManifest("web", harness.webManifest(
                    app: "web", replicas: replicas, extra: "register: {prefix: /app/servers, drain: \(drain)}"))
                let stack = Stack(etcd: etcd, harness: harness, ttl: ttl)
                do {
                    try await body(stack)
                } catch {
                    await stack.agent?.kill()
                    throw error
                }
                await stack.agent?.terminate()
            }
        }
    }

    final class Stack: @unchecked Sendable {
        let etcd: EtcdProcess
        let harness: AgentHarness
        let ttl: Int
        let client: EtcdClient
        var agent: AgentProcess?

        init(etcd: EtcdProcess, harness: AgentHarness, ttl: Int) {
            self.etcd = etcd
            self.harness = harness
            self.ttl = ttl
            client = EtcdClient(endpoints: [etcd.clientURL])
        }

        func startAgent(_ extra: [String] = []) throws {
            agent = try AgentProcess(arguments: [
                "--manifests", harness.directory, "--agent-id", harness.agentID, "--etcd", etcd.clientURL,
                "--host-ip", "127.0.0.1", "--ttl", String(ttl), "--resync", "5",
            ] + extra)
        }

        /// `etcdctl get --prefix /app/servers`, as key → value.
        func servers() async throws -> [String: String] {
            let lines = try await etcd.etcdctl(["get", "--prefix", "/app/servers"])
                .split(separator: "\n").map(String.init)
            var result: [String: String] = [:]
            var index = 0
            while index + 1 < lines.count {
                result[lines[index]] = lines[index + 1]
                index += 2
            }
            return result
        }

        /// Waits until the registry shows exactly the running containers of `web`, `count` of them.
        @discardableResult
        func waitForRegistered(_ count: Int, within seconds: Double = 20) async throws -> [String: String] {
            var last: [String: String] = [:]
            let met = await eventually(within: seconds) {
                last = (try? await self.servers()) ?? [:]
                let running = (try? await self.harness.runningContainers(app: "web")) ?? []
                let expected = Set(running.map { "/app/servers/\($0.name)" })
                return last.count == count && Set(last.keys) == expected
            }
            #expect(met, "expected \(count) keys matching the running containers, saw \(last)\n\(agent?.log ?? "")")
            return last
        }
    }

    @Test func keysFollowScalingInTheSeedArticlesLayout() async throws {
        try await withStack(replicas: 3) { stack in
            try stack.startAgent()
            let keys = try await stack.waitForRegistered(3)
            for (key, value) in keys {
                // <prefix>/<container-name> = <host-ip>:<host-port>, and the address answers as that container.
                let name = String(key.dropFirst("/app/servers/".count))
                #expect(value.hasPrefix("127.0.0.1:"))
                #expect(try await shell("curl -sf --max-time 5 http://\(value)/").contains("hello from \(name)"))
            }
            try stack.harness.writeManifest("web", stack.harness.webManifest(
                app: "web", replicas: 1, extra: "register: {prefix: /app/servers, drain: 0.5}"))
            try await stack.waitForRegistered(1)
        }
    }

    @Test func aKilledContainerLeavesAtOnceAndItsReplacementJoins() async throws {
        try await withStack(replicas: 2) { stack in
            try stack.startAgent()
            let before = try await stack.waitForRegistered(2)
            let victim = try #require(try await stack.harness.runningContainers(app: "web").first)
            let killedAt = ContinuousClock.now
            try await stack.harness.docker.killContainer(victim.id)
            let gone = await eventually(within: 3) {
                (try? await stack.servers())?["/app/servers/\(victim.name)"] == nil
            }
            let elapsed = ContinuousClock.now - killedAt
            #expect(gone, "the killed container's key is removed (took \(elapsed))")
            let after = try await stack.waitForRegistered(2, within: 10)
            #expect(Set(after.keys) != Set(before.keys), "a replacement is registered")
        }
    }

    @Test func aBigScaleUpRegistersTheFirstContainersWhileTheLastAreStillStarting() async throws {
        try await withStack(replicas: 0) { stack in
            try stack.startAgent(["--parallel", "4"])
            try await stack.waitForRegistered(0)
            try stack.harness.writeManifest("web", stack.harness.webManifest(
                app: "web", replicas: 16, extra: "register: {prefix: /app/servers, drain: 0.5}"))
            // 16 containers, 4 at a time: the first are ready long before the last is started.
            var startedWhenFirstRegistered: Int?
            let registered = await eventually(within: 30) {
                let keys = (try? await stack.client.count(prefix: "/app/servers/").count) ?? 0
                let started = (try? await stack.harness.runningContainers(app: "web").count) ?? 0
                if keys > 0, startedWhenFirstRegistered == nil { startedWhenFirstRegistered = started }
                return keys > 0
            }
            #expect(registered)
            let started = try #require(startedWhenFirstRegistered)
            #expect(started < 16, "the first key came only once all 16 containers ran")
            try await stack.waitForRegistered(16, within: 60)
        }
    }

    @Test func scaleDownDeregistersBeforeStopping() async throws {
        try await withStack(replicas: 2, drain: 2) { stack in
            try stack.startAgent()
            try await stack.waitForRegistered(2)
            try stack.harness.writeManifest("web", stack.harness.webManifest(
                app: "web", replicas: 1, extra: "register: {prefix: /app/servers, drain: 2}"))
            // Within the drain period: one key left, yet both containers still run.
            let drained = await eventually(within: 2) { ((try? await stack.servers()) ?? [:]).count == 1 }
            #expect(drained)
            #expect(try await stack.harness.runningContainers(app: "web").count == 2, "the container runs through its drain period")
            try await stack.harness.waitForRunning("web", count: 1, within: 10)
        }
    }

    @Test func aKilledAgentsKeysExpireAndARestartedAgentRegistersWithoutDuplicates() async throws {
        try await withStack(replicas: 2, ttl: 3) { stack in
            try stack.startAgent()
            let before = try await stack.waitForRegistered(2)
            await stack.agent?.kill()
            // Containers keep running; their keys go with the lease, within the TTL.
            let expired = await eventually(within: Double(stack.ttl) + 2) { ((try? await stack.servers()) ?? ["x": "x"]).isEmpty }
            #expect(expired, "keys of a dead agent expire within the TTL")
            #expect(try await stack.harness.runningContainers(app: "web").count == 2)

            try stack.startAgent()
            let after = try await stack.waitForRegistered(2)
            #expect(Set(after.keys) == Set(before.keys), "the same containers, adopted and registered again")
        }
    }

    @Test func aRestartedAgentRemovesKeysOfContainersThatWentAwayMeanwhile() async throws {
        try await withStack(replicas: 2, ttl: 30) { stack in
            try stack.startAgent()
            try await stack.waitForRegistered(2)
            await stack.agent?.kill()
            let victim = try #require(try await stack.harness.runningContainers(app: "web").first)
            try await stack.harness.docker.removeContainer(victim.id, force: true)
            #expect(try await stack.servers()["/app/servers/\(victim.name)"] != nil, "the stale key is still there (TTL 30 s)")
            try stack.startAgent()
            // Not after the old lease's 30 s: at once, because the new agent diffs etcd against Docker.
            let cleaned = await eventually(within: 5) { (try? await stack.servers())?["/app/servers/\(victim.name)"] == nil }
            #expect(cleaned)
            try await stack.waitForRegistered(2)
        }
    }

    @Test func keysComeBackAfterAnEtcdRestart() async throws {
        try await withStack(replicas: 2, ttl: 3) { stack in
            try stack.startAgent()
            try await stack.waitForRegistered(2)
            await stack.etcd.stop()
            try await Task.sleep(for: .seconds(2))
            #expect(try await stack.harness.runningContainers(app: "web").count == 2, "containers keep running")
            try await stack.etcd.start()
            try await stack.waitForRegistered(2, within: 10)
            #expect(stack.agent?.isRunning == true)
        }
    }

    @Test func sigtermRevokesTheLeaseUnlessKeepRegistered() async throws {
        try await withStack(replicas: 1, ttl: 30) { stack in
            try stack.startAgent(["--keep-registered"])
            let keys = try await stack.waitForRegistered(1)
            await stack.agent?.terminate()
            #expect(try await stack.servers() == keys, "--keep-registered leaves the keys")

            let key = try #require(keys.keys.first)
            let oldLease = try await stack.client.get(key)?.lease
            try stack.startAgent()
            // The new agent takes the key over on its own lease.
            let takenOver = await eventually(within: 10) {
                guard let lease = try? await stack.client.get(key)?.lease else { return false }
                return lease != oldLease
            }
            #expect(takenOver)
            await stack.agent?.terminate()
            #expect(try await stack.servers().isEmpty, "SIGTERM revokes the lease: the keys go at once")
            #expect(try await stack.harness.runningContainers(app: "web").count == 1, "and the containers stay")
        }
    }
}
