import Foundation
import Glibc
import TestSupport

/// The real `hecd` binary (`hecd agent` by default) as a child process, so that tests can send it SIGTERM or SIGKILL.
final class AgentProcess: @unchecked Sendable {
    /// `hecd`, next to the test bundle in the build folder.
    static var binary: String {
        if let path = ProcessInfo.processInfo.environment["HECD_BINARY"] { return path }
        let runner = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var folder = runner.deletingLastPathComponent()
        while folder.path != "/" && !FileManager.default.fileExists(atPath: folder.appendingPathComponent("hecd").path) {
            folder = folder.deletingLastPathComponent()
        }
        return folder.appendingPathComponent("hecd").path
    }

    let logFile: String
    /// Reaped by polling `waitpid` (TestSupport's `ChildProcess`), not by Foundation's `Process`, whose
    /// `isRunning` was seen never to turn false here: a wait on it can hang a test for good.
    private let process: ChildProcess

    init(arguments: [String], command: String = "agent", environment: [String: String] = [:]) throws {
        logFile = NSTemporaryDirectory() + "hecd-agent-\(UUID().uuidString.prefix(8)).log"
        _ = FileManager.default.createFile(atPath: logFile, contents: nil)
        process = try ChildProcess(
            Self.binary, [command] + arguments, standardOutput: logFile, standardError: logFile,
            environment: ProcessInfo.processInfo.environment.merging(environment) { _, new in new })
    }

    var log: String { (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "" }
    var isRunning: Bool { process.isRunning }
    var pid: Int32 { process.pid }

    /// SIGTERM, and waits for the exit (SIGKILL after `grace`: a test never hangs on an agent that will not stop).
    func terminate(grace: Duration = .seconds(60)) async {
        guard process.isRunning else { return }
        Glibc.kill(process.pid, SIGTERM)
        if await !wait(within: grace) { await kill() }
    }

    /// Waits for the process to end by itself (polling, so that no thread of the cooperative pool blocks);
    /// false when it still runs after `timeout`.
    @discardableResult
    func wait(within timeout: Duration = .seconds(120)) async -> Bool {
        await process.exitStatus(within: timeout) != nil
    }

    /// SIGKILL: an agent that dies without cleaning up.
    func kill() async {
        guard process.isRunning else { return }
        Glibc.kill(process.pid, SIGKILL)
        await wait(within: .seconds(10))
    }

    deinit {
        if process.isRunning { Glibc.kill(process.pid, SIGKILL) }
        try? FileManager.default.removeItem(atPath: logFile)
    }
}
