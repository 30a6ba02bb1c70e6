/// Decodes JSON the way Go's `json.Unmarshal` into `interface{}` does: numbers become float64 (`.double`),
/// objects `.map`, arrays `.list`, `null` `.null`. Error messages follow Go's wording.
enum GoJSON {
    /// Arrays and objects nested deeper are refused with Go's words ("exceeded max depth"). Go's limit is
    /// 10,000; hecd's is lower so that parsing, printing, comparing and releasing such a value (all recursive)
    /// stay well within a thread's stack.
    static let maxDepth = 1000

    /// Decodes `text`, spending a step of `budget` per value before the values past it are built.
    static func decode(_ text: String, budget: RenderBudget? = nil) throws(FunctionError) -> TemplateValue {
        var parser = JSONParser(bytes: Array(text.utf8), budget: budget)
        parser.skipSpace()
        let value = try parser.value()
        parser.skipSpace()
        if parser.index < parser.bytes.count {
            throw FunctionError("invalid character \(parser.describeCurrent()) after top-level value")
        }
        try parser.spendUnspent()
        return value
    }

    /// The Go name of a JSON value's kind, for "cannot unmarshal X into …".
    static func kindName(_ value: TemplateValue) -> String {
        switch value {
        case .map: return "object"
        case .list: return "array"
        case .string: return "string"
        case .double, .int: return "number"
        case .bool: return "bool"
        default: return "null"
        }
    }
}

private struct JSONParser {
    let bytes: [UInt8]
    let budget: RenderBudget?
    var index = 0
    private var depth = 0
    /// Values parsed and not yet spent from the budget (spent a batch at a time).
    private var unspent = 0
    private static let batch = 4096

    init(bytes: [UInt8], budget: RenderBudget?) {
        self.bytes = bytes
        self.budget = budget
    }

    mutating func spendUnspent() throws(FunctionError) {
        defer { unspent = 0 }
        try budget?.build(unspent, "JSON values")
    }

    /// Enters an array or object, within Go's nesting limit.
    private mutating func enter() throws(FunctionError) {
        depth += 1
        if depth > GoJSON.maxDepth { throw FunctionError("invalid character \(describeCurrent()) exceeded max depth") }
    }

    mutating func skipSpace() {
        while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
    }

    func describeCurrent() -> String {
        guard index < bytes.count else { return "end" }
        let scalar = Unicode.Scalar(bytes[index])
        if scalar == "'" { return "'\\''" }
        return bytes[index] < 0x80 ? "'\(scalar)'" : "'\\u00\(String(bytes[index], radix: 16))'"
    }

    mutating func value() throws(FunctionError) -> TemplateValue {
        guard index < bytes.count else { throw FunctionError("unexpected end of JSON input") }
        unspent += 1
        if unspent == Self.batch { try spendUnspent() }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): return try literal("true", .bool(true))
        case UInt8(ascii: "f"): return try literal("false", .bool(false))
        case UInt8(ascii: "n"): return try literal("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw FunctionError("invalid character \(describeCurrent()) looking for beginning of value")
        }
    }

    private mutating func literal(_ word: String, _ value: TemplateValue) throws(FunctionError) -> TemplateValue {
        for expected in word.utf8 {
            guard index < bytes.count else { throw FunctionError("unexpected end of JSON input") }
            guard bytes[index] == expected else {
                throw FunctionError("invalid character \(describeCurrent()) in literal \(word) (expecting '\(Unicode.Scalar(expected))')")
            }
            index += 1
        }
        return value
    }

    private mutating func object() throws(FunctionError) -> TemplateValue {
        try enter()
        defer { depth -= 1 }
        index += 1
        var result: [String: TemplateValue] = [:]
        skipSpace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .map(result)
        }
        while true {
            skipSpace()
            guard index < bytes.count else { throw FunctionError("unexpected end of JSON input") }
            guard bytes[index] == UInt8(ascii: "\"") else {
                throw FunctionError("invalid character \(describeCurrent()) looking for beginning of object key string")
            }
            let key = try string()
            skipSpace()
            guard index < bytes.count else { throw FunctionError("unexpected end of JSON input") }
            guard bytes[index] == UInt8(ascii: ":") else {
                throw FunctionError("invalid character \(describeCurrent()) after object key")
            }
            index += 1
            skipSpace()
            result[key] = try value()
            skipSpace()
            guard index < bytes.count else { throw FunctionError("unexpected end of JSON input") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            guard bytes[index] == UInt8(ascii: "}") else {
                throw FunctionError("invalid character \(describeCurrent()) after object key:value pair")
            }
            index += 1
            return .map(result)
        }
    }

    private mutating func array() throws(FunctionError) -> TemplateValue {
        try enter()
        defer { depth -= 1 }
        index += 1
        var result: [TemplateValue] = []
        skipSpace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .list(result)
        }
        while true {
            skipSpace()
            result.append(try value())
            skipSpace()
            guard index < bytes.count else { throw FunctionError("unexpected end of JSON input") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            guard bytes[index] == UInt8(ascii: "]") else {
                throw FunctionError("invalid character \(describeCurrent()) after array element")
            }
            index += 1
            return .list(result)
        }
    }

    private mutating func number() throws(FunctionError) -> TemplateValue {
        let start = index
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        func digits() -> Int {
            let from = index
            while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 { index += 1 }
            return index - from
        }
        guard index < bytes.count else { throw FunctionError("unexpected end of JSON input") }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else if digits() == 0 {
            throw FunctionError("invalid character \(describeCurrent()) in numeric literal")
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            if digits() == 0 {
                throw FunctionError(index < bytes.count ? "invalid character \(describeCurrent()) after decimal point in numeric literal" : "unexpected end of JSON input")
            }
        }
        if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            if digits() == 0 {
                throw FunctionError(index < bytes.count ? "invalid character \(describeCurrent()) in exponent of numeric literal" : "unexpected end of JSON input")
            }
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        guard let value = Double(text), value.isFinite else { throw FunctionError("cannot unmarshal number \(text) into Go value of type float64") }
        return .double(value)
    }

    private mutating func string() throws(FunctionError) -> String {
        index += 1
        var out: [UInt8] = []
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard index < bytes.count else { throw FunctionError("unexpected end of JSON input") }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    if (0xD800..<0xDC00).contains(code), index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"),
                        bytes[index + 1] == UInt8(ascii: "u")
                    {
                        let save = index
                        index += 2
                        let low = try hex4()
                        if (0xDC00..<0xE000).contains(low) {
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        } else {
                            index = save
                        }
                    }
                    out.append(contentsOf: Array(String(Unicode.Scalar(code) ?? "\u{FFFD}").utf8))
                default:
                    index -= 1
                    throw FunctionError("invalid character \(describeCurrent()) in string escape code")
                }
            case 0..<0x20:
                index -= 1
                throw FunctionError("invalid character \(describeCurrent()) in string literal")
            default:
                out.append(byte)
            }
        }
        throw FunctionError("unexpected end of JSON input")
    }

    private mutating func hex4() throws(FunctionError) -> UInt32 {
        guard index + 4 <= bytes.count,
            let code = UInt32(String(decoding: bytes[index..<(index + 4)], as: UTF8.self), radix: 16)
        else { throw FunctionError("invalid \\u escape in string literal") }
        index += 4
        return code
    }
}
