/// The key-value data templates read through `get`, `gets`, `getv`, `getvs`, `ls`, `lsdir` and `exists`.
///
/// Keys are absolute paths such as `/app/servers/web-1`. Prefix listing is the one query the functions need:
/// globs are answered by listing their literal prefix, directories by listing `dir + "/"`.
public protocol TemplateStore: Sendable {
    /// The value stored under exactly `key`.
    func get(_ key: String) -> String?
    /// Every entry whose key starts with `prefix` (`""` lists all), sorted by key byte-wise.
    func entries(withPrefix prefix: String) -> [(key: String, value: String)]
}

extension TemplateStore {
    /// Every entry, sorted by key.
    public func all() -> [(key: String, value: String)] { entries(withPrefix: "") }

    /// Whether the store holds no key at all.
    public var isEmpty: Bool { entries(withPrefix: "").isEmpty }
}

/// An immutable in-memory store: keys kept sorted so prefix listings are a binary search and a scan.
public struct MemoryStore: TemplateStore {
    /// Sorted, with `sortedValues` in the same order: a listing reads both without hashing a key.
    private let keys: [String]
    private let sortedValues: [String]
    private let values: [String: String]

    public init(_ values: [String: String]) {
        self.values = values
        var keys: [String] = []
        var unsortedValues: [String] = []
        keys.reserveCapacity(values.count)
        unsortedValues.reserveCapacity(values.count)
        for (key, value) in values {
            keys.append(key)
            unsortedValues.append(value)
        }
        let order = goOrder(keys)
        self.keys = order.map { keys[$0] }
        sortedValues = order.map { unsortedValues[$0] }
    }

    public func get(_ key: String) -> String? { values[key] }

    public var isEmpty: Bool { keys.isEmpty }

    public func entries(withPrefix prefix: String) -> [(key: String, value: String)] {
        var low = 0
        var high = keys.count
        while low < high {
            let middle = (low + high) / 2
            if goLess(keys[middle], prefix) { low = middle + 1 } else { high = middle }
        }
        var result: [(key: String, value: String)] = []
        var index = low
        while index < keys.count, keys[index].utf8.starts(with: prefix.utf8) {
            let key = keys[index]
            result.append((key: key, value: sortedValues[index]))
            index += 1
        }
        return result
    }
}
