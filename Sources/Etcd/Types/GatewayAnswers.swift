#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The client's reading of the gateway's answers without a connection: each function decodes a body exactly as
/// the endpoint that receives it does. What the fuzz targets feed; also a way to replay recorded answers.
public enum EtcdGatewayAnswers {
    /// A range answer, as `get`, `range(prefix:)` and `count(prefix:)` read it (`POST /v3/kv/range`).
    public static func range(_ body: Data) throws(EtcdError) -> EtcdRange {
        try EtcdClient.decode(EtcdRange.self, body, call: "POST /v3/kv/range")
    }

    /// A transaction's answer (`POST /v3/kv/txn`).
    public static func txn(_ body: Data) throws(EtcdError) -> EtcdTxnResult {
        try EtcdClient.decode(EtcdTxnResult.self, body, call: "POST /v3/kv/txn")
    }

    /// A lease answer (grant, time-to-live, or keepalive's one line): the lease's ID and TTL, the TTL nil
    /// when etcd left it out (the lease is gone).
    public static func lease(_ body: Data) throws(EtcdError) -> (id: Int64, ttl: Int64?) {
        if let streamed = try? JSONDecoder().decode(StreamedResponse<LeaseResponse>.self, from: body),
           let result = streamed.result {
            return (result.id, result.ttl)
        }
        let response = try EtcdClient.decode(LeaseResponse.self, body, call: "POST /v3/lease/grant")
        return (response.id, response.ttl)
    }

    /// How the gateway explained a failure (`{"error": …, "code": …}`), nil when the body is not such an answer.
    public static func failure(_ body: Data) -> (code: Int?, message: String)? {
        GatewayError(body).map { ($0.code, $0.message) }
    }

    /// The lines of one watch connection (`POST /v3/watch`) read as the watch loop reads them, resuming at
    /// `fromRevision`: the updates it delivers until a line ends the connection, and the revision the next
    /// connection would ask for.
    public static func watchStream(
        _ lines: [Data], fromRevision: Int64?
    ) -> (updates: [EtcdWatchUpdate], ended: String?, nextRevision: Int64?) {
        var cursor = WatchCursor(fromRevision: fromRevision)
        cursor.connecting()
        var updates: [EtcdWatchUpdate] = []
        for line in lines {
            switch cursor.read(line) {
            case .failure(let error): return (updates, "etcd ended the watch: \(error.message)", cursor.nextRevision)
            case .unreadable(let reason): return (updates, reason, cursor.nextRevision)
            case .step(.deliver(let update)): updates.append(update)
            case .step(.none): continue
            case .step(.compacted(let revision)): return (updates, "compacted; resync at \(revision)", cursor.nextRevision)
            case .step(.reauthenticate(let reason)), .step(.canceled(let reason)): return (updates, reason, cursor.nextRevision)
            }
        }
        return (updates, nil, cursor.nextRevision)
    }
}
