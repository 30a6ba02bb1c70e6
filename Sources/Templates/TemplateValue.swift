#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A value flowing through a template pipeline: data passed to `render`, results of functions, literals.
///
/// Mirrors the Go values confd templates see: strings, ints, float64s, bools, slices, `map[string]interface{}`,
/// memkv's `KVPair{Key, Value}`, `time.Time` (from `datetime`) and `nil`.
public enum TemplateValue: Sendable, Hashable {
    case string(String)
    case int(Int)
    case double(Double)
    case bool(Bool)
    case list([TemplateValue])
    case map([String: TemplateValue])
    /// confd's `KVPair`: fields `.Key` and `.Value`.
    case kv(key: String, value: String)
    /// Go's `time.Time`, as returned by `datetime`: an instant and the zone it is shown in.
    case time(Date, TimeZone)
    case null
}

extension TemplateValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: TemplateValue...) { self = .list(elements) }
    public init(dictionaryLiteral elements: (String, TemplateValue)...) {
        self = .map(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}

extension TemplateValue: CustomStringConvertible {
    /// The value as Go's `fmt.Sprint` prints it (what `{{.}}` writes).
    public var description: String { GoFormat.value(self) }
}

extension TemplateValue {
    /// Go's notion of truth: false, 0, nil and empty strings, lists and maps are false.
    var isTrue: Bool {
        switch self {
        case .string(let s): return !s.isEmpty
        case .int(let i): return i != 0
        case .double(let d): return d != 0
        case .bool(let b): return b
        case .list(let l): return !l.isEmpty
        case .map(let m): return !m.isEmpty
        case .kv, .time: return true
        case .null: return false
        }
    }

    /// The Go type name, for error messages and `%T`.
    var goTypeName: String {
        switch self {
        case .string: return "string"
        case .int: return "int"
        case .double: return "float64"
        case .bool: return "bool"
        case .list: return "[]interface {}"
        case .map: return "map[string]interface {}"
        case .kv: return "memkv.KVPair"
        case .time: return "time.Time"
        case .null: return "<nil>"
        }
    }

    /// Map keys in Go's order (byte-wise), as `range` and `fmt` visit them.
    static func sortedKeys(_ map: [String: TemplateValue]) -> [String] {
        map.keys.sorted(by: goLess)
    }
}

/// Go's string ordering: byte-wise on UTF-8.
func goLess(_ a: String, _ b: String) -> Bool {
    a.utf8.lexicographicallyPrecedes(b.utf8)
}
