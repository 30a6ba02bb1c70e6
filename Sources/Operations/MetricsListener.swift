import Glibc
import Synchronization

/// One answer of the operations listener.
public struct OperationsResponse: Sendable {
    public var status: Int
    public var contentType: String
    public var body: [UInt8]

    public init(status: Int, contentType: String = "text/plain; charset=utf-8", body: [UInt8]) {
        self.status = status
        self.contentType = contentType
        self.body = body
    }

    public init(status: Int, contentType: String = "text/plain; charset=utf-8", text: String) {
        self.init(status: status, contentType: contentType, body: Array(text.utf8))
    }
}

/// The listener behind `--metrics-addr`: a small HTTP/1.1 server on threads of its own (one accepts, one per
/// connection, at most 8 connections at once), for GET and HEAD of a few read-only paths (`/metrics`,
/// `/healthz`, `/readyz`, `/`). Each connection gets one answer and is closed; a client has 5 s to send its
/// request. It is meant for a scraper and an operator's browser on a trusted network, not for the internet: no
/// TLS, no keep-alive.
///
/// The handler runs on the listener's threads, never on the cooperative pool, so it must not wait for async work.
public final class OperationsListener: Sendable {
    /// A request's path without its query, and whether it was HEAD.
    public typealias Handler = @Sendable (_ path: String) -> OperationsResponse

    /// The address it listens on, with the port the kernel chose when 0 was asked for.
    public let address: String
    public let port: Int
    private let socket: Int32
    private let handler: Handler
    private let stopped = Atomic<Bool>(false)

    /// Binds `address` (`HOST:PORT`, `[IPv6]:PORT` or `:PORT` for every interface) and starts serving.
    public init(address: String, handler: @escaping Handler) throws(OperationsError) {
        let (host, portText) = try Self.split(address)
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let found = getaddrinfo(host.isEmpty ? nil : host, portText, &hints, &list)
        guard found == 0, let first = list else {
            throw OperationsError("--metrics-addr \(address): cannot resolve \(host): \(String(cString: gai_strerror(found)))")
        }
        defer { freeaddrinfo(list) }
        let fd = Glibc.socket(first.pointee.ai_family, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw OperationsError("--metrics-addr \(address): socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard bind(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0, listen(fd, 16) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw OperationsError("--metrics-addr \(address): cannot listen: \(reason)")
        }
        var bound = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let boundPort = withUnsafeMutablePointer(to: &bound) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw -> Int in
                guard getsockname(fd, raw, &length) == 0 else { return 0 }
                return raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
            }
        }
        socket = fd
        port = boundPort
        self.address = host.contains(":") ? "[\(host)]:\(boundPort)" : "\(host.isEmpty ? "0.0.0.0" : host):\(boundPort)"
        self.handler = handler
        startThread()
    }

    /// Stops accepting; an answer being written is finished.
    public func stop() {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        shutdown(socket, Int32(SHUT_RDWR))
    }

    static func split(_ address: String) throws(OperationsError) -> (host: String, port: String) {
        var host = Substring(address)
        guard let colon = address.lastIndex(of: ":") else {
            throw OperationsError("--metrics-addr \(address): give HOST:PORT, e.g. 127.0.0.1:9464")
        }
        host = address[..<colon]
        let port = address[address.index(after: colon)...]
        if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        guard let number = Int(port), (0...65535).contains(number) else {
            throw OperationsError("--metrics-addr \(address): \(port) is not a port number")
        }
        return (String(host), String(number))
    }

    private func startThread() {
        Self.detachThread { [self] in serve() }
    }

    /// Runs `body` on a new detached thread; false when none could be started.
    @discardableResult
    static func detachThread(_ body: @escaping @Sendable () -> Void) -> Bool {
        final class Body {
            let run: @Sendable () -> Void
            init(_ run: @escaping @Sendable () -> Void) { self.run = run }
        }
        let context = Unmanaged.passRetained(Body(body)).toOpaque()
        var thread: pthread_t = 0
        // Default attributes: only the stack pages the thread touches become resident.
        let created = pthread_create(&thread, nil, { raw in
            guard let raw else { return nil }
            Unmanaged<Body>.fromOpaque(raw).takeRetainedValue().run()
            return nil
        }, context)
        guard created == 0 else {
            Unmanaged<Body>.fromOpaque(context).release()
            return false
        }
        pthread_detach(thread)
        return true
    }

    /// Connections being answered; beyond `maximumConnections` a new one is closed at once, so that clients
    /// that connect and send nothing cannot pile up threads.
    private let connections = Atomic<Int>(0)
    static let maximumConnections = 8

    /// Accepts until stopped; each connection is answered on a thread of its own, so that a client that is slow
    /// to send its request (it has 5 s) does not hold up a scrape.
    private func serve() {
        defer { close(socket) }
        while !stopped.load(ordering: .acquiring) {
            let client = accept(socket, nil, nil)
            if client < 0 {
                if errno == EINTR || errno == ECONNABORTED || errno == EMFILE || errno == ENFILE {
                    if errno == EMFILE || errno == ENFILE { usleep(100_000) }
                    continue
                }
                return
            }
            _ = fcntl(client, F_SETFD, FD_CLOEXEC)
            guard connections.wrappingAdd(1, ordering: .relaxed).newValue <= Self.maximumConnections,
                Self.detachThread({ [self] in
                    answer(client)
                    close(client)
                    connections.wrappingSubtract(1, ordering: .relaxed)
                })
            else {
                close(client)
                connections.wrappingSubtract(1, ordering: .relaxed)
                continue
            }
        }
    }

    private func answer(_ client: Int32) {
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var request: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        let end: [UInt8] = Array("\r\n\r\n".utf8)
        while request.count < 16 * 1024 {
            let count = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { break }
            request += buffer[..<count]
            if request.count >= 4, request.suffix(min(request.count, count + 3)).contains(end) { break }
        }
        let line = String(decoding: request.prefix { $0 != 13 && $0 != 10 }, as: UTF8.self)
        let parts = line.split(separator: " ")
        var response: OperationsResponse
        var head = false
        if parts.count >= 2, parts[0] == "GET" || parts[0] == "HEAD" {
            head = parts[0] == "HEAD"
            let target = parts[1]
            let path = target.firstIndex(of: "?").map { String(target[..<$0]) } ?? String(target)
            response = handler(path)
        } else if parts.count >= 2 {
            response = OperationsResponse(status: 405, text: "only GET and HEAD\n")
        } else {
            response = OperationsResponse(status: 400, text: "bad request\n")
        }
        if response.status == 405 { response.contentType = "text/plain; charset=utf-8" }
        var header = "HTTP/1.1 \(response.status) \(Self.reason(response.status))\r\n"
        header += "Content-Type: \(response.contentType)\r\nContent-Length: \(response.body.count)\r\n"
        header += "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n"
        if response.status == 405 { header += "Allow: GET, HEAD\r\n" }
        header += "\r\n"
        sendAll(client, Array(header.utf8) + (head ? [] : response.body))
    }

    private func sendAll(_ client: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent < 0, errno == EINTR { continue }
            guard sent > 0 else { return }
            offset += sent
        }
    }

    static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 400: "Bad Request"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 503: "Service Unavailable"
        default: "Status"
        }
    }
}

/// A problem of the operations features (a listener that cannot bind, a notify socket that cannot be reached).
public struct OperationsError: Error, Sendable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
