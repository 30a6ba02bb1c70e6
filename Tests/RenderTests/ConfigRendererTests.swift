import Etcd
import Foundation
import Logging
import Render
import Synchronization
import Testing

/// The renderer against a scripted key source: batching, failures, etcd outages, resyncs, `--onetime`.
@Suite struct ConfigRendererTests {
    static let serversTemplate = """
        backend servers
        {{- range gets "/app/servers/*"}}
            server {{base .Key}} {{.Value}}
        {{- end}}

        """

    /// One resource rendering `/app/servers/*` into `out/servers.cfg`; `extra` adds TOML lines.
    func confdir(_ folder: TemporaryFolder, extra: String = "") throws -> [CompiledResource] {
        let confdir = try makeConfdir(
            in: folder,
            resources: ["servers.toml": """
                [template]
                src = "servers.tmpl"
                dest = "\(folder.file("out/servers.cfg"))"
                keys = ["/app/servers"]
                \(extra)
                """],
            templates: ["servers.tmpl": Self.serversTemplate])
        return try CompiledResource.load(confdir: confdir)
    }

    func options(_ write: WriteSettings = WriteSettings(), debounce: Duration = .milliseconds(50), maxWait: Duration = .seconds(1)) -> RenderOptions {
        RenderOptions(write: write, debounce: debounce, maxWait: maxWait, environment: [:], maximumBackoff: .milliseconds(100))
    }

    @Test func onetimeRendersEveryResourceFromOneRead() async throws {
        try await withTemporaryFolder { folder in
            let source = ScriptedKeySource(["/app/servers/web-1": "10.0.0.1:80", "/app/servers/web-2": "10.0.0.2:80", "/x": "y"])
            let renderer = ConfigRenderer(resources: try confdir(folder), source: source, options: options())
            let summary = try await renderer.renderOnce()
            #expect(!summary.failed)
            #expect(summary.reports.count == 1)
            #expect(summary.reports.first?.keyCount == 2)
            #expect(folder.read("out/servers.cfg") == "backend servers\n    server web-1 10.0.0.1:80\n    server web-2 10.0.0.2:80\n")
        }
    }

    @Test func onetimeWithEtcdDownRendersNothing() async throws {
        try await withTemporaryFolder { folder in
            let source = ScriptedKeySource(["/app/servers/web-1": "10.0.0.1:80"])
            source.setReachable(false)
            let renderer = ConfigRenderer(resources: try confdir(folder), source: source, options: options())
            await #expect(throws: EtcdError.self) { try await renderer.renderOnce() }
            #expect(!FileManager.default.fileExists(atPath: folder.file("out")))
        }
    }

    @Test func onetimeFailsWhenACheckFails() async throws {
        try await withTemporaryFolder { folder in
            let source = ScriptedKeySource(["/app/servers/web-1": "10.0.0.1:80"])
            let renderer = ConfigRenderer(
                resources: try confdir(folder, extra: "check_cmd = \"false\""), source: source, options: options())
            let summary = try await renderer.renderOnce()
            #expect(summary.failed)
            #expect(summary.reports.first?.outcome.isCheckFailed == true)
        }
    }

    @Test func aTemplateErrorIsAFailureThatWritesNothing() async throws {
        try await withTemporaryFolder { folder in
            let confdir = try makeConfdir(
                in: folder,
                resources: ["a.toml": "[template]\nsrc = \"a.tmpl\"\ndest = \"\(folder.file("out/a"))\"\nkeys = [\"/a\"]\n"],
                templates: ["a.tmpl": "{{getv \"/a/missing\"}}"])
            let logs = LogRecorder()
            let renderer = ConfigRenderer(
                resources: try CompiledResource.load(confdir: confdir), source: ScriptedKeySource(), options: options(),
                logger: logs.logger)
            let summary = try await renderer.renderOnce()
            #expect(summary.failed)
            #expect(logs.count(containing: "cannot render a.tmpl") == 1)
            #expect(!FileManager.default.fileExists(atPath: folder.file("out/a")))
        }
    }

    @Test func aBurstOf50ChangesGivesAtMostTwoReloads() async throws {
        try await withTemporaryFolder { folder in
            let reloads = folder.file("reloads")
            let source = ScriptedKeySource()
            let reports = ReportLog()
            let renderer = ConfigRenderer(
                resources: try confdir(folder, extra: "reload_cmd = \"echo reload >> \(reloads)\""), source: source,
                options: options(), observer: reports.observer)
            try await whileRunning(renderer) {
                try await reports.waitFor(1)  // The first render, with no servers.
                try await source.waitForWatches(1)
                for index in 1...50 {
                    source.put("/app/servers/web-\(index)", "10.0.0.\(index):80", watch: "/app/servers")
                }
                let deadline = ContinuousClock.now + .seconds(10)
                while reports.all.last?.keyCount != 50, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(5))
                }
                try await Task.sleep(for: .milliseconds(300))
            }
            // The first change of the burst may render at once (a lone change does not wait); the other 49 are
            // batched into one render: never one reload per change.
            let burst = reports.all.dropFirst()
            #expect((1...2).contains(burst.count), "\(burst.count) renders for a burst of 50 changes")
            #expect(reports.all.last?.keyCount == 50)
            let reloadCount = (folder.read("reloads") ?? "").split(separator: "\n").count
            #expect(reloadCount == reports.all.count, "one reload per render")
            #expect(folder.read("out/servers.cfg")?.components(separatedBy: "    server web-").count == 51)
        }
    }

    @Test func aSteadyStreamStillRendersWithinMaxWait() async throws {
        try await withTemporaryFolder { folder in
            let source = ScriptedKeySource()
            let reports = ReportLog()
            let renderer = ConfigRenderer(
                resources: try confdir(folder), source: source,
                options: options(debounce: .milliseconds(100), maxWait: .milliseconds(300)), observer: reports.observer)
            try await whileRunning(renderer) {
                try await reports.waitFor(1)
                try await source.waitForWatches(1)
                let start = ContinuousClock.now
                var index = 0
                // A change every 20 ms for a second: never 100 ms of quiet.
                while ContinuousClock.now - start < .seconds(1) {
                    index += 1
                    source.put("/app/servers/web-\(index)", "10.0.0.1:\(index)", watch: "/app/servers")
                    try await Task.sleep(for: .milliseconds(20))
                }
                try await Task.sleep(for: .milliseconds(400))
            }
            let renders = reports.all.dropFirst()
            // About one render per 300 ms while the stream lasts, then one for the tail.
            #expect(renders.count >= 3 && renders.count <= 6, "renders: \(renders.count)")
            #expect(folder.read("out/servers.cfg")?.contains("web-\(renders.last?.keyCount ?? 0) ") == true)
        }
    }

    @Test func onlyResourcesWhoseKeysChangedAreRenderedAgain() async throws {
        try await withTemporaryFolder { folder in
            let confdir = try makeConfdir(
                in: folder,
                resources: [
                    "a.toml": "[template]\nsrc = \"t.tmpl\"\ndest = \"\(folder.file("out/a"))\"\nkeys = [\"/app/a\"]\n",
                    "b.toml": "[template]\nsrc = \"t.tmpl\"\ndest = \"\(folder.file("out/b"))\"\nkeys = [\"/app/b\"]\n",
                ],
                templates: ["t.tmpl": "{{range gets \"/app/*/*\"}}{{.Key}}={{.Value}}\n{{end}}"])
            let source = ScriptedKeySource(["/app/a/1": "x", "/app/b/1": "y"])
            let reports = ReportLog()
            let renderer = ConfigRenderer(
                resources: try CompiledResource.load(confdir: confdir), source: source, options: options(),
                observer: reports.observer)
            #expect(renderer.watchedPrefixes == ["/app/a", "/app/b"])
            try await whileRunning(renderer) {
                try await reports.waitFor(2)
                try await source.waitForWatches(2)
                source.put("/app/b/2", "z", watch: "/app/b")
                try await reports.waitFor(3)
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(reports.all.map(\.resource.name) == ["a.toml", "b.toml", "b.toml"])
            #expect(folder.read("out/a") == "/app/a/1=x\n")
            #expect(folder.read("out/b") == "/app/b/1=y\n/app/b/2=z\n")
        }
    }

    @Test func aFailedCheckIsLoggedWithTheCheckersOutputAndChangesNothing() async throws {
        try await withTemporaryFolder { folder in
            let reloads = folder.file("reloads")
            let check = "if grep -q 'not an address' {{.src}}; then echo \\\"[ALERT] invalid address: 'not an address!!'\\\" >&2; exit 1; fi"
            let source = ScriptedKeySource(["/app/servers/web-1": "10.0.0.1:80"])
            let reports = ReportLog()
            let logs = LogRecorder()
            let renderer = ConfigRenderer(
                resources: try confdir(folder, extra: "check_cmd = \"\(check)\"\nreload_cmd = \"echo reload >> \(reloads)\""),
                source: source, options: options(), logger: logs.logger, observer: reports.observer)
            try await whileRunning(renderer) {
                try await reports.waitFor(1)
                try await source.waitForWatches(1)
                let good = folder.read("out/servers.cfg")
                source.put("/app/servers/web-2", "not an address!!", watch: "/app/servers")
                try await reports.waitFor(2)
                #expect(reports.all.last?.outcome.isCheckFailed == true)
                #expect(folder.read("out/servers.cfg") == good)
                #expect(folder.read("reloads") == "reload\n")
                // Fixing the value renders again.
                source.put("/app/servers/web-2", "10.0.0.2:80", watch: "/app/servers")
                try await reports.waitFor(3)
            }
            let failure = logs.all.first { $0.level == .error && $0.message.contains("check_cmd rejected") }
            #expect(failure?.message.contains("[ALERT] invalid address: 'not an address!!'") == true)
            #expect(reports.all.last?.outcome.isUpdated == true)
            #expect(folder.read("reloads") == "reload\nreload\n")
        }
    }

    /// A write that fails (a full or read-only disk; here the destination's folder is a file) is tried again by
    /// itself, with a backoff, with no key changing: once the disk has room again, the file is there.
    @Test func aFailedWriteIsRetriedWithoutAKeyChange() async throws {
        try await withTemporaryFolder { folder in
            _ = try folder.write("out", "a file where the destination's folder should be")
            let source = ScriptedKeySource()
            source.setKeys(["/app/servers/web-1": "10.0.0.1:80"])
            let reports = ReportLog()
            let renderer = ConfigRenderer(
                resources: try confdir(folder), source: source, options: options(), observer: reports.observer)
            try await whileRunning(renderer) {
                try await reports.waitFor(1)
                guard case .writeFailed = reports.all.last?.outcome else {
                    Issue.record("expected a failed write, got \(reports.all.map(\.outcome))")
                    return
                }
                try FileManager.default.removeItem(atPath: folder.file("out"))
                try FileManager.default.createDirectory(atPath: folder.file("out"), withIntermediateDirectories: true)
                let deadline = ContinuousClock.now + .seconds(5)
                while folder.read("out/servers.cfg") == nil, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(50))
                }
                #expect(folder.read("out/servers.cfg")?.contains("10.0.0.1:80") == true,
                    "the write was tried again: \(reports.all.map(\.outcome))")
            }
        }
    }

    @Test func aFailedReloadIsRetriedAtTheNextChange() async throws {
        try await withTemporaryFolder { folder in
            let flag = folder.file("haproxy-running")
            let source = ScriptedKeySource()
            let reports = ReportLog()
            let renderer = ConfigRenderer(
                resources: try confdir(folder, extra: "reload_cmd = \"test -e \(flag)\""), source: source, options: options(),
                observer: reports.observer)
            try await whileRunning(renderer) {
                try await reports.waitFor(1)
                #expect(reports.all.last?.outcome.isReloadFailed == true)
                try await source.waitForWatches(1)
                try folder.write("haproxy-running", "")
                // A change elsewhere under the watched prefix that this template does not print.
                source.put("/app/servers", "the prefix key itself", watch: "/app/servers")
                try await reports.waitFor(2)
            }
            guard case .reloaded = reports.all.last?.outcome else {
                Issue.record("expected the owed reload to run, got \(reports.all.map(\.outcome))")
                return
            }
        }
    }

    @Test func whileEtcdIsDownTheFilesStayAndItIsLoggedOnce() async throws {
        try await withTemporaryFolder { folder in
            let source = ScriptedKeySource(["/app/servers/web-1": "10.0.0.1:80"])
            let reports = ReportLog()
            let logs = LogRecorder()
            let renderer = ConfigRenderer(
                resources: try confdir(folder), source: source, options: options(), logger: logs.logger,
                observer: reports.observer)
            try await whileRunning(renderer) {
                try await reports.waitFor(1)
                try await source.waitForWatches(1)
                let rendered = folder.read("out/servers.cfg")
                for attempt in 1...5 {
                    source.send(.disconnected(reason: "connection refused \(attempt)", retryIn: .milliseconds(100)), watch: "/app/servers")
                }
                try await Task.sleep(for: .milliseconds(300))
                #expect(reports.all.count == 1)
                #expect(folder.read("out/servers.cfg") == rendered)
                source.send(.connected(revision: source.currentRevision), watch: "/app/servers")
                source.put("/app/servers/web-2", "10.0.0.2:80", watch: "/app/servers")
                try await reports.waitFor(2)
            }
            #expect(logs.count(containing: "lost etcd") == 1)
            #expect(logs.count(containing: "etcd is back") == 1)
            #expect(folder.read("out/servers.cfg")?.contains("web-2") == true)
        }
    }

    @Test func startingWhileEtcdIsDownRendersNothingUntilItAnswers() async throws {
        try await withTemporaryFolder { folder in
            try folder.write("out/servers.cfg", "the config from before\n")
            let source = ScriptedKeySource(["/app/servers/web-1": "10.0.0.1:80"])
            source.setReachable(false)
            let reports = ReportLog()
            let logs = LogRecorder()
            let renderer = ConfigRenderer(
                resources: try confdir(folder), source: source, options: options(), logger: logs.logger,
                observer: reports.observer)
            try await whileRunning(renderer) {
                // It keeps retrying (100 ms, doubling), and renders nothing meanwhile.
                let deadline = ContinuousClock.now + .seconds(5)
                while source.reads < 3, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
                #expect(source.reads >= 3)
                #expect(reports.all.isEmpty)
                #expect(folder.read("out/servers.cfg") == "the config from before\n")
                source.setReachable(true)
                try await reports.waitFor(1)
            }
            #expect(logs.count(containing: "cannot read etcd") >= 1)
            #expect(logs.all.filter { $0.level == .warning && $0.message.contains("cannot read etcd") }.count == 1)
            #expect(logs.count(containing: "etcd answers again") == 1)
            #expect(folder.read("out/servers.cfg") == "backend servers\n    server web-1 10.0.0.1:80\n")
        }
    }

    @Test func aCompactedWatchReadsThePrefixAgain() async throws {
        try await withTemporaryFolder { folder in
            let source = ScriptedKeySource(["/app/servers/web-1": "10.0.0.1:80", "/app/servers/web-2": "10.0.0.2:80"])
            let reports = ReportLog()
            let renderer = ConfigRenderer(
                resources: try confdir(folder), source: source, options: options(), observer: reports.observer)
            try await whileRunning(renderer) {
                try await reports.waitFor(1)
                try await source.waitForWatches(1)
                // Changes the watch never delivered, then etcd says the history is gone.
                source.setKeys(["/app/servers/web-3": "10.0.0.3:80"])
                source.send(.resyncNeeded(currentRevision: source.currentRevision), watch: "/app/servers")
                try await reports.waitFor(2)
            }
            #expect(folder.read("out/servers.cfg") == "backend servers\n    server web-3 10.0.0.3:80\n")
        }
    }

    @Test func aWatchThatFailsForGoodStopsTheRenderer() async throws {
        try await withTemporaryFolder { folder in
            let source = ScriptedKeySource()
            let renderer = ConfigRenderer(resources: try confdir(folder), source: source, options: options())
            let task = Task { try await renderer.run() }
            try await source.waitForWatches(1)
            source.send(.failed(.watchCanceled(prefix: "/app/servers", reason: "permission denied")), watch: "/app/servers")
            await #expect(throws: RenderError.self) { try await task.value }
        }
    }

    @Test func noopPrintsDiffsAndWritesNothing() async throws {
        try await withTemporaryFolder { folder in
            try folder.write("out/servers.cfg", "backend servers\n    server old 10.0.0.9:80\n")
            let printed = Mutex<[String]>([])
            var options = options(WriteSettings(noop: true))
            options.printDiff = { text in printed.withLock { $0.append(text) } }
            let source = ScriptedKeySource(["/app/servers/web-1": "10.0.0.1:80"])
            let renderer = ConfigRenderer(
                resources: try confdir(folder, extra: "reload_cmd = \"touch \(folder.file("reloaded"))\""), source: source,
                options: options)
            let summary = try await renderer.renderOnce()
            #expect(!summary.failed)
            let diff = printed.withLock { $0 }.joined()
            #expect(diff.contains("-    server old 10.0.0.9:80"))
            #expect(diff.contains("+    server web-1 10.0.0.1:80"))
            #expect(folder.read("out/servers.cfg") == "backend servers\n    server old 10.0.0.9:80\n")
            #expect(!FileManager.default.fileExists(atPath: folder.file("reloaded")))
        }
    }

    @Test func pollingFollowsChangesAndKeepsFilesWhileEtcdIsDown() async throws {
        try await withTemporaryFolder { folder in
            let source = ScriptedKeySource(["/app/servers/web-1": "10.0.0.1:80"])
            let reports = ReportLog()
            var options = options()
            options.pollInterval = .milliseconds(50)
            let renderer = ConfigRenderer(resources: try confdir(folder), source: source, options: options, observer: reports.observer)
            try await whileRunning(renderer) {
                try await reports.waitFor(1)
                source.setReachable(false)
                try await Task.sleep(for: .milliseconds(200))
                #expect(reports.all.count == 1)
                #expect(folder.read("out/servers.cfg")?.contains("web-1") == true)
                source.setKeys(["/app/servers/web-2": "10.0.0.2:80"])
                source.setReachable(true)
                try await reports.waitFor(2)
            }
            #expect(source.watchedPrefixes.isEmpty)
            #expect(folder.read("out/servers.cfg") == "backend servers\n    server web-2 10.0.0.2:80\n")
        }
    }

    @Test func theSeedArticlesFilesRenderUnchanged() async throws {
        try await withTemporaryFolder { folder in
            let resources = try CompiledResource.load(confdir: Fixtures.folder + "/seed")
            let source = ScriptedKeySource(Fixtures.articleKeys)
            let renderer = ConfigRenderer(
                resources: resources, source: source,
                options: options(WriteSettings(destinationRoot: folder.path, syncOnly: true)))
            let summary = try await renderer.renderOnce()
            #expect(!summary.failed)
            #expect(folder.read("etc/haproxy/haproxy.cfg") == (try Fixtures.text("seed/expected-haproxy.cfg")))
        }
    }
}
