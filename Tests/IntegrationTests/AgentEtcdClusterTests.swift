import DockerEngine
import Etcd
import Foundation
import Testing
import TestSupport

/// `hecd agent --etcd A,B,C` against real dockerd and a real 3-member etcd while members fail: what
/// `etcdctl get --prefix /app/servers` shows.
@Suite(.serialized, .timeLimit(.minutes(3))) struct AgentEtcdClusterTests {
    static let register = "register: {prefix: /app/servers, drain: 0.5}"

    /// An agent (TTL 3) whose first etcd endpoint is `first`, and the keys it announces.
    final class Stack: @unchecked Sendable {
        let cluster: EtcdCluster
        let harness: AgentHarness
        let agent: AgentProcess

        init(cluster: EtcdCluster, harness: AgentHarness, first: Int) throws {
            self.cluster = cluster
            self.harness = harness
            let endpoints = ([first] + cluster.others(than: first)).map { cluster.members[$0].clientURL }
            agent = try AgentProcess(arguments: [
                "--manifests", harness.directory, "--agent-id", harness.agentID, "--etcd", endpoints.joined(separator: ","),
                "--host-ip", "127.0.0.1", "--ttl", "3",
            ])
        }

        /// The keys under /app/servers/ as `member` alone has them, with their leases.
        func servers(on member: Int) async -> [String: EtcdLeaseID?]? {
            guard let range = try? await EtcdClient(endpoints: [cluster.members[member].clientURL])
                .range(prefix: "/app/servers/")
            else { return nil }
            return Dictionary(uniqueKeysWithValues: range.kvs.map { ($0.key, $0.lease) })
        }

        /// Waits until every one of `members` has exactly the running containers of `web` registered, `count` of
        /// them; returns the keys with their leases.
        func waitForRegistered(_ count: Int, on members: [Int], within seconds: Double = 20) async throws -> [String: EtcdLeaseID?] {
            var last: [String: EtcdLeaseID?] = [:]
            let met = await eventually(within: seconds) {
                let running = (try? await self.harness.runningContainers(app: "web")) ?? []
                let expected = Set(running.map { "/app/servers/\($0.name)" })
                guard running.count == count else { return false }
                for member in members {
                    guard let keys = await self.servers(on: member), Set(keys.keys) == expected else { return false }
                    last = keys
                }
                return true
            }
            #expect(met, "expected \(count) keys on members \(members), saw \(last)\n\(agent.log)")
            return last
        }
    }

    func withStack(first: (EtcdCluster) async throws -> Int, _ body: (Stack) async throws -> Void) async throws {
        try await withEtcdCluster(members: 3) { cluster in
            try await withAgentHarness { harness in
                try harness.writeManifest("web", harness.webManifest(app: "web", replicas: 1, extra: Self.register))
                let stack = try Stack(cluster: cluster, harness: harness, first: try await first(cluster))
                do {
                    try await body(stack)
                } catch {
                    await stack.agent.kill()
                    throw error
                }
                await stack.agent.terminate()
            }
        }
    }

    @Test func afterTheLeaderIsKilledTheKeysStayAndANewContainerIsRegistered() async throws {
        var leader = 0
        try await withStack(first: { cluster in
            leader = try await cluster.leader()
            return leader
        }) { stack in
            let live = stack.cluster.others(than: leader)
            let before = try await stack.waitForRegistered(1, on: [0, 1, 2])
            await stack.cluster.kill(leader)
            try stack.harness.writeManifest("web", stack.harness.webManifest(app: "web", replicas: 2, extra: Self.register))
            let after = try await stack.waitForRegistered(2, on: live)
            for (key, lease) in before {
                #expect(after[key] == lease, "the first container's key kept its lease: the agent was not re-registered")
            }
            // Three more TTLs: nothing expires, nothing is registered again.
            try await Task.sleep(for: .seconds(9))
            #expect(await stack.servers(on: live[0]) == after)
            #expect(!stack.agent.log.contains("is gone"), "\(stack.agent.log)")
        }
    }

    @Test func withQuorumLostTheAgentStaysQuietAndIsRegisteredAgainAfter() async throws {
        try await withStack(first: { try await $0.leader() }) { stack in
            try await stack.waitForRegistered(1, on: [0, 1, 2])
            let linesBefore = stack.agent.log.split(separator: "\n").count
            let killed = try await stack.cluster.loseQuorum()
            try await Task.sleep(for: .seconds(15))
            let logged = stack.agent.log.split(separator: "\n").dropFirst(linesBefore)
            #expect(logged.count <= 4, "the agent keeps quiet while etcd has no quorum: \(logged.joined(separator: "\n"))")
            try await stack.cluster.regainQuorum(killed)
            try await stack.waitForRegistered(1, on: [0, 1, 2], within: 30)
        }
    }
}
