#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// confd's template functions (resource/template/template_funcs.go) and its store functions (memkv).
extension Functions {
    static let confd: [String: BuiltinFunction] = [
        // Store.
        "exists": BuiltinFunction(.exactly(1)) { context, args throws(FunctionError) in
            .bool(context.store.get(try args.string(0)) != nil)
        },
        "get": BuiltinFunction(.exactly(1)) { context, args throws(FunctionError) in
            let key = try args.string(0)
            guard let value = context.store.get(key) else { throw FunctionError("key \(key) not found") }
            return .kv(key: key, value: value)
        },
        "gets": BuiltinFunction(.exactly(1)) { context, args throws(FunctionError) in
            .list(try glob(context.store, try args.string(0)).map { .kv(key: $0.key, value: $0.value) })
        },
        "getv": BuiltinFunction(.between(1, 2)) { context, args throws(FunctionError) in
            let key = try args.string(0)
            if let value = context.store.get(key) { return .string(value) }
            if args.count == 2 { return .string(try args.string(1)) }
            throw FunctionError("key \(key) not found")
        },
        "getvs": BuiltinFunction(.exactly(1)) { context, args throws(FunctionError) in
            .list(try glob(context.store, try args.string(0)).map(\.value).sorted(by: goLess).map { .string($0) })
        },
        "ls": BuiltinFunction(.exactly(1)) { context, args throws(FunctionError) in
            .list(list(context.store, try args.string(0), directoriesOnly: false).map { .string($0) })
        },
        "lsdir": BuiltinFunction(.exactly(1)) { context, args throws(FunctionError) in
            .list(list(context.store, try args.string(0), directoriesOnly: true).map { .string($0) })
        },

        // Paths and strings.
        "base": BuiltinFunction(.exactly(1)) { _, args throws(FunctionError) in .string(GoPath.base(try args.string(0))) },
        "dir": BuiltinFunction(.exactly(1)) { _, args throws(FunctionError) in .string(GoPath.dir(try args.string(0))) },
        "split": BuiltinFunction(.exactly(2)) { _, args throws(FunctionError) in
            .list(GoStrings.split(try args.string(0), separator: try args.string(1)).map { .string($0) })
        },
        "join": BuiltinFunction(.exactly(2)) { _, args throws(FunctionError) in
            .string(try args.strings(0).joined(separator: try args.string(1)))
        },
        "toUpper": BuiltinFunction(.exactly(1)) { _, args throws(FunctionError) in
            .string(GoStrings.mapCase(try args.string(0), upper: true))
        },
        "toLower": BuiltinFunction(.exactly(1)) { _, args throws(FunctionError) in
            .string(GoStrings.mapCase(try args.string(0), upper: false))
        },
        "contains": BuiltinFunction(.exactly(2)) { _, args throws(FunctionError) in
            .bool(GoStrings.contains(try args.string(0), try args.string(1)))
        },
        "replace": BuiltinFunction(.exactly(4)) { _, args throws(FunctionError) in
            .string(GoStrings.replace(try args.string(0), old: try args.string(1), new: try args.string(2), count: try args.int(3)))
        },
        "trimSuffix": BuiltinFunction(.exactly(2)) { _, args throws(FunctionError) in
            .string(GoStrings.trimSuffix(try args.string(0), try args.string(1)))
        },
        "base64Encode": BuiltinFunction(.exactly(1)) { _, args throws(FunctionError) in
            .string(Data(try args.string(0).utf8).base64EncodedString())
        },
        "base64Decode": BuiltinFunction(.exactly(1)) { _, args throws(FunctionError) in
            .string(try Base64.decode(try args.string(0)))
        },

        // Data.
        "json": BuiltinFunction(.exactly(1)) { _, args throws(FunctionError) in
            let value = try GoJSON.decode(try args.string(0))
            switch value {
            case .map: return value
            case .null: return .map([:])
            default:
                throw FunctionError("json: cannot unmarshal \(GoJSON.kindName(value)) into Go value of type map[string]interface {}")
            }
        },
        "jsonArray": BuiltinFunction(.exactly(1)) { _, args throws(FunctionError) in
            let value = try GoJSON.decode(try args.string(0))
            switch value {
            case .list: return value
            case .null: return .list([])
            default:
                throw FunctionError("json: cannot unmarshal \(GoJSON.kindName(value)) into Go value of type []interface {}")
            }
        },
        "map": BuiltinFunction(.atLeast(0)) { _, args throws(FunctionError) in
            guard args.count % 2 == 0 else { throw FunctionError("invalid map call") }
            var result: [String: TemplateValue] = [:]
            for i in stride(from: 0, to: args.count, by: 2) {
                guard case .string(let key) = args[i] else { throw FunctionError("map keys must be strings") }
                result[key] = args[i + 1]
            }
            return .map(result)
        },
        "parseBool": BuiltinFunction(.exactly(1)) { _, args throws(FunctionError) in
            let text = try args.string(0)
            switch text {
            case "1", "t", "T", "TRUE", "true", "True": return .bool(true)
            case "0", "f", "F", "FALSE", "false", "False": return .bool(false)
            default: throw FunctionError("strconv.ParseBool: parsing \(GoQuote.quote(text)): invalid syntax")
            }
        },
        "atoi": BuiltinFunction(.exactly(1)) { _, args throws(FunctionError) in
            let text = try args.string(0)
            let body = text.hasPrefix("+") || text.hasPrefix("-") ? text.dropFirst() : Substring(text)
            guard !body.isEmpty, body.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                throw FunctionError("strconv.Atoi: parsing \(GoQuote.quote(text)): invalid syntax")
            }
            guard let value = Int(text) else {
                throw FunctionError("strconv.Atoi: parsing \(GoQuote.quote(text)): value out of range")
            }
            return .int(value)
        },
        "getenv": BuiltinFunction(.between(1, 2)) { context, args throws(FunctionError) in
            let value = context.environment[try args.string(0)] ?? ""
            if value.isEmpty, args.count == 2 { return .string(try args.string(1)) }
            return .string(value)
        },
        "datetime": BuiltinFunction(.exactly(0)) { context, _ in .time(context.now, context.timeZone) },
        "fileExists": BuiltinFunction(.exactly(1)) { _, args throws(FunctionError) in
            .bool(FileManager.default.fileExists(atPath: try args.string(0)))
        },

        // Lists.
        "reverse": BuiltinFunction(.exactly(1)) { _, args in
            if case .list(let items) = args[0] { return .list(items.reversed()) }
            return args[0]
        },
        "sortByLength": BuiltinFunction(.exactly(1)) { _, args throws(FunctionError) in
            .list(stableSorted(try args.strings(0)) { $0.utf8.count < $1.utf8.count }.map { .string($0) })
        },
        "sortKVByLength": BuiltinFunction(.exactly(1)) { _, args throws(FunctionError) in
            guard case .list(let items) = args[0] else { throw args.mismatch(0, "[]memkv.KVPair") }
            var pairs: [(key: String, value: String)] = []
            for item in items {
                guard case .kv(let key, let value) = item else { throw args.mismatch(0, "[]memkv.KVPair") }
                pairs.append((key, value))
            }
            return .list(stableSorted(pairs) { $0.key.utf8.count < $1.key.utf8.count }.map { .kv(key: $0.key, value: $0.value) })
        },
        "seq": BuiltinFunction(.exactly(2)) { _, args throws(FunctionError) in
            let first = try args.int(0)
            let last = try args.int(1)
            guard first <= last else { return .list([]) }
            guard last - first < 10_000_000 else { throw FunctionError("sequence from \(first) to \(last) is too long") }
            return .list((first...last).map { .int($0) })
        },

        // Arithmetic on ints (Go's wrapping semantics; division by zero is an error).
        "add": BuiltinFunction(.exactly(2)) { _, args throws(FunctionError) in .int(try args.int(0) &+ args.int(1)) },
        "sub": BuiltinFunction(.exactly(2)) { _, args throws(FunctionError) in .int(try args.int(0) &- args.int(1)) },
        "mul": BuiltinFunction(.exactly(2)) { _, args throws(FunctionError) in .int(try args.int(0) &* args.int(1)) },
        "div": BuiltinFunction(.exactly(2)) { _, args throws(FunctionError) in
            let divisor = try args.int(1)
            guard divisor != 0 else { throw FunctionError("runtime error: integer divide by zero") }
            return .int(try args.int(0).dividedReportingOverflow(by: divisor).partialValue)
        },
        "mod": BuiltinFunction(.exactly(2)) { _, args throws(FunctionError) in
            let divisor = try args.int(1)
            guard divisor != 0 else { throw FunctionError("runtime error: integer divide by zero") }
            return .int(try args.int(0).remainderReportingOverflow(dividingBy: divisor).partialValue)
        },

        // DNS.
        "lookupIP": BuiltinFunction(.exactly(1)) { _, args throws(FunctionError) in
            .list(DNS.lookupIP(try args.string(0)).map { .string($0) })
        },
        "lookupIPV4": BuiltinFunction(.exactly(1)) { _, args throws(FunctionError) in
            .list(DNS.lookupIP(try args.string(0)).filter { $0.contains(".") }.map { .string($0) })
        },
        "lookupIPV6": BuiltinFunction(.exactly(1)) { _, args throws(FunctionError) in
            .list(DNS.lookupIP(try args.string(0)).filter { $0.contains(":") }.map { .string($0) })
        },
        "lookupSRV": BuiltinFunction(.exactly(3)) { _, args throws(FunctionError) in
            do {
                let records = try DNS.lookupSRV(service: try args.string(0), proto: try args.string(1), name: try args.string(2))
                return .list(records.map(\.templateValue))
            } catch let error as FunctionError {
                throw error
            } catch {
                throw FunctionError("DNS SRV lookups are not supported on this platform (no res_query)")
            }
        },
    ]

    /// Entries matching a `path.Match` glob, sorted by key; only the glob's literal prefix is listed.
    static func glob(_ store: any TemplateStore, _ pattern: String) throws(FunctionError) -> [(key: String, value: String)] {
        var matches: [(key: String, value: String)] = []
        for entry in store.entries(withPrefix: GoPath.literalPrefix(pattern)) {
            do {
                if try GoPath.match(pattern, entry.key) { matches.append(entry) }
            } catch {
                throw FunctionError("syntax error in pattern")
            }
        }
        if !matches.isEmpty { return matches }
        // Go reports a malformed pattern even when nothing was there to match.
        do {
            _ = try GoPath.match(pattern, "")
        } catch {
            throw FunctionError("syntax error in pattern")
        }
        return matches
    }

    /// memkv's List/ListDir: sorted unique names of the children of `path`; with `directoriesOnly`, only
    /// children that have keys beneath them. An exact key `path` lists its own base name, as memkv does.
    static func list(_ store: any TemplateStore, _ path: String, directoriesOnly: Bool) -> [String] {
        let cleaned = GoPath.clean(path)
        let prefix = cleaned == "/" ? "/" : cleaned + "/"
        var names = Set<String>()
        if !directoriesOnly, store.get(path) != nil { names.insert(GoPath.base(path)) }
        let prefixLength = prefix.utf8.count
        for entry in store.entries(withPrefix: prefix) {
            let rest = Array(entry.key.utf8.dropFirst(prefixLength))
            if let slash = rest.firstIndex(of: UInt8(ascii: "/")) {
                names.insert(String(decoding: rest[..<slash], as: UTF8.self))
            } else if !directoriesOnly {
                names.insert(String(decoding: rest, as: UTF8.self))
            }
        }
        return names.sorted(by: goLess)
    }

    private static func stableSorted<T>(_ items: [T], by less: (T, T) -> Bool) -> [T] {
        items.enumerated().sorted { a, b in
            if less(a.element, b.element) { return true }
            if less(b.element, a.element) { return false }
            return a.offset < b.offset
        }.map(\.element)
    }
}

/// Go's `base64.StdEncoding.DecodeString`: padding required, CR/LF ignored, Go's error message.
enum Base64 {
    static func decode(_ text: String) throws(FunctionError) -> String {
        var values: [UInt8] = []
        var positions: [Int] = []
        var padding = 0
        var paddingStart = -1
        for (position, byte) in text.utf8.enumerated() {
            if byte == 0x0A || byte == 0x0D { continue }
            if byte == UInt8(ascii: "=") {
                if padding == 0 { paddingStart = position }
                padding += 1
                continue
            }
            if padding > 0 { throw illegal(paddingStart) }
            guard let value = decodeTable[Int(byte)] else { throw illegal(position) }
            values.append(value)
            positions.append(position)
        }
        let remainder = values.count % 4
        if padding > 0 {
            guard (remainder == 2 && padding == 2) || (remainder == 3 && padding == 1) else {
                throw illegal(paddingStart)
            }
        } else if remainder != 0 {
            throw illegal(text.utf8.count)
        }
        var out: [UInt8] = []
        var index = 0
        while index < values.count {
            let chunk = values[index..<min(index + 4, values.count)]
            var bits: UInt32 = 0
            for value in chunk { bits = bits << 6 | UInt32(value) }
            bits <<= UInt32(6 * (4 - chunk.count))
            let bytes = [UInt8(bits >> 16 & 0xFF), UInt8(bits >> 8 & 0xFF), UInt8(bits & 0xFF)]
            out += bytes.prefix(chunk.count - 1)
            index += 4
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func illegal(_ position: Int) -> FunctionError {
        FunctionError("illegal base64 data at input byte \(position)")
    }

    private static let decodeTable: [UInt8?] = {
        var table = [UInt8?](repeating: nil, count: 256)
        for (index, byte) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
            table[Int(byte)] = UInt8(index)
        }
        return table
    }()
}
