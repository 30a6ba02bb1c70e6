import DockerEngine
import Foundation
import Manifests
import Testing
import TestSupport

/// Issue 13 against the real dockerd, with the docker CLI as the reference: a container the agent creates and
/// one `docker run` creates with the equivalent flags give the same `docker inspect` values for every field the
/// manifest sets.
@Suite(.serialized) struct ContainerFieldsIntegrationTests {
    /// `docker inspect` paths compared between the two containers.
    static let comparedFields = [
        "Config.Cmd", "Config.Entrypoint", "Config.User", "Config.WorkingDir", "Config.StopSignal", "Config.OpenStdin",
        "Config.Tty", "Config.Volumes", "Config.ExposedPorts", "Config.Env", "HostConfig.Binds", "HostConfig.Tmpfs",
        "HostConfig.Dns", "HostConfig.DnsSearch", "HostConfig.ExtraHosts", "HostConfig.PublishAllPorts",
        "HostConfig.Memory", "HostConfig.MemoryReservation", "HostConfig.NanoCpus", "HostConfig.PidsLimit",
        "HostConfig.Ulimits", "HostConfig.CapAdd", "HostConfig.CapDrop", "HostConfig.ReadonlyRootfs",
        "HostConfig.Privileged", "HostConfig.NetworkMode", "HostConfig.IpcMode", "HostConfig.PidMode",
        "HostConfig.LogConfig", "HostConfig.RestartPolicy.Name",
    ]

    /// A fresh folder under /tmp for bind mounts, removed afterwards.
    func withFolder(_ body: (String) async throws -> Void) async throws {
        let folder = "/tmp/hecd-binds-\(UUID().uuidString.prefix(8))"
        for sub in ["data", "conf", "conf.d", "www"] {
            try FileManager.default.createDirectory(atPath: "\(folder)/\(sub)", withIntermediateDirectories: true)
        }
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try await body(folder)
    }

    /// The agent's one container of `manifest` and the container of `dockerRun` (flags before the image, then
    /// the command), compared field by field.
    func compare(manifest: String, dockerRun flags: String, command: String, policy: ManifestPolicy) async throws {
        try await withAgentHarness { harness in
            harness.policy = policy
            try harness.writeManifest("seed", manifest)
            harness.startAgent()
            let ours = try #require(try await harness.waitForRunning("seed", count: 1).first)
            let name = "hecd-ref-\(UUID().uuidString.prefix(8).lowercased())"
            defer { Task { _ = try? await shell("docker rm -f \(name) >/dev/null 2>&1") } }
            try await shell("docker run -d --name \(name) --label io.hecd.test=1 -P \(flags) \(IntegrationEnvironment.image) \(command)")
            let theirs = try await Self.inspect(name)
            let mine = try await Self.inspect(ours.id)
            for field in Self.comparedFields {
                let left = Self.value(at: field, in: mine)
                let right = Self.value(at: field, in: theirs)
                #expect(left == right, "\(field): hecd gives \(left), docker run gives \(right)")
            }
            try await shell("docker rm -f \(name) >/dev/null")
        }
    }

    /// `docker inspect`, run off the cooperative pool (through `shell`), as JSON.
    static func inspect(_ container: String) async throws -> [String: Any] {
        let output = try await shell("docker inspect \(container)")
        let list = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]]
        return try #require(list?.first)
    }

    /// The value at a dotted path, as sorted JSON (so that maps compare by content). Empty lists and maps read
    /// as null, as the engine treats them; `Binds` is a set (the CLI reorders it).
    static func value(at path: String, in object: [String: Any]) -> String {
        var current: Any? = object
        for part in path.split(separator: ".") { current = (current as? [String: Any])?[String(part)] }
        if let list = current as? [Any], list.isEmpty { current = nil }
        if let map = current as? [String: Any], map.isEmpty { current = nil }
        if path == "HostConfig.Binds", let binds = current as? [String] { current = binds.sorted() }
        guard let current, !(current is NSNull) else { return "null" }
        if let data = try? JSONSerialization.data(withJSONObject: current, options: [.sortedKeys, .fragmentsAllowed]) {
            return String(decoding: data, as: UTF8.self)
        }
        return "\(current)"
    }

    @Test func theSeedArticlesDockerRun() async throws {
        try await withFolder { folder in
            let manifest = """
                name: seed
                image: \(IntegrationEnvironment.image)
                replicas: 1
                dns: 172.17.42.1
                ports: {http: 80, ssh: 22}
                volumes:
                  - \(folder)/data:/data
                  - \(folder)/conf:/etc/httpd/conf:ro
                  - \(folder)/conf.d:/etc/httpd/conf.d:ro
                  - /etc/localtime:/etc/localtime:ro
                stdin_open: true
                tty: true
                command: [/bin/sh, -c, exec /bin/serve]
                stop_timeout: 1
                """
            let flags = "--dns 172.17.42.1 --expose 80 --expose 22 -v \(folder)/data:/data -v \(folder)/conf:/etc/httpd/conf:ro "
                + "-v \(folder)/conf.d:/etc/httpd/conf.d:ro -v /etc/localtime:/etc/localtime:ro -i -t --stop-timeout 1 "
                + "--log-driver json-file --log-opt max-size=10m --log-opt max-file=3"
            try await compare(
                manifest: manifest, dockerRun: flags, command: "/bin/sh -c 'exec /bin/serve'",
                policy: ManifestPolicy(allowedBindPaths: [folder, "/etc/localtime"]))
        }
    }

    @Test func everyField() async throws {
        let network = "hecd-test-\(UUID().uuidString.prefix(8).lowercased())"
        try await shell("docker network create --label io.hecd.test=1 \(network) >/dev/null")
        defer { Task { _ = try? await shell("docker network rm \(network) >/dev/null 2>&1") } }
        try await withFolder { folder in
            let manifest = """
                name: seed
                image: \(IntegrationEnvironment.image)
                replicas: 1
                port: 80
                volumes: [\(network)-vol:/var/cache, /scratch, "\(folder)/www:/www:ro"]
                tmpfs: [/run, "/tmp:size=64m"]
                dns: [10.0.0.2]
                dns_search: [example.com]
                extra_hosts: {db: 10.0.0.5}
                user: "65534:65534"
                working_dir: /srv
                entrypoint: [/bin/sh]
                command: [-c, exec sleep 3600]
                stop_signal: SIGKILL
                stop_timeout: 1
                memory: 64m
                memory_reservation: 32m
                cpus: 0.5
                pids_limit: 50
                ulimits: {nofile: {soft: 1024, hard: 4096}, nproc: 512}
                cap_add: [NET_ADMIN]
                cap_drop: [ALL]
                read_only: true
                network: \(network)
                ipc: private
                log: {driver: json-file, options: {max-size: 1m, max-file: "2"}}
                env: {GREETING: hi}
                """
            let flags = "--expose 80 -v \(network)-vol:/var/cache -v /scratch -v \(folder)/www:/www:ro "
                + "--tmpfs /run --tmpfs /tmp:size=64m --dns 10.0.0.2 --dns-search example.com --add-host db:10.0.0.5 "
                + "--user 65534:65534 --workdir /srv --entrypoint /bin/sh --stop-signal SIGKILL --stop-timeout 1 "
                + "--memory 64m --memory-reservation 32m --cpus 0.5 --pids-limit 50 --ulimit nofile=1024:4096 "
                + "--ulimit nproc=512 --cap-add NET_ADMIN --cap-drop ALL --read-only --network \(network) --ipc private "
                + "--log-driver json-file --log-opt max-size=1m --log-opt max-file=2 -e GREETING=hi"
            try await compare(
                manifest: manifest, dockerRun: flags, command: "-c 'exec sleep 3600'",
                policy: ManifestPolicy(allowedCapabilities: ["NET_ADMIN"], allowedBindPaths: [folder]))
        }
        _ = try? await shell("docker volume rm \(network)-vol >/dev/null 2>&1")
    }

    @Test func aRefusedManifestStopsNothingAndCreatesNothing() async throws {
        try await withAgentHarness { harness in
            try harness.writeManifest("web", harness.webManifest(app: "web", replicas: 2))
            try harness.writeManifest("api", harness.webManifest(app: "api", replicas: 1))
            harness.startAgent()
            let web = try await harness.waitForRunning("web", count: 2)
            _ = try await harness.waitForRunning("api", count: 1)

            // Scaled up, but privileged and with a bind: refused as a whole, the running replicas stay.
            try harness.writeManifest("web", harness.webManifest(
                app: "web", replicas: 3, extra: "privileged: true\nvolumes: [/etc:/host-etc:ro]"))
            // The other app is not held up.
            try harness.writeManifest("api", harness.webManifest(app: "api", replicas: 2))
            _ = try await harness.waitForRunning("api", count: 2)
            try await Task.sleep(for: .seconds(1))
            let after = try await harness.containers(app: "web")
            #expect(after.map(\.id).sorted() == web.map(\.id).sorted(), "the refused app changed")
            #expect(after.allSatisfy { $0.state == "running" })
        }
    }

    @Test func hecdValidatePolicyNamesTheFlags() async throws {
        let directory = NSTemporaryDirectory() + "hecd-policy-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try """
            name: seed
            image: hecd-demo:1
            replicas: 1
            volumes:
              - /data:/data
              - /etc/httpd/conf:/etc/httpd/conf:ro
            privileged: true
            """.write(toFile: directory + "/seed.yaml", atomically: true, encoding: .utf8)
        let schemaOnly = try await runProgram(AgentProcess.binary, ["validate", directory])
        #expect(schemaOnly.status == 0, "\(schemaOnly.output)")
        let checked = try await runProgram(AgentProcess.binary, ["validate", "--policy", "--allow-bind", "/data", directory])
        #expect(checked.status != 0)
        #expect(checked.output.contains("seed.yaml:6:5: volumes[1]: binds the host path /etc/httpd/conf"), "\(checked.output)")
        #expect(checked.output.contains("--allow-bind /etc/httpd/conf"), "\(checked.output)")
        #expect(checked.output.contains("seed.yaml:7:13: privileged:"), "\(checked.output)")
        #expect(checked.output.contains("--allow-privileged"), "\(checked.output)")
        #expect(!checked.output.contains("volumes[0]"), "/data is allowed: \(checked.output)")
        let allowed = try await runProgram(
            AgentProcess.binary, ["validate", "--allow-bind", "/data,/etc/httpd", "--allow-privileged", directory])
        #expect(allowed.status == 0, "\(allowed.output)")
    }
}
