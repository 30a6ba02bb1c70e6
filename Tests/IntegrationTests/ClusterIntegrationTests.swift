import Agent
import DockerEngine
import Foundation
import Glibc
import Synchronization
import Testing
import TestSupport

/// Cluster mode on one machine: three Docker hosts (Deploy/dockerd-instance.sh 4, 5, 6, publishing on
/// 127.0.0.4-6), one agent per host with `--cluster`, one real etcd. A checker watches /hecd/assign and the
/// engines for the whole scenario: no slot assigned twice, never more than count + 1 containers of the app.
@Suite(.serialized) struct ClusterIntegrationTests {
    static let instances = [4, 5, 6]
    static let script = IntegrationEnvironment.repositoryRoot + "/Deploy/dockerd-instance.sh"
    static let ttl = 3

    final class Cluster: @unchecked Sendable {
        let etcd: EtcdProcess
        let run = UUID().uuidString.prefix(6).lowercased()
        var engines: [Int: DockerClient] = [:]
        var agents: [Int: AgentProcess] = [:]
        let directory: String
        let violations = Mutex<[String]>([])
        /// When each killed agent died: its keys may stay until its lease expires.
        let killedAt = Mutex<[Int: Date]>([:])

        func killAgent(_ instance: Int) async {
            killedAt.withLock { $0[instance] = Date() }
            await agents[instance]?.kill()
        }

        init(etcd: EtcdProcess) {
            self.etcd = etcd
            directory = NSTemporaryDirectory() + "hecd-cluster-\(UUID().uuidString.prefix(8))"
        }

        func agentID(_ instance: Int) -> String { "c\(run)-h\(instance)" }

        func startAgent(_ instance: Int, etcdURL: String? = nil, extra: [String] = []) throws {
            let socket = "unix:///run/hecd-docker-\(instance)/docker.sock"
            agents[instance] = try AgentProcess(arguments: [
                "--cluster", "--docker", socket, "--agent-id", agentID(instance), "--etcd", etcdURL ?? etcd.clientURL,
                "--host-ip", "127.0.0.\(instance)", "--ttl", String(ClusterIntegrationTests.ttl), "--resync", "5",
                "--drain", "0.2", "--host-labels", "zone=\(instance == 6 ? "b" : "a")",
            ] + extra)
        }

        func hecd(_ arguments: [String]) async throws -> String {
            let result = try await runProgram(AgentProcess.binary, arguments + ["--etcd", etcd.clientURL])
            guard result.status == 0 else { throw AgentError("hecd \(arguments.joined(separator: " ")): \(result.output)") }
            return result.output
        }

        /// Running containers of `app` per instance (instances whose engine does not answer count none).
        func running(_ app: String = "web") async -> [Int: [ContainerSummary]] {
            var result: [Int: [ContainerSummary]] = [:]
            for (instance, engine) in engines {
                let list = (try? await engine.listContainers(labels: ["io.hecd.app=\(app)"])) ?? []
                result[instance] = list.filter { $0.state == "running" }
            }
            return result
        }

        /// key → value under /app/web (empty when etcdctl fails).
        func keys() async -> [String: String] { await readKeys() ?? [:] }

        /// key → value under /app/web, or nil when etcdctl fails: a watcher counting keys must not take a failed
        /// read for a registry without keys.
        func readKeys() async -> [String: String]? {
            let output: String
            do {
                output = try await etcd.etcdctl(["get", "--prefix", "/app/web/"])
            } catch {
                print("etcdctl get /app/web/ failed: \(error)")
                return nil
            }
            let lines = output.split(separator: "\n").map(String.init)
            var result: [String: String] = [:]
            var index = 0
            while index + 1 < lines.count {
                result[lines[index]] = lines[index + 1]
                index += 2
            }
            return result
        }

        /// Samples /app/web every 50 ms until `stop`: the fewest keys seen, and the requests to registered keys
        /// that failed (a key withdrawn between the read and the request is no failure).
        final class RegisteredSampler: Sendable {
            private let lowest = Mutex(Int.max)
            private let failed = Mutex(0)
            private let task = Mutex<Task<Void, Never>?>(nil)

            init(_ cluster: Cluster) {
                let task = Task { [self] in
                    while !Task.isCancelled {
                        if let keys = await cluster.readKeys() {
                            self.lowest.withLock { $0 = min($0, keys.count) }
                            for value in keys.values where (try? await shell("curl -sf --max-time 2 -o /dev/null http://\(value)/")) == nil {
                                if (await cluster.keys()).values.contains(value) { self.failed.withLock { $0 += 1 } }
                            }
                        }
                        try? await Task.sleep(for: .milliseconds(50))
                    }
                }
                self.task.withLock { $0 = task }
            }

            /// Ends the sampling and returns what it saw.
            func stop() async -> (lowest: Int, failed: Int) {
                let running = task.withLock { $0 }
                running?.cancel()
                _ = await running?.value
                return (lowest.withLock { $0 }, failed.withLock { $0 })
            }
        }

        /// (app, slot) → hosts, from /hecd/assign.
        func slots() async -> [String: [String]] {
            let keys = ((try? await etcd.etcdctl(["get", "--prefix", "/hecd/assign/", "--keys-only"])) ?? "")
                .split(separator: "\n").map(String.init)
            var result: [String: [String]] = [:]
            for key in keys {
                let parts = key.dropFirst("/hecd/assign/".count).split(separator: "/")
                guard parts.count == 3 else { continue }
                result["\(parts[1])/\(parts[2])", default: []].append(String(parts[0]))
            }
            return result
        }

        /// Waits until every started agent announces its host (no automatic rebalancing moves slots later).
        func waitForHosts() async throws {
            let ids = agents.keys.map(agentID)
            _ = await waitFor("every host announced", within: 15) {
                let hosts = ((try? await self.etcd.etcdctl(["get", "--prefix", "/hecd/hosts/", "--keys-only"])) ?? "")
                return ids.allSatisfy { hosts.contains("/hecd/hosts/\($0)") }
            }
        }

        func record(_ violation: String) {
            violations.withLock { $0.append(violation) }
        }

        /// The checker: every 200 ms until cancelled.
        func check(count: @escaping @Sendable () -> Int) async {
            while !Task.isCancelled {
                for (slot, hosts) in await slots() where hosts.count > 1 { record("slot \(slot) assigned to \(hosts)") }
                // A host whose agent was killed keeps its containers running (cut off, as by a partition):
                // they are not the cluster's any more, and must not be registered.
                let live = Set(agents.filter { $0.value.isRunning }.keys)
                let running = await running()
                let total = running.filter { live.contains($0.key) }.values.reduce(0) { $0 + $1.count }
                if total > count() + 1 { record("\(total) containers running for a count of \(count())") }
                let orphans = Set(running.filter { !live.contains($0.key) }.values.joined().compactMap { container in
                    container.ports.first { $0.privatePort == 80 }?.publicPort
                })
                let deaths = killedAt.withLock { $0 }
                for value in await keys().values {
                    guard let port = value.split(separator: ":").last.flatMap({ Int($0) }), orphans.contains(port),
                        let instance = running.keys.first(where: { !live.contains($0) && value.hasPrefix("127.0.0.\($0):") })
                    else { continue }
                    // Its lease expires within the TTL (plus the time etcd takes to notice).
                    if let died = deaths[instance], Date().timeIntervalSince(died) > Double(ClusterIntegrationTests.ttl) + 1.5 {
                        record("\(value) still points at a container of host \(instance) \(Date().timeIntervalSince(died)) s after its agent died")
                    }
                }
                try? await Task.sleep(for: .milliseconds(200))
            }
        }

        /// Waits until `condition` holds; returns the seconds it took.
        func waitFor(_ what: String, within seconds: Double, _ condition: () async -> Bool) async -> Double? {
            let start = Date()
            let met = await eventually(within: seconds, condition)
            let took = Date().timeIntervalSince(start)
            if !met {
                Issue.record("\(what): not within \(seconds) s\n\(agents.values.map(\.log).joined(separator: "\n---\n").suffix(6000))")
            }
            return met ? took : nil
        }
    }

    func withCluster(_ body: (Cluster) async throws -> Void) async throws {
        try await withEtcd { etcd in
            let cluster = Cluster(etcd: etcd)
            try FileManager.default.createDirectory(atPath: cluster.directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: cluster.directory) }
            do {
                for instance in Self.instances {
                    let address = try await shell("set -o pipefail; \(Self.script) start \(instance) | tail -n 1", timeout: .seconds(300))
                        .split(separator: "\n").last.map(String.init) ?? ""
                    cluster.engines[instance] = DockerClient(host: try DockerHost(address))
                }
                try await body(cluster)
            } catch {
                for agent in cluster.agents.values { await agent.kill() }
                for instance in Self.instances { _ = try? await shell("\(Self.script) purge \(instance) >/dev/null 2>&1") }
                throw error
            }
            for agent in cluster.agents.values { await agent.terminate() }
            for instance in Self.instances { _ = try? await shell("\(Self.script) purge \(instance) >/dev/null 2>&1") }
        }
    }

    func webManifest(replicas: Int, extra: String = "") -> String {
        """
        name: web
        image: \(IntegrationEnvironment.image)
        replicas: \(replicas)
        port: 80
        stop_timeout: 1
        register: {prefix: /app/web, drain: 0.2}
        \(extra)
        """
    }

    @Test func sixReplicasSpreadMoveWhenAHostDiesAndNeverRunTwice() async throws {
        try await withCluster { cluster in
            for instance in Self.instances { try cluster.startAgent(instance) }
            let count = ManagedCount(6)
            let checker = Task { await cluster.check(count: { count.value }) }
            defer { checker.cancel() }
            try await cluster.waitForHosts()
            try webManifest(replicas: 6).write(toFile: cluster.directory + "/web.yaml", atomically: true, encoding: .utf8)
            let applied = try await cluster.hecd(["apply", cluster.directory])
            #expect(applied.contains("apply web: new: 6"), "\(applied)")

            // 2/2/2, each registered and answering.
            _ = await cluster.waitFor("6 replicas as 2/2/2, registered", within: 30) {
                let running = await cluster.running()
                let keys = await cluster.keys()
                return Self.instances.allSatisfy { running[$0]?.count == 2 } && keys.count == 6
            }
            for value in await cluster.keys().values {
                #expect(try await shell("curl -sf --max-time 3 http://\(value)/").contains("hello from"), "\(value)")
            }

            // A host dies: its agent with kill -9, its dockerd stopped.
            let dead = 6
            let killedAt = Date()
            async let stopped: String = shell("\(Self.script) stop \(dead) >/dev/null 2>&1; echo")
            await cluster.killAgent(dead)
            let failover = await cluster.waitFor("6 running and registered on the other two hosts", within: Double(Self.ttl) + 12) {
                let running = await cluster.running()
                let keys = await cluster.keys()
                let onLive = (running[4]?.count ?? 0) + (running[5]?.count ?? 0)
                return onLive == 6 && keys.count == 6 && !keys.values.contains { $0.hasPrefix("127.0.0.\(dead):") }
            }
            _ = try await stopped
            if let failover {
                let total = Date().timeIntervalSince(killedAt)
                print("cluster failover: host killed → 6 replicas registered on the other hosts in \(String(format: "%.2f", total)) s (TTL \(Self.ttl) s; waited \(String(format: "%.2f", failover)) s)")
                #expect(total < Double(Self.ttl) + 6, "failover took \(total) s")
            }

            // The host comes back: it finds its slots gone; exactly 6 run in total, no key points at it.
            _ = try await shell("\(Self.script) start \(dead)", timeout: .seconds(300))
            try cluster.startAgent(dead)
            try await Task.sleep(for: .seconds(3))
            _ = await cluster.waitFor("exactly 6 running in total after the host came back", within: 15) {
                let running = await cluster.running()
                return running.values.reduce(0) { $0 + $1.count } == 6 && (running[dead]?.isEmpty ?? true)
            }
            #expect(!(await cluster.keys()).values.contains { $0.hasPrefix("127.0.0.\(dead):") })

            // The leader's agent is killed: another leads within the TTL and places a scale-up.
            let apps = try await cluster.hecd(["apps"])
            let leader = try #require(apps.split(separator: "\n").first?.split(separator: " ").last.map(String.init))
            let leaderInstance = try #require(Self.instances.first { cluster.agentID($0) == leader }, "\(apps)")
            await cluster.killAgent(leaderInstance)
            let newLeader = await cluster.waitFor("another agent leads", within: Double(Self.ttl) + 3) {
                let text = (try? await cluster.hecd(["apps"])) ?? ""
                return text.hasPrefix("leader: c") && !text.hasPrefix("leader: \(leader)")
            }
            print("cluster leader failover: \(newLeader.map { String(format: "%.2f", $0) } ?? "-") s (TTL \(Self.ttl) s)")
            count.value = 7
            _ = try await cluster.hecd(["scale", "web=7"])
            _ = await cluster.waitFor("7 replicas registered after the scale-up", within: 20) {
                await cluster.keys().count == 7
            }
            let violations = cluster.violations.withLock { $0 }
            #expect(violations.isEmpty, "\(violations.prefix(10))")
        }
    }

    @Test func aDrainMovesEverySlotStartFirstNeverBelowTheCount() async throws {
        try await withCluster { cluster in
            for instance in Self.instances { try cluster.startAgent(instance) }
            try await cluster.waitForHosts()
            try webManifest(replicas: 4).write(toFile: cluster.directory + "/web.yaml", atomically: true, encoding: .utf8)
            _ = try await cluster.hecd(["apply", cluster.directory])
            _ = await cluster.waitFor("4 registered", within: 30) { await cluster.keys().count == 4 }
            let drained = 4
            let before = await cluster.running()[drained]?.count ?? 0
            #expect(before > 0)
            // Throughout the drain, at least 4 registered keys answer (the new container first, then the old one goes).
            let sampler = Cluster.RegisteredSampler(cluster)
            // A mistyped host or app is refused and changes nothing.
            let typo = try await runProgram(AgentProcess.binary, ["drain", "no-such-host", "--etcd", cluster.etcd.clientURL])
            #expect(typo.status != 0 && typo.output.contains("no host no-such-host in the cluster"), "\(typo.output)")
            #expect(typo.output.contains(cluster.agentID(drained)), "the message lists the hosts: \(typo.output)")
            let stray = try await runProgram(AgentProcess.binary, ["rebalance", "nope", "--etcd", cluster.etcd.clientURL])
            #expect(stray.status != 0 && stray.output.contains("no app nope"), "\(stray.output)")
            #expect((try? await cluster.etcd.etcdctl(["get", "--prefix", "/hecd/drained/", "--keys-only"]))?.isEmpty == true)
            _ = try await cluster.hecd(["drain", cluster.agentID(drained)])
            _ = await cluster.waitFor("every slot off the drained host", within: 60) {
                let running = await cluster.running()
                let keys = await cluster.keys()
                return (running[drained]?.isEmpty ?? true) && keys.count == 4
                    && !keys.values.contains { $0.hasPrefix("127.0.0.\(drained):") }
            }
            let seen = await sampler.stop()
            #expect(seen.lowest >= 4, "registered replicas fell to \(seen.lowest) during the drain")
            #expect(seen.failed == 0, "\(seen.failed) requests to registered replicas failed")
            let apps = try await cluster.hecd(["apps"])
            #expect(apps.contains("\(cluster.agentID(drained)) (zone=a) drained"), "\(apps)")
            // Undrained: it takes new slots again (nothing moves back by itself).
            _ = try await cluster.hecd(["undrain", cluster.agentID(drained)])
            _ = try await cluster.hecd(["scale", "web=7"])
            _ = await cluster.waitFor("the undrained host takes a new slot", within: 30) {
                (await cluster.running()[drained]?.count ?? 0) > 0
            }
        }
    }

    /// A spec change rolls across the cluster one slot at a time: the checker's count + 1 bound holds (a roll
    /// of every host at once would run 9 for a count of 6), every registered key answers, and the count of
    /// registered replicas never drops below 6.
    @Test func aSpecChangeRollsOneSlotAtATimeAcrossTheCluster() async throws {
        try await withCluster { cluster in
            for instance in Self.instances { try cluster.startAgent(instance) }
            let checker = Task { await cluster.check(count: { 6 }) }
            defer { checker.cancel() }
            try await cluster.waitForHosts()
            try webManifest(replicas: 6).write(toFile: cluster.directory + "/web.yaml", atomically: true, encoding: .utf8)
            _ = try await cluster.hecd(["apply", cluster.directory])
            _ = await cluster.waitFor("6 registered", within: 30) { await cluster.keys().count == 6 }
            let before = Set(await cluster.running().values.joined().map(\.id))

            let sampler = Cluster.RegisteredSampler(cluster)
            let started = Date()
            try webManifest(replicas: 6, extra: "env: {RELEASE: \"2\"}")
                .write(toFile: cluster.directory + "/web.yaml", atomically: true, encoding: .utf8)
            _ = try await cluster.hecd(["apply", cluster.directory])
            let reported = Mutex<String?>(nil)
            let rolled = await cluster.waitFor("every replica on the new spec, registered", within: 120) {
                if reported.withLock({ $0 }) == nil, let apps = try? await cluster.hecd(["apps"]),
                    let line = apps.split(separator: "\n").first(where: { $0.contains("rolling out") }) {
                    reported.withLock { $0 = String(line) }
                }
                let running = await cluster.running().values.joined()
                let hashes = Set(running.compactMap { $0.labels["io.hecd.spec"] })
                let registered = await cluster.keys().count
                return running.count == 6 && hashes.count == 1 && running.allSatisfy { !before.contains($0.id) } && registered == 6
            }
            let seen = await sampler.stop()
            if rolled != nil {
                print("cluster rollout: 6 replicas on 3 hosts replaced one slot at a time in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
            }
            let progress = reported.withLock { $0 } ?? ""
            #expect(progress.contains("slots on it") && progress.contains(" of 6 "), "hecd apps said: \(progress)")
            #expect(seen.lowest >= 6, "registered replicas fell to \(seen.lowest) during the rollout")
            #expect(seen.failed == 0, "\(seen.failed) requests to registered replicas failed")
            let violations = cluster.violations.withLock { $0 }
            #expect(violations.isEmpty, "\(violations.prefix(10))")
        }
    }

    /// A TCP forwarder to etcd (socat) that the test can cut and restore: one host's path to etcd.
    final class EtcdPath: Sendable {
        let port = freePort()
        let target: String
        private let process = Mutex<ChildProcess?>(nil)

        init(target: String) { self.target = target }

        var url: String { "http://127.0.0.1:\(port)" }

        func open() async throws {
            let targetPort = target.split(separator: ":").last.map(String.init) ?? ""
            let socat = try ChildProcess(
                "/usr/bin/socat", ["TCP-LISTEN:\(port),fork,reuseaddr,bind=127.0.0.1", "TCP:127.0.0.1:\(targetPort)"],
                standardOutput: "/dev/null", standardError: "/dev/null")
            process.withLock { $0 = socat }
            try await Task.sleep(for: .milliseconds(300))
            guard socat.isRunning else { throw TestFailure("socat could not listen on 127.0.0.1:\(port)") }
        }

        /// Kills the listener and every connection it forwards (its forked children, in its process group).
        func cut() async {
            guard let socat = process.withLock({ current -> ChildProcess? in defer { current = nil }; return current }) else { return }
            socat.killGroup()
            _ = await socat.exitStatus(within: .seconds(5))
        }
    }

    @Test func aPartitionedHostKeepsRunningThenStopsItsExtrasBeforeRegisteringAnything() async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/socat") else {
            Issue.record("the partition test needs socat (apt-get install socat; Deploy/test.sh installs it)")
            return
        }
        try await withCluster { cluster in
            let path = EtcdPath(target: cluster.etcd.clientURL)
            try await path.open()
            defer { Task { [path] in await path.cut() } }
            let cutHost = 6
            for instance in Self.instances { try cluster.startAgent(instance, etcdURL: instance == cutHost ? path.url : nil) }
            try await cluster.waitForHosts()
            try webManifest(replicas: 6).write(toFile: cluster.directory + "/web.yaml", atomically: true, encoding: .utf8)
            _ = try await cluster.hecd(["apply", cluster.directory])
            _ = await cluster.waitFor("2/2/2 registered", within: 30) {
                let running = await cluster.running()
                let keys = await cluster.keys()
                return Self.instances.allSatisfy { running[$0]?.count == 2 } && keys.count == 6
            }

            // The cut: its keys expire with its lease, its slots move; its containers keep running.
            await path.cut()
            _ = await cluster.waitFor("the cut host's replicas registered elsewhere", within: Double(Self.ttl) + 10) {
                let keys = await cluster.keys()
                let running = await cluster.running()
                return keys.count == 6 && !keys.values.contains { $0.hasPrefix("127.0.0.\(cutHost):") }
                    && (running[4]?.count ?? 0) + (running[5]?.count ?? 0) == 6
            }
            let duringCut = await cluster.running()[cutHost]?.count
            #expect(duringCut == 2, "a cut-off host keeps its containers running")

            // The cut ends: it stops its extra containers, and never registers them.
            try await path.open()
            let pointedAtIt = Mutex(false)
            let watcher = Task {
                while !Task.isCancelled {
                    if (await cluster.keys()).values.contains(where: { $0.hasPrefix("127.0.0.\(cutHost):") }) {
                        pointedAtIt.withLock { $0 = true }
                    }
                    try? await Task.sleep(for: .milliseconds(20))
                }
            }
            _ = await cluster.waitFor("the host back from the cut stops its extra containers", within: 20) {
                (await cluster.running()[cutHost]?.count ?? 0) == 0
            }
            try await Task.sleep(for: .seconds(1))
            watcher.cancel()
            _ = await watcher.value
            #expect(!pointedAtIt.withLock { $0 }, "a key pointed at the host back from the cut")
            let finalKeys = await cluster.keys()
            #expect(finalKeys.count == 6)
        }
    }

    @Test func constraintsMaxPerHostAndAnUnplaceableApp() async throws {
        try await withCluster { cluster in
            for instance in Self.instances { try cluster.startAgent(instance) }
            try await cluster.waitForHosts()
            try webManifest(replicas: 3, extra: "placement: {constraints: [\"zone == a\"], max_per_host: 1}")
                .write(toFile: cluster.directory + "/web.yaml", atomically: true, encoding: .utf8)
            _ = try await cluster.hecd(["apply", cluster.directory])
            // Only hosts 4 and 5 are in zone a, one each: the third replica cannot be placed.
            _ = await cluster.waitFor("one replica on each zone-a host", within: 30) {
                let running = await cluster.running()
                return running[4]?.count == 1 && running[5]?.count == 1
            }
            try await Task.sleep(for: .seconds(1))
            let running = await cluster.running()
            #expect(running[6]?.isEmpty ?? true, "zone b got a replica")
            let apps = try await cluster.hecd(["apps"])
            #expect(apps.contains("cannot place"), "\(apps)")
        }
    }
}

extension ClusterIntegrationTests {
    /// Each agent publishes its policy (`--allow-*`) in its host record, and the scheduler places an app only
    /// on hosts whose policy lets it run: an app that binds a host folder gets its slots on the one host started
    /// with --allow-bind for it, and the rest is reported as not placeable; the cluster's other apps spread as
    /// usual. (A bind rather than `privileged`: this machine's dockerd cannot start privileged containers.)
    @Test func appsArePlacedOnlyWhereTheHostsPolicyLetsThemRun() async throws {
        try await withCluster { cluster in
            for instance in Self.instances {
                try cluster.startAgent(instance, extra: instance == 5 ? ["--allow-bind", "/tmp"] : [])
            }
            try await cluster.waitForHosts()
            try webManifest(replicas: 2, extra: "volumes: [\"/tmp:/host-tmp:ro\"]\nplacement: {max_per_host: 1}")
                .write(toFile: cluster.directory + "/web.yaml", atomically: true, encoding: .utf8)
            try webManifest(replicas: 3, extra: "placement: {max_per_host: 1}")
                .replacingOccurrences(of: "name: web", with: "name: plain")
                .replacingOccurrences(of: "/app/web", with: "/app/plain")
                .write(toFile: cluster.directory + "/plain.yaml", atomically: true, encoding: .utf8)
            _ = try await cluster.hecd(["apply", cluster.directory])
            _ = await cluster.waitFor("plain on every host and web on host 5", within: 40) {
                let plain = await cluster.running("plain")
                let web = await cluster.running("web")
                return Self.instances.allSatisfy { plain[$0]?.count == 1 } && web[5]?.count == 1
            }
            try await Task.sleep(for: .seconds(2))
            let slots = await cluster.slots().filter { $0.key.hasPrefix("web/") }
            #expect(slots.values.allSatisfy { $0 == [cluster.agentID(5)] } && slots.count == 1, "\(slots)")
            let web = await cluster.running("web")
            #expect(web[4]?.isEmpty ?? true, "host 4 runs a container with a bind it does not allow")
            #expect(web[6]?.isEmpty ?? true, "host 6 runs a container with a bind it does not allow")
            let id = try #require(web[5]?.first?.id)
            let binds = try await shell(
                "docker -H unix:///run/hecd-docker-5/docker.sock inspect -f '{{json .HostConfig.Binds}}' \(id)")
            #expect(binds.trimmingCharacters(in: .whitespacesAndNewlines) == #"["/tmp:/host-tmp:ro"]"#)
            let apps = try await cluster.hecd(["apps"])
            #expect(apps.contains("cannot place"), "\(apps)")
        }
    }
}

/// A count the checker reads while the test changes it.
final class ManagedCount: Sendable {
    private let stored: Mutex<Int>
    init(_ value: Int) { stored = Mutex(value) }
    var value: Int {
        get { stored.withLock { $0 } }
        set { stored.withLock { $0 = newValue } }
    }
}
