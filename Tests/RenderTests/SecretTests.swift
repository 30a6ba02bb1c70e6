import Foundation
import Glibc
import Render
import Synchronization
import Testing

/// Values a template marks `secret` stay out of logs and `--noop` diffs, and make the file 0600 unless the
/// resource sets `mode`.
@Suite struct SecretTests {
    static let template = #"stats auth {{getv "/auth" | secret | haproxyQuote}}"# + "\n"

    func resources(_ folder: TemporaryFolder, extra: String) throws -> [CompiledResource] {
        let confdir = try makeConfdir(
            in: folder,
            resources: ["s.toml": "[template]\nsrc = \"s.tmpl\"\ndest = \"\(folder.file("out/s.cfg"))\"\nkeys = [\"/auth\"]\n\(extra)"],
            templates: ["s.tmpl": Self.template])
        return try CompiledResource.load(confdir: confdir)
    }

    @Test func aFileWithASecretIsWritten0600() async throws {
        try await withTemporaryFolder { folder in
            let source = ScriptedKeySource(["/auth": "admin:hunter2"])
            let renderer = ConfigRenderer(resources: try resources(folder, extra: ""), source: source, options: RenderOptions(environment: [:]))
            _ = try await renderer.renderOnce()
            var info = stat()
            #expect(stat(folder.file("out/s.cfg"), &info) == 0)
            #expect(info.st_mode & 0o777 == 0o600)
            #expect(folder.read("out/s.cfg") == "stats auth \"admin:hunter2\"\n")
        }
    }

    @Test func aCheckThatPrintsTheFileLogsNoSecret() async throws {
        try await withTemporaryFolder { folder in
            let source = ScriptedKeySource(["/auth": "admin:hun\"ter2"])
            let logs = LogRecorder()
            let renderer = ConfigRenderer(
                resources: try resources(folder, extra: "check_cmd = \"cat {{.src}}; exit 1\"\n"), source: source,
                options: RenderOptions(environment: [:]), logger: logs.logger)
            let summary = try await renderer.renderOnce()
            #expect(summary.failed)
            let line = try #require(logs.all.first { $0.message.contains("check_cmd rejected") })
            #expect(line.message.contains("stats auth \"(secret)\""), "\(line.message)")
            #expect(!logs.messages.contains { $0.contains("ter2") })
        }
    }

    @Test func noopDiffsShowNoSecret() async throws {
        try await withTemporaryFolder { folder in
            let source = ScriptedKeySource(["/auth": "admin:hunter2"])
            let printed = PrintedText()
            let renderer = ConfigRenderer(
                resources: try resources(folder, extra: ""), source: source,
                options: RenderOptions(write: WriteSettings(noop: true), environment: [:], printDiff: printed.append))
            _ = try await renderer.renderOnce()
            #expect(printed.text.contains("+stats auth \"(secret)\""), "\(printed.text)")
            #expect(!printed.text.contains("hunter2"))
        }
    }
}

/// Text printed by the renderer (`--noop` diffs).
final class PrintedText: Sendable {
    private let storage = Mutex("")
    var text: String { storage.withLock { $0 } }
    func append(_ text: String) { storage.withLock { $0 += text } }
}
