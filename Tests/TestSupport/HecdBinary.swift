import Foundation

/// The `hecd` binary under test: `HECD_BINARY`, or `hecd` next to the test bundle in the build folder.
public func hecdBinaryPath() -> String {
    if let path = ProcessInfo.processInfo.environment["HECD_BINARY"] { return path }
    let runner = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    var folder = runner.deletingLastPathComponent()
    while folder.path != "/", !FileManager.default.fileExists(atPath: folder.appendingPathComponent("hecd").path) {
        folder = folder.deletingLastPathComponent()
    }
    return folder.appendingPathComponent("hecd").path
}
