import Agent
import ArgumentParser
import DockerEngine
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import Reconciler
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

    @Option(name: .long, help: "Docker engine address, unix:///PATH or tcp://HOST:PORT (env: DOCKER_HOST).")
    var docker: String?

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

    func validate() throws {
        guard manifests ?? ProcessInfo.processInfo.environment["HECD_MANIFESTS"] != nil else {
            throw ValidationError("say where the manifests are: --manifests DIR (or HECD_MANIFESTS=DIR)")
        }
        guard resync > 0, backoffInitial >= 0, backoffMax >= backoffInitial, backoffReset > 0 else {
            throw ValidationError("--resync and --backoff-reset must be positive, and --backoff-max at least --backoff-initial")
        }
        guard parallel > 0 else { throw ValidationError("--parallel must be at least 1") }
    }

    func run() async throws {
        MallocTuning.limitArenas(to: 1)
        let environment = ProcessInfo.processInfo.environment
        let logger = LogSetup.bootstrap(level: logLevel.level, label: "hecd.agent")
        let host: DockerHost
        do {
            host = try docker.map { try DockerHost($0) } ?? DockerHost.fromEnvironment(environment)
        } catch {
            throw ValidationError("\(error)")
        }
        let configuration = AgentConfiguration(
            agentID: agentID ?? environment["HECD_AGENT_ID"] ?? ProcessInfo.processInfo.hostName,
            manifestsDirectory: manifests ?? environment["HECD_MANIFESTS"] ?? "",
            resyncInterval: .seconds(resync),
            backoff: BackoffPolicy(
                initial: .seconds(backoffInitial), maximum: .seconds(backoffMax), resetAfter: .seconds(backoffReset)),
            parallelActions: parallel,
            hostIP: try registryOptions.hostIP(environment),
            defaultDrain: registryOptions.drain,
            keepRegistered: registryOptions.keepRegistered(environment))
        let registry = try registryOptions.registry(
            agentID: configuration.agentID, etcd: etcdOptions, environment: environment, logger: logger)
        if registry != nil, configuration.hostIP == nil {
            logger.notice("no --host-ip or --host-interface: containers are registered only when Docker publishes on a specific address")
        }
        let client = DockerClient(host: host)
        do {
            let version = try await client.negotiateVersion()
            logger.info("Docker engine at \(host) speaks API \(version)")
        } catch {
            logger.warning("\(error); the agent starts anyway and retries")
        }
        let agent = Agent(configuration: configuration, engine: client, registry: registry, logger: logger)
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: agent)],
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
        guard let level = name == "warn" ? .warning : Logger.Level(rawValue: name) else { return nil }
        self.level = level
    }

    var defaultValueDescription: String { level.rawValue }

    static var allValueStrings: [String] { Logger.Level.allCases.map(\.rawValue) + ["warn"] }
}

enum LogSetup {
    /// Logs to standard error at `level`; returns the command's logger.
    static func bootstrap(level: Logger.Level, label: String) -> Logger {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        return Logger(label: label)
    }
}
