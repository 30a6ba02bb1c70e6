import Foundation
import Glibc
import HTTPTransport

/// A real program (haproxy, busybox httpd) run for a test in a process group of its own, so that `stop()` ends
/// it and everything it started (haproxy's workers) with one signal to the group.
public final class Daemon: @unchecked Sendable {
    public let name: String
    public let logFile: String
    private let process: ChildProcess
    public var pid: pid_t { process.pid }

    /// Starts `executable`; its output goes to `logFile`.
    public init(_ executable: String, _ arguments: [String], logFile: String) throws {
        name = (executable as NSString).lastPathComponent
        self.logFile = logFile
        process = try ChildProcess(executable, arguments, standardOutput: logFile, standardError: logFile)
    }

    public var isRunning: Bool { process.isRunning }

    public var log: String { (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "" }

    /// SIGKILL to the whole group at once (a crash).
    public func kill() async {
        guard process.isRunning else { return }
        process.killGroup()
        _ = await process.exitStatus(within: .seconds(5))
    }

    /// SIGTERM to the whole group, SIGKILL after `grace`.
    public func stop(grace: Duration = .seconds(2)) async {
        // Once reaped, its pid (and group id) may belong to another process.
        guard process.isRunning else { return }
        process.signalGroup(SIGTERM)
        _ = await process.exitStatus(within: grace)
        process.killGroup()
        _ = await process.exitStatus(within: .seconds(5))
    }
}

/// Runs `body`, then stops every daemon it registered, whether it returned or threw.
public final class DaemonGroup: @unchecked Sendable {
    private var daemons: [Daemon] = []
    private let lock = NSLock()

    public func start(_ executable: String, _ arguments: [String], logFile: String) throws -> Daemon {
        let daemon = try Daemon(executable, arguments, logFile: logFile)
        lock.withLock { daemons.append(daemon) }
        return daemon
    }

    public func stopAll() async {
        for daemon in lock.withLock({ daemons }).reversed() { await daemon.stop() }
    }
}

public func withDaemons<Value>(_ body: (DaemonGroup) async throws -> Value) async throws -> Value {
    let group = DaemonGroup()
    let result: Result<Value, any Error>
    do {
        result = .success(try await body(group))
    } catch {
        result = .failure(error)
    }
    await group.stopAll()
    return try result.get()
}

/// A loopback port that was free a moment ago.
public func freePort() -> Int { EtcdProcess.freePort() }

/// GETs through a proxy on a new connection each time (a kept-alive connection would stay with an old
/// HAProxy worker after a reload).
public struct ProxyProbe: Sendable {
    public let client: HTTPClient

    public init(port: Int) {
        client = HTTPClient(endpoint: .url("http://127.0.0.1:\(port)"))
    }

    /// Status and body, or nil when nothing answered.
    public func get(_ path: String = "/", host: String? = nil) async -> (status: Int, body: String)? {
        var headers = ["Connection": "close"]
        if let host { headers["Host"] = host }
        guard let response = try? await client.send(HTTPRequest(.get, path, headers: headers, timeout: .seconds(2))) else {
            return nil
        }
        return (response.status, response.bodyText)
    }

    /// Polls every 5 ms until `condition` holds; returns how long that took.
    @discardableResult
    public func waitUntil(
        timeout: Duration = .seconds(15), path: String = "/", host: String? = nil,
        _ condition: @escaping ((status: Int, body: String)?) -> Bool
    ) async throws -> Duration {
        let start = ContinuousClock.now
        var last: (status: Int, body: String)?
        while ContinuousClock.now - start < timeout {
            last = await get(path, host: host)
            if condition(last) { return ContinuousClock.now - start }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw TestFailure("the proxy never answered as expected within \(timeout); last answer: \(String(describing: last))")
    }
}

/// A test's own failure with a message.
public struct TestFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
