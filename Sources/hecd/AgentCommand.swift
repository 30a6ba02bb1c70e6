import Agent
import Cluster
import Etcd
import ArgumentParser
import DockerEngine
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import Operations
import Primitives
import Reconciler
import Registry
import ServiceLifecycle
import UnixSignals

/// `hecd agent`: keeps the declared replicas running on this Docker host.
struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Keep the replicas declared in a manifest directory running on this Docker host.",
        discussion: """
            Edit a manifest's `replicas` and save: the agent scales within a second. SIGTERM or Ctrl-C stops
            the agent and leaves its containers running; a restarted agent adopts them.
            """
    )

    @Option(name: .long, help: "Directory of app manifests, one YAML file per app (env: HECD_MANIFESTS).")
    var manifests: String?

    @Option(name: .long, help: "Docker engine address, unix:///PATH or tcp://HOST:PORT (env: DOCKER_HOST; TLS with DOCKER_TLS_VERIFY and DOCKER_CERT_PATH; DOCKER_API_VERSION pins the API version).")
    var docker: String?

    @Option(name: .long, help: ArgumentHelp("Registry credentials for pulls, in config.json's format ({\"auths\": …}), read at each pull (env: HECD_REGISTRY_AUTH; default: $DOCKER_CONFIG/config.json, else ~/.docker/config.json).", valueName: "file"))
    var registryAuth: String?

    @Option(name: .long, help: "Names this agent's containers; agents sharing an engine need distinct ids (env: HECD_AGENT_ID; default: the hostname).")
    var agentID: String?

    @Option(name: .long, help: "Seconds between full resyncs with Docker.")
    var resync: Double = 30

    @Option(name: .long, help: "Seconds of backoff after an app's second failure in a row; doubles each time.")
    var backoffInitial: Double = 10

    @Option(name: .long, help: "Longest backoff, in seconds.")
    var backoffMax: Double = 300

    @Option(name: .long, help: "Seconds a container must run for its app's failure count to reset.")
    var backoffReset: Double = 600

    @Option(name: .long, help: "Containers created at once.")
    var parallel: Int = 8

    @Option(name: .long, help: "trace, debug, info, notice, warning (or warn), error or critical.")
    var logLevel: LogLevel = LogLevel(.info)

    @OptionGroup(title: "etcd")
    var etcdOptions: EtcdOptions

    @OptionGroup(title: "Registry")
    var registryOptions: RegistryOptions

    @OptionGroup(title: "Policy (what manifests may do to this host)")
    var policyOptions: PolicyOptions

    @Flag(name: .long, help: "Cluster mode: also run the replicas the scheduler places on this host (hecd apply), and campaign to be the scheduler. Needs --etcd.")
    var cluster = false

    @Option(name: .long, help: "Labels of this host for placement constraints, e.g. zone=a,disk=ssd.")
    var hostLabels: String = ""

    @Flag(name: .long, help: "Never lead the scheduler (this host still runs its slots).")
    var noSchedule = false

    @Option(name: .long, help: "Seconds a dead host's slots wait before they move to other hosts.")
    var failoverDelay: Double = 0

    @Option(name: .long, help: "The cluster's root key in etcd.")
    var hecdPrefix: String = "/hecd"

    @OptionGroup(title: "Operations")
    var operationsOptions: OperationsOptions

    func validate() throws {
        guard cluster || manifests ?? ProcessInfo.processInfo.environment["HECD_MANIFESTS"] != nil else {
            throw ValidationError("say where the manifests are: --manifests DIR (or HECD_MANIFESTS=DIR), or run in cluster mode (--cluster)")
        }
        guard resync > 0, backoffInitial >= 0, backoffMax >= backoffInitial, backoffReset > 0 else {
            throw ValidationError("--resync and --backoff-reset must be positive, and --backoff-max at least --backoff-initial")
        }
        guard parallel > 0 else { throw ValidationError("--parallel must be at least 1") }
        guard failoverDelay >= 0 else { throw ValidationError("--failover-delay must not be negative") }
        if !cluster, !hostLabels.isEmpty || noSchedule {
            throw ValidationError("--host-labels and --no-schedule are cluster options: add --cluster")
        }
    }

    func run() async throws {
        MallocTuning.limitArenas(to: 1)
        let environment = ProcessInfo.processInfo.environment
        let logger = LogSetup.bootstrap(
            level: logLevel.level, label: "hecd.agent", format: operationsOptions.format(environment),
            environment: environment)
        let metrics = HECDMetrics(command: "agent", version: HECDVersion.current)
        metrics.bootstrapMetricsSystem()
        let etcdReachability = Reachability()
        let host: DockerHost
        let pinnedVersion: String?
        do {
            host = try DockerHost.fromEnvironment(environment, address: docker)
            pinnedVersion = try DockerClient.pinnedAPIVersion(fromEnvironment: environment)
        } catch {
            throw ValidationError("\(error)")
        }
        if let warning = host.plainTCPWarning { logger.warning("\(warning)") }
        let credentials = try RegistryAuthOption.source(registryAuth, environment: environment, logger: logger)
        let configuration = AgentConfiguration(
            agentID: agentID ?? environment["HECD_AGENT_ID"] ?? ProcessInfo.processInfo.hostName,
            manifestsDirectory: manifests ?? environment["HECD_MANIFESTS"] ?? "",
            resyncInterval: .seconds(resync),
            backoff: BackoffPolicy(
                initial: .seconds(backoffInitial), maximum: .seconds(backoffMax), resetAfter: .seconds(backoffReset)),
            parallelActions: parallel,
            hostIP: try registryOptions.hostIP(environment),
            defaultDrain: registryOptions.drain,
            keepRegistered: registryOptions.keepRegistered(environment),
            policy: policyOptions.policy,
            cluster: cluster
                ? ClusterSettings(
                    keys: ClusterKeys(root: hecdPrefix), hostLabels: try HostRecord.parseLabels(hostLabels),
                    schedule: !noSchedule, failoverDelay: .milliseconds(Int64(failoverDelay * 1000)))
                : nil)
        let registry = try registryOptions.registry(
            agentID: configuration.agentID, etcd: etcdOptions, environment: environment, logger: logger,
            instrument: { InstrumentedStore($0, metrics: metrics, reachability: etcdReachability) })
        if registry != nil, configuration.hostIP == nil {
            logger.notice("no --host-ip or --host-interface: containers are registered only when Docker publishes on a specific address")
        }
        let client = DockerClient(host: host, pinnedAPIVersion: pinnedVersion, registryAuth: credentials)
        do {
            let version = try await client.negotiateVersion()
            let pinned = pinnedVersion == nil ? "" : " (pinned by DOCKER_API_VERSION)"
            logger.info("Docker engine at \(host) speaks API \(version)\(pinned)")
        } catch {
            logger.warning("\(error); the agent starts anyway and retries")
        }
        var clusterClient: EtcdClient?
        if cluster {
            let timeout = Registry.requestTimeout(ttl: registryOptions.effectiveTTL(environment))
            guard registry != nil, let etcd = try etcdOptions.client(environment, requestTimeout: timeout, observer: metrics.etcdRequestObserver()) else {
                throw ValidationError("--cluster needs etcd: add --etcd URL (or HECD_ETCD)")
            }
            clusterClient = etcd
        }
        let engine = InstrumentedEngine(client, metrics: metrics)
        let changed = WakeSignal()
        let instruments = AgentInstruments(
            metrics: metrics, agentID: configuration.agentID, docker: engine.reachability,
            etcd: registry == nil ? nil : etcdReachability, changed: changed)
        let operations = try operationsOptions.service(
            metrics: metrics, view: instruments, changed: changed, title: "hecd agent \(configuration.agentID)", etcd: etcdOptions,
            hecdPrefix: hecdPrefix, environment: environment, logger: logger)
        defer { operations.stopListening() }
        let agent = Agent(
            configuration: configuration, engine: engine, registry: registry, clusterClient: clusterClient, logger: logger,
            observer: { instruments.record($0) })
        // The operations service goes last: it is told of a shutdown first (STOPPING=1).
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [
                    .init(service: agent),
                    .init(service: ReloadSignal(what: "re-reading the manifests and resyncing with Docker", logger: logger) {
                        agent.requestFullPass()
                    }),
                    .init(service: operations),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        do {
            try await group.run()
        } catch let error as AgentError {
            logger.error("\(error)")
            throw ExitCode.failure
        }
    }
}

/// A log level on the command line: swift-log's names, and `warn` for `warning` as confd and Go tools spell it.
struct LogLevel: ExpressibleByArgument, Sendable {
    var level: Logger.Level

    init(_ level: Logger.Level) {
        self.level = level
    }

    init?(argument: String) {
        let name = argument.lowercased()
        // Go tools' names too: warn, and confd's (logrus') panic and fatal.
        let aliases: [String: Logger.Level] = ["warn": .warning, "panic": .critical, "fatal": .critical]
        guard let level = aliases[name] ?? Logger.Level(rawValue: name) else { return nil }
        self.level = level
    }

    var defaultValueDescription: String { level.rawValue }

    static var allValueStrings: [String] { Logger.Level.allCases.map(\.rawValue) + ["warn"] }
}

enum LogSetup {
    /// Logs to standard error at `level`; returns the command's logger. Plain text outside systemd is
    /// swift-log's `StreamLogHandler`; JSON, and any format under journald (`JOURNAL_STREAM`), is
    /// `OperationsLogHandler`'s.
    static func bootstrap(
        level: Logger.Level, label: String, format: LogFormat = .text, environment: [String: String] = [:]
    ) -> Logger {
        let journald = OperationsLogHandler.standardErrorIsJournal(environment)
        LoggingSystem.bootstrap { label in
            guard format == .text, !journald else {
                return OperationsLogHandler(label: label, level: level, format: format, journald: journald)
            }
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        return Logger(label: label)
    }
}
