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
            .list(try glob(context.store, try args.string(0)).map { .kv(key: $0.key, value: $0.value) }, kind: .kvPairs)
        },
        "getv": BuiltinFunction(.between(1, 2)) { context, args throws(FunctionError) in
            let key = try args.string(0)
            if let value = context.store.get(key) { return .string(value) }
            if args.count == 2 { return .string(try args.string(1)) }
            throw FunctionError("key \(key) not found")
        },
        "getvs": BuiltinFunction(.exactly(1)) { context, args throws(FunctionError) in
            .list(goSorted(try glob(context.store, try args.string(0)).map(\.value)).map { .string($0) }, kind: .strings)
        },
        "ls": BuiltinFunction(.exactly(1)) { context, args throws(FunctionError) in
            .list(list(context.store, try args.string(0), directoriesOnly: false).map { .string($0) }, kind: .strings)
        },
        "lsdir": BuiltinFunction(.exactly(1)) { context, args throws(FunctionError) in
            .list(list(context.store, try args.string(0), directoriesOnly: true).map { .string($0) }, kind: .strings)
        },

        // Paths and strings.
        "base": BuiltinFunction(.exactly(1)) { _, args throws(FunctionError) in .string(GoPath.base(try args.string(0))) },
        "dir": BuiltinFunction(.exactly(1)) { _, args throws(FunctionError) in .string(GoPath.dir(try args.string(0))) },
        "split": BuiltinFunction(.exactly(2), spendsPerValue: true) { context, args throws(FunctionError) in
            let text = try args.string(0)
            let separator = try args.string(1)
            try context.budget.build(GoStrings.splitCount(text, separator: separator), "pieces")
            return .list(GoStrings.split(text, separator: separator).map { .string($0) }, kind: .strings)
        },
        "join": BuiltinFunction(.exactly(2)) { context, args throws(FunctionError) in
            let items = try args.strings(0)
            let separator = try args.string(1)
            let itemBytes = items.reduce(0) { $0 + $1.utf8.count }
            let (separatorBytes, overflow) = max(0, items.count - 1).multipliedReportingOverflow(by: separator.utf8.count)
            try context.budget.fit(overflow ? Int.max : itemBytes + separatorBytes)
            return .string(items.joined(separator: separator))
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
        "replace": BuiltinFunction(.exactly(4)) { context, args throws(FunctionError) in
            let (text, old, new, count) = (try args.string(0), try args.string(1), try args.string(2), try args.int(3))
            try context.budget.fit(GoStrings.replacedByteCount(text, old: old, new: new, count: count))
            return .string(GoStrings.replace(text, old: old, new: new, count: count))
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
        "json": BuiltinFunction(.exactly(1), spendsPerValue: true) { context, args throws(FunctionError) in
            let value = try GoJSON.decode(try args.string(0), budget: context.budget)
            switch value {
            case .map: return value
            case .null: return .map([:], isNil: true)
            default:
                throw FunctionError("json: cannot unmarshal \(GoJSON.kindName(value)) into Go value of type map[string]interface {}")
            }
        },
        "jsonArray": BuiltinFunction(.exactly(1), spendsPerValue: true) { context, args throws(FunctionError) in
            let value = try GoJSON.decode(try args.string(0), budget: context.budget)
            switch value {
            case .list: return value
            case .null: return .list([], isNil: true)
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
        // confd's Reverse: a type switch on []string and []memkv.KVPair, which it reverses in place (the executor
        // writes the result back into a variable passed as the argument); anything else, a KVPairs from gets, a
        // []int from seq or a jsonArray included, is returned as it is.
        "reverse": BuiltinFunction(.exactly(1)) { _, args in
            if case .list(let items, let kind, let isNil) = args[0], kind == .strings || kind == .kvPairSlice {
                return .list(items.reversed(), kind: kind, isNil: isNil)
            }
            return args[0]
        },
        "sortByLength": BuiltinFunction(.exactly(1)) { _, args throws(FunctionError) in
            var values = try args.strings(0)
            GoSort.sort(&values) { $0.utf8.count < $1.utf8.count }
            if case .list(_, _, true) = args[0] { return args[0] }
            return .list(values.map { .string($0) }, kind: .strings)
        },
        "sortKVByLength": BuiltinFunction(.exactly(1)) { _, args throws(FunctionError) in
            guard case .list(let items, let kind, _) = args[0], kind == .kvPairs || kind == .kvPairSlice || items.isEmpty && kind == .interfaces else {
                throw args.mismatch(0, "[]memkv.KVPair")
            }
            var pairs: [(key: String, value: String)] = []
            for item in items {
                guard case .kv(let key, let value) = item else { throw args.mismatch(0, "[]memkv.KVPair") }
                pairs.append((key, value))
            }
            GoSort.sort(&pairs) { $0.key.utf8.count < $1.key.utf8.count }
            return .list(pairs.map { .kv(key: $0.key, value: $0.value) }, kind: .kvPairSlice)
        },
        "seq": BuiltinFunction(.exactly(2), spendsPerValue: true) { context, args throws(FunctionError) in
            let first = try args.int(0)
            let last = try args.int(1)
            guard first <= last else { return .list([], kind: .ints, isNil: true) }
            let (span, overflow) = last.subtractingReportingOverflow(first)
            guard !overflow, span < 10_000_000 else { throw FunctionError("sequence from \(first) to \(last) is too long") }
            try context.budget.build(span + 1, "numbers")
            return .list((first...last).map { .int($0) }, kind: .ints)
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
            // confd's LookupIP returns nil when the lookup fails, LookupIPV4 and V6 nil when nothing matches.
            let addresses = DNS.lookupIP(try args.string(0))
            return .list(addresses.map { .string($0) }, kind: .strings, isNil: addresses.isEmpty)
        },
        "lookupIPV4": BuiltinFunction(.exactly(1)) { _, args throws(FunctionError) in
            let addresses = DNS.lookupIP(try args.string(0)).filter { $0.contains(".") }
            return .list(addresses.map { .string($0) }, kind: .strings, isNil: addresses.isEmpty)
        },
        "lookupIPV6": BuiltinFunction(.exactly(1)) { _, args throws(FunctionError) in
            let addresses = DNS.lookupIP(try args.string(0)).filter { $0.contains(":") }
            return .list(addresses.map { .string($0) }, kind: .strings, isNil: addresses.isEmpty)
        },
        "lookupSRV": BuiltinFunction(.exactly(3)) { _, args throws(FunctionError) in
            do {
                let records = try DNS.lookupSRV(service: try args.string(0), proto: try args.string(1), name: try args.string(2))
                return .list(records.map(\.templateValue), kind: .srvRecords)
            } catch let error as FunctionError {
                throw error
            } catch {
                throw FunctionError("DNS SRV lookups are not supported on this platform (no res_query)")
            }
        },
    ]

    /// Entries matching a `path.Match` glob, sorted by key; only the glob's literal prefix is listed.
    static func glob(_ store: any TemplateStore, _ pattern: String) throws(FunctionError) -> [(key: String, value: String)] {
        let prefix = GoPath.literalPrefix(pattern)
        // The usual pattern, `/app/servers/*`: a literal folder and one star, which matches every key below
        // the folder whose rest has no `/` (what path.Match gives, without matching key by key).
        if pattern.utf8.count == prefix.utf8.count + 1, pattern.utf8.last == UInt8(ascii: "*") {
            let skip = prefix.utf8.count
            return store.entries(withPrefix: prefix).filter { !$0.key.utf8.dropFirst(skip).contains(UInt8(ascii: "/")) }
        }
        var matches: [(key: String, value: String)] = []
        for entry in store.entries(withPrefix: prefix) {
            do {
                if try GoPath.match(pattern, entry.key) { matches.append(entry) }
            } catch {
                throw FunctionError("syntax error in pattern")
            }
        }
        // memkv matches the pattern against each key, so a malformed pattern is an error as soon as there is a
        // key, matching or not, and none in an empty store.
        if !matches.isEmpty || store.isEmpty { return matches }
        do {
            _ = try GoPath.match(pattern, "")
        } catch {
            throw FunctionError("syntax error in pattern")
        }
        return matches
    }

    /// memkv's List (`ls`) and ListDir (`lsdir`), step by step: sorted unique names. `ls` takes, for each key
    /// whose parent folder is `path` cleaned or below it, the first part of the key once the raw `path` is cut
    /// off (so `/app//` and `/app/servers/..` give what memkv gives), and an exact key `path` lists its base
    /// name; `lsdir` takes keys that start with the raw `path` and lists the folder names below the cleaned one.
    static func list(_ store: any TemplateStore, _ path: String, directoriesOnly: Bool) -> [String] {
        // The common case, a clean path other than the root over clean keys, by bytes (what memkv's steps
        // come to there): the part after `path/`, for lsdir only when more follows it.
        if path != "/", GoPath.isCleanAbsolute(path) {
            let prefix = path + "/"
            let prefixLength = prefix.utf8.count
            var names = Set<String>()
            var exceptions: [(key: String, value: String)] = []
            for entry in store.entries(withPrefix: directoriesOnly ? path : prefix) {
                guard GoPath.isCleanAbsolute(entry.key) else {
                    exceptions.append(entry)
                    continue
                }
                guard entry.key.utf8.starts(with: prefix.utf8) else { continue }
                let rest = entry.key.utf8.dropFirst(prefixLength)
                if let slash = rest.firstIndex(of: UInt8(ascii: "/")) {
                    names.insert(String(decoding: rest[..<slash], as: UTF8.self))
                } else if !directoriesOnly {
                    names.insert(String(decoding: rest, as: UTF8.self))
                }
            }
            if !directoriesOnly, store.get(path) != nil { names.insert(GoPath.base(path)) }
            if exceptions.isEmpty { return goSorted(Array(names)) }
        }
        return listStepByStep(store, path, directoriesOnly: directoriesOnly)
    }

    /// memkv's steps for any path and any keys.
    static func listStepByStep(_ store: any TemplateStore, _ path: String, directoriesOnly: Bool) -> [String] {
        let prefixTerms = GoPath.clean(path).split(separator: "/", omittingEmptySubsequences: false)
        func underPrefix(_ key: String) -> [Substring]? {
            let terms = GoPath.clean(GoPath.dir(key)).split(separator: "/", omittingEmptySubsequences: false)
            guard terms.count >= prefixTerms.count, terms.prefix(prefixTerms.count).elementsEqual(prefixTerms) else { return nil }
            return terms
        }
        var names = Set<String>()
        if directoriesOnly {
            for entry in store.entries(withPrefix: path) {
                if let terms = underPrefix(entry.key), terms.count - prefixTerms.count >= 1 {
                    names.insert(String(terms[prefixTerms.count]))
                }
            }
        } else {
            // Every key: one that is not clean (`/./app/x`) can be below the path without starting with it.
            for entry in store.all() where entry.key != path && underPrefix(entry.key) != nil {
                var rest = Substring(entry.key)
                if rest.hasPrefix(path) { rest = rest.dropFirst(path.count) }
                if rest.hasPrefix("/") { rest = rest.dropFirst() }
                names.insert(String(rest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)[0]))
            }
            if store.get(path) != nil { names.insert(GoPath.base(path)) }
        }
        return goSorted(Array(names))
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
