#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// C's `printf` formatting of one double (`%.3f`, `%.2e`, `%g`), where Foundation's `String(format:)` is not
/// available (FoundationEssentials lacks it).
func cFormat(_ format: String, _ value: Double) -> String {
    withVaList([value]) { arguments in
        var buffer = [CChar](repeating: 0, count: 64)
        // vsnprintf consumes the list: a longer result is formatted again from a fresh one.
        let needed = max(0, Int(vsnprintf(&buffer, buffer.count, format, arguments)))
        if needed >= buffer.count {
            buffer = [CChar](repeating: 0, count: needed + 1)
            _ = withVaList([value]) { again in vsnprintf(&buffer, buffer.count, format, again) }
        }
        return String(decoding: buffer[..<needed].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
