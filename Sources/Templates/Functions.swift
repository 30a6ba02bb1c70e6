#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// An extra function for templates: receives the evaluated arguments (a missing value arrives as `.null`) and
/// returns a value; a thrown error stops rendering and is reported with the function's name and position.
public typealias TemplateFunction = @Sendable (_ arguments: [TemplateValue]) throws -> TemplateValue

/// What built-in functions may consult besides their arguments.
struct FunctionContext {
    let store: any TemplateStore
    let environment: [String: String]
    let now: Date
    let timeZone: TimeZone
    /// Where `validServers`, `validNames`, `reject` and `secret` report.
    let findings: RenderFindings
}

/// A built-in or confd function with its argument count.
struct BuiltinFunction: Sendable {
    enum Arity: Sendable {
        case exactly(Int)
        case between(Int, Int)
        case atLeast(Int)

        func check(_ name: String, _ count: Int) throws(FunctionError) {
            switch self {
            case .exactly(let n) where count != n:
                throw FunctionError("wrong number of args for \(name): want \(n) got \(count)")
            case .between(let low, let high) where count < low || count > high:
                throw FunctionError("wrong number of args for \(name): want \(low) to \(high) got \(count)")
            case .atLeast(let n) where count < n:
                throw FunctionError("wrong number of args for \(name): want at least \(n) got \(count)")
            default:
                return
            }
        }
    }

    let arity: Arity
    let body: @Sendable (FunctionContext, Arguments) throws(FunctionError) -> TemplateValue

    init(_ arity: Arity, _ body: @escaping @Sendable (FunctionContext, Arguments) throws(FunctionError) -> TemplateValue) {
        self.arity = arity
        self.body = body
    }
}

/// Typed access to a call's arguments, with Go-like messages on a type mismatch.
struct Arguments {
    let values: [TemplateValue]

    var count: Int { values.count }
    subscript(_ index: Int) -> TemplateValue { values[index] }

    func string(_ index: Int) throws(FunctionError) -> String {
        guard case .string(let value) = values[index] else { throw mismatch(index, "string") }
        return value
    }

    func int(_ index: Int) throws(FunctionError) -> Int {
        guard case .int(let value) = values[index] else { throw mismatch(index, "int") }
        return value
    }

    func strings(_ index: Int) throws(FunctionError) -> [String] {
        guard case .list(let items) = values[index] else { throw mismatch(index, "[]string") }
        var result: [String] = []
        for item in items {
            guard case .string(let value) = item else { throw mismatch(index, "[]string") }
            result.append(value)
        }
        return result
    }

    func mismatch(_ index: Int, _ expected: String) -> FunctionError {
        let value = values[index]
        if case .null = value {
            return FunctionError("invalid value for argument \(index + 1); expected \(expected)")
        }
        return FunctionError("wrong type for argument \(index + 1); expected \(expected); got \(value.goTypeName)")
    }
}

enum Functions {
    /// Go's predefined template functions. `and`/`or` are evaluated lazily by the executor.
    static let builtins: [String: BuiltinFunction] = [
        "and": BuiltinFunction(.atLeast(1)) { _, args in args[args.count - 1] },
        "or": BuiltinFunction(.atLeast(1)) { _, args in args[args.count - 1] },
        "not": BuiltinFunction(.exactly(1)) { _, args in .bool(!args[0].isTrue) },
        "len": BuiltinFunction(.exactly(1)) { _, args throws(FunctionError) in
            switch args[0] {
            case .string(let s): return .int(s.utf8.count)
            case .list(let l): return .int(l.count)
            case .map(let m): return .int(m.count)
            case .null: throw FunctionError("len of nil pointer")
            default: throw FunctionError("len of type \(args[0].goTypeName)")
            }
        },
        "index": BuiltinFunction(.atLeast(1)) { _, args throws(FunctionError) in try index(args.values) },
        "slice": BuiltinFunction(.atLeast(1)) { _, args throws(FunctionError) in try slice(args.values) },
        "print": BuiltinFunction(.atLeast(0)) { _, args in .string(GoFormat.sprint(args.values)) },
        "println": BuiltinFunction(.atLeast(0)) { _, args in .string(GoFormat.sprintln(args.values)) },
        "printf": BuiltinFunction(.atLeast(1)) { _, args throws(FunctionError) in
            .string(GoFormat.sprintf(try args.string(0), Array(args.values.dropFirst())))
        },
        "eq": BuiltinFunction(.atLeast(1)) { _, args throws(FunctionError) in
            .bool(try Comparison.eq(args[0], Array(args.values.dropFirst())))
        },
        "ne": BuiltinFunction(.exactly(2)) { _, args throws(FunctionError) in
            .bool(!(try Comparison.eq(args[0], [args[1]])))
        },
        "lt": BuiltinFunction(.exactly(2)) { _, args throws(FunctionError) in .bool(try Comparison.lt(args[0], args[1])) },
        "le": BuiltinFunction(.exactly(2)) { _, args throws(FunctionError) in .bool(try Comparison.le(args[0], args[1])) },
        "gt": BuiltinFunction(.exactly(2)) { _, args throws(FunctionError) in .bool(!(try Comparison.le(args[0], args[1]))) },
        "ge": BuiltinFunction(.exactly(2)) { _, args throws(FunctionError) in .bool(!(try Comparison.lt(args[0], args[1]))) },
        "html": BuiltinFunction(.atLeast(0)) { _, args in .string(Escaping.html(escaperInput(args.values))) },
        "js": BuiltinFunction(.atLeast(0)) { _, args in .string(Escaping.js(escaperInput(args.values))) },
        "urlquery": BuiltinFunction(.atLeast(0)) { _, args in .string(Escaping.urlQuery(escaperInput(args.values))) },
    ]

    /// Go's evalArgs for the escapers: a single string as is, anything else through `fmt.Sprint`.
    private static func escaperInput(_ args: [TemplateValue]) -> String {
        if args.count == 1, case .string(let s) = args[0] { return s }
        return GoFormat.sprint(args)
    }

    private static func index(_ args: [TemplateValue]) throws(FunctionError) -> TemplateValue {
        var item = args[0]
        for index in args.dropFirst() {
            switch item {
            case .list(let list):
                guard case .int(let i) = index else {
                    throw FunctionError("cannot index slice/array with type \(index.goTypeName)")
                }
                guard i >= 0, i < list.count else { throw FunctionError("index out of range: \(i)") }
                item = list[i]
            case .string(let s):
                guard case .int(let i) = index else {
                    throw FunctionError("cannot index slice/array with type \(index.goTypeName)")
                }
                let bytes = Array(s.utf8)
                guard i >= 0, i < bytes.count else { throw FunctionError("index out of range: \(i)") }
                item = .int(Int(bytes[i]))
            case .map(let map):
                guard case .string(let key) = index else {
                    throw FunctionError("value has type \(index.goTypeName); should be string")
                }
                item = map[key] ?? .null
            case .null:
                throw FunctionError("index of untyped nil")
            default:
                throw FunctionError("can't index item of type \(item.goTypeName)")
            }
        }
        return item
    }

    private static func slice(_ args: [TemplateValue]) throws(FunctionError) -> TemplateValue {
        let item = args[0]
        let indexes = args.dropFirst()
        if indexes.count > 3 { throw FunctionError("too many slice indexes: \(indexes.count)") }
        let length: Int
        switch item {
        case .string(let s):
            if indexes.count == 3 { throw FunctionError("cannot 3-index slice a string") }
            length = s.utf8.count
        case .list(let l):
            length = l.count
        case .null:
            throw FunctionError("slice of untyped nil")
        default:
            throw FunctionError("can't slice item of type \(item.goTypeName)")
        }
        var bounds = [0, length, length]
        for (position, index) in indexes.enumerated() {
            guard case .int(let i) = index else {
                throw FunctionError("cannot index slice/array with type \(index.goTypeName)")
            }
            guard i >= 0, i <= length else { throw FunctionError("index out of range: \(i)") }
            bounds[position] = i
        }
        if bounds[0] > bounds[1] { throw FunctionError("invalid slice index: \(bounds[0]) > \(bounds[1])") }
        if indexes.count == 3, bounds[1] > bounds[2] {
            throw FunctionError("invalid slice index: \(bounds[1]) > \(bounds[2])")
        }
        switch item {
        case .string(let s):
            return .string(String(decoding: Array(s.utf8)[bounds[0]..<bounds[1]], as: UTF8.self))
        case .list(let l):
            return .list(Array(l[bounds[0]..<bounds[1]]))
        default:
            return item
        }
    }
}

/// Go's eq/lt/le: basic kinds only, no mixing of ints and floats.
enum Comparison {
    private enum Kind { case bool, int, float, string, other }

    private static func kind(_ v: TemplateValue) -> Kind {
        switch v {
        case .bool: return .bool
        case .int: return .int
        case .double: return .float
        case .string: return .string
        default: return .other
        }
    }

    static func eq(_ first: TemplateValue, _ others: [TemplateValue]) throws(FunctionError) -> Bool {
        guard !others.isEmpty else { throw FunctionError("missing argument for comparison") }
        let k1 = kind(first)
        for other in others {
            let k2 = kind(other)
            var truth = false
            if k1 != k2 {
                if first != .null, other != .null { throw FunctionError("incompatible types for comparison") }
            } else if k1 != .other {
                truth = first == other
            } else if first == .null || other == .null {
                truth = first == other
            } else {
                switch (first, other) {
                case (.kv, .kv), (.time, .time):
                    truth = first == other
                default:
                    if first.goTypeName != other.goTypeName {
                        throw FunctionError("non-comparable types \(GoFormat.value(first)): \(first.goTypeName), \(other.goTypeName): \(GoFormat.value(other))")
                    }
                    throw FunctionError("non-comparable type \(GoFormat.value(other)): \(other.goTypeName)")
                }
            }
            if truth { return true }
        }
        return false
    }

    static func lt(_ a: TemplateValue, _ b: TemplateValue) throws(FunctionError) -> Bool {
        let k1 = kind(a)
        let k2 = kind(b)
        if k1 == .other || k2 == .other { throw FunctionError("invalid type for comparison") }
        if k1 != k2 { throw FunctionError("incompatible types for comparison") }
        switch (a, b) {
        case (.int(let x), .int(let y)): return x < y
        case (.double(let x), .double(let y)): return x < y
        case (.string(let x), .string(let y)): return goLess(x, y)
        default: throw FunctionError("invalid type for comparison")
        }
    }

    static func le(_ a: TemplateValue, _ b: TemplateValue) throws(FunctionError) -> Bool {
        if try lt(a, b) { return true }
        return try eq(a, [b])
    }
}

/// Go's HTMLEscapeString, JSEscapeString and url.QueryEscape.
enum Escaping {
    static func html(_ s: String) -> String {
        var out = ""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "&#34;"
            case "'": out += "&#39;"
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\0": out += "\u{FFFD}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    static func js(_ s: String) -> String {
        var out = ""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "'": out += "\\'"
            case "\"": out += "\\\""
            case "<": out += "\\u003C"
            case ">": out += "\\u003E"
            case "&": out += "\\u0026"
            case "=": out += "\\u003D"
            case _ where scalar.value < 0x20:
                out += "\\u00" + String(scalar.value >> 4, radix: 16, uppercase: true)
                    + String(scalar.value & 0xF, radix: 16, uppercase: true)
            case _ where scalar.value >= 0x80 && !GoQuote.isPrintable(scalar):
                var hex = String(scalar.value, radix: 16, uppercase: true)
                while hex.count < 4 { hex = "0" + hex }
                out += "\\u" + hex
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    static func urlQuery(_ s: String) -> String {
        var out = ""
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: " "):
                out += "+"
            default:
                out += "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
            }
        }
        return out
    }
}
