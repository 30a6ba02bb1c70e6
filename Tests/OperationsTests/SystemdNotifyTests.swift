import Foundation
import Glibc
@testable import Operations
import Primitives
import TestSupport
import Testing

/// A datagram socket the test owns, standing in for systemd's `NOTIFY_SOCKET`: it records every message with
/// the time it arrived.
final class NotifySocket: @unchecked Sendable {
    let path: String
    private let fd: Int32
    private let lock = NSLock()
    private var received: [(at: ContinuousClock.Instant, message: String)] = []

    init() throws {
        path = "/tmp/hecd-notify-\(UUID().uuidString.prefix(8)).sock"
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { bytes in
            for (index, byte) in path.utf8.enumerated() { bytes[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard fd >= 0, bound == 0 else { throw TestFailure("cannot bind \(path): \(String(cString: strerror(errno)))") }
    }

    deinit {
        close(fd)
        unlink(path)
    }

    /// Reads what arrived (non-blocking); returns every message so far.
    func messages() -> [(at: ContinuousClock.Instant, message: String)] {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { break }
            let text = String(decoding: buffer[..<count], as: UTF8.self)
            lock.withLock { received.append((.now, text)) }
        }
        return lock.withLock { received }
    }

    /// The lines (`KEY=value`) of every message so far.
    func lines() -> [(at: ContinuousClock.Instant, line: String)] {
        messages().flatMap { message in message.message.split(separator: "\n").map { (message.at, String($0)) } }
    }

    /// Polls every 10 ms until a line satisfies `match`; returns when it arrived.
    func waitFor(within seconds: Double, _ match: (String) -> Bool) async -> ContinuousClock.Instant? {
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        while ContinuousClock.now < deadline {
            if let found = lines().first(where: { match($0.line) }) { return found.at }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return lines().first(where: { match($0.line) })?.at
    }
}

@Suite("SystemdNotify", .serialized)
struct SystemdNotifyTests {
    @Test("hecd render: WATCHDOG=1 every half WATCHDOG_USEC from the start, READY=1 only once etcd answered and the file is rendered, STOPPING=1 on SIGTERM")
    func renderNotifies() async throws {
        let socket = try NotifySocket()
        let etcd = try EtcdProcess()
        let folder = NSTemporaryDirectory() + "hecd-notify-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder + "/confd/conf.d", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: folder + "/confd/templates", withIntermediateDirectories: true)
        try "[template]\nsrc = \"app.tmpl\"\ndest = \"\(folder)/app.txt\"\nkeys = [\"/wt\"]\n".write(
            toFile: folder + "/confd/conf.d/app.toml", atomically: true, encoding: .utf8)
        try "{{range gets \"/wt/*\"}}{{.Value}}\n{{end}}".write(
            toFile: folder + "/confd/templates/app.tmpl", atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: hecdBinaryPath())
        process.arguments = ["render", "--confdir", folder + "/confd", "--etcd", etcd.clientURL]
        var environment = ProcessInfo.processInfo.environment
        environment["NOTIFY_SOCKET"] = socket.path
        environment["WATCHDOG_USEC"] = "1000000"
        environment.removeValue(forKey: "WATCHDOG_PID")
        process.environment = environment
        let log = folder + "/render.log"
        FileManager.default.createFile(atPath: log, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = process.standardError
        try process.run()
        do {
            // etcd is not there yet: the watchdog is fed, READY=1 is not sent. From the first WATCHDOG=1 (the
            // binary may take a moment to start on a loaded machine), 2 s hold 4 more, 500 ms apart.
            let first = await socket.waitFor(within: 10) { $0 == "WATCHDOG=1" }
            #expect(first != nil, "no WATCHDOG=1 within 10 s of the start")
            let until = (first ?? .now) + .milliseconds(2100)
            while ContinuousClock.now < until {
                _ = socket.messages()
                try await Task.sleep(for: .milliseconds(10))
            }
            let early = socket.lines()
            let watchdogs = early.filter { $0.line == "WATCHDOG=1" && $0.at <= until }.map(\.at)
            #expect(watchdogs.count >= 4 && watchdogs.count <= 6, "WATCHDOG=1 at half of 1 s over 2.1 s: \(watchdogs.count)")
            let gaps = zip(watchdogs.dropFirst(), watchdogs).map { ($0 - $1).wholeMilliseconds }
            #expect(gaps.allSatisfy { $0 >= 300 && $0 <= 900 }, "gaps between WATCHDOG=1 (ms): \(gaps)")
            #expect(!early.contains { $0.line == "READY=1" }, "READY=1 before etcd answered: \(early.map(\.line))")
            #expect(early.contains { $0.line.hasPrefix("STATUS=starting") }, "\(early.map(\.line))")

            try await etcd.start()
            _ = try await etcd.etcdctl(["put", "/wt/a", "10.0.0.1:80"])
            let ready = await socket.waitFor(within: 15) { $0 == "READY=1" }
            #expect(ready != nil, "no READY=1 once etcd answered; log:\n\((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
            #expect(FileManager.default.fileExists(atPath: folder + "/app.txt"), "READY=1 came before the first render")
            let status = socket.lines().last { $0.line.hasPrefix("STATUS=") }?.line ?? ""
            #expect(status.hasPrefix("STATUS=1 resource: all good"), "\(status)")

            process.terminate()
            while process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
            #expect(socket.lines().contains { $0.line == "STOPPING=1" }, "\(socket.lines().map(\.line))")
            #expect(process.terminationStatus == 0)
        } catch {
            if process.isRunning { process.terminate() }
            await etcd.destroy()
            try? FileManager.default.removeItem(atPath: folder)
            throw error
        }
        if process.isRunning { process.terminate() }
        await etcd.destroy()
        try? FileManager.default.removeItem(atPath: folder)
    }

    @Test("the agent: READY=1 after its first full pass, with a STATUS= summary of its apps")
    func agentNotifies() async throws {
        let socket = try NotifySocket()
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": socket.path, "WATCHDOG_USEC": "400000"])
        try await withObservedAgent(notifier: notifier) { agent in
            try agent.write("web", replicas: 2)
            agent.start()
            let ready = await socket.waitFor(within: 10) { $0 == "READY=1" }
            #expect(ready != nil)
            #expect(agent.instruments.firstCycleDone)
            let summary = await socket.waitFor(within: 10) { $0 == "STATUS=1 app: 2/2 running, 2 registered" }
            #expect(summary != nil, "\(socket.lines().map(\.line))")
            let watchdog = await socket.waitFor(within: 2) { $0 == "WATCHDOG=1" }
            #expect(watchdog != nil)
        }
    }

    @Test("an abstract NOTIFY_SOCKET (@name) is reached, and none at all sends nothing")
    func abstractAndMissingSockets() throws {
        let name = "hecd-test-\(UUID().uuidString.prefix(8))"
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue | SOCK_NONBLOCK.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { bytes in
            for (index, byte) in name.utf8.enumerated() { bytes[index + 1] = byte }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + 1 + name.utf8.count)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        #expect(bound == 0)
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": "@" + name])
        #expect(notifier.notify("READY=1", "STATUS=hello"))
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        #expect(count > 0 && String(decoding: buffer[..<max(0, count)], as: UTF8.self) == "READY=1\nSTATUS=hello")
        let none = SystemdNotifier(environment: [:])
        #expect(!none.isActive && !none.notify("READY=1") && none.watchdogInterval == nil)
        let otherPID = SystemdNotifier(environment: ["WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "1"])
        #expect(otherPID.watchdogInterval == nil, "WATCHDOG_PID names another process")
    }
}
