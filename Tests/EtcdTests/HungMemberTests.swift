import Etcd
import Foundation
import Glibc
import Registry
import Testing
import TestSupport

/// A member that accepts connections and never answers (a SIGSTOPped etcd looks like this from outside: the
/// kernel still completes the TCP handshake) must not cost an agent its lease.
@Suite(.timeLimit(.minutes(1))) struct HungMemberTests {
    @Test(arguments: [3, 5, 10])
    func aKeepaliveThatMeetsAHungMemberStillRenewsTheLease(ttl: Int) async throws {
        let hung = try HungListener()
        try await withEtcd { etcd in
            let lease = try await EtcdClient(endpoints: [etcd.clientURL]).grantLease(ttl: ttl)
            // The agent's client, as `hecd agent --ttl TTL --etcd HUNG,LIVE` builds it.
            let client = EtcdClient(
                endpoints: ["http://127.0.0.1:\(hung.port)", etcd.clientURL],
                requestTimeout: Registry.requestTimeout(ttl: ttl))
            // The agent sends a keepalive every TTL/3; this one goes to the hung member first.
            try await Task.sleep(for: .milliseconds(ttl * 1000 / 3))
            let sent = ContinuousClock.now
            let renewed = try await client.keepAlive(lease.id)
            let took = ContinuousClock.now - sent
            #expect(renewed == ttl, "the lease is still alive and renewed to its full TTL")
            #expect(took + .milliseconds(ttl * 1000 / 3) < .seconds(ttl),
                    "the keepalive took \(took) behind the hung member: the lease would have expired")
            #expect(client.currentEndpoint == etcd.clientURL, "later requests go straight to the live member")
        }
    }
}

/// A loopback port that accepts connections into its backlog and never reads them.
final class HungListener {
    let port: Int
    private let socket: Int32

    init() throws {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.socket = socket
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(socket, 64) == 0 else {
            close(socket)
            throw TestFailure("cannot listen: errno \(errno)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) }
        }
        self.port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(socket) }
}
