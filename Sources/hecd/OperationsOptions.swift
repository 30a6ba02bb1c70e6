import ArgumentParser
import Cluster
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import Operations
import Primitives
import Registry

/// How `agent` and `render` can be watched: the metrics listener and the log format. Each falls back to an
/// environment variable, so a systemd unit can set them in its environment file.
struct OperationsOptions: ParsableArguments {
    @Option(name: .long, help: "Listen on HOST:PORT, e.g. 127.0.0.1:9464, for Prometheus (/metrics), health checks (/healthz, /readyz) and a status page (/) (env: HECD_METRICS_ADDR; default: no listener).")
    var metricsAddr: String?

    @Option(name: .long, help: "text, or json: one object per line with time, level, logger, message and metadata (env: HECD_LOG_FORMAT).")
    var logFormat: LogFormatArgument?

    func validate() throws {
        let environment = ProcessInfo.processInfo.environment
        if logFormat == nil, let text = environment["HECD_LOG_FORMAT"], LogFormatArgument(argument: text) == nil {
            throw ValidationError("HECD_LOG_FORMAT=\(text): say text or json")
        }
    }

    func format(_ environment: [String: String]) -> LogFormat {
        logFormat?.format ?? environment["HECD_LOG_FORMAT"].flatMap { LogFormatArgument(argument: $0)?.format } ?? .text
    }

    func address(_ environment: [String: String]) -> String? {
        guard let address = metricsAddr ?? environment["HECD_METRICS_ADDR"], !address.isEmpty else { return nil }
        return address
    }

    /// The operations service for a command's view; starts the listener when `--metrics-addr` is given. With
    /// etcd, the status page also shows every agent's apps (what `hecd status` reads).
    /// - Parameter hecdPrefix: where the agents keep their records and cluster mode its state.
    func service(
        metrics: HECDMetrics, view: any OperationsView, changed: WakeSignal, title: String, etcd: EtcdOptions,
        hecdPrefix: String = "/hecd", environment: [String: String], logger: Logger
    ) throws -> OperationsService {
        let address = address(environment)
        var cluster: (@Sendable () async throws -> ClusterStatus)?
        if address != nil, let client = try etcd.client(environment) {
            cluster = {
                let report = try await StatusCommand.report(client: client, hecdPrefix: hecdPrefix)
                let snapshot = try? await ClusterSnapshot.read(client, keys: ClusterKeys(root: hecdPrefix))
                return ClusterStatus(report: report, snapshot: snapshot)
            }
        }
        let service = OperationsService(
            metrics: metrics, view: view, notifier: SystemdNotifier(environment: environment), changed: changed,
            title: title, logger: logger, cluster: cluster)
        if let address {
            do {
                let bound = try service.listen(on: address)
                logger.info("metrics at http://\(bound)/metrics, health at /healthz and /readyz, status page at /")
            } catch {
                logger.error("\(error)")
                throw ExitCode.failure
            }
        }
        return service
    }
}

/// `--log-format` on the command line.
struct LogFormatArgument: ExpressibleByArgument, Sendable {
    var format: LogFormat

    init?(argument: String) {
        guard let format = LogFormat(rawValue: argument.lowercased()) else { return nil }
        self.format = format
    }

    static var allValueStrings: [String] { LogFormat.allCases.map(\.rawValue) }
}
