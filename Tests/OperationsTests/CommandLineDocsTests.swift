import Agent
import Foundation
import TestSupport
import Testing

/// The completions and the man page under Deploy/ are what the argument parser gives today, and `--version`.
@Suite("CommandLineDocs", .serialized)
struct CommandLineDocsTests {
    /// The repository's root, from this file's path.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    @Test("regenerating the completions and the man page gives the committed files")
    func shippedDocsAreCurrent() async throws {
        let hecd = hecdBinaryPath()
        let tool = (hecd as NSString).deletingLastPathComponent + "/hecd-docs"
        let run = try await runProgram(tool, ["--check", hecd, Self.root + "/Deploy"])
        #expect(run.status == 0, "Deploy/ is stale: run `.build/debug/hecd-docs .build/debug/hecd Deploy`. \(run.output)")
        let bash = try await runProgram("/bin/bash", ["-n", Self.root + "/Deploy/completions/hecd.bash"])
        #expect(bash.status == 0, "bash -n: \(bash.output)")
        let page = try String(contentsOfFile: Self.root + "/Deploy/man/hecd.1", encoding: .utf8)
        for section in ["hecd agent", "hecd render", "hecd status", "hecd validate", "EXIT STATUS", "\\-\\-metrics\\-addr"] {
            #expect(page.contains(section), "man page lacks \(section)")
        }
    }

    @Test("hecd --version prints the version the agent records carry")
    func version() async throws {
        let run = try await runProgram(hecdBinaryPath(), ["--version"])
        #expect(run.status == 0)
        #expect(run.output == HECDVersion.current)
    }
}
