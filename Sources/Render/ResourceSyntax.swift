/// The TOML a resource file may be written in, checked before TOMLKit reads it: tables, keys (bare, quoted,
/// dotted), strings of the four kinds, whole numbers, `true`/`false`, lists of these, and comments.
///
/// toml++, the C++ parser inside TOMLKit, asserts on some malformed input instead of failing (a table header
/// that starts with no key, `[[[a]]]`: marzer/tomlplusplus#301; a date-time whose time starts with no digit,
/// `1979-05-27T)7`), and its assertion takes the whole process down. Its parsers of dates, times, floats and
/// inline tables are also where a resource file has nothing to say: no key of `[template]` takes such a value.
/// So only text of this subset reaches it; anything else is a problem with its line and column.
enum ResourceSyntax {
    struct Problem: Error, Equatable {
        var line: Int
        var column: Int
        var message: String
    }

    /// The first place where `text` leaves the subset, nil when it keeps to it.
    static func check(_ text: String) -> Problem? {
        var scanner = Scanner(text)
        do {
            try scanner.document()
            return nil
        } catch {
            return error
        }
    }

    /// Reads the text front to back, one scalar at a time, keeping the line and column (1-based, in scalars).
    private struct Scanner {
        private let scalars: [Unicode.Scalar]
        private var index = 0
        private var line = 1
        private var column = 1

        init(_ text: String) { scalars = Array(text.unicodeScalars) }

        private var current: Unicode.Scalar? { index < scalars.count ? scalars[index] : nil }

        private func peek(_ offset: Int) -> Unicode.Scalar? {
            index + offset < scalars.count ? scalars[index + offset] : nil
        }

        private func starts(with prefix: String) -> Bool {
            for (offset, scalar) in prefix.unicodeScalars.enumerated() where peek(offset) != scalar { return false }
            return true
        }

        private mutating func advance(_ count: Int = 1) {
            for _ in 0..<count {
                guard let scalar = current else { return }
                index += 1
                if scalar == "\n" {
                    line += 1
                    column = 1
                } else {
                    column += 1
                }
            }
        }

        private func problem(_ message: String) -> Problem {
            Problem(line: line, column: column, message: "invalid TOML: " + message)
        }

        private static func isBareKey(_ scalar: Unicode.Scalar) -> Bool {
            ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
                || scalar == "_" || scalar == "-"
        }

        private mutating func skipBlanks() {
            while current == " " || current == "\t" { advance() }
        }

        /// Blanks, then a comment or nothing, then the end of the line (or of the text).
        private mutating func endOfLine() throws(Problem) {
            skipBlanks()
            if current == "#" {
                while let scalar = current, scalar != "\n" { advance() }
            }
            if current == "\r", peek(1) == "\n" { advance() }
            guard current == nil || current == "\n" else {
                throw problem("expected the end of the line (or a # comment) here")
            }
            advance()
        }

        mutating func document() throws(Problem) {
            while current != nil {
                skipBlanks()
                switch current {
                case nil: return
                case "\n", "\r", "#": try endOfLine()
                case "[": try tableHeader()
                default:
                    try key()
                    skipBlanks()
                    guard current == "=" else { throw problem("expected = after the key") }
                    advance()
                    skipBlanks()
                    try value()
                    try endOfLine()
                }
            }
        }

        private mutating func tableHeader() throws(Problem) {
            advance()
            let isArray = current == "["
            if isArray { advance() }
            skipBlanks()
            try key()
            skipBlanks()
            guard current == "]", !isArray || peek(1) == "]" else {
                throw problem("expected ] to close the table header, e.g. [template]")
            }
            advance(isArray ? 2 : 1)
            try endOfLine()
        }

        /// A key: simple keys (bare or quoted on one line) joined by dots.
        private mutating func key() throws(Problem) {
            while true {
                switch current {
                case "\"": try basicString()
                case "'": try literalString()
                case let scalar? where Self.isBareKey(scalar):
                    while let scalar = current, Self.isBareKey(scalar) { advance() }
                default:
                    throw problem("expected a key (letters, digits, _ and -, or a quoted name), e.g. src")
                }
                skipBlanks()
                guard current == "." else { return }
                advance()
                skipBlanks()
            }
        }

        private mutating func value() throws(Problem) {
            switch current {
            case "\"":
                if starts(with: "\"\"\"") { try multilineString(quote: "\"") } else { try basicString() }
            case "'":
                if starts(with: "'''") { try multilineString(quote: "'") } else { try literalString() }
            case "[": try array()
            default: try word()
            }
        }

        private mutating func basicString() throws(Problem) {
            let start = problem("this string has no closing \" on its line")
            advance()
            while let scalar = current, scalar != "\n" {
                advance()
                if scalar == "\"" { return }
                if scalar == "\\" { advance() }
            }
            throw start
        }

        private mutating func literalString() throws(Problem) {
            let start = problem("this string has no closing ' on its line")
            advance()
            while let scalar = current, scalar != "\n" {
                advance()
                if scalar == "'" { return }
            }
            throw start
        }

        /// `"""…"""` (with escapes) or `'''…'''`; up to two more quotes before the closing three belong to the text.
        private mutating func multilineString(quote: Unicode.Scalar) throws(Problem) {
            let startLine = line
            advance(3)
            let closing = String(repeating: String(quote), count: 3)
            while current != nil {
                if starts(with: closing) {
                    advance(3)
                    for _ in 0..<2 where current == quote { advance() }
                    return
                }
                if quote == "\"", current == "\\" { advance() }
                advance()
            }
            throw problem("the string that starts on line \(startLine) has no closing \(closing)")
        }

        private mutating func array() throws(Problem) {
            advance()
            while true {
                skipBlanksNewlinesAndComments()
                if current == "]" {
                    advance()
                    return
                }
                try value()
                skipBlanksNewlinesAndComments()
                switch current {
                case ",": advance()
                case "]":
                    advance()
                    return
                default: throw problem("expected , or ] in the list")
                }
            }
        }

        private mutating func skipBlanksNewlinesAndComments() {
            while let scalar = current {
                if scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r" {
                    advance()
                } else if scalar == "#" {
                    while let scalar = current, scalar != "\n" { advance() }
                } else {
                    return
                }
            }
        }

        /// `true`, `false` or a whole number (`42`, `-1`, `1_000`, `0x1F`, `0o755`, `0b101`).
        private mutating func word() throws(Problem) {
            let start = index
            let startColumn = column
            while let scalar = current, !" \t\r\n,]#".unicodeScalars.contains(scalar) { advance() }
            let word = String(String.UnicodeScalarView(scalars[start..<index]))
            guard word == "true" || word == "false" || Self.isInteger(word) else {
                throw Problem(
                    line: line, column: startColumn,
                    message: "invalid TOML: \(word.isEmpty ? "a missing value" : "the value \(word.prefix(40))") is "
                        + "not read in a resource file, which takes \"strings\", whole numbers, true or false, "
                        + "and [lists] of them")
            }
        }

        private static func isInteger(_ word: String) -> Bool {
            var digits = Substring(word)
            var allowed: (Unicode.Scalar) -> Bool = { ("0"..."9").contains($0) }
            if digits.hasPrefix("0x") {
                digits = digits.dropFirst(2)
                allowed = { ("0"..."9").contains($0) || ("a"..."f").contains($0) || ("A"..."F").contains($0) }
            } else if digits.hasPrefix("0o") {
                digits = digits.dropFirst(2)
                allowed = { ("0"..."7").contains($0) }
            } else if digits.hasPrefix("0b") {
                digits = digits.dropFirst(2)
                allowed = { $0 == "0" || $0 == "1" }
            } else if digits.hasPrefix("+") || digits.hasPrefix("-") {
                digits = digits.dropFirst()
            }
            let scalars = Array(digits.unicodeScalars)
            guard let first = scalars.first, let last = scalars.last, allowed(first), allowed(last) else { return false }
            // Underscores only between digits.
            for (offset, scalar) in scalars.enumerated() where !allowed(scalar) {
                guard scalar == "_", offset > 0, allowed(scalars[offset - 1]) else { return false }
            }
            return true
        }
    }
}
