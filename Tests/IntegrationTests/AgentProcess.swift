import Foundation
import Glibc

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
    private let process = Process()

    init(arguments: [String], command: String = "agent", environment: [String: String] = [:]) throws {
        logFile = NSTemporaryDirectory() + "hecd-agent-\(UUID().uuidString.prefix(8)).log"
        _ = FileManager.default.createFile(atPath: logFile, contents: nil)
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = [command] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logFile))
        process.standardOutput = log
        process.standardError = log
        try process.run()
    }

    var log: String { (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "" }
    var isRunning: Bool { process.isRunning }

    /// SIGTERM, and waits for the exit.
    func terminate() async {
        guard process.isRunning else { return }
        process.terminate()
        await wait()
    }

    /// Waits for the process to end by itself (polling, so that no thread of the cooperative pool blocks).
    func wait() async {
        while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
    }

    /// SIGKILL: an agent that dies without cleaning up.
    func kill() async {
        guard process.isRunning else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        await wait()
    }

    deinit {
        if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(atPath: logFile)
    }
}
