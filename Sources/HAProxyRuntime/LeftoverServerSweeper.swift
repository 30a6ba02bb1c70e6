#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ServiceLifecycle
import Synchronization

/// Deletes the servers that the runtime API took out of a running HAProxy while connections were still
/// attached to them (HAProxy keeps idle kept-alive connections to a server for a while): once a round
/// (`interval`), each is tried again until its last connection has closed. A service of its own: run it next to
/// whatever makes the runtime changes.
public final class LeftoverServerSweeper: Service, Sendable {
    /// Servers still in maintenance, by the path of the config file they were removed from.
    private let pending = Mutex<[String: [ServerReference]]>([:])
    private let interval: Duration
    private let deleted: @Sendable (_ configPath: String, _ servers: [ServerReference]) -> Void

    /// - Parameter deleted: told which servers went, per config file (e.g. to log them).
    public init(
        interval: Duration = .seconds(1),
        deleted: @escaping @Sendable (_ configPath: String, _ servers: [ServerReference]) -> Void = { _, _ in }
    ) {
        self.interval = interval
        self.deleted = deleted
    }

    /// Servers the runtime API left in maintenance in the HAProxy that runs `configPath`.
    public func add(_ servers: [ServerReference], configPath: String) {
        guard !servers.isEmpty else { return }
        pending.withLock { $0[configPath, default: []] += servers }
    }

    /// HAProxy was reloaded with `configPath`: a reload leaves no server of an old file behind.
    public func reloaded(configPath: String) {
        _ = pending.withLock { $0.removeValue(forKey: configPath) }
    }

    /// The servers still waiting for their connections to close.
    public func waiting(configPath: String) -> [ServerReference] {
        pending.withLock { $0[configPath] ?? [] }
    }

    /// Sweeps every `interval` until cancelled.
    public func run() async throws {
        while true {
            try await Task.sleep(for: interval)
            await sweep()
        }
    }

    /// One round: deletes every waiting server whose connections have closed.
    public func sweep() async {
        for (configPath, servers) in pending.withLock({ $0 }) {
            guard let text = try? String(contentsOfFile: configPath, encoding: .utf8) else { continue }
            let config = HAProxyConfig(text)
            // A server that is back in the file belongs to HAProxy again.
            let inFile = Set(config.sections.flatMap { section in
                section.servers.map { ServerReference(backend: section.name ?? "", server: $0.name) }
            })
            let candidates = servers.filter { !inFile.contains($0) }
            var gone: [ServerReference] = []
            if let path = config.adminSocketPath, !candidates.isEmpty {
                let updater = RuntimeUpdater(socket: HAProxyAdminSocket(path: path))
                let remaining = await updater.socket.run { _ in updater.deleteLeftovers(candidates) }
                gone = candidates.filter { !remaining.contains($0) }
            } else {
                gone = candidates  // No admin socket any more: nothing left to do.
            }
            pending.withLock { pending in
                pending[configPath]?.removeAll { inFile.contains($0) || gone.contains($0) }
                if pending[configPath]?.isEmpty == true { pending[configPath] = nil }
            }
            if !gone.isEmpty { deleted(configPath, gone) }
        }
    }
}
