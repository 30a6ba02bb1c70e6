import Logging
import ServiceLifecycle
import UnixSignals

/// SIGHUP (systemd's `ExecReload=/bin/kill -HUP $MAINPID`) calls `reload`: the agent re-reads its manifests and
/// runs a full pass; render renders every resource again. Without this service SIGHUP would end the process.
public struct ReloadSignal: Service {
    let reload: @Sendable () -> Void
    let logger: Logger
    let what: String

    /// - Parameter what: what a reload does, for the log line.
    public init(what: String, logger: Logger, reload: @escaping @Sendable () -> Void) {
        self.what = what
        self.logger = logger
        self.reload = reload
    }

    public func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        await withGracefulShutdownHandler {
            for await _ in signals.cancelOnGracefulShutdown() {
                logger.info("SIGHUP: \(what)")
                reload()
            }
        } onGracefulShutdown: {}
    }
}
