import DockerEngine
import Foundation
import Testing
import TestSupport

/// Issue 16's fault scenarios on one Docker host: each injects a fault into the real stack (etcd, dockerd,
/// `hecd agent`, `hecd render`, HAProxy) while the invariant checker watches and a client sends requests
/// through HAProxy, and prints one row of the fault table. Short versions run in every test run;
/// `Deploy/faults.sh` runs the full ones (HECD_FAULT_SCALE=full) and writes bench/results/faults.md.
@Suite(.serialized) struct FaultScenarioTests {
    @Test func aSingleEtcdDown() async throws {
        let outage = FaultScale.outage(full: .seconds(60), short: .seconds(12))
        try await withEtcd { etcd in
            try await runFaultScenario("single etcd down \(Int(outage.seconds)) s", etcdEndpoints: [etcd.clientURL]) { stack, checker in
                await checker.begin("etcd stopped \(Int(outage.seconds)) s")
                let measured = try await OutageMeasurement.during(stack.agent) {
                    await etcd.stop()
                    try await Task.sleep(for: outage)
                }
                try await etcd.start()
                await checker.end("etcd stopped \(Int(outage.seconds)) s")
                // While etcd was away the stack kept serving; once it is back, a new container is registered.
                try await stack.takesAChange()
                return measured
            }
        }
    }

    @Test func haproxyKilledAndRestarted() async throws {
        try await withEtcd { etcd in
            try await runFaultScenario("HAProxy killed and restarted", etcdEndpoints: [etcd.clientURL]) { stack, checker in
                await checker.begin("HAProxy SIGKILL, restarted after 2 s", mayFailRequests: true)
                await stack.killHAProxy()
                try await Task.sleep(for: .seconds(2))
                try stack.startHAProxy()
                try await stack.waitUntilServed(by: stack.count, within: 20)
                await checker.end("HAProxy SIGKILL, restarted after 2 s")
                // The renderer reloads the new HAProxy for later changes.
                try await stack.takesAChange()
                return nil
            }
        }
    }

    @Test func theAgentKilledInTheMiddleOfARollingReplacement() async throws {
        try await withEtcd { etcd in
            try await runFaultScenario(
                "agent kill -9 mid rolling replacement", etcdEndpoints: [etcd.clientURL],
                expectations: FaultExpectations(anAgentDies: true)
            ) { stack, checker in
                let before = Set(await stack.runningContainers().map(\.id))
                try stack.harness.writeManifest(stack.app, stack.manifest(extra: "env: {GREETING: v2}"))
                // Once the first replacement runs, the agent dies.
                let replacing = await eventually(within: 20) {
                    let now = await stack.runningContainers()
                    return now.contains { !before.contains($0.id) }
                }
                try #require(replacing, "the rollout began\n\(stack.logs)")
                await checker.begin("agent SIGKILL mid rollout, restarted after 2 s")
                await stack.killAgent()
                try await Task.sleep(for: .seconds(2))
                try stack.startAgent()
                await checker.end("agent SIGKILL mid rollout, restarted after 2 s")
                // The restarted agent finishes the rollout: count containers, all new.
                let finished = await eventually(within: 60) {
                    let now = await stack.runningContainers()
                    return now.count == stack.count && now.allSatisfy { !before.contains($0.id) }
                }
                #expect(finished, "the restarted agent finished the rollout\n\(stack.logs)")
                try await stack.waitUntilServed(by: stack.count, within: 30)
                // Its keys from before the kill are gone with the old lease; let the checker see the TTL pass.
                try await Task.sleep(for: .seconds(stack.ttl + 1))
                return nil
            }
        }
    }

    @Test func theRenderDestinationFillsUp() async throws {
        try await withEtcd { etcd in
            try await runFaultScenario("render destination full (tmpfs)", etcdEndpoints: [etcd.clientURL]) { stack, checker in
                // A small tmpfs over the folder that holds haproxy.cfg, filled up once HAProxy runs from it.
                let etc = stack.destinationRoot + "/etc/hecd"
                let saved = try String(contentsOfFile: stack.configPath, encoding: .utf8)
                try await shell("mount -t tmpfs -o size=256k hecd-fault-full \(etc)", timeout: .seconds(20))
                defer { _ = try? FileManager.default.removeItem(atPath: etc + "/filler") }
                do {
                    try saved.write(toFile: stack.configPath, atomically: false, encoding: .utf8)
                    await checker.begin("destination filesystem full")
                    _ = try? await shell("dd if=/dev/zero of=\(etc)/filler bs=4k 2>/dev/null", timeout: .seconds(20))
                    // A change that needs a new file: the write fails, and what HAProxy runs is left whole.
                    try stack.harness.writeManifest(stack.app, stack.manifest(replicas: stack.count + 1))
                    try await Task.sleep(for: .seconds(4))
                    let config = try String(contentsOfFile: stack.configPath, encoding: .utf8)
                    #expect(config == saved, "a failed write left haproxy.cfg as it was")
                    #expect(stack.render?.isRunning == true, "the renderer survives a full disk\n\(stack.logs)")
                    // Space again: the renderer catches up.
                    try FileManager.default.removeItem(atPath: etc + "/filler")
                    await checker.end("destination filesystem full")
                    try await stack.waitUntilServed(by: stack.count + 1, within: 30)
                    try stack.harness.writeManifest(stack.app, stack.manifest())
                    try await stack.waitUntilServed(by: stack.count, within: 30)
                } catch {
                    _ = try? await shell("umount -l \(etc)", timeout: .seconds(20))
                    throw error
                }
                // HAProxy holds the config it read; the renderer's later writes go to the folder below again.
                await stack.render?.terminate()
                _ = try? await shell("umount -l \(etc)", timeout: .seconds(20))
                return nil
            }
        }
    }

    @Test func aSlowEngineWhoseStopsTakeTheirWholeTimeout() async throws {
        let stop = Int(FaultScale.outage(full: .seconds(30), short: .seconds(6)).seconds)
        // httpd as PID 1 ignores SIGTERM: each stop waits out stop_timeout.
        let stubborn = """
            command: ["/bin/sh", "-c", "mkdir -p /www; echo hello from $(hostname) $GREETING > /www/index.html; exec httpd -f -p 80 -h /www"]
            """
        try await withEtcd { etcd in
            try await runFaultScenario("slow engine: stops of \(stop) s", etcdEndpoints: [etcd.clientURL]) { stack, checker in
                let manifest = { (replicas: Int, greeting: String) in
                    stack.manifest(replicas: replicas, extra: "\(stubborn)\nenv: {GREETING: \(greeting)}")
                        .replacingOccurrences(of: "stop_timeout: 2", with: "stop_timeout: \(stop)")
                }
                // The containers of the stack become stubborn ones first (a rollout of its own).
                try stack.harness.writeManifest(stack.app, manifest(stack.count, "v1"))
                try await eventuallyAllNew(stack, greeting: "v1", within: 60 + Double(stop * stack.count))
                await checker.begin("rolling replacement with \(stop) s stops")
                try stack.harness.writeManifest(stack.app, manifest(stack.count, "v2"))
                try await eventuallyAllNew(stack, greeting: "v2", within: 60 + Double(stop * stack.count))
                await checker.end("rolling replacement with \(stop) s stops")
                return nil
            }
        }
    }

    /// Waits until the app has `count` containers, all running (none left stopping) and all of the spec that
    /// answers `greeting`.
    private func eventuallyAllNew(_ stack: FaultStack, greeting: String, within seconds: Double) async throws {
        let probe = ProxyProbe(port: stack.proxyPort)
        let done = await eventually(within: seconds) {
            let all = (try? await stack.harness.containers(app: stack.app)) ?? []
            guard all.count == stack.count, all.allSatisfy({ $0.state == "running" }) else { return false }
            for _ in 0..<6 {
                guard let answer = await probe.get(), answer.body.contains(greeting) else { return false }
            }
            return true
        }
        if !done { throw TestFailure("the rollout did not finish within \(seconds) s\n\(stack.logs)") }
    }
}

/// A Docker daemon of its own is restarted under the stack (Deploy/dockerd-instance.sh, instance 8).
@Suite(.serialized) struct DockerdRestartFaultTests {
    static let instance = 8

    @Test func dockerdRestarted() async throws {
        let script = IntegrationEnvironment.repositoryRoot + "/Deploy/dockerd-instance.sh"
        let address = try await shell("set -o pipefail; \(script) start \(Self.instance) | tail -n 1", timeout: .seconds(300))
            .split(separator: "\n").last.map(String.init) ?? ""
        let purge = { _ = try? await shell("\(script) purge \(Self.instance) >/dev/null 2>&1") }
        do {
            try await withEtcd { etcd in
                let host = FaultHost(
                    name: "h\(Self.instance)", docker: DockerClient(host: try DockerHost(address)), address: address,
                    hostIP: "127.0.0.\(Self.instance)", instance: Self.instance)
                try await runFaultScenario("dockerd restarted", etcdEndpoints: [etcd.clientURL], hosts: [host]) { stack, checker in
                    // systemctl restart docker: dockerd stops its containers, and starts without them.
                    await checker.begin("dockerd stop + start", killedContainers: stack.count, mayFailRequests: true)
                    try await shell("\(script) stop \(Self.instance)", timeout: .seconds(60))
                    try await shell("\(script) start \(Self.instance)", timeout: .seconds(300))
                    try await stack.waitUntilServed(by: stack.count, within: 60)
                    await checker.end("dockerd stop + start")
                    return nil
                }
            }
        } catch {
            await purge()
            throw error
        }
        await purge()
    }
}
