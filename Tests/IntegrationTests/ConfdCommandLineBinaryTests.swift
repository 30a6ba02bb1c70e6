import Foundation
import Glibc
import Testing
import TestSupport

/// The real `hecd` binary run with confd's own command lines against a real etcd: the seed article's
/// `confd -verbose -interval 10 -node '192.168.1.21:4001' -confdir /etc/confd` with the host replaced, a
/// `-onetime` run configured by confd.toml, CONFD_* and -prefix, and `confd` as a link to hecd.
@Suite(.serialized) struct ConfdCommandLineBinaryTests {
    static let seedTemplate = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("RenderTests/Fixtures/seed/templates/haproxy.cfg.tmpl").path

    /// A confd folder with the seed's template and a resource writing to `dest` in the folder itself.
    func confdir(resource extra: String = "") throws -> String {
        let folder = NSTemporaryDirectory() + "hecd-confd-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder + "/conf.d", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: folder + "/templates", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Self.seedTemplate, toPath: folder + "/templates/haproxy.cfg.tmpl")
        try """
            [template]
            src = "haproxy.cfg.tmpl"
            dest = "\(folder)/haproxy.cfg"
            keys = ["/app/servers"]
            \(extra)
            """.write(toFile: folder + "/conf.d/haproxy.toml", atomically: true, encoding: .utf8)
        return folder
    }

    func waitFor(_ path: String, toContain text: String, within seconds: Double) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let content = try? String(contentsOfFile: path, encoding: .utf8), content.contains(text) { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    @Test func theSeedArticlesCommandRunsAndWatches() async throws {
        let folder = try confdir()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try await withEtcd { etcd in
            _ = try await etcd.etcdctl(["put", "/app/servers/cocky_morse", "192.168.1.22:49158"])
            let process = Process()
            process.executableURL = URL(fileURLWithPath: AgentProcess.binary)
            process.arguments = ["render", "-verbose", "-interval", "10", "-node", "127.0.0.1:\(etcd.clientPort)", "-confdir", folder]
            let log = folder + "/render.log"
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
            process.standardOutput = handle
            process.standardError = handle
            try process.run()
            defer {
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
                try? handle.close()
            }
            let first = await waitFor(folder + "/haproxy.cfg", toContain: "server cocky_morse 192.168.1.22:49158", within: 15)
            #expect(first, "\((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
            // It watches: a new key shows long before confd's 10 s poll would see it.
            let start = Date()
            _ = try await etcd.etcdctl(["put", "/app/servers/goofy_goldstine", "192.168.1.22:49160"])
            let second = await waitFor(folder + "/haproxy.cfg", toContain: "server goofy_goldstine 192.168.1.22:49160", within: 5)
            #expect(second, "\((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
            #expect(Date().timeIntervalSince(start) < 5)
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
            let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            #expect(output.contains("-interval 10 is not needed"), "\(output)")
        }
    }

    @Test func onetimeWithConfdTomlEnvironmentAndPrefix() async throws {
        let folder = try confdir(resource: "prefix = \"/ignored\"\ngroup = \"\(getegid())\"")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try await withEtcd { etcd in
            _ = try await etcd.etcdctl(["put", "/prod/app/servers/web1", "10.0.0.1:80"])
            try """
                backend = "etcdv3"
                confdir = "\(folder)"
                nodes = ["127.0.0.1:\(etcd.clientPort)"]
                log-level = "warn"
                """.write(toFile: folder + "/confd.toml", atomically: true, encoding: .utf8)
            // -prefix replaces the resource's own prefix, as in confd; CONFD_NOOP is not set, so the file is written.
            let run = try await runProgram(
                AgentProcess.binary, ["render", "-onetime", "-config-file", folder + "/confd.toml", "-prefix", "/prod"],
                environment: ["CONFD_LOG_LEVEL": "error"])
            #expect(run.status == 0, "\(run)")
            let content = (try? String(contentsOfFile: folder + "/haproxy.cfg", encoding: .utf8)) ?? ""
            #expect(content.contains("server web1 10.0.0.1:80"), "\(run)\n\(content)")

            // `confd` as a link to hecd takes confd's command line with no `render`.
            let link = folder + "/confd"
            try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: AgentProcess.binary)
            _ = try await etcd.etcdctl(["put", "/prod/app/servers/web2", "10.0.0.2:80"])
            let linked = try await runProgram(link, ["-onetime", "-confdir", folder, "-node", "127.0.0.1:\(etcd.clientPort)", "-prefix", "prod"], environment: [:])
            #expect(linked.status == 0, "\(linked)")
            let again = (try? String(contentsOfFile: folder + "/haproxy.cfg", encoding: .utf8)) ?? ""
            #expect(again.contains("server web2 10.0.0.2:80"), "\(linked)\n\(again)")
        }
    }

    /// `-backend file`: a YAML file, watched; `-backend env`: the environment, as confd reads them.
    @Test func fileAndEnvironmentBackends() async throws {
        let folder = try confdir()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let keys = folder + "/keys.yaml"
        try "app:\n  servers:\n    web1: 10.0.0.1:80\n".write(toFile: keys, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: AgentProcess.binary)
        process.arguments = ["render", "-backend", "file", "-file", keys, "-confdir", folder, "-log-level", "error"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        #expect(await waitFor(folder + "/haproxy.cfg", toContain: "server web1 10.0.0.1:80", within: 10))
        try "app:\n  servers:\n    web1: 10.0.0.1:80\n    web2: 10.0.0.2:80\n".write(toFile: keys, atomically: true, encoding: .utf8)
        #expect(await waitFor(folder + "/haproxy.cfg", toContain: "server web2 10.0.0.2:80", within: 5))
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()

        let run = try await runProgram(
            AgentProcess.binary, ["render", "-onetime", "-backend", "env", "-confdir", folder],
            environment: ["APP_SERVERS_WEB9": "10.0.0.9:80"])
        #expect(run.status == 0, "\(run)")
        let content = (try? String(contentsOfFile: folder + "/haproxy.cfg", encoding: .utf8)) ?? ""
        #expect(content.contains("server web9 10.0.0.9:80"), "\(run)\n\(content)")
    }

    /// SIGHUP reads conf.d and the templates again: a new resource is rendered, a broken folder keeps the
    /// running set (logged), a removed resource is no longer rendered.
    @Test func sighupPicksUpNewChangedAndRemovedResources() async throws {
        let folder = try confdir()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let keys = folder + "/keys.yaml"
        try "app:\n  servers:\n    web1: 10.0.0.1:80\n".write(toFile: keys, atomically: true, encoding: .utf8)
        let log = folder + "/render.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: AgentProcess.binary)
        process.arguments = ["render", "--backend", "file", "--file", keys, "--confdir", folder]
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        defer {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            try? handle.close()
        }
        func logText() -> String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
        #expect(await waitFor(folder + "/haproxy.cfg", toContain: "server web1", within: 10), "\(logText())")

        // A new resource.
        try "{{range gets \"/app/servers/*\"}}{{base .Key}} {{end}}".write(toFile: folder + "/templates/names.tmpl", atomically: true, encoding: .utf8)
        try "[template]\nsrc = \"names.tmpl\"\ndest = \"\(folder)/names.txt\"\nkeys = [\"/app/servers\"]\n".write(toFile: folder + "/conf.d/names.toml", atomically: true, encoding: .utf8)
        kill(process.processIdentifier, SIGHUP)
        #expect(await waitFor(folder + "/names.txt", toContain: "web1", within: 10), "\(logText())")

        // A broken folder: the running set stays, and keeps rendering.
        try "[template]\nsrc = \"names.tmpl\"\n".write(toFile: folder + "/conf.d/broken.toml", atomically: true, encoding: .utf8)
        kill(process.processIdentifier, SIGHUP)
        try await Task.sleep(for: .milliseconds(500))
        try "app:\n  servers:\n    web1: 10.0.0.1:80\n    web2: 10.0.0.2:80\n".write(toFile: keys, atomically: true, encoding: .utf8)
        #expect(await waitFor(folder + "/names.txt", toContain: "web2", within: 10), "\(logText())")
        #expect(logText().contains("broken.toml"), "\(logText())")

        // The removed resource is no longer rendered.
        try FileManager.default.removeItem(atPath: folder + "/conf.d/broken.toml")
        try FileManager.default.removeItem(atPath: folder + "/conf.d/names.toml")
        kill(process.processIdentifier, SIGHUP)
        #expect(await waitFor(log, toContain: "0 new, 1 removed", within: 10), "\(logText())")
        try "app:\n  servers:\n    web3: 10.0.0.3:80\n".write(toFile: keys, atomically: true, encoding: .utf8)
        #expect(await waitFor(folder + "/haproxy.cfg", toContain: "server web3", within: 10), "\(logText())")
        #expect(!((try? String(contentsOfFile: folder + "/names.txt", encoding: .utf8)) ?? "").contains("web3"))
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
    }

    @Test func theEtcdV2BackendIsRefusedWithWhatToUse() async throws {
        let run = try await runProgram(AgentProcess.binary, ["render", "-backend", "etcd", "-node", "127.0.0.1:4001", "-onetime"], environment: [:])
        #expect(run.status == 2, "\(run)")
        #expect(run.standardError.contains("-backend etcdv3"), "\(run)")
    }
}
