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
    /// The render's steps and output limit, for functions that would build large values.
    let budget: RenderBudget
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
    /// The function spends a step per value it builds itself (through `FunctionContext.budget`), before
    /// building them; the executor does not count its list again.
    let spendsPerValue: Bool
    let body: @Sendable (FunctionContext, Arguments) throws(FunctionError) -> TemplateValue

    init(
        _ arity: Arity, spendsPerValue: Bool = false,
        _ body: @escaping @Sendable (FunctionContext, Arguments) throws(FunctionError) -> TemplateValue
    ) {
        self.arity = arity
        self.spendsPerValue = spendsPerValue
        self.body = body
    }
}

/// Typed access to a call's arguments, with Go-like messages on a type mismatch.
struct Arguments {
    let values: [TemplateValue]
    /// For each argument written as a number literal with an exact int value (`1.0`, `1e3`), that int: Go
    /// passes such a literal to an `int` parameter (`add 1.0 1`), while a computed float64 is refused.
    var literalInts: [Int?] = []

    var count: Int { values.count }
    subscript(_ index: Int) -> TemplateValue { values[index] }

    func string(_ index: Int) throws(FunctionError) -> String {
        guard case .string(let value) = values[index] else { throw mismatch(index, "string") }
        return value
    }

    func int(_ index: Int) throws(FunctionError) -> Int {
        if case .int(let value) = values[index] { return value }
        if index < literalInts.count, let literal = literalInts[index] { return literal }
        throw mismatch(index, "int")
    }

    /// A `[]string` argument: Go refuses any other slice type, a `[]interface {}` of strings included.
    func strings(_ index: Int) throws(FunctionError) -> [String] {
        guard case .list(let items, .strings, _) = values[index] else { throw mismatch(index, "[]string") }
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
            case .list(let l, _, _): return .int(l.count)
            case .map(let m, _): return .int(m.count)
            case .null: throw FunctionError("len of nil pointer")
            default: throw FunctionError("len of type \(args[0].goTypeName)")
            }
        },
        "index": BuiltinFunction(.atLeast(1)) { _, args throws(FunctionError) in try index(args.values) },
        "slice": BuiltinFunction(.atLeast(1)) { _, args throws(FunctionError) in try slice(args.values) },
        "print": BuiltinFunction(.atLeast(0)) { _, args in .string(GoFormat.sprint(args.values)) },
        "println": BuiltinFunction(.atLeast(0)) { _, args in .string(GoFormat.sprintln(args.values)) },
        "printf": BuiltinFunction(.atLeast(1)) { context, args throws(FunctionError) in
            let limit = context.budget.limits.maxOutputBytes
            guard let text = GoFormat.sprintf(try args.string(0), Array(args.values.dropFirst()), limit: limit) else {
                throw context.budget.tooLarge()
            }
            return .string(text)
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

    /// Go's evalArgs for the escapers: a single string as is, anything else through `fmt.Sprint`, with each
    /// nil first made printable, which turns it into the string "<no value>" (`{{html 1 nil}}` is `1&lt;no value&gt;`).
    private static func escaperInput(_ args: [TemplateValue]) -> String {
        if args.count == 1, case .string(let s) = args[0] { return s }
        return GoFormat.sprint(args.map { $0 == .null ? .string("<no value>") : $0 })
    }

    /// Go's indexArg takes any int or uint kind.
    private static func plainInt(_ value: TemplateValue) -> TemplateValue {
        if case .namedInt(let n, _, _) = value { return .int(n) }
        return value
    }

    private static func index(_ args: [TemplateValue]) throws(FunctionError) -> TemplateValue {
        var item = args[0]
        for index in args.dropFirst().map(plainInt) {
            switch item {
            case .list(let list, _, _):
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
                item = .namedInt(Int(bytes[i]), typeName: "uint8", name: nil)
            case .map(let map, _):
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
        case .list(let l, _, _):
            length = l.count
        case .null:
            throw FunctionError("slice of untyped nil")
        default:
            throw FunctionError("can't slice item of type \(item.goTypeName)")
        }
        var bounds = [0, length, length]
        for (position, index) in indexes.map(plainInt).enumerated() {
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
        case .list(let l, _, _):
            // A nil slice sliced to nothing stays nil, as in Go.
            if case .list(_, let kind, let isNil) = item {
                return .list(Array(l[bounds[0]..<bounds[1]]), kind: kind, isNil: isNil && bounds[0] == bounds[1])
            }
            return item
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
        case .int, .namedInt: return .int
        case .double: return .float
        case .string: return .string
        default: return .other
        }
    }

    /// Go's eq for slices and maps (and nil): two of one kind, or one and nil, are equal when both are nil, and
    /// otherwise not comparable unless one is nil; a slice and a map are never comparable. Nil for anything else.
    private static func nilComparison(_ a: TemplateValue, _ b: TemplateValue) throws(FunctionError) -> Bool? {
        func shape(_ v: TemplateValue) -> (kind: Int, isNil: Bool)? {
            switch v {
            case .list(_, _, let isNil): return (1, isNil)
            case .map(_, let isNil): return (2, isNil)
            case .null: return (0, true)
            default: return nil
            }
        }
        guard let x = shape(a), let y = shape(b), x.kind != 0 || y.kind != 0 else { return nil }
        if x.kind != 0, y.kind != 0, x.kind != y.kind {
            throw FunctionError("non-comparable types \(GoFormat.value(a)): \(a.goTypeName), \(b.goTypeName): \(GoFormat.value(b))")
        }
        if x.isNil || y.isNil { return x.isNil == y.isNil }
        throw FunctionError("non-comparable type \(GoFormat.value(b)): \(b.goTypeName)")
    }

    /// A named int (`time.Month`) compares as its number, as Go's basicKind says.
    private static func number(_ value: TemplateValue) -> TemplateValue {
        if case .namedInt(let n, _, _) = value { return .int(n) }
        return value
    }

    static func eq(_ firstValue: TemplateValue, _ otherValues: [TemplateValue]) throws(FunctionError) -> Bool {
        let first = number(firstValue)
        let others = otherValues.map(number)
        guard !others.isEmpty else { throw FunctionError("missing argument for comparison") }
        let k1 = kind(first)
        for other in others {
            let k2 = kind(other)
            var truth = false
            if k1 != k2 {
                if first != .null, other != .null { throw FunctionError("incompatible types for comparison") }
            } else if k1 != .other {
                truth = first == other
            } else if let truthOfNil = try nilComparison(first, other) {
                truth = truthOfNil
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

    static func lt(_ first: TemplateValue, _ second: TemplateValue) throws(FunctionError) -> Bool {
        let a = number(first)
        let b = number(second)
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
