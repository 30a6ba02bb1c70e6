#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import HTTPTransport

extension EtcdClient {
    /// Grants a lease of `ttl` seconds; keys put with it vanish when it expires or is revoked.
    /// Maps to `POST /v3/lease/grant {"TTL": …}`.
    public func grantLease(ttl: Int) async throws(EtcdError) -> EtcdLease {
        let call = "POST /v3/lease/grant"
        let response = try await self.call("/v3/lease/grant", LeaseGrantRequest(ttl: String(ttl)), as: LeaseResponse.self)
        if let error = response.error, !error.isEmpty {
            throw .status(call: call, status: 200, code: nil, message: error)
        }
        guard response.id != 0 else {
            throw .decoding(call: call, body: "", reason: "the answer carries no lease ID")
        }
        return EtcdLease(id: EtcdLeaseID(response.id), ttl: Int(response.ttl ?? Int64(ttl)))
    }

    /// Refreshes a lease once and returns its TTL in seconds, or nil when the lease is gone (expired or
    /// revoked): etcd then answers 200 without a TTL. Keys attached to a lost lease are gone: re-register.
    ///
    /// Each call is one request that etcd answers with one message and closes; several keepalives are never
    /// streamed in one request, whose answers lag by one (etcd-io/etcd#8237).
    /// Maps to `POST /v3/lease/keepalive {"ID": …}`.
    public func keepAlive(_ id: EtcdLeaseID) async throws(EtcdError) -> Int? {
        let call = "POST /v3/lease/keepalive"
        let response = try await post("/v3/lease/keepalive", Self.jsonBody(LeaseIDRequest(id: id)))
        // The answer is one line of a stream: `{"result": {…}}`, or `{"error": {…}}` when etcd failed.
        let firstLine = response.body.split(separator: UInt8(ascii: "\n")).first.map { Data($0) } ?? Data()
        if let error = GatewayError(firstLine) {
            throw .status(call: call, status: response.status, code: error.code, message: error.message)
        }
        let streamed = try Self.decode(StreamedResponse<LeaseResponse>.self, firstLine, call: call)
        guard let result = streamed.result else {
            throw .decoding(call: call, body: response.bodyText, reason: "no result")
        }
        guard let ttl = result.ttl, ttl > 0 else { return nil }
        return Int(ttl)
    }

    /// Revokes a lease and deletes the keys attached to it. Returns false when etcd no longer knew the lease
    /// (already expired or revoked): the keys are gone either way, so that is not an error.
    /// Maps to `POST /v3/lease/revoke {"ID": …}`.
    @discardableResult
    public func revokeLease(_ id: EtcdLeaseID) async throws(EtcdError) -> Bool {
        let response = try await post("/v3/lease/revoke", Self.jsonBody(LeaseIDRequest(id: id)), accept: [404])
        guard response.status == 404 else { return true }
        // 404 code 5 "requested lease not found": what we wanted. Any other 404 is a real error.
        let error = GatewayError(response.body)
        guard error?.code == 5 else { throw Self.statusError(call: "POST /v3/lease/revoke", response: response) }
        return false
    }

    /// A lease's remaining and granted TTL, and its keys when `keys` is true; nil when the lease is gone
    /// (etcd answers TTL -1). Maps to `POST /v3/lease/timetolive {"ID": …, "keys": …}`.
    public func timeToLive(_ id: EtcdLeaseID, keys: Bool = false) async throws(EtcdError) -> EtcdLeaseInfo? {
        let response = try await call(
            "/v3/lease/timetolive", LeaseTimeToLiveRequest(id: id, keys: keys), as: LeaseResponse.self)
        guard let ttl = response.ttl, ttl >= 0 else { return nil }
        return EtcdLeaseInfo(
            id: id, ttl: Int(ttl), grantedTTL: Int(response.grantedTTL),
            keys: response.keys.map { String(decoding: $0, as: UTF8.self) })
    }
}
