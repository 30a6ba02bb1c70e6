/// A server of a running HAProxy: `BACKEND/NAME`.
public struct ServerReference: Sendable, Hashable, CustomStringConvertible {
    public var backend: String
    public var server: String

    public init(backend: String, server: String) {
        self.backend = backend
        self.server = server
    }

    public var description: String { "\(backend)/\(server)" }
}

/// What `RuntimeUpdater.apply` did.
public struct RuntimeUpdateReport: Sendable, Hashable {
    /// The changes HAProxy took, in order.
    public var applied: [ServerChange] = []
    /// Removed servers left in maintenance because connections were still attached (HAProxy deletes a
    /// server only once its last idle connection is gone): `deleteLeftovers` tries them again later.
    public var undeleted: [ServerReference] = []
    /// The first refusal or socket failure: the running HAProxy is part way, and a reload must finish the job.
    public var failure: String?

    public init() {}
}

/// Carries out server changes through HAProxy's admin socket: the running proxy takes a new server or loses
/// one in a millisecond, with no reload, so no worker is replaced and no connection is closed.
public struct RuntimeUpdater: Sendable {
    public let socket: HAProxyAdminSocket

    public init(socket: HAProxyAdminSocket) {
        self.socket = socket
    }

    /// Applies the changes in order and stops at the first that HAProxy refuses. Blocks: call it inside
    /// `socket.run`.
    public func apply(_ changes: [ServerChange]) -> RuntimeUpdateReport {
        var report = RuntimeUpdateReport()
        do {
            for change in changes {
                switch change {
                case .add(let backend, let server):
                    try add(server, to: backend)
                case .move(let backend, let server, let host, let port):
                    let answer = try socket.execute(
                        AdminCommand(["set", "server", "\(backend)/\(server)", "addr", host, "port", "\(port)"]))
                    guard answer.contains("changed from") || answer.contains("no need to change") else {
                        throw Refusal(command: "set server \(backend)/\(server) addr", answer: answer)
                    }
                case .remove(let backend, let server):
                    let reference = ServerReference(backend: backend, server: server)
                    let answer = try socket.execute(AdminCommand(["disable", "server", reference.description]))
                    if answer.hasPrefix("No such server") { break }  // Already gone.
                    guard answer.isEmpty else { throw Refusal(command: "disable server \(reference)", answer: answer) }
                    if try !delete(reference) { report.undeleted.append(reference) }
                }
                report.applied.append(change)
            }
        } catch let refusal as Refusal {
            report.failure = refusal.description
        } catch {
            report.failure = "\(error)"
        }
        return report
    }

    /// Tries again to delete servers left in maintenance; returns those that still have connections (or that
    /// HAProxy would not delete for another reason). Blocks.
    public func deleteLeftovers(_ servers: [ServerReference]) -> [ServerReference] {
        servers.filter { reference in
            do {
                return try !delete(reference)
            } catch {
                return true
            }
        }
    }

    /// `add server` leaves the new server in maintenance with its checks off; both are switched on here,
    /// unless the line says `disabled`.
    private func add(_ server: HAProxyConfig.Server, to backend: String) throws {
        let reference = "\(backend)/\(server.name)"
        let command = try AdminCommand(["add", "server", reference, server.address] + server.parameters)
        var answer = try socket.execute(command)
        if answer.hasPrefix("Already exists") {
            // The same server, removed a moment ago, still waits in maintenance for its idle connections to
            // close: deleted now if it can go, else taken back at the new address.
            let deletion = try socket.execute(AdminCommand(["del", "server", reference]))
            if Self.isDeleted(deletion) {
                answer = try socket.execute(command)
            } else if deletion.contains("connections attached"), let address = SocketAddress(server.address) {
                answer = try socket.execute(
                    AdminCommand(["set", "server", reference, "addr", address.host, "port", "\(address.port)"]))
                guard answer.contains("changed from") || answer.contains("no need to change") else {
                    throw Refusal(command: "set server \(reference) addr", answer: answer)
                }
                answer = "New server registered"
            }
        }
        guard answer.hasPrefix("New server registered") else { throw Refusal(command: "add server \(reference)", answer: answer) }
        if server.parameters.contains("check") {
            try expectSilence(["enable", "health", reference])
        }
        if server.parameters.contains("agent-check") {
            try expectSilence(["enable", "agent", reference])
        }
        if !server.parameters.contains("disabled") {
            try expectSilence(["enable", "server", reference])
        }
    }

    /// True when the server is gone (deleted now, or not there at all).
    private func delete(_ reference: ServerReference) throws -> Bool {
        Self.isDeleted(try socket.execute(AdminCommand(["del", "server", reference.description])))
    }

    private static func isDeleted(_ answer: String) -> Bool {
        answer.hasPrefix("Server deleted") || answer.hasPrefix("No such server")
    }

    private func expectSilence(_ tokens: [String]) throws {
        let command = try AdminCommand(tokens)
        let answer = try socket.execute(command)
        guard answer.isEmpty else { throw Refusal(command: command.description, answer: answer) }
    }

    private struct Refusal: Error, CustomStringConvertible {
        var command: String
        var answer: String
        var description: String { "HAProxy refused `\(command)`: \(answer.isEmpty ? "(no answer)" : answer)" }
    }
}
