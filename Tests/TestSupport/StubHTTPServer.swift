import Foundation
import Glibc
import Primitives
import Synchronization

/// An HTTP/1.1 server for tests, on a Unix socket (standing in for dockerd) or on 127.0.0.1 at an ephemeral port
/// (standing in for etcd's gateway). It records each request and answers with what the handler returns. Each
/// connection is served on a thread of its own, so a slow answer or a stream held open delays no other;
/// `Connection: close` after each answer.
public final class StubHTTPServer: Sendable {
    public enum Listener: Sendable {
        case unixSocket
        case loopbackTCP
    }

    public struct Request: Sendable {
        public let method: String
        public let path: String
        /// Header names in lowercase.
        public let headers: [String: String]
        public let body: Data
        /// The body as a JSON object, if it is one.
        public var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] }
    }

    /// A full answer, or a body sent in pieces with pauses between them (a stream), optionally held open
    /// afterwards the way etcd keeps a canceled watch's connection.
    public struct Reply: Sendable {
        public var status: Int
        public var headers: [String: String]
        public var chunks: [String]
        /// Between the pieces of a stream.
        public var pause: Duration
        /// Before the server answers at all (a stop waiting out its timeout).
        public var delay: Duration
        /// After the last piece, until the client closes the connection or the time is up.
        public var holdOpen: Duration

        public init(
            status: Int, headers: [String: String] = ["Content-Type": "application/json"], chunks: [String],
            pause: Duration = .zero, delay: Duration = .zero, holdOpen: Duration = .zero
        ) {
            self.status = status
            self.headers = headers
            self.chunks = chunks
            self.pause = pause
            self.delay = delay
            self.holdOpen = holdOpen
        }

        public static func json(_ status: Int, _ body: String, after delay: Duration = .zero) -> Reply {
            Reply(status: status, chunks: [body], delay: delay)
        }

        public static func ok(_ body: String) -> Reply { .json(200, body) }

        /// The pieces as given, with pauses between them.
        public static func stream(_ chunks: [String], pause: Duration = .milliseconds(20), holdOpen: Duration = .zero) -> Reply {
            Reply(status: 200, chunks: chunks, pause: pause, holdOpen: holdOpen)
        }

        /// Newline-delimited messages, one piece each, as etcd's gateway and dockerd stream them.
        public static func lines(_ lines: [String], pause: Duration = .milliseconds(10), holdOpen: Duration = .zero) -> Reply {
            stream(lines.map { $0 + "\n" }, pause: pause, holdOpen: holdOpen)
        }
    }

    /// The socket's path with `.unixSocket`, else empty.
    public let socketPath: String
    /// The port with `.loopbackTCP`, else 0.
    public let port: Int
    /// `http://127.0.0.1:PORT` with `.loopbackTCP`.
    public var url: String { "http://127.0.0.1:\(port)" }
    private let listener: Int32
    private let state = State()

    /// What the server's threads share with the test.
    private final class State: Sendable {
        let recorded = Mutex<[Request]>([])
        let stopped = Atomic<Bool>(false)
        let closedByClient = Atomic<Int>(0)
        /// Signalled when the accepting thread has returned: only then may the listener be closed, or its
        /// descriptor's number could go to another listener while this thread still accepts on it.
        let acceptingEnded = DispatchSemaphore(value: 0)
    }

    public init(_ listening: Listener, handler: @escaping @Sendable (Request) -> Reply) throws {
        switch listening {
        case .unixSocket:
            let path = NSTemporaryDirectory() + "hecd-stub-\(UUID().uuidString.prefix(8)).sock"
            listener = try Self.listenOnUnixSocket(path)
            socketPath = path
            port = 0
        case .loopbackTCP:
            listener = try Self.listenOnLoopback()
            socketPath = ""
            port = Self.localPort(of: listener)
        }
        let state = self.state
        let listener = self.listener
        let thread = Thread {
            defer { state.acceptingEnded.signal() }
            while !state.stopped.load(ordering: .relaxed) {
                let connection = accept(listener, nil, nil)
                guard connection >= 0 else {
                    if state.stopped.load(ordering: .relaxed) { return }
                    continue
                }
                Thread {
                    defer { close(connection) }
                    guard let request = Self.readRequest(connection) else { return }
                    state.recorded.withLock { $0.append(request) }
                    Self.write(handler(request), to: connection, state: state)
                }.start()
            }
        }
        thread.start()
    }

    deinit { stop() }

    /// Every request received so far, in arrival order.
    public var requests: [Request] { state.recorded.withLock { $0 } }

    public func requests(to path: String) -> [Request] { requests.filter { $0.path == path } }

    /// How many held-open streams the client closed itself.
    public var streamsClosedByClient: Int { state.closedByClient.load(ordering: .relaxed) }

    public func stop() {
        guard !state.stopped.exchange(true, ordering: .relaxed) else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        state.acceptingEnded.wait()
        close(listener)
        if !socketPath.isEmpty { unlink(socketPath) }
    }

    // MARK: - Sockets

    private static func listenOnUnixSocket(_ path: String) throws -> Int32 {
        let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: Array(path.utf8.prefix(raw.count - 1)))
        }
        return try bindAndListen(listener, &address)
    }

    private static func listenOnLoopback() throws -> Int32 {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return try bindAndListen(listener, &address)
    }

    private static func bindAndListen<Address>(_ listener: Int32, _ address: inout Address) throws -> Int32 {
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<Address>.size)) }
        }
        guard bound == 0, listen(listener, 64) == 0 else {
            close(listener)
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
        return listener
    }

    private static func localPort(of socket: Int32) -> Int {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    // MARK: - HTTP

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

    private static func write(_ reply: Reply, to connection: Int32, state: State) {
        let streaming = reply.chunks.count > 1 || reply.pause > .zero || reply.holdOpen > .zero
        var head = "HTTP/1.1 \(reply.status) Stub\r\nConnection: close\r\n"
        for (name, value) in reply.headers { head += "\(name): \(value)\r\n" }
        if !streaming { head += "Content-Length: \(reply.chunks.joined().utf8.count)\r\n" }
        head += "\r\n"
        if reply.delay > .zero { Thread.sleep(forTimeInterval: reply.delay.seconds) }
        guard send(head, connection) else { return }
        for chunk in reply.chunks {
            if reply.pause > .zero { Thread.sleep(forTimeInterval: reply.pause.seconds) }
            guard send(chunk, connection) else { return }
        }
        // Hold the stream open until the client closes it (a readable socket with nothing to read) or the time is up.
        var held = Duration.zero
        while held < reply.holdOpen, !state.stopped.load(ordering: .relaxed) {
            Thread.sleep(forTimeInterval: 0.02)
            held += .milliseconds(20)
            var probe: UInt8 = 0
            var poller = pollfd(fd: connection, events: Int16(POLLIN), revents: 0)
            if poll(&poller, 1, 0) > 0, recv(connection, &probe, 1, Int32(MSG_DONTWAIT)) == 0 {
                state.closedByClient.add(1, ordering: .relaxed)
                return
            }
        }
    }

    @discardableResult
    private static func send(_ text: String, _ connection: Int32) -> Bool {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { return false }
            offset += written
        }
        return true
    }
}
