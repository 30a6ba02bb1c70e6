@testable import Etcd
import Foundation
import HTTPTransport
import Synchronization
import Testing
import TestSupport

/// A gateway answer header, revision as a string the way etcd sends it.
private func header(_ revision: Int64) -> String {
    #"{"cluster_id":"324952591200643719","member_id":"3319814642761637952","revision":"\#(revision)","raft_term":"2"}"#
}

private func b64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }

/// The etcd client against a stub gateway on 127.0.0.1: what goes over the wire, and how answers, errors,
/// token refusals and unreachable endpoints are handled.
@Suite struct EtcdClientTests {
    private func client(_ server: StubHTTPServer, credentials: EtcdCredentials? = nil) -> EtcdClient {
        EtcdClient(endpoints: [server.url], credentials: credentials, requestTimeout: .seconds(2))
    }

    // MARK: KV

    @Test func putSendsBase64KeyValueAndLeaseAsString() async throws {
        let server = try StubHTTPServer(.loopbackTCP) { _ in .ok(#"{"header":\#(header(42))}"#) }
        let revision = try await client(server).put("apps/web/1", "10.0.0.1:80", lease: EtcdLeaseID(7_587_000_000_000_000_001))
        #expect(revision == 42)
        let request = try #require(server.requests.first)
        #expect(request.method == "POST")
        #expect(request.path == "/v3/kv/put")
        #expect(request.headers["content-type"] == "application/json")
        #expect(request.headers["authorization"] == nil)
        #expect(request.json?["key"] as? String == "YXBwcy93ZWIvMQ==")
        #expect(request.json?["value"] as? String == b64("10.0.0.1:80"))
        #expect(request.json?["lease"] as? String == "7587000000000000001")
    }

    @Test func getReadsOmittedFieldsAsZeroAndLenientInt64s() async throws {
        let server = try StubHTTPServer(.loopbackTCP) { request in
            if request.json?["key"] as? String == b64("missing") {
                // A missing key: no `kvs`, no `count`.
                return .ok(#"{"header":\#(header(9))}"#)
            }
            // version as a JSON number, lease absent, value omitted (empty).
            return .ok(#"{"header":\#(header(9)),"kvs":[{"key":"\#(b64("a"))","create_revision":"3","mod_revision":"8","version":2}],"count":"1"}"#)
        }
        let etcd = client(server)
        #expect(try await etcd.get("missing") == nil)
        let kv = try #require(try await etcd.get("a"))
        #expect(kv == EtcdKeyValue(key: "a", value: "", createRevision: 3, modRevision: 8, version: 2, lease: nil))
        #expect(server.requests.last?.json?["range_end"] == nil)
    }

    @Test func rangeOfAPrefixSendsItsRangeEnd() async throws {
        let server = try StubHTTPServer(.loopbackTCP) { _ in
            .ok(#"{"header":\#(header(12)),"kvs":[{"key":"\#(b64("a/1"))","create_revision":"2","mod_revision":"2","version":"1","value":"\#(b64("é"))","lease":"99"}],"count":"1"}"#)
        }
        let etcd = client(server)
        let range = try await etcd.range(prefix: "a/")
        #expect(range.revision == 12)
        #expect(range.count == 1)
        #expect(range.more == false)
        #expect(range.kvs.first?.value == "é")
        #expect(range.kvs.first?.lease == EtcdLeaseID(99))
        let request = try #require(server.requests.first)
        #expect(request.json?["key"] as? String == "YS8=")
        #expect(request.json?["range_end"] as? String == "YTA=")

        _ = try await etcd.range(prefix: "", revision: 5)
        let all = try #require(server.requests.last)
        #expect(all.json?["key"] as? String == "AA==")
        #expect(all.json?["range_end"] as? String == "AA==")
        #expect(all.json?["revision"] as? String == "5")
    }

    @Test func rangeEndIncrementsTheLastByte() {
        #expect(EtcdKeys.rangeEnd(prefix: "ab") == Data("ac".utf8))
        #expect(EtcdKeys.rangeEnd(prefix: "a/") == Data("a0".utf8))
        #expect(EtcdKeys.rangeEnd(prefix: "") == Data([0]))
        #expect(EtcdKeys.rangeEnd(prefix: "z\u{7F}") == Data([0x7A, 0x80]))
        // "é" is C3 A9: the last byte becomes AA.
        #expect(EtcdKeys.rangeEnd(prefix: "é") == Data([0xC3, 0xAA]))
    }

    @Test func deleteReturnsTheDeletedCount() async throws {
        let server = try StubHTTPServer(.loopbackTCP) { request in
            request.json?["range_end"] == nil
                ? .ok(#"{"header":\#(header(5))}"#)
                : .ok(#"{"header":\#(header(6)),"deleted":"3"}"#)
        }
        let etcd = client(server)
        #expect(try await etcd.delete("gone") == 0)
        #expect(try await etcd.delete(prefix: "apps/") == 3)
        #expect(server.requests.last?.path == "/v3/kv/deleterange")
        #expect(server.requests.last?.json?["range_end"] as? String == b64("apps0"))
    }

    @Test func txnPutIfAbsentComparesCreateRevisionWithZero() async throws {
        let server = try StubHTTPServer(.loopbackTCP) { _ in
            // A failed comparison: `succeeded` is left out; the failure branch read the holder.
            .ok(#"{"header":\#(header(7)),"responses":[{"response_range":{"header":{"revision":"7"},"kvs":[{"key":"\#(b64("lock"))","create_revision":"4","mod_revision":"4","version":"1","value":"\#(b64("other"))"}],"count":"1"}}]}"#)
        }
        let result = try await client(server).txn(.putIfAbsent("lock", "me", lease: EtcdLeaseID(5)))
        #expect(result.succeeded == false)
        #expect(result.revision == 7)
        #expect(result.range?.kvs.first?.value == "other")

        let body = try #require(server.requests.first?.json)
        #expect(server.requests.first?.path == "/v3/kv/txn")
        let compare = try #require((body["compare"] as? [[String: Any]])?.first)
        #expect(compare["key"] as? String == b64("lock"))
        #expect(compare["target"] as? String == "CREATE")
        #expect(compare["result"] as? String == "EQUAL")
        #expect(compare["create_revision"] as? String == "0")
        let put = try #require((body["success"] as? [[String: Any]])?.first?["request_put"] as? [String: Any])
        #expect(put["value"] as? String == b64("me"))
        #expect(put["lease"] as? String == "5")
        let read = try #require((body["failure"] as? [[String: Any]])?.first?["request_range"] as? [String: Any])
        #expect(read["key"] as? String == b64("lock"))
    }

    @Test func txnDeleteIfValueComparesTheValue() async throws {
        let server = try StubHTTPServer(.loopbackTCP) { _ in
            .ok(#"{"header":\#(header(8)),"succeeded":true,"responses":[{"response_delete_range":{"header":{"revision":"8"},"deleted":"1"}}]}"#)
        }
        let result = try await client(server).txn(.deleteIfValue("lock", equals: "me"))
        #expect(result.succeeded)
        #expect(result.responses == [.delete(deleted: 1)])
        let compare = try #require((server.requests.first?.json?["compare"] as? [[String: Any]])?.first)
        #expect(compare["target"] as? String == "VALUE")
        #expect(compare["value"] as? String == b64("me"))
        let delete = (server.requests.first?.json?["success"] as? [[String: Any]])?.first?["request_delete_range"] as? [String: Any]
        #expect(delete?["key"] as? String == b64("lock"))
    }

    // MARK: Leases

    @Test func grantSendsTTLInUpperCase() async throws {
        let server = try StubHTTPServer(.loopbackTCP) { _ in .ok(#"{"header":\#(header(1)),"ID":"7587868120416335620","TTL":"10"}"#) }
        let lease = try await client(server).grantLease(ttl: 10)
        #expect(lease == EtcdLease(id: EtcdLeaseID(7_587_868_120_416_335_620), ttl: 10))
        #expect(lease.id.hex == "694d85da6fed3704")
        #expect(server.requests.first?.path == "/v3/lease/grant")
        #expect(server.requests.first?.json?["TTL"] as? String == "10")
    }

    @Test func keepAliveReadsTheTTLAndALostLeaseIsNil() async throws {
        let server = try StubHTTPServer(.loopbackTCP) { request in
            request.json?["ID"] as? String == "5"
                ? .ok(#"{"result":{"header":\#(header(3)),"ID":"5","TTL":"10"}}"# + "\n")
                // A lease that expired: still 200, but no TTL.
                : .ok(#"{"result":{"header":\#(header(3)),"ID":"6"}}"# + "\n")
        }
        let etcd = client(server)
        #expect(try await etcd.keepAlive(EtcdLeaseID(5)) == 10)
        #expect(try await etcd.keepAlive(EtcdLeaseID(6)) == nil)
        #expect(server.requests.map(\.path) == ["/v3/lease/keepalive", "/v3/lease/keepalive"])
        #expect(server.requests.first?.body == Data(#"{"ID":"5"}"#.utf8))
    }

    @Test func revokingAnUnknownLeaseIsNotAnError() async throws {
        let server = try StubHTTPServer(.loopbackTCP) { request in
            request.json?["ID"] as? String == "5"
                ? .ok(#"{"header":\#(header(4))}"#)
                : .json(404, #"{"error":"etcdserver: requested lease not found","message":"etcdserver: requested lease not found","code":5}"#)
        }
        let etcd = client(server)
        #expect(try await etcd.revokeLease(EtcdLeaseID(5)) == true)
        #expect(try await etcd.revokeLease(EtcdLeaseID(6)) == false)
    }

    @Test func timeToLiveOfAGoneLeaseIsNil() async throws {
        let server = try StubHTTPServer(.loopbackTCP) { request in
            request.json?["ID"] as? String == "5"
                ? .ok(#"{"header":\#(header(4)),"ID":"5","TTL":"8","grantedTTL":"10","keys":["\#(b64("a/1"))"]}"#)
                : .ok(#"{"header":\#(header(4)),"ID":"6","TTL":"-1"}"#)
        }
        let etcd = client(server)
        #expect(try await etcd.timeToLive(EtcdLeaseID(5), keys: true) == EtcdLeaseInfo(id: EtcdLeaseID(5), ttl: 8, grantedTTL: 10, keys: ["a/1"]))
        #expect(server.requests.first?.json?["keys"] as? Bool == true)
        #expect(try await etcd.timeToLive(EtcdLeaseID(6)) == nil)
    }

    // MARK: Errors

    @Test func errorStatusesCarryTheCallStatusCodeAndMessage() async throws {
        let server = try StubHTTPServer(.loopbackTCP) { _ in
            .json(404, #"{"error":"etcdserver: requested lease not found","message":"etcdserver: requested lease not found","code":5}"#)
        }
        do {
            try await client(server).put("a", "b", lease: EtcdLeaseID(12345))
            Issue.record("expected an error")
        } catch {
            #expect(error == .status(call: "POST /v3/kv/put", status: 404, code: 5, message: "etcdserver: requested lease not found"))
            #expect(error.isNotFound)
            #expect(error.description == "etcd: POST /v3/kv/put answered 404 (code 5): etcdserver: requested lease not found")
        }
    }

    @Test func anUnreadableAnswerIsADecodingError() async throws {
        let server = try StubHTTPServer(.loopbackTCP) { _ in .ok(#"{"header":{"revision":"not a number"}}"#) }
        do {
            try await client(server).put("a", "b")
            Issue.record("expected an error")
        } catch {
            guard case .decoding(let call, let body, _) = error else {
                Issue.record("expected a decoding error, got \(error)")
                return
            }
            #expect(call == "POST /v3/kv/put")
            #expect(body.contains("not a number"))
        }
    }

    // MARK: Auth

    @Test func authenticatesThenReauthenticatesOnceWhenTheTokenIsRefused() async throws {
        let tokens = Atomic<Int>(0)
        let server = try StubHTTPServer(.loopbackTCP) { request in
            switch request.path {
            case "/v3/auth/authenticate":
                let number = tokens.add(1, ordering: .relaxed).newValue
                return .ok(#"{"header":\#(header(1)),"token":"tok\#(number).7"}"#)
            default:
                // The first token "expired".
                return request.headers["authorization"] == "tok1.7"
                    ? .json(401, #"{"error":"etcdserver: invalid auth token","message":"etcdserver: invalid auth token","code":16}"#)
                    : .ok(#"{"header":\#(header(2))}"#)
            }
        }
        let etcd = client(server, credentials: EtcdCredentials(user: "root", password: "s3cret"))
        #expect(try await etcd.get("a") == nil)
        #expect(server.requests.map(\.path) == ["/v3/auth/authenticate", "/v3/kv/range", "/v3/auth/authenticate", "/v3/kv/range"])
        let authenticate = try #require(server.requests.first)
        #expect(authenticate.json?["name"] as? String == "root")
        #expect(authenticate.json?["password"] as? String == "s3cret")
        #expect(authenticate.headers["authorization"] == nil)
        // The token goes raw, not as "Bearer …".
        #expect(server.requests.last?.headers["authorization"] == "tok2.7")

        // The new token is kept.
        _ = try await etcd.get("b")
        #expect(server.requests.count == 5)
        #expect(server.requests.last?.headers["authorization"] == "tok2.7")
    }

    @Test func aTokenRefusedTwiceIsAnErrorNotALoop() async throws {
        let server = try StubHTTPServer(.loopbackTCP) { request in
            request.path == "/v3/auth/authenticate"
                ? .ok(#"{"token":"t"}"#)
                : .json(401, #"{"error":"etcdserver: invalid auth token","message":"etcdserver: invalid auth token","code":16}"#)
        }
        await #expect(throws: EtcdError.status(call: "POST /v3/kv/range", status: 401, code: 16, message: "etcdserver: invalid auth token")) {
            try await client(server, credentials: EtcdCredentials(user: "u", password: "p")).get("a")
        }
        #expect(server.requests.count == 4)
    }

    @Test func aWrongPasswordIsAnAuthenticationError() async throws {
        let server = try StubHTTPServer(.loopbackTCP) { _ in
            .json(400, #"{"error":"etcdserver: authentication failed, invalid user ID or password","message":"etcdserver: authentication failed, invalid user ID or password","code":3}"#)
        }
        do {
            _ = try await client(server, credentials: EtcdCredentials(user: "root", password: "wrong")).get("a")
            Issue.record("expected an error")
        } catch {
            #expect(error == .authentication(user: "root", message: "etcdserver: authentication failed, invalid user ID or password"))
            #expect(error.description.contains("check the etcd user name and password"))
            #expect(!error.description.contains("wrong"))
        }
        #expect(server.requests.map(\.path) == ["/v3/auth/authenticate"])
    }

    // MARK: Endpoints

    @Test func failsOverToTheNextEndpointAndRemembersIt() async throws {
        let server = try StubHTTPServer(.loopbackTCP) { _ in .ok(#"{"header":\#(header(3))}"#) }
        let dead = "http://127.0.0.1:\(EtcdProcess.freePort())"
        let etcd = EtcdClient(endpoints: [dead, server.url])
        #expect(etcd.currentEndpoint == dead)
        #expect(try await etcd.put("a", "1") == 3)
        #expect(etcd.currentEndpoint == server.url)
        #expect(try await etcd.put("a", "2") == 3)
        #expect(server.requests.count == 2)
    }

    @Test func whenNoEndpointAnswersTheErrorNamesThemAll() async throws {
        let first = "http://127.0.0.1:\(EtcdProcess.freePort())"
        let second = "127.0.0.1:\(EtcdProcess.freePort())"
        do {
            _ = try await EtcdClient(endpoints: [first, second]).get("a")
            Issue.record("expected an error")
        } catch {
            guard case .transport(let call, let failures) = error else {
                Issue.record("expected a transport error, got \(error)")
                return
            }
            #expect(call == "POST /v3/kv/range")
            #expect(failures.map(\.endpoint) == [first, "http://" + second])
            #expect(error.isUnreachable)
            #expect(error.description.contains("is etcd running at \(first), http://\(second)? pass --etcd URL[,URL…]"))
        }
        await #expect(throws: EtcdError.transport(call: "POST /v3/kv/range", failures: [])) {
            try await EtcdClient(endpoints: []).get("a")
        }
    }

    @Test func aMemberThatCannotServeNowSendsTheRequestToTheNext() async throws {
        // What a follower answers right after an election (observed on etcd 3.4).
        let failing = try StubHTTPServer(.loopbackTCP) { _ in .json(503, #"{"error":"etcdserver: leader changed","message":"etcdserver: leader changed","code":14}"#) }
        let healthy = try StubHTTPServer(.loopbackTCP) { _ in .ok(#"{"header":\#(header(3))}"#) }
        let etcd = EtcdClient(endpoints: [failing.url, healthy.url])
        #expect(try await etcd.put("a", "1") == 3)
        #expect(healthy.requests.count == 1)
        #expect(healthy.requests.first?.headers["grpc-metadata-hasleader"] == "true", "members without a leader refuse at once")
        #expect(etcd.currentEndpoint == healthy.url)
    }

    @Test func anErrorStatusIsAnAnswerNotAReasonToFailOver() async throws {
        let failing = try StubHTTPServer(.loopbackTCP) { _ in .json(404, #"{"error":"etcdserver: requested lease not found","message":"etcdserver: requested lease not found","code":5}"#) }
        let healthy = try StubHTTPServer(.loopbackTCP) { _ in .ok(#"{"header":\#(header(3))}"#) }
        let etcd = EtcdClient(endpoints: [failing.url, healthy.url])
        await #expect(throws: EtcdError.status(call: "POST /v3/kv/put", status: 404, code: 5, message: "etcdserver: requested lease not found")) {
            try await etcd.put("a", "1", lease: EtcdLeaseID(7))
        }
        #expect(healthy.requests.isEmpty)
        #expect(etcd.currentEndpoint == failing.url)
    }

    @Test func whenNoMemberHasALeaderTheErrorSaysSoWithinTheRequestTimeout() async throws {
        let noLeader = #"{"error":"etcdserver: no leader","message":"etcdserver: no leader","code":14}"#
        let first = try StubHTTPServer(.loopbackTCP) { _ in .json(503, noLeader) }
        let second = try StubHTTPServer(.loopbackTCP) { _ in .json(503, noLeader) }
        let etcd = EtcdClient(endpoints: [first.url, second.url], requestTimeout: .seconds(2))
        let started = ContinuousClock.now
        do {
            try await etcd.put("a", "1")
            Issue.record("expected an error")
        } catch {
            #expect(ContinuousClock.now - started < .seconds(4), "bounded by the request timeout")
            #expect(error.isUnreachable)
            #expect(error.description.contains("etcdserver: no leader"))
            #expect(error.description.contains("a majority of its members must run"))
        }
        // Retried in rounds with pauses, not in a busy loop.
        #expect(first.requests.count + second.requests.count <= 20)
    }

    @Test func aSilentMemberIsHedgedAndThenTriedLast() async throws {
        let hung = try HungListener()
        let healthy = try StubHTTPServer(.loopbackTCP) { _ in .ok(#"{"header":\#(header(3))}"#) }
        let etcd = EtcdClient(endpoints: ["http://127.0.0.1:\(hung.port)", healthy.url], requestTimeout: .seconds(5))
        let started = ContinuousClock.now
        #expect(try await etcd.put("a", "1") == 3)
        #expect(ContinuousClock.now - started < .seconds(2), "answered by the other member long before the request timeout")
        #expect(etcd.currentEndpoint == healthy.url)
        #expect(try await etcd.put("a", "2") == 3)
        #expect(healthy.requests.count == 2)
    }
}
