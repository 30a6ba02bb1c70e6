/// Go's `strconv.Quote` / `strconv.Unquote` for template literals and `%q`.
enum GoQuote {
    /// A double-quoted Go string literal with Go's escapes (`strconv.Quote`; `QuoteToASCII` with `asciiOnly`).
    static func quote(_ s: String, asciiOnly: Bool = false) -> String {
        var out = "\""
        for scalar in s.unicodeScalars { out += escaped(scalar, quote: "\"", asciiOnly: asciiOnly) }
        return out + "\""
    }

    /// A single-quoted Go rune literal (`strconv.QuoteRune`; `QuoteRuneToASCII` with `asciiOnly`).
    static func quoteRune(_ scalar: Unicode.Scalar, asciiOnly: Bool = false) -> String {
        "'" + escaped(scalar, quote: "'", asciiOnly: asciiOnly) + "'"
    }

    /// `strconv.CanBackquote`: no backquote, no control character but tab, no U+FEFF.
    static func canBackquote(_ s: String) -> Bool {
        for scalar in s.unicodeScalars {
            if scalar == "\u{FEFF}" || scalar == "`" || scalar == "\u{7F}" { return false }
            if scalar.value < 0x20, scalar != "\t" { return false }
        }
        return true
    }

    /// strconv's `appendEscapedRune`.
    private static func escaped(_ scalar: Unicode.Scalar, quote: Unicode.Scalar, asciiOnly: Bool) -> String {
        if scalar == quote || scalar == "\\" { return "\\" + String(scalar) }
        if asciiOnly {
            if scalar.value < 0x80, isPrintable(scalar) { return String(scalar) }
        } else if isPrintable(scalar) {
            return String(scalar)
        }
        switch scalar {
        case "\u{07}": return "\\a"
        case "\u{08}": return "\\b"
        case "\u{0C}": return "\\f"
        case "\n": return "\\n"
        case "\r": return "\\r"
        case "\t": return "\\t"
        case "\u{0B}": return "\\v"
        default:
            let value = scalar.value
            if value < 0x20 || value == 0x7F { return "\\x" + hex(value, digits: 2) }
            if value <= 0xFFFF { return "\\u" + hex(value, digits: 4) }
            return "\\U" + hex(value, digits: 8)
        }
    }

    private static func hex(_ value: UInt32, digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }

    /// Go's unicode.IsPrint, approximately: letters, marks, numbers, punctuation, symbols and ASCII space.
    static func isPrintable(_ scalar: Unicode.Scalar) -> Bool {
        if scalar == " " { return true }
        switch scalar.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned, .spaceSeparator, .lineSeparator,
            .paragraphSeparator:
            return false
        default:
            return true
        }
    }

    /// Decodes a Go string literal: `"…"` with escapes, `` `…` `` raw (carriage returns dropped), or `'…'` rune.
    static func unquote(_ literal: String) throws(FunctionError) -> String {
        let scalars = Array(literal.unicodeScalars)
        guard scalars.count >= 2, let first = scalars.first, first == scalars[scalars.count - 1] else {
            throw FunctionError("invalid syntax: \(literal)")
        }
        let body = scalars[1..<(scalars.count - 1)]
        switch first {
        case "`":
            return String(String.UnicodeScalarView(body.filter { $0 != "\r" }))
        case "\"", "'":
            var bytes: [UInt8] = []
            var index = body.startIndex
            while index < body.endIndex {
                let scalar = body[index]
                index += 1
                if scalar == first || scalar == "\n" {
                    throw FunctionError("invalid syntax: \(literal)")
                }
                guard scalar == "\\" else {
                    bytes.append(contentsOf: Array(String(scalar).utf8))
                    continue
                }
                guard index < body.endIndex else { throw FunctionError("invalid syntax: \(literal)") }
                let escape = body[index]
                index += 1
                switch escape {
                case "a": bytes.append(0x07)
                case "b": bytes.append(0x08)
                case "f": bytes.append(0x0C)
                case "n": bytes.append(0x0A)
                case "r": bytes.append(0x0D)
                case "t": bytes.append(0x09)
                case "v": bytes.append(0x0B)
                case "\\": bytes.append(0x5C)
                case "'" where first == "'", "\"" where first == "\"":
                    bytes.append(UInt8(escape.value))
                case "0"..."7":
                    guard index + 1 < body.endIndex, let value = UInt32(String(String.UnicodeScalarView(body[(index - 1)...(index + 1)])), radix: 8), value <= 255 else {
                        throw FunctionError("invalid octal escape in \(literal)")
                    }
                    index += 2
                    bytes.append(UInt8(value))
                case "x", "u", "U":
                    let count = escape == "x" ? 2 : escape == "u" ? 4 : 8
                    guard index + count <= body.endIndex,
                        let value = UInt32(String(String.UnicodeScalarView(body[index..<(index + count)])), radix: 16)
                    else {
                        throw FunctionError("invalid \\\(escape) escape in \(literal)")
                    }
                    index += count
                    if escape == "x" {
                        bytes.append(UInt8(value))
                    } else {
                        guard let decoded = Unicode.Scalar(value) else {
                            throw FunctionError("invalid Unicode code point in \(literal)")
                        }
                        bytes.append(contentsOf: Array(String(decoded).utf8))
                    }
                default:
                    throw FunctionError("invalid escape \\\(escape) in \(literal)")
                }
            }
            let text = String(decoding: bytes, as: UTF8.self)
            if first == "'", text.unicodeScalars.count != 1 {
                throw FunctionError("malformed character constant: \(literal)")
            }
            return text
        default:
            throw FunctionError("invalid syntax: \(literal)")
        }
    }
}

/// Go's numeric constants: ints (with 0x, 0o, 0b and leading-0 octal), floats, runes.
enum GoNumber {
    static func parse(_ text: String) throws(FunctionError) -> NumberLiteral {
        if text.hasPrefix("'") {
            let rune = try GoQuote.unquote(text)
            return NumberLiteral(text: text, value: .int(Int(rune.unicodeScalars.first?.value ?? 0)))
        }
        if text.hasSuffix("i") {
            throw FunctionError("complex numbers are not supported: \(text)")
        }
        switch parseInt(text) {
        case .some(.some(let value)):
            return NumberLiteral(text: text, value: .int(value))
        case .some(.none):
            throw FunctionError("\(text) overflows int")
        case .none:
            break
        }
        if let value = parseFloat(text) {
            guard text.contains(where: { ".eEpP".contains($0) }) else {
                throw FunctionError("integer overflow: \(GoQuote.quote(text))")
            }
            return NumberLiteral(text: text, value: .double(value))
        }
        throw FunctionError("illegal number syntax: \(GoQuote.quote(text))")
    }

    /// `strconv.ParseInt(text, 0, 64)`: nil if not an integer, `.some(nil)` if it is one but overflows.
    static func parseInt(_ text: String) -> Int?? {
        var rest = Substring(text)
        var negative = false
        if let sign = rest.first, sign == "+" || sign == "-" {
            negative = sign == "-"
            rest = rest.dropFirst()
        }
        var radix = 10
        var prefixed = false
        let lower = rest.lowercased()
        if lower.hasPrefix("0x") {
            radix = 16
            prefixed = true
            rest = rest.dropFirst(2)
        } else if lower.hasPrefix("0o") {
            radix = 8
            prefixed = true
            rest = rest.dropFirst(2)
        } else if lower.hasPrefix("0b") {
            radix = 2
            prefixed = true
            rest = rest.dropFirst(2)
        } else if rest.count > 1, rest.hasPrefix("0") {
            radix = 8
            prefixed = true
            rest = rest.dropFirst()
        }
        if rest.hasSuffix("_") || rest.contains("__") || (!prefixed && rest.hasPrefix("_")) { return nil }
        let digits = rest.filter { $0 != "_" }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isHexDigit }) else { return nil }
        guard let magnitude = UInt64(digits, radix: radix) else {
            return digits.allSatisfy({ Int($0.hexDigitValue ?? 99) < radix }) ? .some(nil) : nil
        }
        if negative {
            if magnitude <= UInt64(Int.max) { return .some(-Int(magnitude)) }
            if magnitude == UInt64(Int.max) + 1 { return .some(Int.min) }
            return .some(nil)
        }
        return magnitude <= UInt64(Int.max) ? .some(Int(magnitude)) : .some(nil)
    }

    static func parseFloat(_ text: String) -> Double? {
        let cleaned = text.filter { $0 != "_" }
        guard cleaned.contains(where: { $0.isNumber }),
            cleaned.allSatisfy({ $0.isHexDigit || "+-.xXpP".contains($0) })
        else { return nil }
        // strconv.ParseFloat refuses what overflows float64 (1e400), and so does Go's template parser.
        guard let value = Double(cleaned), value.isFinite else { return nil }
        return value
    }
}

/// Go's byte-oriented string functions (`strings.*`).
enum GoStrings {
    /// `strings.Split`: an empty separator splits into characters (runes); `s == ""` gives `[""]`.
    static func split(_ s: String, separator: String) -> [String] {
        if separator.isEmpty { return s.unicodeScalars.map { String($0) } }
        let bytes = Array(s.utf8)
        let sep = Array(separator.utf8)
        var parts: [String] = []
        var start = 0
        while let found = index(of: sep, in: bytes, from: start) {
            parts.append(String(decoding: bytes[start..<found], as: UTF8.self))
            start = found + sep.count
        }
        parts.append(String(decoding: bytes[start...], as: UTF8.self))
        return parts
    }

    /// How many pieces `split` gives, counted without building them.
    static func splitCount(_ s: String, separator: String) -> Int {
        if separator.isEmpty { return s.unicodeScalars.count }
        return occurrences(of: Array(separator.utf8), in: Array(s.utf8), upTo: -1) + 1
    }

    /// The size in bytes of `replace(s, old:, new:, count:)`'s result, worked out without building it.
    static func replacedByteCount(_ s: String, old: String, new: String, count n: Int) -> Int {
        if old == new || n == 0 { return s.utf8.count }
        let replacements = old.isEmpty
            ? (n < 0 ? s.unicodeScalars.count + 1 : min(n, s.unicodeScalars.count + 1))
            : occurrences(of: Array(old.utf8), in: Array(s.utf8), upTo: n)
        let (grown, overflow) = replacements.multipliedReportingOverflow(by: new.utf8.count)
        if overflow { return .max }
        return s.utf8.count - replacements * old.utf8.count + grown
    }

    /// Non-overlapping occurrences of a non-empty `needle`, at most `limit` of them (`limit < 0`: all).
    private static func occurrences(of needle: [UInt8], in haystack: [UInt8], upTo limit: Int) -> Int {
        var found = 0
        var start = 0
        while limit < 0 || found < limit, let at = index(of: needle, in: haystack, from: start) {
            found += 1
            start = at + needle.count
        }
        return found
    }

    static func contains(_ s: String, _ substring: String) -> Bool {
        index(of: Array(substring.utf8), in: Array(s.utf8), from: 0) != nil
    }

    /// `strings.Replace(s, old, new, n)`; `n < 0` replaces all.
    static func replace(_ s: String, old: String, new: String, count n: Int) -> String {
        if old == new || n == 0 { return s }
        let bytes = Array(s.utf8)
        let oldBytes = Array(old.utf8)
        let newBytes = Array(new.utf8)
        var out: [UInt8] = []
        var replaced = 0
        if oldBytes.isEmpty {
            // Insert before each rune and at the end, up to n times.
            let scalars = Array(s.unicodeScalars)
            for scalar in scalars {
                if n < 0 || replaced < n {
                    out += newBytes
                    replaced += 1
                }
                out += Array(String(scalar).utf8)
            }
            if n < 0 || replaced < n { out += newBytes }
            return String(decoding: out, as: UTF8.self)
        }
        var start = 0
        while n < 0 || replaced < n, let found = index(of: oldBytes, in: bytes, from: start) {
            out += bytes[start..<found]
            out += newBytes
            start = found + oldBytes.count
            replaced += 1
        }
        out += bytes[start...]
        return String(decoding: out, as: UTF8.self)
    }

    static func trimSuffix(_ s: String, _ suffix: String) -> String {
        let bytes = Array(s.utf8)
        let suffixBytes = Array(suffix.utf8)
        guard bytes.count >= suffixBytes.count, bytes.suffix(suffixBytes.count).elementsEqual(suffixBytes) else {
            return s
        }
        return String(decoding: bytes.dropLast(suffixBytes.count), as: UTF8.self)
    }

    /// Go's ToUpper/ToLower map rune by rune with simple (one-to-one) case mappings.
    static func mapCase(_ s: String, upper: Bool) -> String {
        var out = String.UnicodeScalarView()
        for scalar in s.unicodeScalars {
            // Go maps rune by rune with Unicode's simple case mapping (UnicodeData.txt): İ lowers to i, and a
            // rune whose full mapping is longer (ß, ﬀ) stays as it is.
            if !upper, scalar.value == 0x130 {
                out.append("i")
                continue
            }
            let mapped = upper ? scalar.properties.uppercaseMapping : scalar.properties.lowercaseMapping
            let mappedScalars = mapped.unicodeScalars
            if mappedScalars.count == 1, let single = mappedScalars.first {
                out.append(single)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    /// The first `needle` in `haystack` at or after `start`, in linear time (Knuth–Morris–Pratt: a needle of
    /// `aaa…b` in `aaa…a` is not quadratic).
    private static func index(of needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        if needle.isEmpty { return start }
        guard start >= 0, haystack.count - start >= needle.count else { return nil }
        if needle.count == 1 { return haystack[start...].firstIndex(of: needle[0]) }
        // fallback[i]: the length of the longest proper prefix of needle[...i] that is also its suffix.
        var fallback = [Int](repeating: 0, count: needle.count)
        var length = 0
        for i in 1..<needle.count {
            while length > 0, needle[i] != needle[length] { length = fallback[length - 1] }
            if needle[i] == needle[length] { length += 1 }
            fallback[i] = length
        }
        var matched = 0
        for i in start..<haystack.count {
            while matched > 0, haystack[i] != needle[matched] { matched = fallback[matched - 1] }
            if haystack[i] == needle[matched] { matched += 1 }
            if matched == needle.count { return i - needle.count + 1 }
        }
        return nil
    }
}
