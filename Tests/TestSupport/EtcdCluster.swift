import Foundation
import Glibc
import HTTPTransport

// A real etcd cluster of several members on loopback, for fault tests (TestSupport).
//
//     try await withEtcdCluster(members: 3) { cluster in
//         let client = EtcdClient(endpoints: cluster.clientURLs)
//         let leader = try await cluster.leader()
//         await cluster.kill(leader)
//         …
//     }
//
// Each member is an `EtcdProcess` with free loopback ports and a data directory of its own, started with etcd's
// default election settings (heartbeat 100 ms, election timeout 1000 ms): what users run, and what a failover
// test should measure. Whether the body returns or throws, every member is killed (paused ones too) and every
// directory removed.

/// Runs `body` against a fresh cluster of `members` etcd members and cleans up after it. `arguments` are added
/// to every member's command line.
public func withEtcdCluster<Value>(
    members: Int = 3, arguments: [String] = [], _ body: (EtcdCluster) async throws -> Value
) async throws -> Value {
    let cluster = try await EtcdCluster.start(members: members, arguments: arguments)
    let result: Result<Value, any Error>
    do {
        result = .success(try await body(cluster))
    } catch {
        result = .failure(error)
    }
    await cluster.destroy()
    return try result.get()
}

/// Several etcd members forming one cluster, with the faults a test injects: kill, restart, pause, resume,
/// quorum lost and regained. Members are named by their index in `members`.
public final class EtcdCluster: Sendable {
    public let members: [EtcdProcess]

    /// Every member's client URL, in member order: what a client is given (`--etcd URL,URL,URL`).
    public var clientURLs: [String] { members.map(\.clientURL) }

    init(members: [EtcdProcess]) {
        self.members = members
    }

    /// Starts the members together (none answers `/health` before a majority runs) and waits for all of them.
    /// Ports taken meanwhile by someone else mean a fresh cluster on fresh ports, up to three times.
    static func start(members count: Int, arguments: [String]) async throws -> EtcdCluster {
        var attempt = 0
        while true {
            attempt += 1
            let members = try (0..<count).map { try EtcdProcess(arguments: arguments, name: "m\($0)") }
            let cluster = EtcdCluster(members: members)
            let membership = EtcdProcess.Membership(
                initialCluster: members.map { "\($0.name)=\($0.peerURL)" }.joined(separator: ","),
                token: "hecd-test-\(UUID().uuidString.prefix(8).lowercased())")
            do {
                for member in members {
                    member.membership = membership
                    try member.launch()
                }
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for member in members {
                        group.addTask { try await member.waitUntilHealthy(timeout: .seconds(30)) }
                    }
                    try await group.waitForAll()
                }
                return cluster
            } catch {
                let portsWereTaken = members.contains { $0.portsWereTaken }
                await cluster.destroy()
                guard attempt < 3, portsWereTaken else { throw error }
            }
        }
    }

    /// The index of the member that leads now, as the members report it (`POST /v3/maintenance/status`:
    /// the leader's `member_id` equals its `leader`). Waits up to `timeout` for an election in progress;
    /// paused and killed members are not asked twice.
    public func leader(timeout: Duration = .seconds(15)) async throws -> Int {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let statuses = await withTaskGroup(of: (Int, MemberStatus?).self) { group in
                for (index, member) in members.enumerated() where member.pid != nil {
                    group.addTask { (index, await Self.status(of: member)) }
                }
                var statuses: [Int: MemberStatus] = [:]
                for await (index, status) in group { statuses[index] = status }
                return statuses
            }
            if let leader = statuses.first(where: { $0.value.isLeader })?.key { return leader }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestFailure("no etcd member leads within \(timeout)")
    }

    /// The indices of the members other than `member`.
    public func others(than member: Int) -> [Int] {
        members.indices.filter { $0 != member }
    }

    /// Kills a member at once (SIGKILL: a crash), keeping its ports and data for `restart`.
    public func kill(_ member: Int) async {
        await members[member].crash()
    }

    /// Starts a killed member again on the same ports and data; it rejoins the cluster. Waits until it answers
    /// `/health` (which needs a majority).
    public func restart(_ member: Int, timeout: Duration = .seconds(30)) async throws {
        try await members[member].start(timeout: timeout)
    }

    /// Pauses a member (SIGSTOP): a member that hangs instead of refusing. The kernel still accepts connections
    /// on its ports; nothing answers until `resume`.
    public func pause(_ member: Int) {
        members[member].send(signal: SIGSTOP)
    }

    /// Lets a paused member run again (SIGCONT).
    public func resume(_ member: Int) {
        members[member].send(signal: SIGCONT)
    }

    /// Kills as many members as it takes to leave no majority (two of three), the leader among them, and
    /// returns them; `regainQuorum` starts them again.
    @discardableResult
    public func loseQuorum() async throws -> [Int] {
        let leader = try await leader()
        let killed = [leader] + others(than: leader).prefix(members.count - members.count / 2 - 1)
        for member in killed { await kill(member) }
        return killed
    }

    /// Starts the given killed members again together and waits until each answers (a majority again).
    public func regainQuorum(_ killed: [Int], timeout: Duration = .seconds(30)) async throws {
        for member in killed { try members[member].launch() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for member in killed {
                group.addTask { try await self.members[member].waitUntilHealthy(timeout: timeout) }
            }
            try await group.waitForAll()
        }
    }

    /// Kills every member (paused ones too) and removes their directories.
    func destroy() async {
        for member in members { await member.destroy() }
    }

    // MARK: - Status

    struct MemberStatus {
        let memberID: String
        let leaderID: String?
        var isLeader: Bool { leaderID == memberID }
    }

    /// One member's own view; nil when it does not answer within 500 ms (paused, killed).
    /// Maps to `POST /v3/maintenance/status {}`: `{"header":{"member_id":…},"leader":…}`, ids as decimal strings.
    static func status(of member: EtcdProcess) async -> MemberStatus? {
        let client = HTTPClient(endpoint: .url(member.clientURL))
        let request = HTTPRequest.json(.post, "/v3/maintenance/status", body: Data("{}".utf8), timeout: .milliseconds(500))
        guard let response = try? await client.send(request), response.isSuccess,
            let object = try? JSONSerialization.jsonObject(with: response.body) as? [String: Any],
            let header = object["header"] as? [String: Any], let memberID = header["member_id"] as? String
        else { return nil }
        return MemberStatus(memberID: memberID, leaderID: object["leader"] as? String)
    }
}
