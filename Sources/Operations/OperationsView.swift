#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc

/// What a command (agent or render) tells the operations listener and systemd about itself.
public protocol OperationsView: Sendable {
    /// Why the command is not ready (empty: ready): the first full pass or render is not done, or Docker or
    /// etcd does not answer.
    func notReadyReasons() -> [String]
    /// True once the first full pass or render is done (systemd's READY=1).
    var firstCycleDone: Bool { get }
    /// One line for systemd's STATUS=.
    func statusLine() -> String
    /// The status page's main part: HTML, escaped.
    func statusHTML() -> String
}

/// Escapes text for HTML.
func htmlEscaped(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for character in text {
        switch character {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.append(character)
        }
    }
    return out
}

/// `2026-12-01T23:10:05Z`, from Unix seconds (UTC, ICU-free).
func utcTimestamp(_ seconds: Double, fractionDigits: Int = 0) -> String {
    var time = time_t(seconds.rounded(.down))
    var parts = tm()
    gmtime_r(&time, &parts)
    var buffer = [CChar](repeating: 0, count: 32)
    let count = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S", &parts)
    var text = String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    if fractionDigits > 0 {
        var scale = 1
        for _ in 0..<fractionDigits { scale *= 10 }
        let fraction = Int((seconds - seconds.rounded(.down)) * Double(scale))
        let digits = String(min(fraction, scale - 1))
        text += "." + String(repeating: "0", count: fractionDigits - digits.count) + digits
    }
    return text + "Z"
}
