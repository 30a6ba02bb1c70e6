import DockerEngine
import Foundation
import Testing
import TestSupport

/// Issue 16's cluster scenarios: three Docker hosts (Deploy/dockerd-instance.sh 4, 5, 6 on 127.0.0.4-6), a
/// `--cluster` agent on each, six replicas of one app, `hecd render` and HAProxy in front, the invariant
/// checker (with "no slot assigned twice") and a client loop. One row of the fault table each.
@Suite(.serialized) struct ClusterFaultScenarioTests {
    static let instances = [4, 5, 6]
    static let script = IntegrationEnvironment.repositoryRoot + "/Deploy/dockerd-instance.sh"
    static let count = 6
    static let ttl = 3

    /// Runs `scenario` on three fresh Docker hosts, purged afterwards whatever happens.
    func withHosts(_ body: ([FaultHost]) async throws -> Void) async throws {
        let purge = {
            for instance in Self.instances { _ = try? await shell("\(Self.script) purge \(instance) >/dev/null 2>&1") }
        }
        do {
            var hosts: [FaultHost] = []
            for instance in Self.instances {
                let address = try await shell("set -o pipefail; \(Self.script) start \(instance) | tail -n 1", timeout: .seconds(300))
                    .split(separator: "\n").last.map(String.init) ?? ""
                hosts.append(FaultHost(
                    name: "h\(instance)", docker: DockerClient(host: try DockerHost(address)), address: address,
                    hostIP: "127.0.0.\(instance)", instance: instance))
            }
            try await body(hosts)
        } catch {
            await purge()
            throw error
        }
        await purge()
    }

    func runningCount(_ stack: FaultStack, on host: String) async -> Int {
        await stack.runningContainers(on: [host]).count
    }

    @Test func aHostDies() async throws {
        try await withHosts { hosts in
            try await withEtcd { etcd in
                try await runFaultScenario(
                    "cluster: a host dies", etcdEndpoints: [etcd.clientURL], count: Self.count, hosts: hosts,
                    cluster: true, ttl: Self.ttl, expectations: FaultExpectations(anAgentDies: true)
                ) { stack, checker in
                    let dead = "h6"
                    let lost = await runningCount(stack, on: dead)
                    await checker.begin("host \(dead) dies (agent kill -9, dockerd stopped)", killedContainers: lost, mayFailRequests: true)
                    async let stopped: String = shell("\(Self.script) stop 6 >/dev/null 2>&1; echo", timeout: .seconds(60))
                    await stack.killAgent(dead)
                    // Dead, it runs nothing for the cluster (its engine stops answering).
                    await checker.exclude(dead)
                    _ = try await stopped
                    try await stack.waitUntilServed(by: Self.count, on: ["h4", "h5"], within: Double(Self.ttl) + 30)
                    await checker.end("host \(dead) dies (agent kill -9, dockerd stopped)")
                    // It comes back empty: its slots were moved, it starts nothing, and the count stays.
                    try await shell("\(Self.script) start 6", timeout: .seconds(300))
                    try stack.startAgent(dead)
                    await checker.include(dead)
                    try await Task.sleep(for: .seconds(4))
                    #expect(await runningCount(stack, on: dead) == 0, "the host back from the dead runs none of the moved slots")
                    try await stack.waitUntilServed(by: Self.count, within: 30)
                    return nil
                }
            }
        }
    }

    @Test func aHostIsPartitionedFromEtcd() async throws {
        try await withHosts { hosts in
            try await withEtcd { etcd in
                let cut = "h6"
                try await runFaultScenario(
                    "cluster: a host partitioned from etcd", etcdEndpoints: [etcd.clientURL], count: Self.count,
                    hosts: hosts, cluster: true, ttl: Self.ttl,
                    prepare: { stack in try await stack.routeEtcdThroughPath(of: cut) }
                ) { stack, checker in
                    // Cut off, its containers keep running and answering, but they are no longer the cluster's.
                    let cutOff = await runningCount(stack, on: cut)
                    await checker.begin("host \(cut) cut from etcd", killedContainers: cutOff)
                    await checker.exclude(cut)
                    await stack.cutEtcdPath(of: cut)
                    try await stack.waitUntilServed(by: Self.count, on: ["h4", "h5"], within: Double(Self.ttl) + 30)
                    #expect(await runningCount(stack, on: cut) > 0, "a cut-off host keeps its containers running")
                    // Back: it stops its extras without registering them.
                    try await stack.restoreEtcdPath(of: cut)
                    let cleaned = await eventually(within: 30) { await runningCount(stack, on: cut) == 0 }
                    #expect(cleaned, "the host back from the cut stops its extra containers\n\(stack.logs)")
                    await checker.include(cut)
                    await checker.end("host \(cut) cut from etcd")
                    return nil
                }
            }
        }
    }

    @Test func theSchedulerLeaderDiesDuringAFailover() async throws {
        try await withHosts { hosts in
            try await withEtcd { etcd in
                try await runFaultScenario(
                    "cluster: the scheduler leader dies during a failover", etcdEndpoints: [etcd.clientURL],
                    count: Self.count, hosts: hosts, cluster: true, ttl: Self.ttl,
                    expectations: FaultExpectations(anAgentDies: true)
                ) { stack, checker in
                    let leader = try #require(try await stack.leaderHost(), "a scheduler leads")
                    let dead = try #require(hosts.map(\.name).first { $0 != leader })
                    let survivor = try #require(hosts.map(\.name).first { $0 != leader && $0 != dead })
                    let lost = await runningCount(stack, on: dead) + runningCount(stack, on: leader)
                    // A host dies; while its slots are being moved, the leader's agent dies too (its containers
                    // keep running, cut off from the cluster).
                    await checker.begin("host \(dead) dies, then leader \(leader)'s agent", killedContainers: lost, mayFailRequests: true)
                    async let stopped: String = shell("\(Self.script) stop \(dead.dropFirst()) >/dev/null 2>&1; echo", timeout: .seconds(60))
                    await stack.killAgent(dead)
                    await checker.exclude(dead)
                    try await Task.sleep(for: .seconds(Self.ttl))
                    await checker.exclude(leader)
                    await stack.killAgent(leader)
                    _ = try await stopped
                    // The survivor leads and runs every slot.
                    try await stack.waitUntilServed(by: Self.count, on: [survivor], within: Double(Self.ttl) * 2 + 30)
                    #expect(try await stack.leaderHost() == survivor)
                    await checker.end("host \(dead) dies, then leader \(leader)'s agent")
                    return nil
                }
            }
        }
    }
}
