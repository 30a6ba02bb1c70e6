#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

// The gateway's request and answer bodies. Keys and values travel as base64 (`Data` in Codable), int64
// fields as decimal strings; zero and false fields are left out of answers.

struct PutRequest: Encodable {
    var key: Data
    var value: Data
    var lease: String?

    init(key: String, value: String, lease: EtcdLeaseID?) {
        self.key = EtcdKeys.bytes(key)
        self.value = EtcdKeys.bytes(value)
        self.lease = lease.map { String($0.rawValue) }
    }
}

struct RangeRequest: Encodable {
    var key: Data
    var rangeEnd: Data?
    var revision: String?
    var countOnly: Bool?
    /// Read the member's own store, without asking the leader (may be stale).
    var serializable: Bool?

    private enum CodingKeys: String, CodingKey {
        case key, rangeEnd = "range_end", revision, countOnly = "count_only", serializable
    }

    init(key: String) {
        self.key = EtcdKeys.bytes(key)
    }

    init(prefix: String, revision: Int64? = nil, countOnly: Bool = false) {
        key = EtcdKeys.rangeStart(prefix: prefix)
        rangeEnd = EtcdKeys.rangeEnd(prefix: prefix)
        self.revision = revision.map { String($0) }
        self.countOnly = countOnly ? true : nil
    }
}

struct DeleteRangeRequest: Encodable {
    var key: Data
    var rangeEnd: Data?

    private enum CodingKeys: String, CodingKey { case key, rangeEnd = "range_end" }

    init(key: String) {
        self.key = EtcdKeys.bytes(key)
    }

    init(prefix: String) {
        key = EtcdKeys.rangeStart(prefix: prefix)
        rangeEnd = EtcdKeys.rangeEnd(prefix: prefix)
    }
}

extension EtcdRange: Decodable {
    private enum CodingKeys: String, CodingKey { case header, kvs, count, more }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        revision = (try container.decodeIfPresent(ResponseHeader.self, forKey: .header) ?? ResponseHeader()).revision
        kvs = try container.decodeIfPresent([EtcdKeyValue].self, forKey: .kvs) ?? []
        count = Int(try container.int64(.count))
        more = try container.bool(.more)
    }
}

/// An answer that matters only for its header (put, compaction).
struct HeaderResponse: Decodable {
    let header: ResponseHeader

    private enum CodingKeys: String, CodingKey { case header }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        header = try container.decodeIfPresent(ResponseHeader.self, forKey: .header) ?? ResponseHeader()
    }
}

struct DeleteRangeResponse: Decodable {
    let deleted: Int

    private enum CodingKeys: String, CodingKey { case deleted }

    init(from decoder: any Decoder) throws {
        deleted = Int(try decoder.container(keyedBy: CodingKeys.self).int64(.deleted))
    }
}

struct CompactionRequest: Encodable {
    var revision: String
    var physical: Bool?
}

// MARK: Leases

struct LeaseGrantRequest: Encodable {
    var ttl: String
    // The gateway wants the proto field names: `{"ttl": 7}` would be ignored (TTL 0).
    private enum CodingKeys: String, CodingKey { case ttl = "TTL" }
}

struct LeaseIDRequest: Encodable {
    var id: EtcdLeaseID
    private enum CodingKeys: String, CodingKey { case id = "ID" }
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(String(id.rawValue), forKey: .id)
    }
}

struct LeaseTimeToLiveRequest: Encodable {
    var id: EtcdLeaseID
    var keys: Bool
    private enum CodingKeys: String, CodingKey { case id = "ID", keys }
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(String(id.rawValue), forKey: .id)
        try container.encode(keys, forKey: .keys)
    }
}

/// Grant, keepalive and time-to-live answers share these fields; `TTL` is absent when the lease is gone.
struct LeaseResponse: Decodable {
    let id: Int64
    let ttl: Int64?
    let grantedTTL: Int64
    let keys: [Data]
    let error: String?

    private enum CodingKeys: String, CodingKey { case id = "ID", ttl = "TTL", grantedTTL, keys, error }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.int64(.id)
        ttl = container.contains(.ttl) ? try container.int64(.ttl) : nil
        grantedTTL = try container.int64(.grantedTTL)
        keys = try container.decodeIfPresent([Data].self, forKey: .keys) ?? []
        error = try container.decodeIfPresent(String.self, forKey: .error)
    }
}

/// A streamed answer (keepalive, watch): one `{"result": …}` or `{"error": …}` per line.
struct StreamedResponse<Result: Decodable>: Decodable {
    let result: Result?
}

// MARK: Auth

struct AuthenticateRequest: Encodable {
    var name: String
    var password: String
}

struct AuthenticateResponse: Decodable {
    let token: String?
}

// MARK: Watch

struct WatchCreateRequest: Encodable {
    struct Create: Encodable {
        var key: Data
        var rangeEnd: Data
        var startRevision: String?
        var prevKV = true
        var progressNotify = true

        private enum CodingKeys: String, CodingKey {
            case key, rangeEnd = "range_end", startRevision = "start_revision", prevKV = "prev_kv",
                progressNotify = "progress_notify"
        }
    }

    var createRequest: Create

    private enum CodingKeys: String, CodingKey { case createRequest = "create_request" }

    init(prefix: String, startRevision: Int64?) {
        createRequest = Create(
            key: EtcdKeys.rangeStart(prefix: prefix), rangeEnd: EtcdKeys.rangeEnd(prefix: prefix),
            startRevision: startRevision.map { String($0) })
    }
}

/// One message of a watch stream.
struct WatchResponse: Decodable, Sendable {
    var revision: Int64 = 0
    var created = false
    var canceled = false
    var compactRevision: Int64 = 0
    var cancelReason: String?
    var events: [EtcdEvent] = []

    private enum CodingKeys: String, CodingKey {
        case header, created, canceled, compactRevision = "compact_revision", cancelReason = "cancel_reason", events
    }

    init(
        revision: Int64 = 0, created: Bool = false, canceled: Bool = false, compactRevision: Int64 = 0,
        cancelReason: String? = nil, events: [EtcdEvent] = []
    ) {
        self.revision = revision
        self.created = created
        self.canceled = canceled
        self.compactRevision = compactRevision
        self.cancelReason = cancelReason
        self.events = events
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        revision = (try container.decodeIfPresent(ResponseHeader.self, forKey: .header) ?? ResponseHeader()).revision
        created = try container.bool(.created)
        canceled = try container.bool(.canceled)
        compactRevision = try container.int64(.compactRevision)
        cancelReason = try container.decodeIfPresent(String.self, forKey: .cancelReason)
        events = try container.decodeIfPresent([EtcdEvent].self, forKey: .events) ?? []
    }
}
