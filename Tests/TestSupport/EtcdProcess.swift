import Foundation
import Glibc
import HTTPTransport

// A real etcd for tests, shared by the test targets (TestSupport).
//
//     try await withEtcd { etcd in
//         let client = EtcdClient(endpoints: [etcd.clientURL])
//         …
//     }
//
// `withEtcd` starts a single-member etcd on free loopback ports with a data directory of its own, waits
// until it answers `/health` (on a plain-HTTP metrics port, so that this works with TLS too), runs the body,
// then always kills etcd and deletes the directory, whether the body returned or threw.

/// Runs `body` against a fresh etcd and cleans up after it. `arguments` are added to etcd's command line
/// (e.g. `["--auth-token-ttl", "1"]`); `clientScheme` "https" needs `--cert-file`/`--key-file` among them.
public func withEtcd<Value>(
    arguments: [String] = [], clientScheme: String = "http", _ body: (EtcdProcess) async throws -> Value
) async throws -> Value {
    let etcd = try EtcdProcess(arguments: arguments, clientScheme: clientScheme)
    let result: Result<Value, any Error>
    do {
        try await etcd.start()
        result = .success(try await body(etcd))
    } catch {
        result = .failure(error)
    }
    await etcd.destroy()
    return try result.get()
}

/// One etcd process on 127.0.0.1, which can be stopped and started again on the same ports and data: alone
/// (a single-member cluster with short election settings), or one member of an `EtcdCluster`.
public final class EtcdProcess: @unchecked Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    /// Where the `etcd` and `etcdctl` binaries are (Debian's etcd-server and etcd-client packages).
    public static let binary = ProcessInfo.processInfo.environment["ETCD_BINARY"] ?? "/usr/bin/etcd"
    public static let etcdctlBinary = ProcessInfo.processInfo.environment["ETCDCTL_BINARY"] ?? "/usr/bin/etcdctl"

    public let directory: String
    public var dataDirectory: String { directory + "/data" }
    public var logFile: String { directory + "/etcd.log" }
    public private(set) var clientPort: Int
    public private(set) var peerPort: Int
    /// Serves `/health` and `/metrics` over plain HTTP whatever the client scheme.
    public private(set) var metricsPort: Int
    public let clientScheme: String
    public var clientURL: String { "\(clientScheme)://127.0.0.1:\(clientPort)" }
    public var peerURL: String { "http://127.0.0.1:\(peerPort)" }
    /// The member name (`--name`).
    public let name: String
    /// The cluster this member starts in, set before the first start; nil for a single-member etcd.
    public var membership: Membership?

    /// A member's first start in a cluster: `--initial-cluster` (every `name=peerURL`) and its token.
    public struct Membership: Sendable {
        public var initialCluster: String
        public var token: String
        public init(initialCluster: String, token: String) {
            self.initialCluster = initialCluster
            self.token = token
        }
    }
    private let arguments: [String]
    private let lock = NSLock()
    private var process: Process?
    private var everStarted = false

    public init(arguments: [String] = [], clientScheme: String = "http", name: String = "t") throws {
        directory = NSTemporaryDirectory() + "hecd-etcd-\(UUID().uuidString.prefix(8).lowercased())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        self.arguments = arguments
        self.clientScheme = clientScheme
        self.name = name
        clientPort = Self.freePort()
        peerPort = Self.freePort()
        metricsPort = Self.freePort()
    }

    /// The process id while etcd runs (paused or not).
    public var pid: pid_t? { lock.withLock { process.map(\.processIdentifier) } }

    /// Starts etcd and waits until it answers. The first start retries on other ports when the chosen ones
    /// were taken meanwhile; later starts (a restart) keep the ports and the data.
    public func start(timeout: Duration = .seconds(15)) async throws {
        let firstStart = !everStarted
        var attempt = 0
        while true {
            attempt += 1
            do {
                try launch()
                try await waitUntilHealthy(timeout: timeout)
                everStarted = true
                return
            } catch {
                guard membership == nil, firstStart, attempt < 3, portsWereTaken else { throw error }
                clientPort = Self.freePort()
                peerPort = Self.freePort()
                metricsPort = Self.freePort()
                try? FileManager.default.removeItem(atPath: dataDirectory)
            }
        }
    }

    /// Waits (bounded: Foundation's `isRunning` has been seen never to turn false) until `process` has ended.
    private static func waitForExit(_ process: Process, within timeout: Duration) async {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(10)) }
    }

    /// Whether etcd's log says a port it was given was taken.
    var portsWereTaken: Bool {
        ((try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "").contains("address already in use")
    }

    /// Sends `signal` to etcd (SIGSTOP pauses it: the kernel still accepts connections, nothing answers).
    public func send(signal: Int32) {
        if let pid { kill(pid, signal) }
    }

    /// Kills etcd at once (SIGKILL, a crash), keeping its data for a later `start()`.
    public func crash() async {
        guard let process = lock.withLock({ self.process }) else { return }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        await Self.waitForExit(process, within: .seconds(10))
        lock.withLock { self.process = nil }
    }

    /// Stops etcd with SIGTERM (SIGKILL after `grace`), keeping its data for a later `start()`.
    public func stop(grace: Duration = .seconds(5)) async {
        guard let process = lock.withLock({ self.process }) else { return }
        if process.isRunning { process.terminate() }
        let deadline = ContinuousClock.now + grace
        while process.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(10)) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            await Self.waitForExit(process, within: .seconds(10))
        }
        lock.withLock { self.process = nil }
    }

    /// Kills etcd at once (SIGKILL, which also ends a paused one) and deletes its directory.
    public func destroy() async {
        await crash()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Runs etcdctl against this etcd and returns its output; throws with the output when it fails.
    @discardableResult
    public func etcdctl(_ arguments: [String], user: String? = nil) async throws -> String {
        var full = ["--endpoints", clientURL]
        if let user { full += ["--user", user] }
        let (status, output) = try await Self.run(Self.etcdctlBinary, full + arguments)
        guard status == 0 else {
            throw Failure(description: "etcdctl \(arguments.joined(separator: " ")) failed (\(status)): \(output)")
        }
        return output
    }

    // MARK: - Internals

    /// Starts the etcd process without waiting for it to answer (members of a cluster wait for each other).
    func launch() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.binary) else {
            throw Failure(description: "no etcd at \(Self.binary): apt-get install etcd-server (or set ETCD_BINARY)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        // A single member elects itself at once with short timeouts (and leases may be as short as 1 s); a
        // cluster keeps etcd's defaults (heartbeat 100 ms, election 1000 ms), what users run.
        let cluster = membership.map {
            ["--initial-cluster", $0.initialCluster, "--initial-cluster-token", $0.token]
        } ?? ["--initial-cluster", "\(name)=\(peerURL)", "--heartbeat-interval", "10", "--election-timeout", "100"]
        process.arguments = [
            "--name", name, "--data-dir", dataDirectory,
            "--listen-client-urls", clientURL, "--advertise-client-urls", clientURL,
            "--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
            "--listen-metrics-urls", "http://127.0.0.1:\(metricsPort)",
        ] + cluster + arguments
        if !FileManager.default.fileExists(atPath: logFile) {
            _ = FileManager.default.createFile(atPath: logFile, contents: nil)
        }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logFile))
        log.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try? log.close()
        lock.withLock { self.process = process }
    }

    /// Waits until etcd answers `/health` (true once it has a leader); stops it and throws after `timeout`.
    func waitUntilHealthy(timeout: Duration) async throws {
        guard let process = lock.withLock({ self.process }) else {
            throw Failure(description: "etcd \(name) is not running")
        }
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if !process.isRunning {
                throw Failure(description: "etcd exited (\(process.terminationStatus)) at start: \(logTail())")
            }
            if await Self.isHealthy(port: metricsPort) { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        await stop(grace: .zero)
        throw Failure(description: "etcd did not answer /health within \(timeout): \(logTail())")
    }

    private func logTail() -> String {
        let text = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
        return String(text.suffix(1500))
    }

    /// `GET /health` on the metrics port: `{"health":"true"}` once the member has a leader. On libcurl's
    /// thread, not the caller's.
    private static func isHealthy(port: Int) async -> Bool {
        let client = HTTPClient(endpoint: .url("http://127.0.0.1:\(port)"))
        guard let response = try? await client.send(HTTPRequest(.get, "/health", timeout: .seconds(1))) else {
            return false
        }
        return response.bodyText.contains(#""health":"true""#)
    }

    /// A loopback port that was free a moment ago (bound to port 0, then closed).
    public static func freePort() -> Int {
        let probe = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(probe) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(probe, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(probe, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Runs a program to its end without blocking the caller's thread; returns its status and output.
    public static func run(_ executable: String, _ arguments: [String]) async throws -> (Int32, String) {
        try await runProgram(executable, arguments)
    }
}
