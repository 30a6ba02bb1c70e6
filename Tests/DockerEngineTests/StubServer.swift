import Foundation
import Glibc
import Synchronization

/// An HTTP/1.1 server on a Unix socket for tests: it records each request and answers with what the
/// handler returns. Each connection is served on a thread of its own (so a slow answer delays no other),
/// with `Connection: close` after each answer.
final class StubServer: Sendable {
    struct Request: Sendable {
        let method: String
        let path: String
        let headers: [String: String]
        let body: Data
        var bodyJSON: [String: Any]? { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] }
    }

    /// A full answer, or a body sent in pieces with pauses between them (a stream).
    struct Reply: Sendable {
        var status: Int
        var headers: [String: String] = ["Content-Type": "application/json"]
        var chunks: [String]
        var pause: Duration = .zero
        /// How long the server waits before it answers at all (a stop waiting out its timeout).
        var delay: Duration = .zero

        static func json(_ status: Int, _ body: String, after delay: Duration = .zero) -> Reply {
            Reply(status: status, chunks: [body], delay: delay)
        }
        static func stream(_ lines: [String], pause: Duration = .milliseconds(20)) -> Reply {
            Reply(status: 200, chunks: lines, pause: pause)
        }
    }

    let socketPath: String
    private let listener: Int32
    private let state = State()

    /// What the server thread shares with the test.
    private final class State: Sendable {
        let recorded = Mutex<[Request]>([])
        let stopped = Mutex(false)
    }

    init(handler: @escaping @Sendable (Request) -> Reply) throws {
        let socketPath = NSTemporaryDirectory() + "hecd-stub-\(UUID().uuidString.prefix(8)).sock"
        let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        self.socketPath = socketPath
        self.listener = listener
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let bytes = Array(socketPath.utf8.prefix(raw.count - 1))
            raw.copyBytes(from: bytes)
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, listen(listener, 16) == 0 else {
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
        let state = self.state
        let thread = Thread {
            while !state.stopped.withLock({ $0 }) {
                let connection = accept(listener, nil, nil)
                guard connection >= 0 else { continue }
                Thread {
                    defer { close(connection) }
                    guard let request = Self.readRequest(connection) else { return }
                    state.recorded.withLock { $0.append(request) }
                    Self.write(handler(request), to: connection)
                }.start()
            }
        }
        thread.start()
    }

    /// Every request received so far.
    var requests: [Request] { state.recorded.withLock { $0 } }

    func stop() {
        state.stopped.withLock { $0 = true }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        unlink(socketPath)
    }

    private static func readRequest(_ connection: Int32) -> Request? {
        var buffer = Data()
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            if let end = buffer.range(of: Data("\r\n\r\n".utf8)) {
                let head = String(decoding: buffer[..<end.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
                let requestLine = head.first?.split(separator: " ") ?? []
                guard requestLine.count >= 2 else { return nil }
                var headers: [String: String] = [:]
                for line in head.dropFirst() {
                    guard let colon = line.firstIndex(of: ":") else { continue }
                    headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                }
                let length = Int(headers["content-length"] ?? "0") ?? 0
                var body = Data(buffer[end.upperBound...])
                while body.count < length {
                    let count = read(connection, &chunk, chunk.count)
                    guard count > 0 else { break }
                    body.append(contentsOf: chunk[0..<count])
                }
                return Request(method: String(requestLine[0]), path: String(requestLine[1]), headers: headers, body: body)
            }
            let count = read(connection, &chunk, chunk.count)
            guard count > 0 else { return nil }
            buffer.append(contentsOf: chunk[0..<count])
        }
    }

    private static func write(_ reply: Reply, to connection: Int32) {
        let streaming = reply.chunks.count > 1 || reply.pause > .zero
        var head = "HTTP/1.1 \(reply.status) Stub\r\nConnection: close\r\n"
        for (name, value) in reply.headers { head += "\(name): \(value)\r\n" }
        if !streaming { head += "Content-Length: \(reply.chunks.joined().utf8.count)\r\n" }
        head += "\r\n"
        if reply.delay > .zero { Thread.sleep(forTimeInterval: seconds(reply.delay)) }
        send(head, connection)
        for chunk in reply.chunks {
            if reply.pause > .zero { Thread.sleep(forTimeInterval: seconds(reply.pause)) }
            send(chunk, connection)
        }
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    private static func send(_ text: String, _ connection: Int32) {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { return }
            offset += written
        }
    }
}
