import Foundation

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

/// Runs a program to its end with `environment` added to this process's, without blocking the caller's thread.
/// The output goes through files, so a chatty program never fills a pipe and hangs.
public func runProgram(
    _ executable: String, _ arguments: [String], environment: [String: String]
) async throws -> ProgramRun {
    let base = NSTemporaryDirectory() + "hecd-run-\(UUID().uuidString.prefix(8))"
    let outputPath = base + ".out"
    let errorPath = base + ".err"
    _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
    _ = FileManager.default.createFile(atPath: errorPath, contents: nil)
    defer {
        try? FileManager.default.removeItem(atPath: outputPath)
        try? FileManager.default.removeItem(atPath: errorPath)
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
    let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
    let error = try FileHandle(forWritingTo: URL(fileURLWithPath: errorPath))
    process.standardOutput = output
    process.standardError = error
    process.standardInput = FileHandle.nullDevice
    let status = try await runToEnd(process)
    try? output.close()
    try? error.close()
    func read(_ path: String) -> String {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }
    return ProgramRun(status: status, standardOutput: read(outputPath), standardError: read(errorPath))
}

/// Starts `process` and returns its exit status once it has ended, without blocking the caller's thread.
public func runToEnd(_ process: Process) async throws -> Int32 {
    try await withCheckedThrowingContinuation { continuation in
        process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
        do {
            try process.run()
        } catch {
            process.terminationHandler = nil
            continuation.resume(throwing: error)
        }
    }
}
