import Foundation
import Glibc
import HTTPTransport

/// A real program (haproxy, busybox httpd) run for a test in a process group of its own, so that `stop()` ends
/// it and everything it started (haproxy's workers) with one signal to the group.
public final class Daemon: @unchecked Sendable {
    public let name: String
    public let logFile: String
    public let pid: pid_t
    private let lock = NSLock()
    private var reaped = false

    /// Starts `executable`; its output goes to `logFile`.
    public init(_ executable: String, _ arguments: [String], logFile: String) throws {
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw TestFailure("no \(executable) on this machine (Deploy/test.sh installs it)")
        }
        name = (executable as NSString).lastPathComponent
        self.logFile = logFile
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logFile, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        posix_spawnattr_setpgroup(&attributes, 0)
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let result = posix_spawn(&child, executable, &actions, &attributes, argv, environ)
        guard result == 0 else { throw TestFailure("cannot start \(executable): \(String(cString: strerror(result)))") }
        pid = child
    }

    public var isRunning: Bool {
        lock.withLock {
            guard !reaped else { return false }
            var status: Int32 = 0
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid || (result < 0 && errno == ECHILD) { reaped = true }
            return !reaped
        }
    }

    public var log: String { (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "" }

    /// SIGTERM to the whole group, SIGKILL after `grace`.
    public func stop(grace: Duration = .seconds(2)) async {
        kill(-pid, SIGTERM)
        let deadline = ContinuousClock.now + grace
        while isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(10)) }
        kill(-pid, SIGKILL)
        let hardDeadline = ContinuousClock.now + .seconds(5)
        while isRunning, ContinuousClock.now < hardDeadline { try? await Task.sleep(for: .milliseconds(10)) }
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

/// Runs a program to its end; returns its status and output.
public func runProgram(_ executable: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
    let (status, output) = try await EtcdProcess.run(executable, arguments)
    return (status, output)
}

/// A test's own failure with a message.
public struct TestFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
