#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import Logging

/// How log lines look: `--log-format text|json`.
public enum LogFormat: String, Sendable, CaseIterable {
    /// swift-log's `StreamLogHandler` line: `TIME LEVEL LABEL : [METADATA] [SOURCE] MESSAGE`.
    case text
    /// One JSON object per line: `time`, `level`, `logger`, `message` and `metadata`.
    case json
}

/// A log handler writing whole lines to standard error with one `write(2)` each, as text or JSON. Under
/// systemd (when `JOURNAL_STREAM` names the standard error stream) every line starts with its journald
/// priority (`<3>` for errors, `<4>` warnings, `<6>` info, …) and a text line carries no timestamp of its own:
/// the journal records one.
public struct OperationsLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    let label: String
    let format: LogFormat
    let journald: Bool
    let fd: Int32

    public init(label: String, level: Logger.Level, format: LogFormat, journald: Bool, fd: Int32 = STDERR_FILENO) {
        self.label = label
        self.logLevel = level
        self.format = format
        self.journald = journald
        self.fd = fd
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let level = event.level
        let message = event.message
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let explicit = event.metadata { merged.merge(explicit) { _, new in new } }
        if let error = event.error { merged["error"] = .string("\(error)") }
        var text = journald ? "<\(Self.priority(level))>" : ""
        switch format {
        case .json:
            text += Self.jsonLine(
                time: Self.now(), level: level, logger: label, message: message.description, metadata: merged)
        case .text:
            if !journald { text += utcTimestamp(Self.now(), fractionDigits: 3) + " " }
            text += "\(level) \(label) :"
            if !merged.isEmpty {
                text += " " + merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            }
            text += " \(message)"
        }
        let bytes = Array((text + "\n").utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written < 0, errno == EINTR { continue }
            guard written > 0 else { return }
            offset += written
        }
    }

    /// syslog's priority for a level, as journald reads it from a line's `<N>` prefix.
    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    static func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }

    /// One JSON object on one line; metadata values as strings, arrays and objects.
    static func jsonLine(time: Double, level: Logger.Level, logger: String, message: String, metadata: Logger.Metadata) -> String {
        var line = "{\"time\":\"\(utcTimestamp(time, fractionDigits: 3))\",\"level\":\"\(level.rawValue)\","
        line += "\"logger\":" + jsonString(logger) + ",\"message\":" + jsonString(message)
        line += ",\"metadata\":" + jsonObject(metadata) + "}"
        return line
    }

    static func jsonObject(_ metadata: Logger.Metadata) -> String {
        "{" + metadata.sorted { $0.key < $1.key }.map { jsonString($0.key) + ":" + jsonValue($0.value) }.joined(separator: ",") + "}"
    }

    static func jsonValue(_ value: Logger.MetadataValue) -> String {
        switch value {
        case .string(let text): jsonString(text)
        case .stringConvertible(let convertible): jsonString(convertible.description)
        case .array(let values): "[" + values.map(jsonValue).joined(separator: ",") + "]"
        case .dictionary(let dictionary): jsonObject(dictionary)
        }
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped; the rest as UTF-8.
    static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F || scalar.value == 0x2028 || scalar.value == 0x2029 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// Whether standard error is the stream `JOURNAL_STREAM` names (`DEVICE:INODE`): set by systemd for a
    /// service whose output goes to the journal, and inherited by its children, whose stderr may differ.
    public static func standardErrorIsJournal(_ environment: [String: String]) -> Bool {
        guard let value = environment["JOURNAL_STREAM"] else { return false }
        let parts = value.split(separator: ":")
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return false }
        var status = stat()
        guard fstat(STDERR_FILENO, &status) == 0 else { return false }
        return UInt64(status.st_dev) == device && UInt64(status.st_ino) == inode
    }
}
