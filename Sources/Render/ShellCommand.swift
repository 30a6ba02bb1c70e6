#if canImport(FoundationEssentials)
import Primitives
import FoundationEssentials
#else
import Foundation
#endif
import Dispatch
import Glibc
import Synchronization

/// How a `check_cmd` or `reload_cmd` ended.
public struct CommandResult: Sendable, Hashable, CustomStringConvertible {
    public var command: String
    /// The exit status; nil when the command was killed (by a signal, or after its timeout).
    public var status: Int32?
    public var timedOut: Bool
    /// Standard output and standard error, interleaved as written (the last 64 KiB).
    public var output: String
    public var duration: Duration

    public init(command: String, status: Int32?, timedOut: Bool = false, output: String, duration: Duration = .zero) {
        self.command = command
        self.status = status
        self.timedOut = timedOut
        self.output = output
        self.duration = duration
    }

    public var succeeded: Bool { status == 0 && !timedOut }

    public var description: String {
        let how: String
        if timedOut {
            how = "timed out after \(duration)"
        } else if let status {
            how = "exited \(status)"
        } else {
            how = "was killed"
        }
        let text = output.trimmingWhitespace()
        return "`\(command)` \(how)" + (text.isEmpty ? " (no output)" : ": \(text)")
    }
}

/// Runs commands with `/bin/sh -c`, as confd does, in a process group of their own so that a timeout ends the
/// whole group. Output goes to an unlinked temporary file rather than a pipe, so a reload command that leaves a
/// daemon behind (`/etc/init.d/haproxy reload`) cannot keep the caller waiting for the end of its output.
/// The blocking wait runs on a thread of its own, never on the cooperative pool.
public struct ShellCommandRunner: Sendable {
    public var shell: String

    public init(shell: String = "/bin/sh") {
        self.shell = shell
    }

    public func run(_ command: String, timeout: Duration, environment: [String: String] = [:]) async -> CommandResult {
        let start = ContinuousClock.now
        var outputTemplate = Array((PathText.temporaryDirectory + "/hecd-cmd-XXXXXX").utf8CString)
        let outputFD = mkstemp(&outputTemplate)
        guard outputFD >= 0 else {
            return CommandResult(command: command, status: nil, output: "cannot create a file for the output: \(String(cString: strerror(errno)))")
        }
        _ = fcntl(outputFD, F_SETFD, FD_CLOEXEC)
        unlink(String(decoding: outputTemplate.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        defer { close(outputFD) }

        let pid: pid_t
        switch spawn(command, outputFD: outputFD, environment: environment) {
        case .success(let spawned): pid = spawned
        case .failure(let message):
            return CommandResult(command: command, status: nil, output: message, duration: ContinuousClock.now - start)
        }

        let child = ChildProcess(pid: pid)
        let timer = Task {
            try await Task.sleep(for: timeout)
            child.signalGroup(SIGTERM)
            child.markTimedOut()
            try await Task.sleep(for: .seconds(2))
            child.signalGroup(SIGKILL)
        }
        let status = await child.waitForExit()
        timer.cancel()
        // Anything the group left running after the shell exited on a timeout goes too.
        let output = Self.readOutput(outputFD)
        return CommandResult(
            command: command, status: status, timedOut: child.timedOut, output: output,
            duration: ContinuousClock.now - start)
    }

    private enum Spawn { case success(pid_t), failure(String) }

    private func spawn(_ command: String, outputFD: Int32, environment: [String: String]) -> Spawn {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outputFD, 1)
        posix_spawn_file_actions_adddup2(&actions, outputFD, 2)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // A group of its own, default signal handling (the Swift runtime ignores SIGPIPE) and no blocked signals.
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        posix_spawnattr_setpgroup(&attributes, 0)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)

        var variables = ProcessInfo.processInfo.environment
        for (name, value) in environment { variables[name] = value }
        let arguments = [shell, "-c", command]
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = variables.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, shell, &actions, &attributes, argv, envp)
        guard result == 0 else {
            return .failure("cannot start \(shell): \(String(cString: strerror(result)))")
        }
        return .success(pid)
    }

    private static func readOutput(_ fd: Int32) -> String {
        let limit = 64 * 1024
        let size = lseek(fd, 0, SEEK_END)
        guard size > 0 else { return "" }
        let start = max(0, Int(size) - limit)
        var buffer = [UInt8](repeating: 0, count: Int(size) - start)
        let count = pread(fd, &buffer, buffer.count, off_t(start))
        guard count > 0 else { return "" }
        return (start > 0 ? "…" : "") + String(decoding: buffer[0..<count], as: UTF8.self)
    }
}

/// A spawned process group leader: waited for on a thread of its own; signals go to its group only while it
/// has not been reaped (so a reused pid is never signalled).
private final class ChildProcess: Sendable {
    let pid: pid_t
    private struct State {
        var exited = false
        var timedOut = false
    }
    private let state = Mutex(State())

    init(pid: pid_t) {
        self.pid = pid
    }

    var timedOut: Bool { state.withLock { $0.timedOut } }

    func markTimedOut() {
        state.withLock { $0.timedOut = true }
    }

    func signalGroup(_ signal: Int32) {
        state.withLock { state in
            if !state.exited { kill(-pid, signal) }
        }
    }

    /// The exit status, or nil when a signal ended it.
    func waitForExit() async -> Int32? {
        await withCheckedContinuation { (continuation: CheckedContinuation<Int32?, Never>) in
            DispatchQueue(label: "hecd-cmd-wait").async { [self] in
                // Wait without reaping, so the pid (and group) stays ours while signals may still be sent.
                var info = siginfo_t()
                while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) != 0, errno == EINTR {}
                var status: Int32 = 0
                state.withLock { state in
                    state.exited = true
                    // The shell is gone; whatever it left in its group is ended when it timed out.
                    if state.timedOut { kill(-pid, SIGKILL) }
                    while waitpid(pid, &status, 0) < 0, errno == EINTR {}
                }
                let exited = (status & 0x7f) == 0
                continuation.resume(returning: exited ? (status >> 8) & 0xff : nil)
            }
        }
    }
}
