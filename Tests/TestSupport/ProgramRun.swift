import Foundation
import Glibc

/// What a program printed, each stream on its own, and how it exited.
public struct ProgramRun: Sendable, CustomStringConvertible {
    public var status: Int32
    public var standardOutput: String
    public var standardError: String

    public init(status: Int32, standardOutput: String, standardError: String) {
        self.status = status
        self.standardOutput = standardOutput
        self.standardError = standardError
    }

    public var description: String { "exit \(status)\nstdout: \(standardOutput)\nstderr: \(standardError)" }
}

/// How long a program run by a test may take unless the test says otherwise: a hung command fails its test
/// with what it printed instead of holding up the whole suite.
public let defaultProgramTimeout: Duration = .seconds(180)

/// Runs a program to its end with `environment` added to this process's, without blocking the caller's thread.
/// The output goes through files, so a chatty program never fills a pipe, and a daemon it leaves behind holding
/// its output open never hangs the reader. Past `timeout`, the program and everything it started in its process
/// group get SIGKILL and the run throws, with the output so far.
public func runProgram(
    _ executable: String, _ arguments: [String], environment: [String: String],
    timeout: Duration = defaultProgramTimeout
) async throws -> ProgramRun {
    let base = NSTemporaryDirectory() + "hecd-run-\(UUID().uuidString.prefix(8))"
    let outputPath = base + ".out"
    let errorPath = base + ".err"
    defer {
        try? FileManager.default.removeItem(atPath: outputPath)
        try? FileManager.default.removeItem(atPath: errorPath)
    }
    func read(_ path: String) -> String {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }
    let environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
    let child = try ChildProcess(
        executable, arguments, standardOutput: outputPath, standardError: errorPath, environment: environment)
    let status = try await child.exitStatusOrKill(within: timeout) {
        "`\(([executable] + arguments).joined(separator: " "))`: stdout: \(read(outputPath)) stderr: \(read(errorPath))"
    }
    return ProgramRun(status: status, standardOutput: read(outputPath), standardError: read(errorPath))
}

/// Runs a program to its end; returns its status and its output (stdout and stderr, interleaved).
public func runProgram(
    _ executable: String, _ arguments: [String], timeout: Duration = defaultProgramTimeout
) async throws -> (status: Int32, output: String) {
    let path = NSTemporaryDirectory() + "hecd-run-\(UUID().uuidString.prefix(8)).log"
    defer { try? FileManager.default.removeItem(atPath: path) }
    let child = try ChildProcess(executable, arguments, standardOutput: path, standardError: path)
    let output = { ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines) }
    let status = try await child.exitStatusOrKill(within: timeout) {
        "`\(([executable] + arguments).joined(separator: " "))`: output: \(output())"
    }
    return (status, output())
}

/// A program started in a process group of its own (so that one signal ends it and whatever it started), its
/// output appended to files, its stdin /dev/null. Reaped by polling `waitpid` for its pid only, so nothing here
/// depends on SIGCHLD handling or blocks a thread.
public final class ChildProcess: @unchecked Sendable {
    public let pid: pid_t
    private let lock = NSLock()
    private var status: Int32?

    public init(
        _ executable: String, _ arguments: [String], standardOutput: String, standardError: String,
        environment: [String: String]? = nil
    ) throws {
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw TestFailure("no \(executable) on this machine (Deploy/test.sh installs it)")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, standardOutput, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        if standardError == standardOutput {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        } else {
            posix_spawn_file_actions_addopen(&actions, 2, standardError, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        }
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
        let envp = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer { envp?.forEach { free($0) } }
        var child: pid_t = 0
        let result = envp.map { posix_spawn(&child, executable, &actions, &attributes, argv, $0) }
            ?? posix_spawn(&child, executable, &actions, &attributes, argv, environ)
        guard result == 0 else { throw TestFailure("cannot start \(executable): \(String(cString: strerror(result)))") }
        pid = child
    }

    /// Its exit status (128 + signal when a signal ended it) once it has ended; nil while it runs.
    public var exitStatusIfEnded: Int32? {
        lock.withLock {
            if let status { return status }
            var raw: Int32 = 0
            let result = waitpid(pid, &raw, WNOHANG)
            if result == pid {
                let signal = raw & 0x7f
                status = signal == 0 ? (raw >> 8) & 0xff : 128 + signal
            } else if result < 0, errno == ECHILD {
                status = -1
            }
            return status
        }
    }

    public var isRunning: Bool { exitStatusIfEnded == nil }

    /// Waits (polling, off any thread) until it ends or `timeout` passes; nil when it still runs.
    public func exitStatus(within timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        var pause = Duration.milliseconds(2)
        while true {
            if let status = exitStatusIfEnded { return status }
            if ContinuousClock.now >= deadline || Task.isCancelled { return nil }
            try? await Task.sleep(for: pause)
            pause = min(pause * 2, .milliseconds(50))
        }
    }

    /// Its exit status once it ends; past `timeout`, SIGKILL to its group and a failure that says `what` it was.
    public func exitStatusOrKill(within timeout: Duration, _ what: () -> String) async throws -> Int32 {
        if let status = await exitStatus(within: timeout) { return status }
        killGroup()
        _ = await exitStatus(within: .seconds(5))
        throw TestFailure("did not end within \(timeout) and was killed: \(what())")
    }

    /// Sends `signal` to its whole process group.
    public func signalGroup(_ signal: Int32) { kill(-pid, signal) }

    public func killGroup() { signalGroup(SIGKILL) }
}
