@testable import Etcd
import Foundation
import Synchronization
import Testing
import TestSupport

private func b64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }

private func result(_ revision: Int64?, _ fields: String) -> String {
    let header = revision.map { #"{"cluster_id":"1","member_id":"2","revision":"\#($0)","raft_term":"2"}"# }
        ?? #"{"cluster_id":"1","member_id":"2","raft_term":"2"}"#
    return #"{"result":{"header":\#(header)\#(fields.isEmpty ? "" : ",")\#(fields)}}"#
}

private func created(_ revision: Int64) -> String { result(revision, #""created":true"#) }

private func putEvent(_ key: String, _ value: String, revision: Int64, created: Int64? = nil) -> String {
    #"{"kv":{"key":"\#(b64(key))","create_revision":"\#(created ?? revision)","mod_revision":"\#(revision)","version":"1","value":"\#(b64(value))"}}"#
}

/// Watches against a stub gateway: the request, how messages are read, and what happens on drops,
/// compaction, cancellation and refused tokens.
@Suite struct EtcdWatchTests {
    @Test func readsCreatedPutsAndDeletesWithAndWithoutType() async throws {
        let server = try StubHTTPServer(.loopbackTCP) { _ in
            .lines([
                created(3),
                // PUT events carry no `type`; a delete carries only key and mod_revision, plus prev_kv.
                result(4, #""events":[\#(putEvent("apps/web", "1", revision: 4))]"#),
                result(6, #""events":[{"type":"DELETE","kv":{"key":"\#(b64("apps/web"))","mod_revision":"5"},"prev_kv":{"key":"\#(b64("apps/web"))","create_revision":"4","mod_revision":"4","version":"1","value":"\#(b64("1"))"}},\#(putEvent("apps/db", "2", revision: 6))]"#),
            ], holdOpen: .seconds(5))
        }
        let etcd = EtcdClient(endpoints: [server.url])
        let recorder = WatchRecorder(etcd.watch(prefix: "apps/", fromRevision: nil))
        defer { recorder.stop() }
        let updates = try await recorder.wait { $0.count >= 3 }
        #expect(updates.first == .connected(revision: 3))
        guard case .events(let first, 4) = updates[1], case .events(let second, 6) = updates[2] else {
            Issue.record("unexpected updates \(updates)")
            return
        }
        #expect(first == [EtcdEvent(kind: .put, kv: EtcdKeyValue(key: "apps/web", value: "1", createRevision: 4, modRevision: 4, version: 1))])
        #expect(second.map(\.kind) == [.delete, .put])
        #expect(second.map(\.revision) == [5, 6])
        #expect(second[0].kv.key == "apps/web")
        #expect(second[0].previous?.value == "1")

        let create = try #require(server.requests.first?.createRequest)
        #expect(server.requests.first?.path == "/v3/watch")
        #expect(create["key"] as? String == b64("apps/"))
        #expect(create["range_end"] as? String == b64("apps0"))
        #expect(create["start_revision"] == nil)
        #expect(create["prev_kv"] as? Bool == true)
        #expect(create["progress_notify"] as? Bool == true)
    }

    @Test func resumesAfterTheLastRevisionWhenTheConnectionDrops() async throws {
        let connections = Atomic<Int>(0)
        let server = try StubHTTPServer(.loopbackTCP) { _ in
            switch connections.add(1, ordering: .relaxed).newValue {
            case 1: .lines([created(10), result(11, #""events":[\#(putEvent("k/a", "1", revision: 11))]"#)])
            case 2: .lines([created(11)])  // dropped again before any event
            default: .lines([created(12), result(12, #""events":[\#(putEvent("k/b", "2", revision: 12))]"#)], holdOpen: .seconds(5))
            }
        }
        let etcd = EtcdClient(endpoints: [server.url])
        let recorder = WatchRecorder(etcd.watch(prefix: "k/", fromRevision: 10, maximumBackoff: .milliseconds(50)))
        defer { recorder.stop() }
        let events = try await recorder.waitForEvents(2)
        #expect(events.map(\.kv.key) == ["k/a", "k/b"])
        #expect(recorder.updates.contains { $0.isDisconnected })
        let starts = server.requests(to: "/v3/watch").map { $0.createRequest?["start_revision"] as? String }
        #expect(starts == ["10", "12", "12"])
    }

    @Test func fromNowResumesAfterTheCreatedRevision() async throws {
        let connections = Atomic<Int>(0)
        let server = try StubHTTPServer(.loopbackTCP) { _ in
            connections.add(1, ordering: .relaxed).newValue == 1
                ? .lines([created(20)])
                : .lines([created(25)], holdOpen: .seconds(5))
        }
        let recorder = WatchRecorder(EtcdClient(endpoints: [server.url]).watch(prefix: "k/", fromRevision: nil, maximumBackoff: .milliseconds(50)))
        defer { recorder.stop() }
        try await recorder.wait { $0.filter(\.isConnected).count >= 2 }
        let starts = server.requests(to: "/v3/watch").map { $0.createRequest?["start_revision"] as? String }
        #expect(starts == [nil, "21"])
    }

    @Test func aCompactedStartRevisionAsksForAResync() async throws {
        let connections = Atomic<Int>(0)
        let server = try StubHTTPServer(.loopbackTCP) { _ in
            connections.add(1, ordering: .relaxed).newValue == 1
                // etcd 3.4: created (with the current revision), then canceled without a header revision,
                // and the connection stays open.
                ? .lines([created(7), result(nil, #""canceled":true,"compact_revision":"5""#)], holdOpen: .seconds(30))
                : .lines([created(7), result(8, #""events":[\#(putEvent("k/a", "x", revision: 8))]"#)], holdOpen: .seconds(5))
        }
        let recorder = WatchRecorder(EtcdClient(endpoints: [server.url]).watch(prefix: "k/", fromRevision: 2))
        defer { recorder.stop() }
        try await recorder.waitForEvents(1)
        let updates = recorder.updates
        #expect(updates.compactMap(\.resyncRevision) == [7])
        #expect(!updates.contains { $0.isDisconnected })
        let starts = server.requests(to: "/v3/watch").map { $0.createRequest?["start_revision"] as? String }
        #expect(starts == ["2", "8"])
        // The canceled stream was closed by the client, not left open.
        try await waitUntil(timeout: .seconds(30)) { server.streamsClosedByClient >= 1 }
    }

    @Test func aPermissionErrorEndsTheWatch() async throws {
        let server = try StubHTTPServer(.loopbackTCP) { _ in
            .lines([result(7, #""watch_id":"-1","created":true,"canceled":true,"cancel_reason":"rpc error: code = PermissionDenied desc = etcdserver: permission denied""#)], holdOpen: .seconds(5))
        }
        let recorder = WatchRecorder(EtcdClient(endpoints: [server.url]).watch(prefix: "secret/", fromRevision: nil))
        try await waitUntil { recorder.isFinished }
        let failure = try #require(recorder.updates.last?.failure)
        #expect(failure == .watchCanceled(prefix: "secret/", reason: "rpc error: code = PermissionDenied desc = etcdserver: permission denied"))
        #expect(failure.description.contains("grant the etcd user read access"))
        #expect(server.requests.count == 1)
    }

    @Test func aRefusedTokenIsRenewedAndTheWatchReconnects() async throws {
        let tokens = Atomic<Int>(0)
        let server = try StubHTTPServer(.loopbackTCP) { request in
            if request.path == "/v3/auth/authenticate" {
                return .ok(#"{"token":"tok\#(tokens.add(1, ordering: .relaxed).newValue)"}"#)
            }
            // The gateway answers a watch with a bad token with 200 and a canceled message.
            return request.headers["authorization"] == "tok1"
                ? .lines([result(7, #""watch_id":"-1","created":true,"canceled":true,"cancel_reason":"rpc error: code = Unauthenticated desc = etcdserver: invalid auth token""#)], holdOpen: .seconds(5))
                : .lines([created(7)], holdOpen: .seconds(5))
        }
        let etcd = EtcdClient(endpoints: [server.url], credentials: EtcdCredentials(user: "u", password: "p"))
        let recorder = WatchRecorder(etcd.watch(prefix: "k/", fromRevision: nil))
        defer { recorder.stop() }
        try await recorder.wait { $0.contains(where: \.isConnected) }
        #expect(server.requests.map(\.path) == ["/v3/auth/authenticate", "/v3/watch", "/v3/auth/authenticate", "/v3/watch"])
        #expect(server.requests.last?.headers["authorization"] == "tok2")
        #expect(recorder.updates == [.connected(revision: 7)])
    }

    @Test func withoutCredentialsAnAuthRefusalEndsTheWatchWithAHint() async throws {
        let server = try StubHTTPServer(.loopbackTCP) { _ in
            .lines([result(7, #""watch_id":"-1","created":true,"canceled":true,"cancel_reason":"rpc error: code = InvalidArgument desc = etcdserver: user name is empty""#)], holdOpen: .seconds(5))
        }
        let recorder = WatchRecorder(EtcdClient(endpoints: [server.url]).watch(prefix: "k/", fromRevision: nil))
        try await waitUntil { recorder.isFinished }
        let failure = try #require(recorder.updates.last?.failure)
        #expect(failure.description.contains("pass an etcd user and password"))
    }

    @Test func aProgressNotificationMovesTheResumePointOnlyOnceCreated() {
        var cursor = WatchCursor(fromRevision: 5)
        #expect(cursor.receive(WatchResponse(revision: 9)) == .none)
        #expect(cursor.nextRevision == 5)
        #expect(cursor.receive(WatchResponse(revision: 9, created: true)) == .deliver(.connected(revision: 9)))
        #expect(cursor.nextRevision == 5)
        #expect(cursor.receive(WatchResponse(revision: 12)) == .none)
        #expect(cursor.nextRevision == 13)
    }
}

/// Polls `condition` every 10 ms for up to `timeout`.
func waitUntil(timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        guard ContinuousClock.now < deadline else {
            Issue.record("condition not met within \(timeout)")
            return
        }
        try await Task.sleep(for: .milliseconds(10))
    }
}
