import DockerEngine
import EngineTesting
import Foundation
import Reconciler
import Testing

/// Every rule of a pass, on the in-memory engine: no dockerd, each test in well under a second or two.
@Suite struct AgentPassTests {
    @Test func scalesUpAndDownWithEdits() async throws {
        try await withMemoryAgent { agent in
            try agent.write("web", replicas: 3)
            agent.start()
            let three = await agent.waitForRunning("web", 3)
            #expect(agent.engine.containers.allSatisfy { $0.labels["io.hecd.agent"] == agent.agentID })
            try agent.write("web", replicas: 1)
            let one = await agent.waitForRunning("web", 1)
            #expect(Set(three.map(\.id)).isSuperset(of: one.map(\.id)), "scaling down keeps a running replica")
            try agent.write("web", replicas: 0)
            await agent.waitForRunning("web", 0)
        }
    }

    @Test func aDeadContainerIsRemovedAndReplaced() async throws {
        try await withMemoryAgent { agent in
            try agent.write("web", replicas: 2)
            agent.start()
            let before = await agent.waitForRunning("web", 2)
            let victim = try #require(before.first)
            agent.engine.crash(victim.id)
            let after = await agent.waitForRunning("web", 2)
            #expect(!after.map(\.id).contains(victim.id), "the dead container is removed, not restarted")
            #expect(after.contains { $0.id == before[1].id }, "the other replica is untouched")
        }
    }

    @Test func aDieEventIsTrustedOverAListThatStillSaysRunning() async throws {
        let engine = InMemoryEngine(images: ["hecd-demo:1": [80]])
        // The engine lists a dead container as running for 10 s; the agent must not wait for it.
        engine.configure { $0.staleListAfterDie = .seconds(10) }
        try await withMemoryAgent(engine: engine) { agent in
            try agent.write("web", replicas: 2)
            agent.start()
            let before = await agent.waitForRunning("web", 2)
            let victim = try #require(before.first)
            let crashed = ContinuousClock.now
            agent.engine.crash(victim.id)
            let replaced = await eventually(within: 3) { agent.running("web").count == 2 }
            #expect(replaced, "replaced within 3 s, not after the list's 10 s")
            #expect(ContinuousClock.now - crashed < .seconds(3))
        }
    }

    @Test func aContainerBeingStoppedIsNeitherReplacedNorCountedTwice() async throws {
        let engine = InMemoryEngine(images: ["hecd-demo:1": [80]])
        engine.configure { $0.exitAfterSIGTERM = .seconds(3600) }  // ignores SIGTERM: the stop takes 1 s
        try await withMemoryAgent(engine: engine) { agent in
            try agent.write("web", replicas: 3)
            agent.start()
            await agent.waitForRunning("web", 3)
            let createsBefore = agent.engine.count(.create)
            try agent.write("web", replicas: 2)
            // While the stop waits out its timeout, passes run (a manifest touch) and see the container as leaving.
            try await Task.sleep(for: .milliseconds(300))
            try agent.write("web", replicas: 2, extra: "# touched")
            try await Task.sleep(for: .milliseconds(300))
            #expect(agent.engine.count(.create) == createsBefore, "nothing is created for a container that is leaving")
            #expect(agent.running("web").count == 3, "still stopping")
            await agent.waitForRunning("web", 2)
            #expect(agent.engine.count(.stop) == 1, "one stop for one container too many")
        }
    }

    @Test func aCrashLoopBacksOff() async throws {
        let engine = InMemoryEngine(images: ["hecd-demo:1": [80]])
        engine.configure { $0.failingStarts = 1000 }
        let backoff = BackoffPolicy(initial: .milliseconds(200), maximum: .seconds(5), resetAfter: .seconds(60))
        try await withMemoryAgent(backoff: backoff, engine: engine) { agent in
            try agent.write("web", replicas: 1)
            agent.start()
            #expect(await eventually(within: 10) { agent.engine.count(.create) >= 1 })
            let first = agent.engine.count(.create)
            try await Task.sleep(for: .seconds(2))
            // Without a backoff a failing start is retried at once, hundreds of times in 2 s. With 200 ms doubling
            // after the first failure's immediate retry: about 0, 0.2, 0.6 and 1.4 s into the window.
            let creates = agent.engine.count(.create) - first
            #expect((2...7).contains(creates), "\(creates) creates in 2 s")
            #expect(agent.engine.containers.isEmpty, "a container that cannot start is removed")
        }
    }

    @Test func aRestartedAgentAdoptsItsContainers() async throws {
        try await withMemoryAgent { agent in
            try agent.write("web", replicas: 2)
            agent.start()
            let before = await agent.waitForRunning("web", 2)
            await agent.stop()
            #expect(agent.running("web").count == 2, "stopping the agent leaves its containers running")
            let creates = agent.engine.count(.create)
            agent.start()
            try await Task.sleep(for: .milliseconds(500))
            #expect(agent.running("web").map(\.id).sorted() == before.map(\.id).sorted())
            #expect(agent.engine.count(.create) == creates, "adopted, not duplicated")
        }
    }

    @Test func aDroppedEventStreamIsMadeUpForByARelistOnReconnect() async throws {
        try await withMemoryAgent { agent in
            try agent.write("web", replicas: 2)
            agent.start()
            let before = await agent.waitForRunning("web", 2)
            await agent.waitUntilQuiet()
            agent.engine.dropEventStream()
            let victim = try #require(before.first)
            agent.engine.crash(victim.id)  // its `die` event is lost
            try await Task.sleep(for: .milliseconds(500))
            #expect(agent.running("web").count == 1, "nothing told the agent (resync is 30 s)")
            agent.engine.restoreEventStream()
            await agent.waitForRunning("web", 2, within: 3)
        }
    }
}

/// The registry side of a pass, on the in-memory engine and store.
@Suite struct AgentRegistrationTests {
    @Test func readyContainersAreRegisteredAtTheirHostAddress() async throws {
        try await withMemoryAgent(registry: true, hostIP: "127.0.0.1") { agent in
            try agent.write("web", replicas: 2)
            agent.start()
            let running = await agent.waitForRunning("web", 2)
            let registered = await eventually(within: 3) { agent.keys.count == 2 }
            #expect(registered, "keys: \(agent.keys)")
            for container in running {
                let port = try #require(container.ports.first?.publicPort)
                #expect(agent.keys["/app/servers/\(container.name)"] == "127.0.0.1:\(port)")
            }
            // A crash withdraws the key at once (the die event), before any replacement.
            let victim = try #require(running.first)
            agent.engine.crash(victim.id)
            let withdrawn = await eventually(within: 1) { agent.keys["/app/servers/\(victim.name)"] == nil }
            #expect(withdrawn)
            let back = await eventually(within: 3) { agent.keys.count == 2 }
            #expect(back, "the replacement is registered")
        }
    }

    @Test func anEngineThatPublishesOnIPv6IsRegisteredBracketed() async throws {
        let engine = InMemoryEngine(images: ["hecd-demo:1": [80]])
        engine.configure { $0.publishAddress = "::1" }
        try await withMemoryAgent(registry: true, hostIP: nil, engine: engine) { agent in
            try agent.write("web", replicas: 1)
            agent.start()
            let container = try #require(await agent.waitForRunning("web", 1).first)
            let port = try #require(container.ports.first?.publicPort)
            let registered = await eventually(within: 3) { agent.keys["/app/servers/\(container.name)"] == "[::1]:\(port)" }
            #expect(registered, "keys: \(agent.keys)")
        }
    }

    @Test func allAddressesWithoutAHostIPRegistersNothing() async throws {
        try await withMemoryAgent(registry: true, hostIP: nil) { agent in
            try agent.write("web", replicas: 1)
            agent.start()
            await agent.waitForRunning("web", 1)
            try await Task.sleep(for: .milliseconds(500))
            #expect(agent.keys.isEmpty, "published on 0.0.0.0 with no --host-ip: the host IP is never guessed")
        }
    }

    @Test func aScaleDownWithdrawsTheKeyThenDrainsThenStops() async throws {
        try await withMemoryAgent(registry: true) { agent in
            try agent.write("web", replicas: 1, extra: "")
            agent.start()
            let container = try #require(await agent.waitForRunning("web", 1).first)
            #expect(await eventually(within: 3) { agent.keys.count == 1 })
            // A drain of 0.5 s, then 0 replicas.
            let text = "name: web\nimage: hecd-demo:1\nreplicas: 0\nport: 80\nstop_timeout: 1\nregister: {prefix: /app/servers, drain: 0.5}\n"
            try text.write(toFile: agent.directory + "/web.yaml", atomically: true, encoding: .utf8)
            #expect(await eventually(within: 2) { agent.keys.isEmpty })
            let withdrawnAt = ContinuousClock.now
            #expect(agent.engine.count(.stop) == 0, "the key goes first; the container still serves")
            #expect(agent.running("web").map(\.id) == [container.id])
            await agent.waitForRunning("web", 0, within: 3)
            let stop = try #require(agent.engine.calls.first { $0.call == .stop })
            #expect(stop.at - withdrawnAt > .milliseconds(300), "stopped only after the drain")
        }
    }

    @Test func aBigScaleUpRegistersTheFirstWhileTheLastAreStillBeingCreated() async throws {
        let engine = InMemoryEngine(images: ["hecd-demo:1": [80]])
        engine.configure { $0.latency[.create] = .milliseconds(100) }
        try await withMemoryAgent(registry: true, parallel: 2, engine: engine) { agent in
            try agent.write("web", replicas: 0)
            agent.start()
            try await Task.sleep(for: .milliseconds(200))
            try agent.write("web", replicas: 12)
            var createsAtFirstKey: Int?
            let first = await eventually(within: 5) {
                if !agent.keys.isEmpty { createsAtFirstKey = agent.engine.count(.create) }
                return createsAtFirstKey != nil
            }
            #expect(first)
            let creates = try #require(createsAtFirstKey)
            #expect(creates < 12, "the first key came only after all 12 creates")
            #expect(await eventually(within: 5) { agent.keys.count == 12 })
            // Registering while creating lists nothing per new container: a handful of lists, not one per create.
            #expect(agent.engine.count(.list) < 12, "\(agent.engine.count(.list)) lists for 12 creates")
        }
    }
}
