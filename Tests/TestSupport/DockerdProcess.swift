import Foundation
import Glibc
import HTTPTransport

/// A dockerd of the test's own on `tcp://127.0.0.1:PORT` with `--tlsverify` and certificates made for it: its own
/// data root, exec root (and so its own containerd), pid file, key and config file, all in one temporary folder,
/// its own bridge (`hecdtls…`, removed afterwards) and no iptables rules or sysctls. It runs no containers (the vfs
/// storage driver, no images): it is for tests of how the engine is reached. The main dockerd is not touched.
///
/// Never `--bridge none`: a dockerd started with it deletes the host's `docker0` at start (libnetwork's
/// `removeDefaultBridgeInterface`), which takes the main engine's network away.
public final class TLSDockerd: Sendable {
    public static let binary = ProcessInfo.processInfo.environment["DOCKERD_BINARY"] ?? "/usr/sbin/dockerd"

    public let directory: String
    public let port: Int
    public let certificates: TestCertificates
    /// The daemon's own bridge.
    public let bridge: String
    private let daemon: Daemon

    /// `tcp://127.0.0.1:PORT`, as DOCKER_HOST.
    public var address: String { "tcp://127.0.0.1:\(port)" }
    /// A DOCKER_CERT_PATH folder for a client: ca.pem, cert.pem and key.pem.
    public var clientCertificatePath: String { directory + "/client-certs" }
    public var log: String { daemon.log }

    /// Whether this machine can run one.
    public static var isAvailable: Bool {
        FileManager.default.isExecutableFile(atPath: binary) && FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl")
            && FileManager.default.isExecutableFile(atPath: ip) && geteuid() == 0
    }

    private init(directory: String, port: Int, certificates: TestCertificates, bridge: String, daemon: Daemon) {
        self.directory = directory
        self.port = port
        self.certificates = certificates
        self.bridge = bridge
        self.daemon = daemon
    }

    static let ip = "/usr/sbin/ip"

    /// Creates a bridge of its own with a /24 in 172.31.200-249 that nothing routes yet (dockerd-instance.sh's
    /// daemons use 172.31.2-50).
    static func makeBridge(_ name: String) async throws {
        for _ in 0..<10 {
            let subnet = "172.31.\(Int.random(in: 200...249))"
            let routes = try await runProgram(ip, ["-4", "route", "show", "match", subnet + ".0/24"], environment: [:])
            guard routes.standardOutput.split(separator: "\n").allSatisfy({ $0.hasPrefix("default") }) else { continue }
            for arguments in [["link", "add", "name", name, "type", "bridge"], ["addr", "add", subnet + ".1/24", "dev", name],
                              ["link", "set", name, "up"]] {
                let run = try await runProgram(ip, arguments, environment: [:])
                guard run.status == 0 else {
                    await removeBridge(name)
                    throw TestFailure("ip \(arguments.joined(separator: " ")) failed: \(run)")
                }
            }
            return
        }
        throw TestFailure("no free 172.31.200-249.0/24 for a test bridge")
    }

    static func removeBridge(_ name: String) async {
        _ = try? await runProgram(ip, ["link", "delete", name, "type", "bridge"], environment: [:])
    }

    /// Makes the certificates (a CA, a server certificate for IP 127.0.0.1, a client certificate), starts the
    /// daemon and waits until it answers `GET /_ping` over TLS with the client certificate.
    public static func start(timeout: Duration = .seconds(20)) async throws -> TLSDockerd {
        let directory = "/tmp/hecd-tlsd-\(UUID().uuidString.prefix(6).lowercased())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let certificates: TestCertificates
        do {
            certificates = try await TestCertificates.make()
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
        let files = FileManager.default
        let port = freePort()
        let bridge = "hecdtls" + String(UUID().uuidString.prefix(6).lowercased())
        let daemon: Daemon
        do {
            try await makeBridge(bridge)
            let client = directory + "/client-certs"
            try files.createDirectory(atPath: client, withIntermediateDirectories: true)
            try files.copyItem(atPath: certificates.ca, toPath: client + "/ca.pem")
            try files.copyItem(atPath: certificates.clientCertificate, toPath: client + "/cert.pem")
            try files.copyItem(atPath: certificates.clientKey, toPath: client + "/key.pem")
            // Its own key (else it would share /etc/docker/key.json, and the main daemon's ID, as dockerd-instance.sh notes).
            try #"{"deprecated-key-path": "\#(directory)/key.json"}"#.write(toFile: directory + "/daemon.json", atomically: true, encoding: .utf8)
            daemon = try Daemon(binary, [
                "--host", "tcp://127.0.0.1:\(port)", "--tlsverify", "--tlscacert", certificates.ca,
                "--tlscert", certificates.serverCertificate, "--tlskey", certificates.serverKey,
                "--data-root", directory + "/data", "--exec-root", directory + "/exec",
                "--pidfile", directory + "/docker.pid", "--config-file", directory + "/daemon.json",
                "--bridge", bridge, "--iptables=false", "--ip-masq=false", "--ip-forward=false", "--storage-driver", "vfs",
            ], logFile: directory + "/dockerd.log")
        } catch {
            await removeBridge(bridge)
            certificates.remove()
            try? files.removeItem(atPath: directory)
            throw error
        }
        let dockerd = TLSDockerd(directory: directory, port: port, certificates: certificates, bridge: bridge, daemon: daemon)
        let probe = HTTPClient(
            endpoint: .url("https://127.0.0.1:\(port)"),
            tls: TLSFiles(caFile: certificates.ca, certificateFile: certificates.clientCertificate, keyFile: certificates.clientKey))
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let answer = try? await probe.send(HTTPRequest(.get, "/_ping", timeout: .seconds(2))), answer.status == 200 {
                return dockerd
            }
            guard daemon.isRunning else { break }
            try? await Task.sleep(for: .milliseconds(100))
        }
        let log = dockerd.log
        await dockerd.stop()
        throw TestFailure("dockerd with --tlsverify did not answer on 127.0.0.1:\(port) within \(timeout); its log:\n\(log.suffix(2000))")
    }

    /// SIGTERM (dockerd stops its containerd), SIGKILL after 10 s; then kills whatever still runs from this
    /// daemon's folder (a containerd left by a killed dockerd), unmounts what is mounted below it and removes it.
    public func stop() async {
        await daemon.stop(grace: .seconds(10))
        for pid in Self.processes(mentioning: directory) { kill(pid, SIGKILL) }
        let mounts = ((try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? "")
            .split(separator: "\n").compactMap { line -> String? in
                let fields = line.split(separator: " ")
                guard fields.count > 4, fields[4].hasPrefix(directory) else { return nil }
                return String(fields[4])
            }
        for mount in mounts.sorted(by: >) { umount2(mount, Int32(MNT_DETACH)) }
        await Self.removeBridge(bridge)
        certificates.remove()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Processes whose command line names `text`.
    static func processes(mentioning text: String) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> pid_t? in
            guard let pid = pid_t(entry), pid != getpid(),
                let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline"),
                String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self).contains(text)
            else { return nil }
            return pid
        }
    }
}

/// Runs `body` with a TLS dockerd of its own, stopped and removed afterwards, whether `body` returned or threw.
public func withTLSDockerd<Value>(_ body: (TLSDockerd) async throws -> Value) async throws -> Value {
    let dockerd = try await TLSDockerd.start()
    let result: Result<Value, any Error>
    do {
        result = .success(try await body(dockerd))
    } catch {
        result = .failure(error)
    }
    await dockerd.stop()
    return try result.get()
}
