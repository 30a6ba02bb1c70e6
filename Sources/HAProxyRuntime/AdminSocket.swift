#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Dispatch
import Glibc
import Primitives

/// A failure to talk to HAProxy's admin socket (not a command HAProxy refused: that is an answer).
public struct AdminSocketError: Error, Sendable, Hashable, CustomStringConvertible {
    public var path: String
    public var message: String

    public var description: String { "HAProxy admin socket \(path): \(message)" }
}

/// HAProxy's command line on a Unix socket (`stats socket PATH level admin` in `global`). Each command gets a
/// connection of its own, as `echo CMD | socat stdio PATH` does: HAProxy answers and closes. Calls block (for
/// at most `timeout` each); `run` moves them to a thread of their own.
public struct HAProxyAdminSocket: Sendable {
    public let path: String
    public var timeout: Duration

    public init(path: String, timeout: Duration = .seconds(2)) {
        self.path = path
        self.timeout = timeout
    }

    /// Sends one command written as a line of words separated by single spaces (`show servers state`); a
    /// word that is not safe (see `AdminCommand.isSafe`) is refused before anything is sent. Blocks.
    public func execute(_ line: String) throws(AdminSocketError) -> String {
        do {
            return try execute(try AdminCommand(line: line))
        } catch {
            throw AdminSocketError(path: path, message: error.message)
        }
    }

    /// Sends one command and returns HAProxy's answer, surrounding whitespace trimmed (empty: done, for most
    /// commands). Blocks.
    public func execute(_ adminCommand: AdminCommand) throws(AdminSocketError) -> String {
        let command = adminCommand.description
        func failure(_ what: String, _ code: Int32 = errno) -> AdminSocketError {
            AdminSocketError(path: path, message: "\(what): \(String(cString: strerror(code)))")
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw failure("cannot create a socket") }
        defer { close(fd) }

        let microseconds = timeout.wholeMicroseconds
        var limit = timeval(tv_sec: Int(microseconds / 1_000_000), tv_usec: Int(microseconds % 1_000_000))
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))

        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(path.utf8)
        guard pathBytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw AdminSocketError(path: path, message: "the path is too long for a Unix socket")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            buffer.copyBytes(from: pathBytes)
            buffer[pathBytes.count] = 0
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard connected == 0 else { throw failure("cannot connect (is HAProxy running with this socket?)") }

        let request = Array((command + "\n").utf8)
        var sent = 0
        while sent < request.count {
            let count = request[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { throw failure("cannot send `\(command)`") }
            sent += count
        }

        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0, errno == EINTR { continue }
            if count < 0 {
                throw failure(errno == EAGAIN ? "no answer to `\(command)` within \(timeout)" : "cannot read the answer to `\(command)`")
            }
            if count == 0 { break }
            answer += buffer[0..<count]
        }
        return String(decoding: answer, as: UTF8.self).trimmingWhitespace()
    }

    /// Runs `body` (which may call `execute`) on a thread of its own, never on Swift's cooperative pool.
    public func run<Value: Sendable>(_ body: @escaping @Sendable (HAProxyAdminSocket) -> Value) async -> Value {
        await withCheckedContinuation { continuation in
            DispatchQueue(label: "haproxy-admin").async { [self] in continuation.resume(returning: body(self)) }
        }
    }
}
