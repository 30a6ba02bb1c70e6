import Glibc

/// Registry values and key names are data, not config: the checks and escapes templates use before writing
/// them into an HAProxy or nginx configuration (`validName`, `validAddress`, `validServers`, `validNames`,
/// `haproxyQuote`, `nginxQuote`).
public enum RegistryData {
    /// The longest name accepted.
    public static let maxNameLength = 255

    /// Why `name` is not a plain name (`[A-Za-z0-9_.-]+`, at most 255 characters), or nil when it is one.
    public static func nameProblem(_ name: String) -> String? {
        if name.isEmpty { return "the name is empty" }
        if name.utf8.count > maxNameLength { return "the name is longer than \(maxNameLength) characters" }
        guard name.utf8.allSatisfy(isNameByte) else {
            return "the name is not plain: only letters, digits, `_`, `.` and `-` are allowed"
                + (describeOddCharacter(name).map { " (it holds \($0))" } ?? "")
        }
        return nil
    }

    /// Why `value` is not a plain `host:port` (an IPv4 address, a bracketed IPv6 address or a DNS name; a port
    /// from 1 to 65535), or nil when it is one.
    public static func addressProblem(_ value: String) -> String? {
        let rule = "not a plain host:port (IPv4, [IPv6] or a DNS name; port 1-65535)"
        if let odd = describeOddCharacter(value, allowing: UInt8(ascii: ":")) {
            return "\(rule): it holds \(odd)"
        }
        let host: Substring
        let port: Substring
        if value.hasPrefix("[") {
            guard let close = value.firstIndex(of: "]"), value[value.index(after: close)...].hasPrefix(":") else {
                return "\(rule): a bracketed IPv6 address needs `]:PORT` after it"
            }
            host = value[value.index(after: value.startIndex)..<close]
            port = value[value.index(close, offsetBy: 2)...]
            var buffer = in6_addr()
            guard inet_pton(AF_INET6, String(host), &buffer) == 1 else { return "\(rule): [\(host)] is not an IPv6 address" }
        } else {
            guard let colon = value.lastIndex(of: ":") else { return "\(rule): there is no `:PORT`" }
            host = value[..<colon]
            port = value[value.index(after: colon)...]
            if host.contains(":") { return "\(rule): an IPv6 address needs brackets, e.g. [fd00::1]:80" }
            if let problem = hostProblem(host) { return "\(rule): \(problem)" }
        }
        guard !port.isEmpty, port.count <= 5, port.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            port.first != "0", let number = Int(port), (1...65535).contains(number)
        else { return "\(rule): the port \(escapedForLog(String(port), limit: 20)) is not a number from 1 to 65535" }
        return nil
    }

    /// `text` in double quotes for an HAProxy configuration: `\`, `"` and `$` escaped, control characters as
    /// `\xNN`, so the value stays one word of one line whatever it holds.
    public static func haproxyQuoted(_ text: String) -> String {
        var out: [UInt8] = [UInt8(ascii: "\"")]
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: "$"): out += [UInt8(ascii: "\\"), byte]
            case 0..<0x20, 0x7F: out += Array(("\\x" + hex(byte)).utf8)
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
        return String(decoding: out, as: UTF8.self)
    }

    /// `text` in double quotes for an nginx configuration: `\`, `"`, tabs, CRs and newlines escaped. nil when
    /// it holds `$` (nginx expands variables inside quotes and has no escape for it) or another control character.
    public static func nginxQuoted(_ text: String) -> String? {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case "\n": out += "\\n"
            case "$": return nil
            case _ where scalar.value < 0x20 || scalar.value == 0x7F: return nil
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// `text` for a log line: in double quotes, `"` and `\` escaped, control characters as `\n`, `\t` or
    /// `\xNN`, cut after `limit` characters with `…`.
    public static func escapedForLog(_ text: String, limit: Int) -> String {
        var out = "\""
        var count = 0
        for scalar in text.unicodeScalars {
            if count >= limit {
                out += "…"
                break
            }
            count += 1
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F || (scalar.value >= 0x80 && scalar.value < 0xA0):
                out += "\\x" + hex(UInt8(truncatingIfNeeded: scalar.value))
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    // MARK: - Internals

    private static func isNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "-"):
            true
        default: false
        }
    }

    /// An IPv4 address in dotted decimal, or a DNS name.
    private static func hostProblem(_ host: Substring) -> String? {
        if host.isEmpty { return "the host is empty" }
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        if host.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || $0 == UInt8(ascii: ".") }) {
            let valid = labels.count == 4 && labels.allSatisfy { label in
                !label.isEmpty && label.count <= 3 && (label == "0" || label.first != "0") && (Int(label) ?? 256) <= 255
            }
            return valid ? nil : "\(host) is not an IPv4 address"
        }
        guard host.utf8.count <= 253 else { return "the host name is longer than 253 characters" }
        for label in labels {
            guard !label.isEmpty, label.utf8.count <= 63, label.first != "-", label.last != "-",
                label.utf8.allSatisfy({ isNameByte($0) && $0 != UInt8(ascii: "_") && $0 != UInt8(ascii: ".") })
            else { return "\(escapedForLog(String(host), limit: 60)) is not a DNS name" }
        }
        if let last = labels.last, last.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            return "\(escapedForLog(String(host), limit: 60)) is neither an IPv4 address nor a DNS name"
        }
        return nil
    }

    /// Names the first character that config syntax treats specially: a newline, a space, `;`, `#`, a quote…
    private static func describeOddCharacter(_ text: String, allowing allowed: UInt8? = nil) -> String? {
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": return "a newline"
            case "\r": return "a carriage return"
            case "\t": return "a tab"
            case " ": return "a space"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F: return "a control character"
            case _ where scalar.isASCII:
                let byte = UInt8(scalar.value)
                if isNameByte(byte) || byte == allowed || byte == UInt8(ascii: "[") || byte == UInt8(ascii: "]") { continue }
                return "`\(scalar)`"
            default: return "the non-ASCII character `\(scalar)`"
            }
        }
        return nil
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
    }
}
