#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A transaction: if every comparison holds, etcd runs `success`, otherwise `failure`, atomically.
public struct EtcdTxn: Sendable, Hashable {
    public var compare: [EtcdCompare]
    public var success: [EtcdOperation]
    public var failure: [EtcdOperation]

    public init(compare: [EtcdCompare], success: [EtcdOperation], failure: [EtcdOperation] = []) {
        self.compare = compare
        self.success = success
        self.failure = failure
    }

    /// Creates `key` only if it does not exist; otherwise reads it, so the answer's `range` shows who holds it.
    public static func putIfAbsent(_ key: String, _ value: String, lease: EtcdLeaseID? = nil) -> EtcdTxn {
        EtcdTxn(compare: [.absent(key)], success: [.put(key, value, lease: lease)], failure: [.get(key)])
    }

    /// Deletes `key` only if its value is `value` (releasing what this client wrote, not someone else's).
    public static func deleteIfValue(_ key: String, equals value: String) -> EtcdTxn {
        EtcdTxn(compare: [.value(key, equals: value)], success: [.delete(key)])
    }
}

/// One comparison of a transaction: `key`'s `target` compared with `result` to the target's value.
public struct EtcdCompare: Sendable, Hashable {
    public enum Target: Sendable, Hashable {
        case value(String)
        case version(Int64)
        case createRevision(Int64)
        case modRevision(Int64)
        /// The key's lease; nil means no lease.
        case lease(EtcdLeaseID?)
    }

    public enum Result: String, Sendable, Hashable {
        case equal = "EQUAL", notEqual = "NOT_EQUAL", greater = "GREATER", less = "LESS"
    }

    public var key: String
    public var result: Result
    public var target: Target

    public init(_ key: String, _ result: Result, _ target: Target) {
        self.key = key
        self.result = result
        self.target = target
    }

    /// The key does not exist (its create revision is 0).
    public static func absent(_ key: String) -> EtcdCompare { EtcdCompare(key, .equal, .createRevision(0)) }
    /// The key exists.
    public static func exists(_ key: String) -> EtcdCompare { EtcdCompare(key, .greater, .createRevision(0)) }
    public static func value(_ key: String, equals value: String) -> EtcdCompare { EtcdCompare(key, .equal, .value(value)) }
    /// Nobody changed the key since `revision` (optimistic concurrency).
    public static func modRevision(_ key: String, equals revision: Int64) -> EtcdCompare {
        EtcdCompare(key, .equal, .modRevision(revision))
    }
}

/// One operation inside a transaction.
public enum EtcdOperation: Sendable, Hashable {
    case put(String, String, lease: EtcdLeaseID? = nil)
    case get(String)
    case range(prefix: String)
    case delete(String)
    case deletePrefix(String)
}

/// What a transaction did.
public struct EtcdTxnResult: Sendable, Hashable {
    /// True when every comparison held and `success` ran.
    public var succeeded: Bool
    /// The store revision after the transaction.
    public var revision: Int64
    /// One result per operation that ran, in order.
    public var responses: [EtcdOperationResult]

    public init(succeeded: Bool, revision: Int64, responses: [EtcdOperationResult]) {
        self.succeeded = succeeded
        self.revision = revision
        self.responses = responses
    }

    /// The first read among the results, e.g. the current holder after a failed `putIfAbsent`.
    public var range: EtcdRange? {
        for response in responses { if case .range(let range) = response { return range } }
        return nil
    }
}

/// The result of one transaction operation.
public enum EtcdOperationResult: Sendable, Hashable {
    case put
    case range(EtcdRange)
    case delete(deleted: Int)
}

// MARK: - Wire form

extension EtcdCompare: Encodable {
    private enum CodingKeys: String, CodingKey {
        case key, result, target, value, version, createRevision = "create_revision", modRevision = "mod_revision", lease
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(EtcdKeys.bytes(key), forKey: .key)
        try container.encode(result.rawValue, forKey: .result)
        switch target {
        case .value(let value):
            try container.encode("VALUE", forKey: .target)
            try container.encode(EtcdKeys.bytes(value), forKey: .value)
        case .version(let version):
            try container.encode("VERSION", forKey: .target)
            try container.encode(String(version), forKey: .version)
        case .createRevision(let revision):
            try container.encode("CREATE", forKey: .target)
            try container.encode(String(revision), forKey: .createRevision)
        case .modRevision(let revision):
            try container.encode("MOD", forKey: .target)
            try container.encode(String(revision), forKey: .modRevision)
        case .lease(let lease):
            try container.encode("LEASE", forKey: .target)
            try container.encode(String(lease?.rawValue ?? 0), forKey: .lease)
        }
    }
}

extension EtcdOperation: Encodable {
    private enum CodingKeys: String, CodingKey {
        case put = "request_put", range = "request_range", delete = "request_delete_range"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .put(let key, let value, let lease):
            try container.encode(PutRequest(key: key, value: value, lease: lease), forKey: .put)
        case .get(let key):
            try container.encode(RangeRequest(key: key), forKey: .range)
        case .range(let prefix):
            try container.encode(RangeRequest(prefix: prefix), forKey: .range)
        case .delete(let key):
            try container.encode(DeleteRangeRequest(key: key), forKey: .delete)
        case .deletePrefix(let prefix):
            try container.encode(DeleteRangeRequest(prefix: prefix), forKey: .delete)
        }
    }
}

extension EtcdTxn: Encodable {}

extension EtcdTxnResult: Decodable {
    private enum CodingKeys: String, CodingKey { case header, succeeded, responses }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        succeeded = try container.bool(.succeeded)
        revision = (try container.decodeIfPresent(ResponseHeader.self, forKey: .header) ?? ResponseHeader()).revision
        responses = try container.decodeIfPresent([EtcdOperationResult].self, forKey: .responses) ?? []
    }
}

extension EtcdOperationResult: Decodable {
    private enum CodingKeys: String, CodingKey {
        case put = "response_put", range = "response_range", delete = "response_delete_range"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let range = try container.decodeIfPresent(EtcdRange.self, forKey: .range) {
            self = .range(range)
        } else if let deleted = try container.decodeIfPresent(DeleteRangeResponse.self, forKey: .delete) {
            self = .delete(deleted: deleted.deleted)
        } else if container.contains(.put) {
            self = .put
        } else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown txn response"))
        }
    }
}
