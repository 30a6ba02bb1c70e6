@testable import Etcd
import Foundation
import HTTPTransport
import Synchronization
import Testing
import TestSupport

/// The client against a real etcd that each test starts on its own ports and data directory (`withEtcd`),
/// checking what a user of etcdctl would see.
@Suite(.timeLimit(.minutes(1))) struct EtcdIntegrationTests {
    /// What a metrics sink is told: one record per request, named as `hecd_etcd_requests_total` names it,
    /// with etcd's own refusal an error and silence unreachable.
    @Test func theObserverIsToldOfEveryRequest() async throws {
        let seen = Mutex<[EtcdRequestRecord]>([])
        let observer: @Sendable (EtcdRequestRecord) -> Void = { record in seen.withLock { $0.append(record) } }
        try await withEtcd { etcd in
            let client = EtcdClient(endpoints: [etcd.clientURL], observer: observer)
            _ = try await client.put("/o/a", "1")
            _ = try await client.range(prefix: "/o/")
            _ = try await client.txn(EtcdTxn(compare: [EtcdCompare("/o/a", .equal, .value("2"))], success: [.put("/o/a", "3")]))
            _ = try await client.delete("/o/a")
            let lease = try await client.grantLease(ttl: 5)
            _ = try await client.keepAlive(lease.id)
            _ = try await client.revokeLease(lease.id)
        }
        #expect(seen.withLock { $0 }.map(\.operation) == ["put", "range", "txn", "delete", "lease_grant", "lease_keepalive", "lease_revoke"])
        #expect(seen.withLock { $0 }.allSatisfy { $0.result == .ok && $0.duration > .zero })

        seen.withLock { $0 = [] }
        let nobody = EtcdClient(endpoints: ["http://127.0.0.1:\(freePort())"], requestTimeout: .milliseconds(500), observer: observer)
        _ = try? await nobody.range(prefix: "/o/")
        #expect(seen.withLock { $0 }.map(\.result) == [.unreachable])
        #expect(EtcdRequestRecord.operation(of: "/v3/kv/deleterange") == "delete")
        #expect(EtcdRequestRecord.operation(of: "/v3/auth/authenticate") == "auth_authenticate")
    }

    @Test func putGetRangeAndDelete() async throws {
        try await withEtcd { etcd in
            let client = EtcdClient(endpoints: [etcd.clientURL])
            let first = try await client.put("/apps/web/1", "10.0.0.1:80")
            let second = try await client.put("/apps/web/2", "10.0.0.2:80")
            try await client.put("/apps/webby", "not under /apps/web/")
            try await client.put("/apps/ünïcode", "✓")
            #expect(second == first + 1)

            let one = try #require(try await client.get("/apps/web/1"))
            #expect(one.value == "10.0.0.1:80")
            #expect(one.createRevision == first)
            #expect(one.version == 1)
            #expect(try await client.get("/apps/none") == nil)
            #expect(try await client.get("/apps/ünïcode")?.value == "✓")

            let range = try await client.range(prefix: "/apps/web/")
            #expect(range.kvs.map(\.key) == ["/apps/web/1", "/apps/web/2"])
            #expect(range.count == 2)
            #expect(range.revision == second + 2)
            #expect(try await client.range(prefix: "").count == 4)
            // What etcdctl sees.
            #expect(try await etcd.etcdctl(["get", "--print-value-only", "/apps/web/2"]) == "10.0.0.2:80")

            // A read at an older revision sees the store as it was.
            #expect(try await client.range(prefix: "/apps/web/", revision: first).kvs.map(\.key) == ["/apps/web/1"])

            try await client.put("/apps/web/1", "10.0.0.9:80")
            #expect(try await client.get("/apps/web/1")?.version == 2)
            #expect(try await client.delete("/apps/none") == 0)
            #expect(try await client.delete(prefix: "/apps/web/") == 2)
            #expect(try await client.range(prefix: "/apps/").kvs.map(\.key) == ["/apps/webby", "/apps/ünïcode"])
            #expect(try await client.count(prefix: "/apps/").count == 2)
        }
    }

    @Test func txnPutIfAbsentAndDeleteIfValue() async throws {
        try await withEtcd { etcd in
            let client = EtcdClient(endpoints: [etcd.clientURL])
            let won = try await client.txn(.putIfAbsent("/locks/leader", "agent-a"))
            #expect(won.succeeded)
            let lost = try await client.txn(.putIfAbsent("/locks/leader", "agent-b"))
            #expect(!lost.succeeded)
            #expect(lost.range?.kvs.first?.value == "agent-a")
            #expect(lost.revision == won.revision)

            #expect(try await client.txn(.deleteIfValue("/locks/leader", equals: "agent-b")).succeeded == false)
            #expect(try await client.get("/locks/leader")?.value == "agent-a")
            let released = try await client.txn(.deleteIfValue("/locks/leader", equals: "agent-a"))
            #expect(released.succeeded)
            #expect(released.responses == [.delete(deleted: 1)])
            #expect(try await client.get("/locks/leader") == nil)

            // Optimistic update: only if nobody changed the key since it was read.
            let revision = try await client.put("/config", "v1")
            let update = EtcdTxn(compare: [.modRevision("/config", equals: revision)], success: [.put("/config", "v2"), .get("/config")])
            let updated = try await client.txn(update)
            #expect(updated.succeeded)
            #expect(updated.range?.kvs.first?.value == "v2")
            #expect(try await client.txn(update).succeeded == false)
        }
    }

    @Test func leaseKeepsKeysAliveUntilRevoked() async throws {
        try await withEtcd { etcd in
            let client = EtcdClient(endpoints: [etcd.clientURL])
            let lease = try await client.grantLease(ttl: 30)
            #expect(lease.ttl == 30)
            try await client.put("/servers/a", "10.0.0.1:80", lease: lease.id)
            #expect(try await client.get("/servers/a")?.lease == lease.id)

            let ttl = try #require(try await client.keepAlive(lease.id))
            #expect((29...30).contains(ttl))
            let info = try #require(try await client.timeToLive(lease.id, keys: true))
            #expect(info.grantedTTL == 30)
            #expect(info.keys == ["/servers/a"])
            // etcdctl prints lease ids in hexadecimal.
            #expect(try await etcd.etcdctl(["lease", "list"]).contains(lease.id.hex))

            #expect(try await client.revokeLease(lease.id) == true)
            #expect(try await client.get("/servers/a") == nil)
            #expect(try await client.revokeLease(lease.id) == false)
            #expect(try await client.keepAlive(lease.id) == nil)
            #expect(try await client.timeToLive(lease.id) == nil)

            do throws(EtcdError) {
                try await client.put("/servers/b", "x", lease: lease.id)
                Issue.record("a put with a revoked lease should fail")
            } catch {
                #expect(error.isNotFound)
            }
        }
    }

    @Test func anExpiredLeaseTakesItsKeysAndKeepAliveSaysSo() async throws {
        try await withEtcd { etcd in
            let client = EtcdClient(endpoints: [etcd.clientURL])
            let lease = try await client.grantLease(ttl: 1)
            try await client.put("/servers/short", "x", lease: lease.id)
            try await waitUntil(timeout: .seconds(10)) { try await client.get("/servers/short") == nil }
            #expect(try await client.keepAlive(lease.id) == nil)
            #expect(try await client.timeToLive(lease.id) == nil)
        }
    }

    @Test func watchSeesChangesInOrderAndResumesAfterARestart() async throws {
        try await withEtcd { etcd in
            let client = EtcdClient(endpoints: [etcd.clientURL])
            let before = try await client.put("/apps/a", "1")
            let watch = WatchRecorder(client.watch(prefix: "/apps/", fromRevision: before + 1, maximumBackoff: .milliseconds(200)))
            defer { watch.stop() }
            try await watch.wait { $0.contains(where: \.isConnected) }

            let put = try await client.put("/apps/b", "2")
            try await client.put("/other", "ignored")
            try await client.put("/apps/b", "3")
            try await client.delete("/apps/a")
            let events = try await watch.waitForEvents(3)
            #expect(events.map(\.kind) == [.put, .put, .delete])
            #expect(events.map(\.kv.key) == ["/apps/b", "/apps/b", "/apps/a"])
            #expect(events.map(\.revision) == [put, put + 2, put + 3])
            #expect(events[1].previous?.value == "2")
            #expect(events[2].previous?.value == "1")

            // Restart etcd on the same data and ports; a change made meanwhile (none here) and after
            // must reach the same watch, with no repeats.
            await etcd.stop()
            try await watch.wait { $0.contains(where: \.isDisconnected) }
            try await etcd.start()
            let afterRestart = try await client.put("/apps/c", "4")
            let all = try await watch.waitForEvents(4)
            #expect(all.count == 4)
            #expect(all.last?.kv.key == "/apps/c")
            #expect(all.last?.revision == afterRestart)
            #expect(watch.updates.filter(\.isConnected).count == 2)
        }
    }

    @Test func aCompactedRevisionAsksForAResyncThenWatchingGoesOn() async throws {
        try await withEtcd { etcd in
            let client = EtcdClient(endpoints: [etcd.clientURL])
            let first = try await client.put("/apps/a", "1")
            try await client.put("/apps/a", "2")
            let third = try await client.put("/apps/b", "3")
            try await client.compact(revision: third)
            await #expect(throws: EtcdError.self) { try await client.range(prefix: "/apps/", revision: first) }

            let watch = WatchRecorder(client.watch(prefix: "/apps/", fromRevision: first))
            defer { watch.stop() }
            let updates = try await watch.wait { $0.contains { $0.resyncRevision != nil } }
            let current = try #require(updates.compactMap(\.resyncRevision).first)
            #expect(current == third)
            // The full re-read a consumer does, at exactly that revision.
            let snapshot = try await client.range(prefix: "/apps/", revision: current)
            #expect(snapshot.kvs.map(\.value) == ["2", "3"])

            let next = try await client.put("/apps/c", "4")
            let events = try await watch.waitForEvents(1)
            #expect(events.map(\.revision) == [next])
        }
    }

    @Test func authenticatesWithAUserAndSaysWhatIsWrongOtherwise() async throws {
        // Simple tokens that expire after 1 s, so that the client has to authenticate again.
        try await withEtcd(arguments: ["--auth-token-ttl", "1"]) { etcd in
            try await etcd.etcdctl(["user", "add", "root:r00t-pass"])
            try await etcd.etcdctl(["user", "add", "reader:reader-pass"])
            try await etcd.etcdctl(["role", "add", "readonly"])
            try await etcd.etcdctl(["role", "grant-permission", "readonly", "read", "/public/", "--prefix=true"])
            try await etcd.etcdctl(["user", "grant-role", "reader", "readonly"])
            try await etcd.etcdctl(["auth", "enable"])

            let root = EtcdClient(endpoints: [etcd.clientURL], credentials: EtcdCredentials(user: "root", password: "r00t-pass"))
            try await root.put("/public/a", "1")
            #expect(try await root.get("/public/a")?.value == "1")
            let firstToken = try #require(root.cachedToken)
            #expect(!firstToken.isEmpty)

            // The token expires; the next call authenticates again and works.
            try await Task.sleep(for: .seconds(2.5))
            #expect(try await root.get("/public/a")?.value == "1")
            #expect(root.cachedToken != firstToken)

            let wrong = EtcdClient(endpoints: [etcd.clientURL], credentials: EtcdCredentials(user: "root", password: "nope"))
            do throws(EtcdError) {
                _ = try await wrong.get("/public/a")
                Issue.record("a wrong password should fail")
            } catch {
                guard case .authentication(let user, _) = error else {
                    Issue.record("expected an authentication error, got \(error)")
                    return
                }
                #expect(user == "root")
                #expect(error.description.contains("check the etcd user name and password"))
            }

            let anonymous = EtcdClient(endpoints: [etcd.clientURL])
            do throws(EtcdError) {
                _ = try await anonymous.get("/public/a")
                Issue.record("a request without a user should fail")
            } catch {
                #expect(error.description.contains("pass an etcd user and password"))
            }

            // A user who may read /public/ only: writes and watches elsewhere are refused.
            let reader = EtcdClient(endpoints: [etcd.clientURL], credentials: EtcdCredentials(user: "reader", password: "reader-pass"))
            #expect(try await reader.get("/public/a")?.value == "1")
            do throws(EtcdError) {
                try await reader.put("/public/a", "2")
                Issue.record("a read-only user should not write")
            } catch {
                #expect(error.isPermissionDenied)
            }
            let allowed = WatchRecorder(reader.watch(prefix: "/public/", fromRevision: nil))
            defer { allowed.stop() }
            try await allowed.wait { $0.contains(where: \.isConnected) }
            try await root.put("/public/b", "2")
            #expect(try await allowed.waitForEvents(1).first?.kv.key == "/public/b")

            let refused = WatchRecorder(reader.watch(prefix: "/private/", fromRevision: nil))
            try await waitUntil { refused.isFinished }
            let failure = try #require(refused.updates.last?.failure)
            #expect(failure.description.contains("permission denied"))
        }
    }

    @Test func credentialsWorkBeforeAndAfterAuthIsEnabled() async throws {
        try await withEtcd { etcd in
            let client = EtcdClient(endpoints: [etcd.clientURL], credentials: EtcdCredentials(user: "root", password: "pw"))
            // Authentication off: etcd says so (412) and requests go without a token.
            try await client.put("/k", "1")
            #expect(client.cachedToken == "")

            try await etcd.etcdctl(["user", "add", "root:pw"])
            try await etcd.etcdctl(["auth", "enable"])
            // etcd now answers 400 "user name is empty": the client authenticates and retries.
            try await client.put("/k", "2")
            #expect(client.cachedToken?.isEmpty == false)
            #expect(try await etcd.etcdctl(["get", "--print-value-only", "/k"], user: "root:pw") == "2")
        }
    }

    @Test func speaksTLSWithAClientCertificate() async throws {
        let certificates = try await TestCertificates.make()
        defer { certificates.remove() }
        try await withEtcd(
            arguments: [
                "--cert-file", certificates.serverCertificate, "--key-file", certificates.serverKey,
                "--trusted-ca-file", certificates.ca, "--client-cert-auth",
            ],
            clientScheme: "https"
        ) { etcd in
            let tls = TLSFiles(caFile: certificates.ca, certificateFile: certificates.clientCertificate, keyFile: certificates.clientKey)
            let client = EtcdClient(endpoints: [etcd.clientURL], tls: tls)
            try await client.put("/tls", "yes")
            #expect(try await client.get("/tls")?.value == "yes")
            let watch = WatchRecorder(client.watch(prefix: "/tls", fromRevision: 1))
            defer { watch.stop() }
            #expect(try await watch.waitForEvents(1).first?.kv.value == "yes")

            // Without the client certificate etcd refuses the handshake: a transport error, not a status.
            let anonymous = EtcdClient(endpoints: [etcd.clientURL], tls: TLSFiles(caFile: certificates.ca))
            await #expect(throws: EtcdError.self) { try await anonymous.get("/tls") }
            do throws(EtcdError) {
                _ = try await anonymous.get("/tls")
            } catch {
                #expect(error.isUnreachable)
            }
        }
    }

    @Test func failsOverFromADeadEndpoint() async throws {
        try await withEtcd { etcd in
            let dead = "http://127.0.0.1:\(EtcdProcess.freePort())"
            let client = EtcdClient(endpoints: [dead, etcd.clientURL])
            try await client.put("/k", "v")
            #expect(client.currentEndpoint == etcd.clientURL)
            #expect(try await client.get("/k")?.value == "v")

            // A watch whose endpoint order starts with the dead one still gets there.
            let watcher = EtcdClient(endpoints: [dead, etcd.clientURL])
            let watch = WatchRecorder(watcher.watch(prefix: "/k", fromRevision: 1, maximumBackoff: .milliseconds(200)))
            defer { watch.stop() }
            #expect(try await watch.waitForEvents(1).first?.kv.value == "v")
        }
    }
}
