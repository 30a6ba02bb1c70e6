import Logging
import ServiceLifecycle

/// `hecd render` as a service that picks up a changed confd folder without a restart: on each reload request
/// (SIGHUP) the folder is read again; new, changed and removed resources take effect by starting a fresh
/// renderer on the new set (it reads every key again and renders what differs). A folder with a problem keeps
/// the running set, and the problem is logged.
public struct ReloadingRenderer: Service {
    let initial: [CompiledResource]
    let load: @Sendable () throws -> [CompiledResource]
    let makeRenderer: @Sendable ([CompiledResource]) -> ConfigRenderer
    let reloadRequests: AsyncStream<Void>
    let logger: Logger

    /// - Parameters:
    ///   - initial: the resources loaded at start.
    ///   - load: reads the folder again; throws its problems.
    ///   - makeRenderer: a renderer for a set of resources.
    ///   - reloadRequests: one element per request (hecd: per SIGHUP).
    public init(
        initial: [CompiledResource], load: @escaping @Sendable () throws -> [CompiledResource],
        makeRenderer: @escaping @Sendable ([CompiledResource]) -> ConfigRenderer, reloadRequests: AsyncStream<Void>,
        logger: Logger
    ) {
        self.initial = initial
        self.load = load
        self.makeRenderer = makeRenderer
        self.reloadRequests = reloadRequests
        self.logger = logger
    }

    public func run() async throws {
        var resources = initial
        while true {
            let renderer = makeRenderer(resources)
            let requests = reloadRequests
            let running = resources.count
            let next: [CompiledResource]? = try await withThrowingTaskGroup(of: [CompiledResource]?.self) { group in
                group.addTask {
                    try await renderer.run()
                    return nil
                }
                group.addTask { [load, logger] in
                    for await _ in requests {
                        do {
                            return try load()
                        } catch {
                            logger.error("reload: the confd folder has problems; the \(running) resource(s) running stay as they are:\n\(error)")
                        }
                    }
                    return nil
                }
                let first = try await group.next() ?? nil
                group.cancelAll()
                return first
            }
            guard let next else { return }
            let before = Set(resources.map(\.resource.file))
            let after = Set(next.map(\.resource.file))
            logger.info("reload: \(next.count) resource(s): \(after.subtracting(before).count) new, \(before.subtracting(after).count) removed, the others read again")
            resources = next
        }
    }
}
