import Foundation
import Glibc
import HAProxyRuntime
import Synchronization
import Testing
import TestSupport

/// A stand-in for HAProxy's admin socket: records every line it receives and answers as HAProxy 2.6 does.
final class StubAdminSocket: Sendable {
    let path: String
    private let listener: Int32
    private let received = Mutex<[String]>([])
    /// Signalled when `serve` has returned: only then may the listener's descriptor be closed, or the number
    /// could be reused by the next stub's listener while this thread still accepts on it.
    private let served = DispatchSemaphore(value: 0)

    init() throws {
        path = NSTemporaryDirectory() + "hecd-stub-admin-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            buffer.copyBytes(from: bytes)
            buffer[bytes.count] = 0
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard fd >= 0, bound == 0, listen(fd, 16) == 0 else { throw TestFailure("cannot listen on \(path)") }
        listener = fd
        let thread = Thread { [self] in serve() }
        thread.start()
    }

    /// Every line received, in order, without its newline.
    var lines: [String] { received.withLock { $0 } }

    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        served.wait()
        close(listener)
        unlink(path)
    }

    private func serve() {
        defer { served.signal() }
        while true {
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { return }
            var bytes: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = buffer.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
                if count <= 0 { break }
                bytes += buffer[0..<count]
                if bytes.contains(UInt8(ascii: "\n")) { break }
            }
            let text = String(decoding: bytes, as: UTF8.self)
            let line = text.hasSuffix("\n") ? String(text.dropLast()) : text
            received.withLock { $0.append(line) }
            let answer = Self.answer(to: line)
            _ = answer.withCString { send(connection, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
            close(connection)
        }
    }

    private static func answer(to line: String) -> String {
        if line.hasPrefix("add server ") { return "New server registered.\n" }
        if line.hasPrefix("del server ") { return "Server deleted.\n" }
        if line.hasPrefix("set server ") { return "IP changed from '10.0.0.8' to '10.0.0.8', port changed from '32770' to '32999' by 'stats socket command'\n" }
        return "\n"
    }
}

/// Every line the runtime API path sends is exactly one command built from plain words.
@Suite(.serialized) struct AdminSocketLineTests {
    static let old = ServerChangePlanTests.base
    static let forbidden: Set<UInt8> = Set(";\"'\\#".utf8)

    /// One command: known verbs, single spaces between plain words, nothing HAProxy's CLI would split at.
    static func isOneCommand(_ line: String) -> Bool {
        let verbs = ["add server ", "enable health ", "enable agent ", "enable server ", "set server ", "disable server ", "del server "]
        guard verbs.contains(where: line.hasPrefix) else { return false }
        let words = line.split(separator: " ", omittingEmptySubsequences: false)
        return words.allSatisfy { !$0.isEmpty } && line.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F && !forbidden.contains($0) }
    }

    @Test func everyLineOfARuntimeChangeIsOneCommand() async throws {
        let stub = try StubAdminSocket()
        defer { stub.stop() }
        let new = Self.old
            .replacingOccurrences(of: "web-1 10.0.0.7:32768 check inter 2s fall 2 rise 1", with: "web-3 10.0.0.9:32771 check inter 2s fall 2 rise 1")
            .replacingOccurrences(of: "web-2 10.0.0.8:32770", with: "web-2 10.0.0.8:32999")
        guard case .runtime(let changes) = ServerChangePlan.between(HAProxyConfig(Self.old), HAProxyConfig(new)) else {
            throw TestFailure("expected a runtime plan")
        }
        let updater = RuntimeUpdater(socket: HAProxyAdminSocket(path: stub.path))
        let report = await updater.socket.run { _ in updater.apply(changes) }
        #expect(report.failure == nil)
        #expect(stub.lines == [
            "add server servers/web-3 10.0.0.9:32771 check inter 2s fall 2 rise 1",
            "enable health servers/web-3",
            "enable server servers/web-3",
            "set server servers/web-2 addr 10.0.0.8 port 32999",
            "disable server servers/web-1",
            "del server servers/web-1",
        ])
        for line in stub.lines { #expect(Self.isOneCommand(line), "\(line)") }
    }

    @Test func anInjectedServerLineGoesTheReloadPathAndSendsNothing() async throws {
        let stub = try StubAdminSocket()
        defer { stub.stop() }
        let injected = [
            #"    server inj 127.0.0.1:25510 check check-sni "x;set server servers/web1 addr 127.0.0.2 port 25511;""#,
            #"    server inj 127.0.0.1:25510 check check-sni x\;set"#,
            "    server inj 127.0.0.1:25510 check check-sni x\u{1}y",
        ]
        for line in injected {
            let new = Self.old.replacingOccurrences(
                of: "    server web-2 10.0.0.8:32770 check inter 2s fall 2 rise 1",
                with: "    server web-2 10.0.0.8:32770 check inter 2s fall 2 rise 1\n" + line)
            let plan = ServerChangePlan.between(HAProxyConfig(Self.old), HAProxyConfig(new))
            guard case .reload(let reason) = plan else {
                Issue.record("\(line) would go through the admin socket: \(plan)")
                continue
            }
            #expect(reason.contains("cannot take safely"), "\(reason)")
        }

        // Even handed such a change directly, the updater refuses before sending anything.
        let text = Self.old + "\n" + injected[0].replacingOccurrences(of: "    server", with: "backend extra\n    server")
        let server = try #require(HAProxyConfig(text).sections.last?.servers.first)
        let updater = RuntimeUpdater(socket: HAProxyAdminSocket(path: stub.path))
        let before = stub.lines.count
        let report = await updater.socket.run { _ in updater.apply([.add(backend: "servers", server: server)]) }
        #expect(report.failure?.contains("refusing to send") == true, "\(String(describing: report.failure))")
        #expect(report.applied.isEmpty)
        #expect(stub.lines.count == before)
        for line in stub.lines { #expect(Self.isOneCommand(line), "\(line)") }
    }

    @Test func aHandWrittenLineWithASeparatorIsRefused() async throws {
        let stub = try StubAdminSocket()
        defer { stub.stop() }
        let socket = HAProxyAdminSocket(path: stub.path)
        for line in ["show info; shutdown sessions server servers/web-1", "show info\nshow stat", "show  info", "show \"info\""] {
            let result = await socket.run { admin in Result { try admin.execute(line) } }
            #expect(throws: AdminSocketError.self) { try result.get() }
        }
        #expect(stub.lines.isEmpty)
        _ = try await socket.run { admin in Result { try admin.execute("show servers state") } }.get()
        #expect(stub.lines == ["show servers state"])
    }
}
