import Foundation
import Glibc
import Synchronization

/// An HTTP/1.1 server on 127.0.0.1 (an ephemeral port) standing in for etcd's gateway: it records each
/// request and answers with what the handler returns. Each connection gets a thread of its own, so a
/// stream held open does not block other requests; `Connection: close` after each answer.
final class StubEtcdServer: Sendable {
    struct Request: Sendable {
        let method: String
        let path: String
        let headers: [String: String]
        let body: Data
        var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] }
        /// The watch's `create_request` object.
        var createRequest: [String: Any]? { json?["create_request"] as? [String: Any] }
    }

    /// A full answer, or lines sent one by one with pauses between them (a stream), optionally held open
    /// afterwards the way etcd keeps a canceled watch's connection.
    struct Reply: Sendable {
        var status: Int
        var chunks: [String]
        var pause: Duration = .zero
        var holdOpen: Duration = .zero

        static func json(_ status: Int, _ body: String) -> Reply { Reply(status: status, chunks: [body]) }
        static func ok(_ body: String) -> Reply { .json(200, body) }
        /// Newline-delimited messages, as the gateway streams them.
        static func stream(_ lines: [String], pause: Duration = .milliseconds(10), holdOpen: Duration = .zero) -> Reply {
            Reply(status: 200, chunks: lines.map { $0 + "\n" }, pause: pause, holdOpen: holdOpen)
        }
    }

    let port: Int
    var url: String { "http://127.0.0.1:\(port)" }
    private let listener: Int32
    private let state = State()

    private final class State: Sendable {
        let recorded = Mutex<[Request]>([])
        let stopped = Atomic<Bool>(false)
        let closedByClient = Atomic<Int>(0)
    }

    init(handler: @escaping @Sendable (Request) -> Reply) throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 64) == 0 else {
            close(listener)
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
        self.listener = listener
        self.port = Self.localPort(of: listener)
        let state = self.state
        let thread = Thread {
            while !state.stopped.load(ordering: .relaxed) {
                let connection = accept(listener, nil, nil)
                guard connection >= 0 else {
                    if state.stopped.load(ordering: .relaxed) { return }
                    continue
                }
                let worker = Thread {
                    defer { close(connection) }
                    guard let request = Self.readRequest(connection) else { return }
                    state.recorded.withLock { $0.append(request) }
                    Self.write(handler(request), to: connection, state: state)
                }
                worker.start()
            }
        }
        thread.start()
    }

    deinit { stop() }

    /// Every request received so far, in arrival order.
    var requests: [Request] { state.recorded.withLock { $0 } }

    /// How many held-open streams the client closed itself.
    var streamsClosedByClient: Int { state.closedByClient.load(ordering: .relaxed) }

    func requests(to path: String) -> [Request] { requests.filter { $0.path == path } }

    func stop() {
        guard !state.stopped.exchange(true, ordering: .relaxed) else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    /// A port on which nothing listens: connections to it are refused.
    static func deadPort() -> Int {
        let probe = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(probe) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(probe, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return localPort(of: probe)
    }

    private static func localPort(of socket: Int32) -> Int {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
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

    private static func write(_ reply: Reply, to connection: Int32, state: State) {
        let streaming = reply.chunks.count > 1 || reply.pause > .zero || reply.holdOpen > .zero
        var head = "HTTP/1.1 \(reply.status) Stub\r\nConnection: close\r\nContent-Type: application/json\r\n"
        if !streaming { head += "Content-Length: \(reply.chunks.joined().utf8.count)\r\n" }
        head += "\r\n"
        guard send(head, connection) else { return }
        for chunk in reply.chunks {
            if reply.pause > .zero { sleep(reply.pause) }
            guard send(chunk, connection) else { return }
        }
        // Hold the stream open until the client closes it (a failed write) or the time is up.
        var held = Duration.zero
        while held < reply.holdOpen, !state.stopped.load(ordering: .relaxed) {
            sleep(.milliseconds(20))
            held += .milliseconds(20)
            var probe: UInt8 = 0
            // The client closing shows as a readable socket with nothing to read.
            var poller = pollfd(fd: connection, events: Int16(POLLIN), revents: 0)
            if poll(&poller, 1, 0) > 0, recv(connection, &probe, 1, Int32(MSG_DONTWAIT)) == 0 {
                state.closedByClient.add(1, ordering: .relaxed)
                return
            }
        }
    }

    private static func sleep(_ duration: Duration) {
        Thread.sleep(forTimeInterval: Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
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
