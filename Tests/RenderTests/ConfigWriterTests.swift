import Foundation
import Glibc
@testable import Render
import Testing
import TestSupport

/// Staging, comparing, checking, renaming and reloading, on temporary folders with real shell commands.
@Suite struct ConfigWriterTests {
    func resource(
        _ folder: TemporaryFolder, dest: String = "out/app.cfg", mode: UInt32? = nil, uid: UInt32? = nil,
        gid: UInt32? = nil, check: String? = nil, reload: String? = nil
    ) -> TemplateResource {
        TemplateResource(
            file: folder.file("conf.d/app.toml"), source: "app.tmpl", sourcePath: folder.file("templates/app.tmpl"),
            destination: folder.file(dest), keys: ["/app"], mode: mode, uid: uid, gid: gid,
            checkCommand: check, reloadCommand: reload)
    }

    func inode(_ path: String) -> UInt {
        var info = stat()
        return stat(path, &info) == 0 ? UInt(info.st_ino) : 0
    }

    func mode(_ path: String) -> UInt32 {
        var info = stat()
        return stat(path, &info) == 0 ? UInt32(info.st_mode) & 0o7777 : 0
    }

    @Test func writesANewFileAndLeavesNoStageBehind() async throws {
        try await withTemporaryFolder { folder in
            let writer = ConfigWriter()
            let outcome = await writer.sync(resource(folder, reload: "echo reloaded >> \(folder.file("reloads"))"), content: "one\n")
            #expect(outcome == .updated(check: nil, reload: outcome.reloadResult))
            #expect(folder.read("out/app.cfg") == "one\n")
            #expect(mode(folder.file("out/app.cfg")) == 0o644)
            #expect(folder.read("reloads") == "reloaded\n")
            #expect(folder.stageFiles(in: "out").isEmpty)
        }
    }

    @Test func identicalContentStopsBeforeCheckAndReload() async throws {
        try await withTemporaryFolder { folder in
            let marker = folder.file("ran")
            let resource = resource(folder, check: "echo check >> \(marker)", reload: "echo reload >> \(marker)")
            let writer = ConfigWriter()
            _ = await writer.sync(resource, content: "same\n")
            #expect(folder.read("ran") == "check\nreload\n")
            let before = inode(resource.destination)
            #expect(await writer.sync(resource, content: "same\n") == .unchanged)
            #expect(folder.read("ran") == "check\nreload\n")
            #expect(inode(resource.destination) == before)
            #expect(folder.stageFiles(in: "out").isEmpty)
        }
    }

    @Test func checkRunsOnTheStagedFileInTheDestinationsFolder() async throws {
        try await withTemporaryFolder { folder in
            let seen = folder.file("seen")
            // The check sees the new content under the stage's name, before the destination has it.
            let check = "grep -q '^server web-1' {{.src}} && echo {{ .src }} > \(seen) && ! grep -q web-1 \(folder.file("out/app.cfg"))"
            let resource = resource(folder, check: check)
            try folder.write("out/app.cfg", "old\n")
            let outcome = await ConfigWriter().sync(resource, content: "server web-1 10.0.0.1:80\n")
            #expect(outcome.isUpdated)
            let staged = try #require(folder.read("seen")).trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(staged.hasPrefix(folder.file("out/.app.cfg.hecd-")))
            #expect(!FileManager.default.fileExists(atPath: staged))
            #expect(folder.read("out/app.cfg") == "server web-1 10.0.0.1:80\n")
        }
    }

    @Test func aFailedCheckLeavesTheDestinationAndTheServiceAlone() async throws {
        try await withTemporaryFolder { folder in
            let reloads = folder.file("reloads")
            let resource = resource(
                folder, check: "echo \"[ALERT] parsing {{.src}}: bad server line\" >&2; exit 3",
                reload: "echo reload >> \(reloads)")
            try folder.write("out/app.cfg", "good\n")
            let before = inode(resource.destination)
            let outcome = await ConfigWriter().sync(resource, content: "bad\n")
            guard case .checkFailed(let result) = outcome else {
                Issue.record("expected a failed check, got \(outcome)")
                return
            }
            #expect(result.status == 3)
            #expect(result.output.contains("[ALERT] parsing"))
            #expect(result.output.contains("bad server line"))
            #expect(outcome.isFailure)
            #expect(folder.read("out/app.cfg") == "good\n")
            #expect(inode(resource.destination) == before)
            #expect(!FileManager.default.fileExists(atPath: reloads))
            #expect(folder.stageFiles(in: "out").isEmpty)
        }
    }

    /// confd's -keep-stage-file: the staged file a check refused stays for a look.
    @Test func keepStageFileLeavesARefusedStagedFile() async throws {
        try await withTemporaryFolder { folder in
            var settings = WriteSettings()
            settings.keepStageFile = true
            let outcome = await ConfigWriter(settings: settings).sync(resource(folder, check: "exit 1"), content: "bad\n")
            #expect(outcome.isFailure)
            let staged = folder.stageFiles(in: "out")
            #expect(staged.count == 1)
            #expect(staged.first.flatMap { folder.read("out/" + $0) } == "bad\n")
        }
    }

    @Test func modeIsAppliedAndAModeChangeAloneIsAChange() async throws {
        try await withTemporaryFolder { folder in
            let writer = ConfigWriter()
            #expect(await writer.sync(resource(folder, mode: 0o600), content: "secret\n").isUpdated)
            #expect(mode(folder.file("out/app.cfg")) == 0o600)
            #expect(await writer.sync(resource(folder, mode: 0o600), content: "secret\n") == .unchanged)
            #expect(await writer.sync(resource(folder, mode: 0o640), content: "secret\n").isUpdated)
            #expect(mode(folder.file("out/app.cfg")) == 0o640)
            // Without a mode, the current file's is kept.
            #expect(await writer.sync(resource(folder), content: "other\n").isUpdated)
            #expect(mode(folder.file("out/app.cfg")) == 0o640)
        }
    }

    @Test(.enabled(if: geteuid() == 0, "needs root to give files away"))
    func ownerIsApplied() async throws {
        try await withTemporaryFolder { folder in
            let outcome = await ConfigWriter().sync(resource(folder, uid: 65534, gid: 65534), content: "x\n")
            #expect(outcome.isUpdated)
            var info = stat()
            #expect(stat(folder.file("out/app.cfg"), &info) == 0)
            #expect(info.st_uid == 65534 && info.st_gid == 65534)
        }
    }

    @Test func aFailedReloadIsReportedAndRunAgainOnRequest() async throws {
        try await withTemporaryFolder { folder in
            let flag = folder.file("reload-works")
            let resource = resource(folder, reload: "test -e \(flag) || { echo 'haproxy is not running' >&2; exit 1; }")
            let writer = ConfigWriter()
            let first = await writer.sync(resource, content: "v1\n")
            guard case .reloadFailed(let result) = first else {
                Issue.record("expected a failed reload, got \(first)")
                return
            }
            #expect(result.output.contains("haproxy is not running"))
            #expect(first.needsReload)
            // The file is in place all the same.
            #expect(folder.read("out/app.cfg") == "v1\n")
            // Unchanged content: nothing runs unless the reload is owed.
            #expect(await writer.sync(resource, content: "v1\n") == .unchanged)
            #expect(await writer.sync(resource, content: "v1\n", retryReload: true).isReloadFailed)
            try folder.write("reload-works", "")
            let retried = await writer.sync(resource, content: "v1\n", retryReload: true)
            guard case .reloaded = retried else {
                Issue.record("expected the reload to run again, got \(retried)")
                return
            }
        }
    }

    @Test func noopPrintsADiffAndWritesNothing() async throws {
        try await withTemporaryFolder { folder in
            let marker = folder.file("ran")
            let writer = ConfigWriter(settings: WriteSettings(noop: true))
            let resource = resource(folder, check: "touch \(marker)", reload: "touch \(marker)")
            try folder.write("out/app.cfg", "global\n    maxconn 100\nbackend b\n    server a 10.0.0.1:80\n")
            let before = inode(resource.destination)
            let outcome = await writer.sync(resource, content: "global\n    maxconn 100\nbackend b\n    server b 10.0.0.2:80\n")
            guard case .wouldChange(let diff) = outcome else {
                Issue.record("expected a diff, got \(outcome)")
                return
            }
            #expect(diff.contains("-    server a 10.0.0.1:80"))
            #expect(diff.contains("+    server b 10.0.0.2:80"))
            #expect(diff.contains("@@"))
            #expect(diff.contains(resource.destination))
            #expect(folder.read("out/app.cfg") == "global\n    maxconn 100\nbackend b\n    server a 10.0.0.1:80\n")
            #expect(inode(resource.destination) == before)
            #expect(!FileManager.default.fileExists(atPath: marker))
            #expect(folder.stageFiles(in: "out").isEmpty)

            // A destination that does not exist yet: a diff from /dev/null, and still nothing written.
            let fresh = self.resource(folder, dest: "new/fresh.cfg")
            guard case .wouldChange(let creation) = await writer.sync(fresh, content: "hello\n") else {
                Issue.record("expected a diff for a new file")
                return
            }
            #expect(creation.contains("+hello"))
            #expect(!FileManager.default.fileExists(atPath: folder.file("new")))
        }
    }

    @Test func syncOnlyRunsNoCommands() async throws {
        try await withTemporaryFolder { folder in
            let marker = folder.file("ran")
            let writer = ConfigWriter(settings: WriteSettings(syncOnly: true))
            let outcome = await writer.sync(resource(folder, check: "touch \(marker); false", reload: "touch \(marker)"), content: "x\n")
            #expect(outcome == .updated(check: nil, reload: nil))
            #expect(!FileManager.default.fileExists(atPath: marker))
        }
    }

    @Test func withoutAUsableAdminSocketTheRuntimeAPIFallsBackToTheReload() async throws {
        try await withTemporaryFolder { folder in
            var runtime = resource(folder, reload: "echo reloaded >> \(folder.file("reloads"))")
            runtime.haproxyRuntimeAPI = true
            let writer = ConfigWriter()
            let backend = "backend servers\n    balance roundrobin\n"
            // The first file: nothing to compare with.
            var outcome = await writer.sync(runtime, content: backend)
            guard case .updated(_, _?, let first?) = outcome else {
                Issue.record("expected a reload, got \(outcome)")
                return
            }
            #expect(first == "there was no file before")
            // A server comes, but the config opens no admin socket.
            outcome = await writer.sync(runtime, content: backend + "    server a 10.0.0.1:80\n")
            guard case .updated(_, _?, let noSocket?) = outcome else {
                Issue.record("expected a reload, got \(outcome)")
                return
            }
            #expect(noSocket.contains("opens no admin socket"))
            // An admin socket nobody listens on: the server change is tried, fails, and the reload follows.
            let withSocket = "global\n    stats socket \(folder.file("nobody.sock")) level admin\n" + backend
            _ = await writer.sync(runtime, content: withSocket + "    server a 10.0.0.1:80\n")
            outcome = await writer.sync(runtime, content: withSocket + "    server b 10.0.0.2:80\n")
            guard case .updated(_, _?, let refused?) = outcome else {
                Issue.record("expected a reload, got \(outcome)")
                return
            }
            #expect(refused.contains("cannot connect"))
            #expect(folder.read("reloads") == String(repeating: "reloaded\n", count: 4))
            #expect(folder.read("out/app.cfg")?.contains("server b 10.0.0.2:80") == true)
        }
    }

    @Test func destinationRootGoesInFrontAndFoldersAreCreated() async throws {
        try await withTemporaryFolder { folder in
            let writer = ConfigWriter(settings: WriteSettings(destinationRoot: folder.file("root")))
            let resource = TemplateResource(
                file: "t.toml", source: "t", sourcePath: "t", destination: "/etc/hecd/haproxy.cfg", keys: ["/a"])
            #expect(await writer.sync(resource, content: "x\n").isUpdated)
            #expect(folder.read("root/etc/hecd/haproxy.cfg") == "x\n")
        }
    }

    @Test func commandsAreBoundedByTheTimeout() async throws {
        try await withTemporaryFolder { folder in
            let writer = ConfigWriter(settings: WriteSettings(commandTimeout: .milliseconds(300)))
            let start = ContinuousClock.now
            let outcome = await writer.sync(resource(folder, check: "echo started; sleep 30"), content: "x\n")
            #expect(ContinuousClock.now - start < .seconds(5))
            guard case .checkFailed(let result) = outcome else {
                Issue.record("expected the check to time out, got \(outcome)")
                return
            }
            #expect(result.timedOut)
            #expect(result.output.contains("started"))
            #expect(result.description.contains("timed out"))
            #expect(!FileManager.default.fileExists(atPath: folder.file("out/app.cfg")))
        }
    }

    @Test func commandsSeeTheEnvironmentTheyAreGiven() async throws {
        let runner = ShellCommandRunner()
        let result = await runner.run("echo \"$HECD_TEST_VALUE\"; exit 7", timeout: .seconds(5), environment: ["HECD_TEST_VALUE": "x y"])
        #expect(result.status == 7)
        #expect(result.output == "x y\n")
        #expect(!result.succeeded)
    }

    @Test func aDaemonLeftBehindDoesNotHoldTheCommandUp() async throws {
        let start = ContinuousClock.now
        let result = await ShellCommandRunner().run("sleep 3 & echo started", timeout: .seconds(10))
        #expect(result.succeeded)
        #expect(ContinuousClock.now - start < .seconds(2))
    }

    @Test func theSourcePlaceholderIsQuotedWhenNeeded() {
        #expect(ConfigWriter.substituteSource("haproxy -c -f {{.src}}", "/etc/hecd/.h.hecd-ab12") == "haproxy -c -f /etc/hecd/.h.hecd-ab12")
        #expect(ConfigWriter.substituteSource("check {{ .src }} {{.src}}", "/a b/c") == "check '/a b/c' '/a b/c'")
    }

    @Test func theBuiltInLineDiff() {
        let diff = TextDiff.lineDiff(old: "a\nb\nc\nd\n", new: "a\nB\nc\nd\ne\n", path: "/etc/x")
        #expect(diff == """
            --- /etc/x
            +++ /etc/x (rendered)
            @@ -1,4 +1,5 @@
             a
            -b
            +B
             c
             d
            +e

            """)
        #expect(TextDiff.lineDiff(old: "same\n", new: "same\n", path: "/x").isEmpty)
        #expect(TextDiff.lineDiff(old: nil, new: "new\n", path: "/x").hasPrefix("--- /dev/null\n+++ /x (rendered)\n@@ -0,0 +1,1 @@\n+new\n"))
    }
}

extension SyncOutcome {
    var reloadResult: CommandResult? {
        if case .updated(_, let reload, _) = self { reload } else { nil }
    }
}
