#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc

/// systemd's notify protocol (`sd_notify(3)`): datagrams such as `READY=1`, `WATCHDOG=1`, `STOPPING=1` and
/// `STATUS=…` sent to the socket named by `NOTIFY_SOCKET` (a path, or `@name` in the abstract namespace).
/// Without `NOTIFY_SOCKET` (not run by systemd with `Type=notify`) every send does nothing.
public final class SystemdNotifier: Sendable {
    private let fd: Int32
    private let address: [UInt8]
    /// Half the `WatchdogSec=` interval (from `WATCHDOG_USEC`, for this process): how often to send WATCHDOG=1.
    public let watchdogInterval: Duration?

    /// Reads `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID`.
    public init(environment: [String: String]) {
        if let path = environment["NOTIFY_SOCKET"], !path.isEmpty, path.utf8.count < 108,
            path.hasPrefix("/") || path.hasPrefix("@")
        {
            var bytes = Array(path.utf8)
            if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }
            address = bytes
            // Non-blocking: a full queue drops one message rather than stalling the loop that sends it.
            fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue | SOCK_CLOEXEC.rawValue | SOCK_NONBLOCK.rawValue), 0)
        } else {
            address = []
            fd = -1
        }
        let forUs = environment["WATCHDOG_PID"].map { Int32($0) == getpid() } ?? true
        if forUs, let text = environment["WATCHDOG_USEC"], let microseconds = Int64(text), microseconds > 0 {
            watchdogInterval = .microseconds(microseconds / 2)
        } else {
            watchdogInterval = nil
        }
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    /// Whether systemd listens (`NOTIFY_SOCKET` is set and usable).
    public var isActive: Bool { fd >= 0 }

    /// Sends one datagram of `KEY=value` lines; true when it was sent.
    @discardableResult
    public func notify(_ lines: String...) -> Bool {
        send(lines.joined(separator: "\n"))
    }

    @discardableResult
    func send(_ message: String) -> Bool {
        guard fd >= 0 else { return false }
        var socketAddress = sockaddr_un()
        socketAddress.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &socketAddress.sun_path) { path in
            for (index, byte) in address.enumerated() where index < path.count { path[index] = byte }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + address.count)
        let bytes = Array(message.utf8)
        let sent = withUnsafePointer(to: &socketAddress) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                bytes.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), raw, length) }
            }
        }
        return sent == bytes.count
    }

    /// A STATUS= value on one line (systemd shows it in `systemctl status`).
    static func statusValue(_ text: String) -> String {
        String(text.map { $0 == "\n" || $0 == "\r" ? " " : $0 }.prefix(400))
    }
}
