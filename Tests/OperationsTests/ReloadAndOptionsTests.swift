import Foundation
import Glibc
@testable import Operations
import TestSupport
import Testing

/// SIGHUP (the units' ExecReload), `--metrics-addr` parsing, and the operations options on the command line.
@Suite("ReloadAndOptions", .serialized)
struct ReloadAndOptionsTests {
    @Test("SIGHUP to hecd render puts a destination edited by hand right again, and the process goes on")
    func renderReloadRestoresTheFile() async throws {
        try await withEtcd { etcd in
            _ = try await etcd.etcdctl(["put", "/wt/a", "10.0.0.1:80"])
            let folder = NSTemporaryDirectory() + "hecd-hup-\(UUID().uuidString.prefix(8))"
            defer { try? FileManager.default.removeItem(atPath: folder) }
            try FileManager.default.createDirectory(atPath: folder + "/confd/conf.d", withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: folder + "/confd/templates", withIntermediateDirectories: true)
            try "[template]\nsrc = \"a.tmpl\"\ndest = \"\(folder)/a.txt\"\nkeys = [\"/wt\"]\n".write(
                toFile: folder + "/confd/conf.d/a.toml", atomically: true, encoding: .utf8)
            try "{{range gets \"/wt/*\"}}{{.Value}}\n{{end}}".write(
                toFile: folder + "/confd/templates/a.tmpl", atomically: true, encoding: .utf8)
            let render = try Daemon(
                hecdBinaryPath(), ["render", "--confdir", folder + "/confd", "--etcd", etcd.clientURL],
                logFile: folder + "/render.log")
            let destination = folder + "/a.txt"
            func content() -> String? { try? String(contentsOfFile: destination, encoding: .utf8) }
            let rendered = await eventually(within: 15) { content() == "10.0.0.1:80\n" }
            #expect(rendered, "\(render.log)")
            try "edited by hand\n".write(toFile: destination, atomically: true, encoding: .utf8)
            kill(render.pid, SIGHUP)
            let restored = await eventually(within: 10) { content() == "10.0.0.1:80\n" }
            #expect(restored, "after SIGHUP: \(content() ?? "nil"); log: \(render.log)")
            #expect(render.isRunning, "SIGHUP ended the renderer")
            #expect(render.log.contains("SIGHUP: reading the confd folder again and rendering every resource"))
            await render.stop()
        }
    }

    @Test("--metrics-addr takes HOST:PORT, [IPv6]:PORT and :PORT, and says what is wrong otherwise")
    func addresses() throws {
        #expect(try OperationsListener.split("127.0.0.1:9464") == ("127.0.0.1", "9464"))
        #expect(try OperationsListener.split("[::1]:9464") == ("::1", "9464"))
        #expect(try OperationsListener.split(":9464") == ("", "9464"))
        #expect(throws: OperationsError.self) { try OperationsListener.split("9464") }
        #expect(throws: OperationsError.self) { try OperationsListener.split("127.0.0.1:http") }
        #expect(throws: OperationsError.self) { try OperationsListener.split("127.0.0.1:70000") }
        let listener = try OperationsListener(address: "127.0.0.1:0") { _ in OperationsResponse(status: 200, text: "") }
        defer { listener.stop() }
        #expect(listener.port > 0 && listener.address == "127.0.0.1:\(listener.port)")
        #expect(throws: OperationsError.self, "a port in use") {
            try OperationsListener(address: "127.0.0.1:\(listener.port)") { _ in OperationsResponse(status: 200, text: "") }
        }
    }

    @Test("a bad --log-format or HECD_LOG_FORMAT is a usage error (64); a metrics address in use stops the agent (1)")
    func usageErrors() async throws {
        let hecd = hecdBinaryPath()
        let badFlag = try await runProgram(hecd, ["render", "--confdir", "/tmp", "--etcd", "http://127.0.0.1:1", "--log-format", "xml"])
        #expect(badFlag.status == 64, "\(badFlag.output)")
        let badEnvironment = try await runProgram(
            "/usr/bin/env", ["HECD_LOG_FORMAT=xml", hecd, "render", "--confdir", "/tmp", "--etcd", "http://127.0.0.1:1"])
        #expect(badEnvironment.status == 64 && badEnvironment.output.contains("HECD_LOG_FORMAT=xml"), "\(badEnvironment.output)")
        let busy = try OperationsListener(address: "127.0.0.1:0") { _ in OperationsResponse(status: 200, text: "") }
        defer { busy.stop() }
        let folder = NSTemporaryDirectory() + "hecd-busy-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let inUse = try await runProgram(
            hecd, ["agent", "--manifests", folder, "--docker", "unix://\(folder)/none.sock", "--metrics-addr", busy.address])
        #expect(inUse.status == 1 && inUse.output.contains("cannot listen"), "\(inUse.output)")
    }
}
