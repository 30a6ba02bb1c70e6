#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One key of etcd with its value and revisions.
public struct EtcdKeyValue: Sendable, Hashable {
    public var key: String
    public var value: String
    /// The revision of the key's creation; 0 in a delete event.
    public var createRevision: Int64
    /// The revision of the last change to the key.
    public var modRevision: Int64
    /// How many times the key was written since its creation.
    public var version: Int64
    /// The lease the key is attached to, if any.
    public var lease: EtcdLeaseID?

    public init(
        key: String, value: String, createRevision: Int64 = 0, modRevision: Int64 = 0, version: Int64 = 0,
        lease: EtcdLeaseID? = nil
    ) {
        self.key = key
        self.value = value
        self.createRevision = createRevision
        self.modRevision = modRevision
        self.version = version
        self.lease = lease
    }
}

/// The keys a range read found, and the store revision it read at.
public struct EtcdRange: Sendable, Hashable {
    public var kvs: [EtcdKeyValue]
    /// The store revision of the read: watch from `revision + 1` to see every later change.
    public var revision: Int64
    /// How many keys are in the range (more than `kvs.count` when a limit cut the answer).
    public var count: Int
    /// True when a limit left keys out.
    public var more: Bool

    public init(kvs: [EtcdKeyValue], revision: Int64, count: Int, more: Bool = false) {
        self.kvs = kvs
        self.revision = revision
        self.count = count
        self.more = more
    }
}

/// One change seen by a watch.
public struct EtcdEvent: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case put = "PUT", delete = "DELETE"
    }

    public var kind: Kind
    /// The key after the change; a delete carries only the key and its `modRevision`.
    public var kv: EtcdKeyValue
    /// The key before the change, when etcd still had it.
    public var previous: EtcdKeyValue?

    /// The revision of the change.
    public var revision: Int64 { kv.modRevision }

    public init(kind: Kind, kv: EtcdKeyValue, previous: EtcdKeyValue? = nil) {
        self.kind = kind
        self.kv = kv
        self.previous = previous
    }
}

// MARK: - Wire form

extension EtcdKeyValue: Decodable {
    private enum CodingKeys: String, CodingKey {
        case key, value, createRevision = "create_revision", modRevision = "mod_revision", version, lease
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        key = String(decoding: try container.decodeIfPresent(Data.self, forKey: .key) ?? Data(), as: UTF8.self)
        value = String(decoding: try container.decodeIfPresent(Data.self, forKey: .value) ?? Data(), as: UTF8.self)
        createRevision = try container.int64(.createRevision)
        modRevision = try container.int64(.modRevision)
        version = try container.int64(.version)
        let lease = try container.int64(.lease)
        self.lease = lease == 0 ? nil : EtcdLeaseID(lease)
    }
}

extension EtcdEvent: Decodable {
    private enum CodingKeys: String, CodingKey { case type, kv, previous = "prev_kv" }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        // PUT is the zero value of the enum, so the gateway leaves it out.
        let type = try container.decodeIfPresent(String.self, forKey: .type) ?? "PUT"
        guard let kind = Kind(rawValue: type) else {
            throw DecodingError.dataCorruptedError(
                forKey: .type, in: container, debugDescription: "unknown event type \(type)")
        }
        self.kind = kind
        kv = try container.decodeIfPresent(EtcdKeyValue.self, forKey: .kv) ?? EtcdKeyValue(key: "", value: "")
        previous = try container.decodeIfPresent(EtcdKeyValue.self, forKey: .previous)
    }
}

/// The header every answer carries; only its revision matters here.
struct ResponseHeader: Decodable, Sendable {
    var revision: Int64 = 0

    init() {}

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        revision = try container.int64(.revision)
    }

    private enum CodingKeys: String, CodingKey { case revision }
}

extension KeyedDecodingContainer {
    /// An int64 field: the gateway sends a string, leaves zero out, and a number is accepted too.
    func int64(_ key: Key) throws -> Int64 {
        if let text = try? decodeIfPresent(String.self, forKey: key) {
            guard let number = Int64(text) else {
                throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "'\(text)' is not an int64")
            }
            return number
        }
        return try decodeIfPresent(Int64.self, forKey: key) ?? 0
    }

    /// A bool field: false is left out.
    func bool(_ key: Key) throws -> Bool {
        try decodeIfPresent(Bool.self, forKey: key) ?? false
    }
}

/// Keys as etcd sees them: UTF-8 bytes, and the range of all keys under a prefix.
enum EtcdKeys {
    static func bytes(_ key: String) -> Data { Data(key.utf8) }

    /// The first key after every key that starts with `prefix`: the prefix with its last byte incremented
    /// (trailing 0xFF bytes dropped); `\0` (every key) for an empty prefix.
    static func rangeEnd(prefix: String) -> Data {
        var bytes = Array(prefix.utf8)
        while let last = bytes.last {
            if last < 0xFF {
                bytes[bytes.count - 1] = last + 1
                return Data(bytes)
            }
            bytes.removeLast()
        }
        return Data([0])
    }

    /// The start of a prefix range: the prefix itself, or `\0` for every key (etcd rejects an empty key).
    static func rangeStart(prefix: String) -> Data {
        prefix.isEmpty ? Data([0]) : bytes(prefix)
    }
}
