/// Splits template text into tokens the way Go's `text/template/parse` lexer does.
///
/// Text between actions becomes `.text`; trim markers (`{{- ` and ` -}}`) are applied here, comments are dropped.
/// A lexical error becomes an `.error` token so that the parser reports errors in text order.
enum Keyword: String, Sendable {
    case block, `break`, `continue`, define, `else`, end, `if`, range, template, with
}

enum TokenKind: Equatable, Sendable {
    case text(String)
    case leftDelim
    case rightDelim
    case space
    case identifier(String)
    case keyword(Keyword)
    /// A field name without its dot: `.Key` → `Key`.
    case field(String)
    /// `$` or `$name`.
    case variable(String)
    case dot
    case bool(Bool)
    case nilValue
    case number(String)
    /// Source text with its quotes: `'a'`.
    case charConstant(String)
    /// Source text with its quotes: `"a\n"`.
    case string(String)
    /// Source text with its backquotes.
    case rawString(String)
    case pipe, leftParen, rightParen, declare, assign
    /// Any other printable ASCII character, such as `,`.
    case char(Unicode.Scalar)
    case error(String)
    case eof
}

struct Token: Sendable {
    var kind: TokenKind
    /// Index into the template's unicode scalars.
    var offset: Int
}

struct Lexer {
    private let input: [Unicode.Scalar]
    private var pos = 0
    private var tokens: [Token] = []
    private var parenDepth = 0

    private init(_ input: [Unicode.Scalar]) { self.input = input }

    static func tokenize(_ input: [Unicode.Scalar]) -> [Token] {
        var lexer = Lexer(input)
        lexer.run()
        return lexer.tokens
    }

    // MARK: Text

    private mutating func run() {
        var textStart = 0
        while true {
            guard let delim = find("{{", from: pos) else {
                emitText(textStart, input.count)
                emit(.eof, at: input.count)
                return
            }
            let trimLeft = hasLeftTrimMarker(at: delim + 2)
            var textEnd = delim
            if trimLeft {
                while textEnd > textStart, isSpace(input[textEnd - 1]) { textEnd -= 1 }
            }
            emitText(textStart, textEnd)
            pos = delim + 2 + (trimLeft ? 2 : 0)
            if starts(with: "/*", at: pos) {
                guard lexComment(delim: delim) else { return }
            } else {
                emit(.leftDelim, at: delim)
                guard lexInsideAction(delim: delim) else { return }
            }
            textStart = pos
        }
    }

    private mutating func emitText(_ start: Int, _ end: Int) {
        if end > start {
            emit(.text(String(String.UnicodeScalarView(input[start..<end]))), at: start)
        }
    }

    /// Skips `/* … */` and its closing delimiter; false after an error.
    private mutating func lexComment(delim: Int) -> Bool {
        guard let close = find("*/", from: pos + 2) else {
            emit(.error("unclosed comment; expected */ before the end of the text"), at: delim)
            return false
        }
        pos = close + 2
        if atRightTrimDelim(pos) {
            pos += 4
            skipSpaces()
        } else if starts(with: "}}", at: pos) {
            pos += 2
        } else {
            emit(.error("comment ends before closing delimiter; expected */}}"), at: close)
            return false
        }
        return true
    }

    // MARK: Actions

    /// Lexes up to and including `}}`; false after an error.
    private mutating func lexInsideAction(delim: Int) -> Bool {
        while true {
            if atRightTrimDelim(pos) || starts(with: "}}", at: pos) {
                if parenDepth > 0 {
                    emit(.error("unclosed left paren; expected )"), at: pos)
                    return false
                }
                let trim = atRightTrimDelim(pos)
                emit(.rightDelim, at: pos)
                pos += trim ? 4 : 2
                if trim { skipSpaces() }
                return true
            }
            guard pos < input.count else {
                emit(.error("unclosed action; expected }}"), at: delim)
                return false
            }
            let start = pos
            let r = input[pos]
            pos += 1
            switch r {
            case _ where isSpace(r):
                while pos < input.count, isSpace(input[pos]), !atRightTrimDelim(pos) { pos += 1 }
                emit(.space, at: start)
            case "=":
                emit(.assign, at: start)
            case ":":
                guard pos < input.count, input[pos] == "=" else {
                    emit(.error("expected :="), at: start)
                    return false
                }
                pos += 1
                emit(.declare, at: start)
            case "|":
                emit(.pipe, at: start)
            case "\"":
                guard lexQuote(start: start, quote: "\"", kind: "quoted string") else { return false }
                emit(.string(slice(start, pos)), at: start)
            case "'":
                guard lexQuote(start: start, quote: "'", kind: "character constant") else { return false }
                emit(.charConstant(slice(start, pos)), at: start)
            case "`":
                guard let close = input[pos...].firstIndex(of: "`") else {
                    emit(.error("unterminated raw quoted string"), at: start)
                    return false
                }
                pos = close + 1
                emit(.rawString(slice(start, pos)), at: start)
            case "$":
                let name = scanAlphanumerics()
                guard checkTerminator() else { return false }
                emit(.variable("$" + name), at: start)
            case "." where pos < input.count && isDigit(input[pos]):
                pos = start
                guard lexNumber() else { return false }
            case ".":
                let name = scanAlphanumerics()
                guard checkTerminator() else { return false }
                emit(name.isEmpty ? .dot : .field(name), at: start)
            case "+", "-", "0"..."9":
                pos = start
                guard lexNumber() else { return false }
            case "(":
                parenDepth += 1
                emit(.leftParen, at: start)
            case ")":
                parenDepth -= 1
                if parenDepth < 0 {
                    emit(.error("unexpected right paren"), at: start)
                    return false
                }
                emit(.rightParen, at: start)
            case _ where isAlphanumeric(r):
                pos = start
                let word = scanAlphanumerics()
                guard checkTerminator() else { return false }
                if let keyword = Keyword(rawValue: word) {
                    emit(.keyword(keyword), at: start)
                } else if word == "true" || word == "false" {
                    emit(.bool(word == "true"), at: start)
                } else if word == "nil" {
                    emit(.nilValue, at: start)
                } else {
                    emit(.identifier(word), at: start)
                }
            case _ where r.isASCII && r.value >= 0x20 && r.value < 0x7f:
                emit(.char(r), at: start)
            default:
                emit(.error("unrecognized character in action: \(describeScalar(r))"), at: start)
                return false
            }
        }
    }

    /// Scans a quoted string or character constant whose opening quote is at `start`.
    private mutating func lexQuote(start: Int, quote: Unicode.Scalar, kind: String) -> Bool {
        while pos < input.count {
            let r = input[pos]
            pos += 1
            if r == "\\", pos < input.count, input[pos] != "\n" {
                pos += 1
            } else if r == "\n" {
                break
            } else if r == quote {
                return true
            }
        }
        emit(.error("unterminated \(kind)"), at: start)
        return false
    }

    /// Go's scanNumber: sign, base prefix, digits, fraction, exponent, imaginary suffix.
    private mutating func lexNumber() -> Bool {
        let start = pos
        accept("+-")
        var digits = "0123456789_"
        if accept("0") {
            if accept("xX") {
                digits = "0123456789abcdefABCDEF_"
            } else if accept("oO") {
                digits = "01234567_"
            } else if accept("bB") {
                digits = "01_"
            }
        }
        acceptRun(digits)
        if accept(".") { acceptRun(digits) }
        if digits.count == 11, accept("eE") {
            accept("+-")
            acceptRun("0123456789_")
        }
        if digits.count == 23, accept("pP") {
            accept("+-")
            acceptRun("0123456789_")
        }
        accept("i")
        if pos < input.count, isAlphanumeric(input[pos]) {
            pos += 1
            emit(.error("bad number syntax: \"\(slice(start, pos))\""), at: start)
            return false
        }
        emit(.number(slice(start, pos)), at: start)
        return true
    }

    // MARK: Helpers

    private mutating func emit(_ kind: TokenKind, at offset: Int) {
        tokens.append(Token(kind: kind, offset: offset))
    }

    private func slice(_ start: Int, _ end: Int) -> String {
        String(String.UnicodeScalarView(input[start..<end]))
    }

    private func find(_ needle: String, from start: Int) -> Int? {
        let scalars = Array(needle.unicodeScalars)
        var index = start
        while index + scalars.count <= input.count {
            if input[index] == scalars[0], starts(with: needle, at: index) { return index }
            index += 1
        }
        return nil
    }

    private func starts(with prefix: String, at index: Int) -> Bool {
        var i = index
        for scalar in prefix.unicodeScalars {
            guard i < input.count, input[i] == scalar else { return false }
            i += 1
        }
        return true
    }

    private func hasLeftTrimMarker(at index: Int) -> Bool {
        index + 1 < input.count && input[index] == "-" && isSpace(input[index + 1])
    }

    /// ` -}}`: a space, a minus and the right delimiter.
    private func atRightTrimDelim(_ index: Int) -> Bool {
        index + 1 < input.count && isSpace(input[index]) && input[index + 1] == "-" && starts(with: "}}", at: index + 2)
    }

    private mutating func skipSpaces() {
        while pos < input.count, isSpace(input[pos]) { pos += 1 }
    }

    private mutating func scanAlphanumerics() -> String {
        let start = pos
        while pos < input.count, isAlphanumeric(input[pos]) { pos += 1 }
        return slice(start, pos)
    }

    /// After a word, Go requires a space, `.`, `,`, `|`, `:`, a paren, `}}` or the end.
    private mutating func checkTerminator() -> Bool {
        guard pos < input.count else { return true }
        let r = input[pos]
        if isSpace(r) || ".,|:()".unicodeScalars.contains(r) || starts(with: "}}", at: pos) { return true }
        emit(.error("bad character \(describeScalar(r))"), at: pos)
        return false
    }

    @discardableResult
    private mutating func accept(_ valid: String) -> Bool {
        if pos < input.count, valid.unicodeScalars.contains(input[pos]) {
            pos += 1
            return true
        }
        return false
    }

    private mutating func acceptRun(_ valid: String) {
        while accept(valid) {}
    }
}

func isSpace(_ r: Unicode.Scalar) -> Bool {
    r == " " || r == "\t" || r == "\r" || r == "\n"
}

func isDigit(_ r: Unicode.Scalar) -> Bool {
    r.value >= 0x30 && r.value <= 0x39
}

/// Go's isAlphaNumeric: underscore, Unicode letter or Unicode decimal digit.
func isAlphanumeric(_ r: Unicode.Scalar) -> Bool {
    if r.isASCII {
        return r == "_" || isDigit(r) || (r.value | 0x20 >= 0x61 && r.value | 0x20 <= 0x7a)
    }
    switch r.properties.generalCategory {
    case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter, .decimalNumber:
        return true
    default:
        return false
    }
}

/// Go's `%#U`: `U+002D '-'`.
func describeScalar(_ r: Unicode.Scalar) -> String {
    var hex = String(r.value, radix: 16, uppercase: true)
    while hex.count < 4 { hex = "0" + hex }
    return "U+\(hex) '\(String(r))'"
}
