import Foundation
import Manifests
import Primitives
import Testing

/// The container fields of issue 13: what each reads as, and the message when it is wrong.
@Suite struct ContainerFieldTests {
    private func spec(_ extra: String, policy: ManifestPolicy = .unrestricted) -> AppSpec? {
        let file = ManifestLoader.parse(manifest(extra), path: "Manifests/web.yaml", policy: policy)
        if case .success(let spec) = file.result { return spec }
        Issue.record("expected a valid manifest, got \(file.problems.map(\.description))")
        return nil
    }

    private func refusal(_ extra: String, policy: ManifestPolicy) -> ManifestProblem? {
        let file = ManifestLoader.parse(manifest(extra), path: "Manifests/web.yaml", policy: policy)
        guard file.problems.count == 1 else {
            Issue.record("expected one problem, got \(file.problems.map(\.description))")
            return nil
        }
        return file.problems.first
    }

    @Test func theSeedArticlesDockerRunReadsAsItsFlags() throws {
        let app = try #require(spec("""
            dns: 172.17.42.1
            volumes:
              - /data:/data
              - /etc/httpd/conf:/etc/httpd/conf:ro
              - /etc/httpd/conf.d:/etc/httpd/conf.d:ro
              - /etc/localtime:/etc/localtime:ro
            ports: {http: 80, ssh: 22}
            stdin_open: true
            tty: true
            command: [/bin/sh, -c, /usr/bin/supervisord -c /etc/supervisord.conf]

            """))
        #expect(app.options.dns == ["172.17.42.1"])
        #expect(app.options.volumes.compactMap(\.bind) == [
            "/data:/data", "/etc/httpd/conf:/etc/httpd/conf:ro", "/etc/httpd/conf.d:/etc/httpd/conf.d:ro",
            "/etc/localtime:/etc/localtime:ro",
        ])
        #expect(app.ports == [AppPort(name: "http", number: 80), AppPort(name: "ssh", number: 22)])
        #expect(app.port == 80, "the first port is the registered one")
        #expect(app.options.stdinOpen && app.options.tty)
        #expect(app.options.log == .default)
    }

    @Test func everyFieldReadsAsDockerWantsIt() throws {
        let app = try #require(spec("""
            volumes: [cache:/var/cache, /scratch, "/srv/./www/:/www:ro,z"]
            tmpfs: [/run, "/tmp:size=64m"]
            dns: [10.0.0.2, "fd00::53"]
            dns_search: example.com
            extra_hosts: {db: 10.0.0.5}
            user: "1000:1000"
            working_dir: /srv
            entrypoint: [/bin/sh, -c]
            stop_signal: SIGQUIT
            memory: 512m
            memory_reservation: 256M
            cpus: 1.5
            pids_limit: 200
            ulimits: {nofile: {soft: 1024, hard: 4096}, nproc: 512}
            cap_add: [net_admin, CAP_SYS_TIME]
            cap_drop: [ALL]
            read_only: true
            network: backend
            ipc: private
            log: {driver: json-file, options: {max-size: 1m, max-file: "2"}}

            """))
        let options = app.options
        #expect(options.volumes.map(\.bind) == ["cache:/var/cache", nil, "/srv/www:/www:ro,z"])
        #expect(options.volumes[1].source == .anonymous && options.volumes[1].target == "/scratch")
        #expect(options.tmpfs == ["/run": "", "/tmp": "size=64m"])
        #expect(options.dns == ["10.0.0.2", "fd00::53"])
        #expect(options.dnsSearch == ["example.com"])
        #expect(options.extraHosts == ["db:10.0.0.5"])
        #expect(options.user == "1000:1000" && options.workingDir == "/srv")
        #expect(options.entrypoint == ["/bin/sh", "-c"] && options.stopSignal == "SIGQUIT")
        #expect(options.memoryBytes == 512 << 20 && options.memoryReservationBytes == 256 << 20)
        #expect(options.nanoCPUs == 1_500_000_000 && options.pidsLimit == 200)
        #expect(options.ulimits == [Ulimit(name: "nofile", soft: 1024, hard: 4096), Ulimit(name: "nproc", soft: 512, hard: 512)])
        #expect(options.capAdd == ["NET_ADMIN", "SYS_TIME"] && options.capDrop == ["ALL"])
        #expect(options.readOnly && options.network == "backend" && options.ipc == "private")
        #expect(options.log == LogSettings(driver: "json-file", options: ["max-size": "1m", "max-file": "2"]))
    }

    @Test(arguments: [
        ("memory: 5m", "memory", "at least 6m"),
        ("memory: lots", "memory", "must be a size"),
        ("memory: 1g\nmemory_reservation: 2g", "memory_reservation", "must not be more than `memory`"),
        ("cpus: 0", "cpus", "from 0.01 to 1024"),
        ("dns: [dns.example]", "dns[0]", "must be an IP address"),
        ("volumes: [./data:/data]", "volumes[0]", "must be absolute"),
        ("volumes: [/data:data]", "volumes[0]", "container path must be absolute"),
        ("volumes: [/a:/x, /b:/x]", "volumes[1]", "a second time"),
        ("volumes: [/a:/x:readonly]", "volumes[0]", "is not a volume option"),
        ("ulimits: {nofiles: 10}", "ulimits.nofiles", "is not a ulimit"),
        ("ulimits: {nofile: {soft: 10, hard: 5}}", "ulimits.nofile", "must not be above the hard limit"),
        ("cap_add: [NET_ADMN]", "cap_add[0]", "did you mean `NET_ADMIN`?"),
        ("stop_signal: SIGFOO", "stop_signal", "is not a signal"),
        ("network: none", "network", "without ports"),
        ("pid: container", "pid", "must be `host`"),
        ("extra_hosts: [db]", "extra_hosts[0]", "must be `host:ip`"),
        ("tty: yes please", "tty", "`true` or `false`"),
        ("devices: [/dev/fuse:/dev/fuse:rwx]", "devices[0]", "must be `/dev/NAME"),
        ("port: 80\nports: [80]", "ports", "together with `port`"),
        ("ports: [80, 80]", "ports", "twice"),
        ("ports: 80", "ports", "must be a list"),
        ("health: {http: /x, tcp: 80}", "health.tcp", "keep one"),
        ("health: {interval: soon}", "health.interval", "must be a duration"),
        ("register: [{port: 80}, {port: 22}]\nports: [80, 22]", "register[1].prefix", "needs its own prefix"),
        ("register: [{port: 8080, prefix: /a}]\nports: [80]", "register[0].port", "is not among `ports`"),
        ("register: [{port: 80, prefix: /a}, {port: 22, prefix: /a}]\nports: [80, 22]", "register[1].prefix", "also the prefix"),
        ("register: [{port: web, prefix: /a}]\nports: {http: 80}", "register[0].port", "names no port"),
    ])
    func wrongValuesNameTheFieldAndLine(extra: String, field: String, message: String) throws {
        let found = try #require(problem(manifest(extra + "\n")))
        #expect(found.field == field, "\(found)")
        #expect(found.message.contains(message), "\(found)")
        #expect(found.line != nil && (found.line ?? 0) >= 4, "\(found)")
        #expect(found.description.hasPrefix("Manifests/web.yaml:\(found.line ?? 0):"))
    }

    @Test func severalRegisteredPortsByNumberOrName() throws {
        let app = try #require(spec("""
            ports: {http: 80, ssh: 22}
            register:
              - {port: http, prefix: /app/servers}
              - {port: 22, prefix: /app/ssh}

            """))
        #expect(app.register.ports == [RegisteredPort(port: 80, prefix: "/app/servers"), RegisteredPort(port: 22, prefix: "/app/ssh")])
        let implied = try #require(spec("register: [{port: 8080, prefix: /a}, {port: 9090, prefix: /b}]\n"))
        #expect(implied.ports.map(\.number) == [8080, 9090], "without `ports`, the registered ports are published")
    }

    @Test func healthFields() throws {
        let app = try #require(spec("health: {tcp: 22, interval: 1m30s, timeout: 500ms, retries: 3, start_period: 10}\n"))
        #expect(app.health == HealthCheck(
            tcpPort: 22, interval: .seconds(90), timeout: .milliseconds(500), retries: 3, startPeriod: .seconds(10)))
    }

    // MARK: - Policy

    @Test(arguments: [
        ("privileged: true", "privileged", "--allow-privileged"),
        ("network: host", "network", "--allow-host-namespaces"),
        ("pid: host", "pid", "--allow-host-namespaces"),
        ("ipc: host", "ipc", "--allow-host-namespaces"),
        ("devices: [/dev/fuse]", "devices[0]", "--allow-devices"),
        ("cap_add: [CHOWN, SYS_ADMIN]", "cap_add[1]", "--allow-cap SYS_ADMIN"),
        ("cap_add: [ALL]", "cap_add[0]", "--allow-cap ALL"),
        ("volumes: [/etc/httpd/conf:/etc/httpd/conf:ro]", "volumes[0]", "--allow-bind /etc/httpd/conf"),
        ("volumes: [\"/data/../etc:/x\"]", "volumes[0]", "--allow-bind /etc"),
        ("volumes: [/var/run/docker.sock:/var/run/docker.sock]", "volumes[0]", "--allow-docker-socket"),
        ("volumes: [/run:/host-run]", "volumes[0]", "--allow-docker-socket"),
    ])
    func theStrictPolicyRefusesWithTheFlagNamed(extra: String, field: String, flag: String) throws {
        let found = try #require(refusal(extra + "\n", policy: ManifestPolicy()))
        #expect(found.field == field, "\(found)")
        #expect(found.message.contains(flag), "\(found)")
        #expect(found.line == 4, "\(found)")
        // The same manifest passes schema checks alone.
        #expect(spec(extra + "\n") != nil)
    }

    @Test func allowedThingsPass() {
        let policy = ManifestPolicy(
            allowPrivileged: true, allowHostNamespaces: true, allowDevices: true, allowedCapabilities: ["sys_admin"],
            allowedBindPaths: ["/data", "/etc/httpd/"], allowDockerSocket: true)
        for extra in [
            "privileged: true", "network: host", "devices: [/dev/fuse]", "cap_add: [SYS_ADMIN, NET_BIND_SERVICE]",
            "volumes: [/data:/data, /data/x:/x, /etc/httpd/conf:/c:ro, named:/n, /anon]",
            "volumes: [/var/run/docker.sock:/var/run/docker.sock]",
        ] {
            #expect(spec(extra + "\n", policy: policy) != nil, "\(extra)")
        }
        // A sibling folder with the same beginning is not inside the allowed one.
        #expect(refusal("volumes: [/database:/db]\n", policy: policy)?.message.contains("--allow-bind /database") == true)
        // Named volumes, anonymous volumes and default capabilities need no flag.
        #expect(spec("volumes: [named:/n, /anon]\ncap_add: [NET_RAW]\n", policy: ManifestPolicy()) != nil)
    }

    // MARK: - Spec hash

    @Test func aManifestWithoutTheNewFieldsHashesAsBefore() throws {
        let app = try #require(spec("port: 80\n"))
        // The hash text of the earlier versions: an upgrade of hecd must not replace running containers.
        #expect(app.specHash == StableHash.hex(of: "image=hecd-demo:1\nport=80\nstop=10\n"))
    }

    @Test func everyContainerFieldChangesTheHash() throws {
        let base = try #require(spec("port: 80\n")).specHash
        var hashes: Set<String> = [base]
        for extra in [
            "volumes: [v:/v]", "tmpfs: [/run]", "dns: [10.0.0.2]", "dns_search: [a.b]", "extra_hosts: [\"a:10.0.0.1\"]",
            "user: nobody", "working_dir: /w", "entrypoint: [/bin/sh]", "stop_signal: SIGINT", "stdin_open: true",
            "tty: true", "memory: 64m", "memory_reservation: 32m", "cpus: 0.5", "pids_limit: 10", "ulimits: {nproc: 5}",
            "cap_add: [NET_RAW]", "cap_drop: [NET_RAW]", "read_only: true", "privileged: true", "network: n",
            "pid: host", "ipc: host", "devices: [/dev/fuse]", "log: {driver: none}",
        ] {
            let hash = try #require(spec("port: 80\n" + extra + "\n")).specHash
            #expect(hashes.insert(hash).inserted, "\(extra) must change the spec hash")
        }
        // Order of a mapping's keys does not matter; order of a list does.
        let one = try #require(spec("tmpfs: [/a, /b]\n")).specHash
        let two = try #require(spec("tmpfs: [/b, /a]\n")).specHash
        #expect(one == two)
    }

    @Test func byteSizesAsTheDockerCLIReadsThem() {
        let cases: [(String, Int64?)] = [
            ("1024", 1024), ("1k", 1024), ("1kb", 1024), ("1KiB", 1024), ("512m", 512 << 20), ("1.5g", 3 << 29),
            ("2 g", 2 << 30), ("1t", 1 << 40), ("", nil), ("m", nil), ("1x", nil), ("1.2.3m", nil), ("-1m", nil),
        ]
        for (text, bytes) in cases {
            let file = ManifestLoader.parse(manifest("memory_reservation: \"\(text)\"\n"), path: "w.yaml")
            if case .success(let app) = file.result {
                #expect(app.options.memoryReservationBytes == bytes, "\(text)")
            } else {
                #expect(bytes == nil, "\(text): \(file.problems.map(\.description))")
            }
        }
    }
}

/// The seed article's app as shipped in Manifests/seed: valid with the flags its comment names, refused without.
@Suite struct ShippedSeedManifestTests {
    static let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Manifests/seed").path

    @Test func validWithTheFlagsItsCommentNames() throws {
        let text = try String(contentsOfFile: Self.path + "/webserver.yaml", encoding: .utf8)
        #expect(text.contains("--allow-bind /data,/etc/httpd,/etc/localtime"))
        let allowed = try ManifestLoader.loadDirectory(
            Self.path, policy: ManifestPolicy(allowedBindPaths: ["/data", "/etc/httpd", "/etc/localtime"]))
        let spec = try #require(try allowed.first?.result.get())
        #expect(spec.options.dns == ["172.17.42.1"] && spec.ports.map(\.number) == [80, 22])
        #expect(spec.options.volumes.filter(\.readOnly).count == 3)
        let refused = try ManifestLoader.loadDirectory(Self.path, policy: ManifestPolicy())
        #expect(refused.first?.problems.count == 4)
    }
}
