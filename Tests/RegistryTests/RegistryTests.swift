import Foundation
import Logging
import Registry
import RegistryTesting
import Testing

/// The registry against an in-memory store: what ends up in the store, and how many requests it costs.
@Suite struct RegistryTests {
    let logger = Logger(label: "registry-test")

    /// Runs a registry for the duration of `body`, then shuts it down.
    func withRegistry(
        _ store: MemoryStore, agent: String = "host-a", ttl: Int = 3, revokeAtEnd: Bool = true,
        _ body: (Registry) async throws -> Void
    ) async throws {
        let registry = Registry(store: store, agentID: agent, ttl: ttl, logger: logger)
        let running = Task { await registry.run() }
        do {
            try await body(registry)
        } catch {
            running.cancel()
            await registry.shutdown(revoke: revokeAtEnd)
            throw error
        }
        running.cancel()
        _ = await running.value
        await registry.shutdown(revoke: revokeAtEnd)
    }

    func until(_ condition: () -> Bool) async -> Bool {
        for _ in 0..<100 {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition()
    }

    @Test func announcesWantedKeysOnOneLeaseWithTheAgentRecord() async throws {
        let store = MemoryStore()
        try await withRegistry(store) { registry in
            await registry.update(
                desired: ["/app/servers/web-1": "10.0.0.5:32768", "/app/servers/web-2": "10.0.0.5:32769"],
                owned: ["/app/servers/web-1", "/app/servers/web-2"], prefixes: ["/app/servers"],
                record: AgentRecord(agent: "host-a", hostIP: "10.0.0.5", version: "t", startedAt: 0, lease: 0, apps: [:]))
            #expect(await until { store.keys["/app/servers/web-2"] == "10.0.0.5:32769" })
            #expect(store.keys["/app/servers/web-1"] == "10.0.0.5:32768")
            // The record follows the keys (a write of its own).
            #expect(await until { store.keys["/hecd/agents/host-a"]?.contains("\"hostIP\":\"10.0.0.5\"") == true })
            let leases = Set(["/app/servers/web-1", "/app/servers/web-2", "/hecd/agents/host-a"].compactMap(store.lease(of:)))
            #expect(leases.count == 1, "every key hangs on the agent's one lease")
        }
        #expect(store.keys.isEmpty, "shutting down revokes the lease: every key goes at once")
    }

    @Test func withdrawDeletesAtOnce() async throws {
        let store = MemoryStore()
        try await withRegistry(store) { registry in
            await registry.update(desired: ["/app/servers/web-1": "h:1"], owned: [], prefixes: ["/app/servers"], record: nil)
            #expect(await until { store.keys["/app/servers/web-1"] != nil })
            #expect(await registry.withdraw("/app/servers/web-1") == .removed)
            #expect(store.keys["/app/servers/web-1"] == nil, "gone when withdraw returns")
            #expect(await registry.withdraw("/app/servers/never") == .notAnnounced)
        }
    }

    /// A rollout announces the replacement and at once withdraws the container it replaces: the store must
    /// never hold fewer keys than before (the replacement's put comes before the delete).
    @Test func aWithdrawalWritesWhatWasAnnouncedBeforeIt() async throws {
        let store = MemoryStore()
        try await withRegistry(store) { registry in
            await registry.update(desired: ["/app/servers/old": "h:1"], owned: [], prefixes: ["/app/servers"], record: nil)
            #expect(await until { store.keys["/app/servers/old"] != nil })
            for round in 0..<50 {
                let replacement = "/app/servers/new-\(round)"
                let retired = round == 0 ? "/app/servers/old" : "/app/servers/new-\(round - 1)"
                await registry.update(desired: [retired: "h:1", replacement: "h:2"], owned: [], prefixes: ["/app/servers"], record: nil)
                #expect(await registry.withdraw(retired) == .removed)
                #expect(store.keys[replacement] == "h:2", "round \(round): the replacement is registered before the old key goes")
                #expect(store.keys[retired] == nil)
            }
        }
    }

    @Test func withdrawWhileTheStoreIsDownSaysTheKeyIsPendingAndRemovesItWhenBack() async throws {
        let store = MemoryStore()
        try await withRegistry(store) { registry in
            await registry.update(desired: ["/app/servers/web-1": "h:1"], owned: [], prefixes: ["/app/servers"], record: nil)
            #expect(await until { store.keys["/app/servers/web-1"] != nil })
            store.setDown(true)
            #expect(await registry.withdraw("/app/servers/web-1") == .pending, "not claimed as gone while etcd is down")
            store.setDown(false)
            #expect(await until { store.keys["/app/servers/web-1"] == nil }, "gone once the store is back")
        }
    }

    @Test func startingCleansUpOwnLeftoversAndLeavesOthersAlone() async throws {
        let store = MemoryStore()
        // Another agent's key under the same prefix, a key outside the prefix, and a leftover of this
        // agent's earlier run (a container that died while the agent was down).
        store.seed("/app/servers/other-host-web", "10.0.0.9:30000", lease: 0x77)
        store.seed("/elsewhere/web-9", "x")
        store.seed("/app/servers/web-dead", "10.0.0.5:31000", lease: 0x55)
        store.seed("/app/servers/web-1", "10.0.0.5:30001", lease: 0x55)
        store.seed("/hecd/agents/host-a", #"{"agent":"host-a","hostIP":"10.0.0.5","version":"t","startedAt":0,"lease":85,"apps":{}}"#, lease: 0x55)
        try await withRegistry(store) { registry in
            await registry.update(
                desired: ["/app/servers/web-1": "10.0.0.5:30002"], owned: ["/app/servers/web-1"],
                prefixes: ["/app/servers"], record: nil)
            #expect(await until { store.keys["/app/servers/web-1"] == "10.0.0.5:30002" })
            #expect(await until { store.keys["/app/servers/web-dead"] == nil }, "the predecessor's stale key is gone")
            #expect(store.keys["/app/servers/other-host-web"] == "10.0.0.9:30000")
            #expect(store.keys["/elsewhere/web-9"] == "x")
            #expect(!store.liveLeases.contains(0x55), "the predecessor's lease is revoked")
        }
    }

    /// An agent restarted after kill -9 takes its keys over without withdrawing them first: until it has said
    /// what it wants, its predecessor's keys (and lease) stay, and then they move to the new lease in place.
    @Test func aRestartedAgentTakesItsKeysOverWithoutAGap() async throws {
        let store = MemoryStore()
        store.seed("/app/servers/web-1", "10.0.0.5:30001", lease: 0x55)
        store.seed("/hecd/agents/host-a", #"{"agent":"host-a","hostIP":"10.0.0.5","version":"t","startedAt":0,"lease":85,"apps":{}}"#, lease: 0x55)
        try await withRegistry(store) { registry in
            // The agent is still listing its containers.
            try await Task.sleep(for: .milliseconds(500))
            #expect(store.keys["/app/servers/web-1"] == "10.0.0.5:30001", "the key stays while the agent starts")
            #expect(store.liveLeases.contains(0x55))
            await registry.update(
                desired: ["/app/servers/web-1": "10.0.0.5:30001"], owned: ["/app/servers/web-1"],
                prefixes: ["/app/servers"], record: nil)
            #expect(await until { store.lease(of: "/app/servers/web-1") != 0x55 && !store.liveLeases.contains(0x55) })
            #expect(!store.requests.contains("delete"), "the key was never withdrawn: \(store.requests)")
            #expect(store.keys["/app/servers/web-1"] == "10.0.0.5:30001")
        }
    }

    @Test func aLostLeaseIsReplacedAndEverythingRegisteredAgain() async throws {
        let store = MemoryStore()
        try await withRegistry(store, ttl: 3) { registry in
            await registry.update(desired: ["/app/servers/web-1": "h:1"], owned: [], prefixes: ["/app/servers"], record: nil)
            #expect(await until { store.keys["/app/servers/web-1"] != nil })
            let first = try #require(store.lease(of: "/app/servers/web-1"))
            store.expire(first)
            #expect(store.keys["/app/servers/web-1"] == nil)
            // The next keepalive (TTL/3 = 1 s) notices.
            try await Task.sleep(for: .milliseconds(1300))
            #expect(store.keys["/app/servers/web-1"] == "h:1")
            #expect(store.lease(of: "/app/servers/web-1") != first)
        }
    }

    @Test func anOutageIsRetriedAndRepairedByAFullSync() async throws {
        let store = MemoryStore()
        try await withRegistry(store, ttl: 3) { registry in
            await registry.update(desired: ["/app/servers/web-1": "h:1"], owned: ["/app/servers/web-1", "/app/servers/web-2"], prefixes: ["/app/servers"], record: nil)
            #expect(await until { store.keys["/app/servers/web-1"] != nil })
            store.setDown(true)
            await registry.update(
                desired: ["/app/servers/web-2": "h:2"], owned: ["/app/servers/web-1", "/app/servers/web-2"],
                prefixes: ["/app/servers"], record: nil)
            try await Task.sleep(for: .milliseconds(600))
            store.setDown(false)
            // Back within one keepalive interval (1 s).
            #expect(await until { store.keys["/app/servers/web-2"] == "h:2" && store.keys["/app/servers/web-1"] == nil })
        }
    }

    /// An etcd that refuses at once (stopped, not hung) is retried with a backoff, not in a busy loop: once the
    /// keepalive is overdue, the retries still wait.
    @Test func aStoreThatRefusesAtOnceIsRetriedWithABackoff() async throws {
        let store = MemoryStore()
        try await withRegistry(store, ttl: 3) { registry in
            await registry.update(desired: ["/app/servers/web-1": "h:1"], owned: [], prefixes: ["/app/servers"], record: nil)
            #expect(await until { store.keys["/app/servers/web-1"] != nil })
            store.setDown(true)
            let before = store.attempts
            try await Task.sleep(for: .seconds(3))
            // 250 ms, 500 ms, then every keepalive interval (1 s): a handful, where a spin makes thousands.
            let attempts = store.attempts - before
            #expect(attempts <= 12, "\(attempts) requests in 3 s of an outage")
            store.setDown(false)
            #expect(await until { store.requests.contains { $0.hasPrefix("keepalive") } })
        }
    }

    @Test func requestsDoNotGrowWithTheNumberOfKeys() async throws {
        func idleRequests(keys count: Int) async throws -> [String] {
            let store = MemoryStore()
            var desired: [String: String] = [:]
            for index in 0..<count { desired["/app/servers/web-\(index)"] = "h:\(30000 + index)" }
            try await withRegistry(store, ttl: 3) { registry in
                await registry.update(desired: desired, owned: Set(desired.keys), prefixes: ["/app/servers"], record: nil)
                #expect(await until { store.keys.count == count })
                store.clearRequests()
                try await Task.sleep(for: .milliseconds(2200))
            }
            return store.requests.filter { $0 != "revoke" }
        }
        let few = try await idleRequests(keys: 10)
        let many = try await idleRequests(keys: 200)
        #expect(few == many, "idle: the same requests with 10 and 200 keys (\(few) vs \(many))")
        #expect(few.allSatisfy { $0 == "keepalive" } && (1...3).contains(few.count), "only keepalives while idle: \(few)")
    }

    @Test func keepRegisteredLeavesTheKeys() async throws {
        let store = MemoryStore()
        try await withRegistry(store, revokeAtEnd: false) { registry in
            await registry.update(desired: ["/app/servers/web-1": "h:1"], owned: [], prefixes: ["/app/servers"], record: nil)
            #expect(await until { store.keys["/app/servers/web-1"] != nil })
        }
        #expect(store.keys["/app/servers/web-1"] == "h:1")
    }
}
