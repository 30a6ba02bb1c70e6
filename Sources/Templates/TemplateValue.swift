#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
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
    /// A Go slice; `kind` is its Go type, which decides what `reverse`, `join` and `%T` make of it.
    /// `isNil`: Go's nil slice (`seq 3 1`, `jsonArray "null"`), which `%#v` and `eq` tell from an empty one.
    case list([TemplateValue], kind: ListKind = .interfaces, isNil: Bool = false)
    /// `isNil`: Go's nil map (`json "null"`).
    case map([String: TemplateValue], isNil: Bool = false)
    /// confd's `KVPair`: fields `.Key` and `.Value`.
    case kv(key: String, value: String)
    /// Go's `time.Time`, as returned by `datetime`: an instant and the zone it is shown in.
    case time(Date, TimeZone)
    /// An int of another Go type than `int`: `time.Month` and `time.Weekday` (`.Month`, `.Weekday`), which
    /// have a `String` method and print their `name` (`March`), and the `uint8` that `index` takes out of a
    /// string (no name). It is its number for `%d`, `eq`, `lt`, `index` and truth, has its own type name, and a
    /// function that wants an `int` refuses it, as Go does.
    case namedInt(Int, typeName: String, name: String?)
    case null
}

/// The Go type of a slice: confd's functions return typed slices, and some of them act on one type only
/// (`reverse` reverses a `[]string` or a `[]memkv.KVPair` in place and leaves every other slice as it is).
public enum ListKind: Sendable, Hashable {
    /// `[]interface {}`: `jsonArray`, list literals in Swift.
    case interfaces
    /// `[]string`: `getvs`, `ls`, `lsdir`, `split`, `sortByLength`, `lookupIP`.
    case strings
    /// `[]int`: `seq`.
    case ints
    /// `memkv.KVPairs`: `gets` (a named type, which `reverse`'s type switch does not recognise).
    case kvPairs
    /// `[]memkv.KVPair`: `sortKVByLength`, `validServers`.
    case kvPairSlice
    /// `[]*net.SRV`: `lookupSRV`.
    case srvRecords

    /// Go's name of the type, as `%T` prints it.
    var goTypeName: String {
        switch self {
        case .interfaces: return "[]interface {}"
        case .strings: return "[]string"
        case .ints: return "[]int"
        case .kvPairs: return "memkv.KVPairs"
        case .kvPairSlice: return "[]memkv.KVPair"
        case .srvRecords: return "[]*net.SRV"
        }
    }
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
        case .list(let l, _, _): return !l.isEmpty
        case .map(let m, _): return !m.isEmpty
        case .kv, .time: return true
        case .namedInt(let value, _, _): return value != 0
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
        case .list(_, let kind, _): return kind.goTypeName
        case .map: return "map[string]interface {}"
        case .kv: return "memkv.KVPair"
        case .time: return "time.Time"
        case .namedInt(_, let typeName, _): return typeName
        case .null: return "<nil>"
        }
    }

    /// Map keys in Go's order (byte-wise), as `range` and `fmt` visit them.
    static func sortedKeys(_ map: [String: TemplateValue]) -> [String] {
        goSorted(Array(map.keys))
    }
}

/// `strings` in Go's order (byte-wise on UTF-8). The bytes are packed into one buffer and an index array is
/// sorted over it, so comparisons touch no reference counts: sorting a store's 50,000 keys as Strings took
/// 60 ms, most of it retains and releases, five times Go's whole render.
func goSorted(_ strings: [String]) -> [String] {
    goOrder(strings).map { strings[$0] }
}

/// The indices of `strings` in Go's order (see `goSorted`).
func goOrder(_ strings: [String]) -> [Int] {
    var bytes: [UInt8] = []
    var starts: [Int] = []
    starts.reserveCapacity(strings.count + 1)
    for string in strings {
        starts.append(bytes.count)
        bytes.append(contentsOf: string.utf8)
    }
    starts.append(bytes.count)
    var order = Array(strings.indices)
    bytes.withUnsafeBufferPointer { buffer in
        starts.withUnsafeBufferPointer { starts in
            order.sort { i, j in
                let base = buffer.baseAddress
                return bytesPrecede(
                    base.map { $0 + starts[i] }, starts[i + 1] - starts[i], base.map { $0 + starts[j] }, starts[j + 1] - starts[j])
            }
        }
    }
    return order
}

/// Go's string ordering: byte-wise on UTF-8.
func goLess(_ a: String, _ b: String) -> Bool {
    var a = a
    var b = b
    return a.withUTF8 { left in
        b.withUTF8 { right in bytesPrecede(left.baseAddress, left.count, right.baseAddress, right.count) }
    }
}

/// Byte-wise order of two byte runs: the one home of Go's string comparison.
private func bytesPrecede(_ x: UnsafePointer<UInt8>?, _ xCount: Int, _ y: UnsafePointer<UInt8>?, _ yCount: Int) -> Bool {
    let common = min(xCount, yCount)
    if common > 0, let x, let y {
        let order = memcmp(x, y, common)
        if order != 0 { return order < 0 }
    }
    return xCount < yCount
}
