import Foundation
import Logging
@testable import Operations
import TestSupport
import Testing

@Suite("LogFormat")
struct LogFormatTests {
    /// Runs `body` with a handler writing into a pipe; returns what it wrote.
    func captured(format: LogFormat, journald: Bool, _ body: (Logger) -> Void) throws -> String {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]) }
        let handler = OperationsLogHandler(label: "hecd.test", level: .debug, format: format, journald: journald, fd: fds[1])
        body(Logger(label: "hecd.test") { _ in handler })
        close(fds[1])
        return String(decoding: FileHandle(fileDescriptor: fds[0], closeOnDealloc: false).readDataToEndOfFile(), as: UTF8.self)
    }

    @Test("JSON logs parse line by line, with time, level, logger, message and metadata")
    func jsonLinesParse() throws {
        let output = try captured(format: .json, journald: false) { logger in
            logger.info("created web-1a2b3c (app web), host port 32771", metadata: ["app": "web"])
            logger.error("a \"quoted\"\nmulti-line message\twith\u{1}control", metadata: ["n": .stringConvertible(3), "list": ["a", "b"]])
            logger.debug("ünïcödé ✓")
        }
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(lines.count == 3)
        var levels: [String] = []
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
            #expect(Set(object.keys) == ["time", "level", "logger", "message", "metadata"])
            #expect(object["logger"] as? String == "hecd.test")
            let time = try #require(object["time"] as? String)
            #expect(time.hasSuffix("Z") && time.count == "2026-12-01T23:10:05.123Z".count)
            levels.append(try #require(object["level"] as? String))
        }
        #expect(levels == ["info", "error", "debug"])
        let second = try #require(try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as? [String: Any])
        #expect(second["message"] as? String == "a \"quoted\"\nmulti-line message\twith\u{1}control")
        let metadata = try #require(second["metadata"] as? [String: Any])
        #expect(metadata["n"] as? String == "3")
        #expect(metadata["list"] as? [String] == ["a", "b"])
        let third = try #require(try JSONSerialization.jsonObject(with: Data(lines[2].utf8)) as? [String: Any])
        #expect(third["message"] as? String == "ünïcödé ✓")
    }

    @Test("under journald, lines start with the priority and text lines carry no timestamp")
    func journaldPrefixes() throws {
        let output = try captured(format: .text, journald: true) { logger in
            logger.error("broken")
            logger.warning("careful")
            logger.info("fine", metadata: ["app": "web"])
            logger.notice("note")
            logger.debug("detail")
        }
        let lines = output.split(separator: "\n").map(String.init)
        #expect(lines == [
            "<3>error hecd.test : broken", "<4>warning hecd.test : careful", "<6>info hecd.test : app=web fine",
            "<5>notice hecd.test : note", "<7>debug hecd.test : detail",
        ])
        let json = try captured(format: .json, journald: true) { $0.warning("careful") }
        #expect(json.hasPrefix("<4>{\"time\":"))
    }
}

@Suite("LogFormatProcess", .serialized)
struct LogFormatProcessTests {
    @Test("hecd render --log-format json: every line of its standard error parses, and the etcd password is in none")
    func realProcessWritesJSONLinesWithoutSecrets() async throws {
        let folder = NSTemporaryDirectory() + "hecd-json-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder + "/confd/conf.d", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: folder + "/confd/templates", withIntermediateDirectories: true)
        try "[template]\nsrc = \"a.tmpl\"\ndest = \"\(folder)/a.txt\"\nkeys = [\"/wt\"]\n".write(
            toFile: folder + "/confd/conf.d/a.toml", atomically: true, encoding: .utf8)
        try "{{range gets \"/wt/*\"}}{{.Value}}\n{{end}}".write(
            toFile: folder + "/confd/templates/a.tmpl", atomically: true, encoding: .utf8)
        let secret = "s3cr3t-\(UUID().uuidString.prefix(6))"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: hecdBinaryPath())
        // Nothing listens on the etcd port: the renderer logs that it cannot log in or read, and retries.
        process.arguments = [
            "render", "--confdir", folder + "/confd", "--etcd", "http://127.0.0.1:\(freePort())", "--etcd-user", "hecd",
            "--log-format", "json", "--log-level", "debug", "--metrics-addr", "127.0.0.1:0",
        ]
        var environment = ProcessInfo.processInfo.environment
        environment["HECD_ETCD_PASSWORD"] = secret
        environment.removeValue(forKey: "JOURNAL_STREAM")
        process.environment = environment
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        try await Task.sleep(for: .seconds(1.5))
        process.terminate()
        while process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        let output = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let lines = output.split(separator: "\n")
        #expect(lines.count >= 3, "\(output)")
        for line in lines {
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["message"] is String && object?["logger"] is String && object?["metadata"] is [String: Any], "not a JSON log line: \(line)")
        }
        #expect(!output.contains(secret), "the password appears in the log")
        #expect(output.contains("\"level\":\"error\"") || output.contains("\"level\":\"warning\""), "\(output)")
    }

    @Test("under systemd (JOURNAL_STREAM names its standard error) hecd's text lines carry a priority and no timestamp")
    func journaldStreamIsDetected() async throws {
        let errors = Pipe()
        var status = stat()
        #expect(fstat(errors.fileHandleForWriting.fileDescriptor, &status) == 0)
        var environment = ProcessInfo.processInfo.environment
        environment["JOURNAL_STREAM"] = "\(status.st_dev):\(status.st_ino)"
        let agent = Process()
        agent.executableURL = URL(fileURLWithPath: hecdBinaryPath())
        let folder = NSTemporaryDirectory() + "hecd-journal-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        agent.arguments = ["agent", "--manifests", folder, "--docker", "unix://\(folder)/none.sock"]
        agent.environment = environment
        agent.standardError = errors
        agent.standardOutput = FileHandle.nullDevice
        try agent.run()
        try await Task.sleep(for: .seconds(1))
        agent.terminate()
        while agent.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        try errors.fileHandleForWriting.close()
        let output = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let lines = output.split(separator: "\n").map(String.init)
        #expect(!lines.isEmpty)
        for line in lines {
            let prefixes = ["<6>info ", "<4>warning ", "<3>error ", "<5>notice ", "<2>critical "]
            #expect(prefixes.contains { line.hasPrefix($0) }, "\(line)")
            #expect(!line.contains("2026-") && !line.contains("+0000"), "a timestamp of its own: \(line)")
        }
        #expect(lines.contains { $0.hasPrefix("<4>warning hecd.agent :") }, "\(lines)")
    }
}
