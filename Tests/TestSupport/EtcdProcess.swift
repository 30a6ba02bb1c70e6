import Foundation
import Glibc

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

/// One etcd process on 127.0.0.1, which can be stopped and started again on the same ports and data.
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
    private let arguments: [String]
    private let lock = NSLock()
    private var process: Process?
    private var everStarted = false

    public init(arguments: [String] = [], clientScheme: String = "http") throws {
        directory = NSTemporaryDirectory() + "hecd-etcd-\(UUID().uuidString.prefix(8).lowercased())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        self.arguments = arguments
        self.clientScheme = clientScheme
        clientPort = Self.freePort()
        peerPort = Self.freePort()
        metricsPort = Self.freePort()
    }

    /// Starts etcd and waits until it answers. The first start retries on other ports when the chosen ones
    /// were taken meanwhile; later starts (a restart) keep the ports and the data.
    public func start(timeout: Duration = .seconds(15)) async throws {
        var attempt = 0
        while true {
            attempt += 1
            do {
                try await launchAndWait(timeout: timeout)
                everStarted = true
                return
            } catch {
                let log = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
                guard !everStarted, attempt < 3, log.contains("address already in use") else { throw error }
                clientPort = Self.freePort()
                peerPort = Self.freePort()
                metricsPort = Self.freePort()
                try? FileManager.default.removeItem(atPath: dataDirectory)
            }
        }
    }

    /// Stops etcd with SIGTERM (SIGKILL after `grace`), keeping its data for a later `start()`.
    public func stop(grace: Duration = .seconds(5)) async {
        guard let process = lock.withLock({ self.process }) else { return }
        if process.isRunning { process.terminate() }
        let deadline = ContinuousClock.now + grace
        while process.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(10)) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            while process.isRunning { try? await Task.sleep(for: .milliseconds(10)) }
        }
        lock.withLock { self.process = nil }
    }

    /// Kills etcd at once (SIGKILL) and deletes its directory.
    public func destroy() async {
        if let process = lock.withLock({ self.process }), process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            while process.isRunning { try? await Task.sleep(for: .milliseconds(10)) }
        }
        lock.withLock { self.process = nil }
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

    private func launchAndWait(timeout: Duration) async throws {
        guard FileManager.default.isExecutableFile(atPath: Self.binary) else {
            throw Failure(description: "no etcd at \(Self.binary): apt-get install etcd-server (or set ETCD_BINARY)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        let peerURL = "http://127.0.0.1:\(peerPort)"
        process.arguments = [
            "--name", "t", "--data-dir", dataDirectory,
            "--listen-client-urls", clientURL, "--advertise-client-urls", clientURL,
            "--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
            "--initial-cluster", "t=\(peerURL)", "--listen-metrics-urls", "http://127.0.0.1:\(metricsPort)",
            // A single member elects itself at once with short timeouts (and leases may be as short as 1 s).
            "--heartbeat-interval", "10", "--election-timeout", "100",
        ] + arguments
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

        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if !process.isRunning {
                throw Failure(description: "etcd exited (\(process.terminationStatus)) at start: \(logTail())")
            }
            if Self.isHealthy(port: metricsPort) { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        await stop(grace: .zero)
        throw Failure(description: "etcd did not answer /health within \(timeout): \(logTail())")
    }

    private func logTail() -> String {
        let text = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
        return String(text.suffix(1500))
    }

    /// `GET /health` over a plain socket: `{"health":"true"}` once a leader is elected.
    private static func isHealthy(port: Int) -> Bool {
        let connection = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard connection >= 0 else { return false }
        defer { close(connection) }
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(connection, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return false }
        let request = Array("GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == request.count else {
            return false
        }
        var answer = Data()
        var buffer = [UInt8](repeating: 0, count: 1024)
        while true {
            let count = recv(connection, &buffer, buffer.count, 0)
            guard count > 0 else { break }
            answer.append(contentsOf: buffer[0..<count])
        }
        return String(decoding: answer, as: UTF8.self).contains(#""health":"true""#)
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
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        let status = try await runToEnd(process)
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return (status, output.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
