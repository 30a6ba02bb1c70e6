#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import Cluster
import Primitives
import Registry
import ServiceLifecycle
import Synchronization

/// What the status page shows of the whole cluster: `hecd status`'s report and, when cluster mode is in use,
/// its scheduler and slots.
public struct ClusterStatus: Sendable {
    public var report: StatusReport
    /// Nil when it could not be read; empty (no candidate, no slot) without cluster mode.
    public var snapshot: ClusterSnapshot?

    public init(report: StatusReport, snapshot: ClusterSnapshot?) {
        self.report = report
        self.snapshot = snapshot
    }
}

/// Proof that the process's async loop is alive: beaten every second by `OperationsService`; `/healthz` and the
/// systemd watchdog ask whether the last beat is recent.
public final class Heartbeat: Sendable {
    private let last = Mutex(ContinuousClock.now)

    public init() {}

    func beat() { last.withLock { $0 = .now } }

    /// The time since the last beat.
    public var age: Duration { ContinuousClock.now - last.withLock { $0 } }
}

/// The operations side of `hecd agent` and `hecd render`: the listener behind `--metrics-addr` (`/metrics`,
/// `/healthz`, `/readyz`, `/`), and systemd's notify protocol: READY=1 once the first full pass or render is
/// done, WATCHDOG=1 at half `WatchdogSec=` while the loop is alive, STATUS= when the summary changes, and
/// STOPPING=1 when a graceful shutdown begins. Put it last in the service group, so that it is told of the
/// shutdown first.
public final class OperationsService: Service {
    public let metrics: HECDMetrics
    public let view: any OperationsView
    public let heartbeat = Heartbeat()
    let notifier: SystemdNotifier
    let changed: WakeSignal
    let logger: Logger
    let title: String
    private let listener: Mutex<OperationsListener?> = Mutex(nil)
    /// Reads every agent's record and the keys from etcd (what `hecd status` shows), and cluster mode's state;
    /// nil without etcd.
    let cluster: (@Sendable () async throws -> ClusterStatus)?
    /// The last cluster view (HTML) and when the page was last asked for: etcd is read only while someone looks.
    private let clusterView = Mutex<(html: String, lastAsked: ContinuousClock.Instant?)>(("", nil))
    private let clusterWanted = WakeSignal()
    /// How old the heartbeat may be for `/healthz` (and the watchdog) to call the process alive.
    static let maximumBeatAge = Duration.seconds(10)

    /// - Parameters:
    ///   - changed: signalled by `view` when its state changes (for READY=1 and STATUS=).
    ///   - title: names the process on the status page, e.g. `hecd agent on host-1`.
    ///   - cluster: reads the cluster's state for the status page (every 5 s while the page is looked at).
    public init(
        metrics: HECDMetrics, view: any OperationsView, notifier: SystemdNotifier, changed: WakeSignal, title: String,
        logger: Logger, cluster: (@Sendable () async throws -> ClusterStatus)? = nil
    ) {
        self.cluster = cluster
        self.metrics = metrics
        self.view = view
        self.notifier = notifier
        self.changed = changed
        self.title = title
        self.logger = logger
    }

    /// Starts the listener on `address`; returns the address it listens on (the port filled in).
    @discardableResult
    public func listen(on address: String) throws(OperationsError) -> String {
        let listener = try OperationsListener(address: address) { [self] path in self.respond(to: path) }
        self.listener.withLock { $0 = listener }
        return listener.address
    }

    /// Stops the listener (after the service group has stopped).
    public func stopListening() {
        listener.withLock { $0?.stop() }
    }

    /// The answer to a GET of `path`.
    public func respond(to path: String) -> OperationsResponse {
        switch path {
        case "/metrics":
            return OperationsResponse(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: metrics.exposition())
        case "/healthz":
            let age = heartbeat.age
            return age < Self.maximumBeatAge
                ? OperationsResponse(status: 200, text: "ok\n")
                : OperationsResponse(status: 503, text: "the process loop has not run for \(age.wholeMilliseconds) ms\n")
        case "/readyz":
            let reasons = view.notReadyReasons()
            return reasons.isEmpty
                ? OperationsResponse(status: 200, text: "ready\n")
                : OperationsResponse(status: 503, text: reasons.map { "not ready: \($0)\n" }.joined())
        case "/":
            var body = view.statusHTML()
            if cluster != nil {
                let (html, lastAsked) = clusterView.withLock { view in
                    defer { view.lastAsked = .now }
                    return view
                }
                if lastAsked.map({ ContinuousClock.now - $0 > .seconds(5) }) ?? true { clusterWanted.signal() }
                body += html.isEmpty ? "<h2>Cluster</h2>\n<p>Reading etcd…</p>\n" : html
            }
            return OperationsResponse(status: 200, contentType: "text/html; charset=utf-8", text: StatusPage.html(
                title: title, body: body, generatedAt: Date().timeIntervalSince1970))
        default:
            return OperationsResponse(status: 404, text: "not found: try /metrics, /healthz, /readyz or /\n")
        }
    }

    public func run() async throws {
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                if cluster != nil { group.addTask { await self.followCluster() } }
                await loop()
                group.cancelAll()
            }
        } onGracefulShutdown: { [self] in
            notifier.notify("STOPPING=1", "STATUS=stopping")
            changed.signal()
        }
    }

    /// Reads the cluster's state every 5 s while the status page was asked for in the last 30 s.
    private func followCluster() async {
        guard let cluster else { return }
        while !Task.isCancelled {
            let lastAsked = clusterView.withLock { $0.lastAsked }
            guard let lastAsked, ContinuousClock.now - lastAsked < .seconds(30) else {
                await clusterWanted.wait()
                continue
            }
            let html: String
            do {
                html = StatusPage.clusterHTML(try await cluster(), at: Date().timeIntervalSince1970)
            } catch is CancellationError {
                return
            } catch {
                html = "<h2>Cluster</h2>\n<p class=\"problem\">Cannot read etcd: \(htmlEscaped("\(error)"))</p>\n"
            }
            clusterView.withLock { $0.html = html }
            await clusterWanted.wait(timeout: .seconds(5))
        }
    }

    private func loop() async {
        let clock = ContinuousClock()
        var ready = false
        var lastStatus = ""
        var nextWatchdog = clock.now
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            heartbeat.beat()
            if !ready, view.firstCycleDone {
                ready = true
                let status = SystemdNotifier.statusValue(view.statusLine())
                notifier.notify("READY=1", "STATUS=" + status)
                lastStatus = status
                logger.debug("ready: told systemd READY=1")
            }
            let status = SystemdNotifier.statusValue(view.statusLine())
            if status != lastStatus, notifier.isActive {
                notifier.notify("STATUS=" + status)
                lastStatus = status
            }
            if let interval = notifier.watchdogInterval, clock.now >= nextWatchdog {
                notifier.notify("WATCHDOG=1")
                nextWatchdog = clock.now + interval
            }
            var wait = Duration.seconds(1)
            if notifier.watchdogInterval != nil { wait = min(wait, max(.zero, nextWatchdog - clock.now)) }
            await changed.wait(timeout: wait)
        }
    }
}
