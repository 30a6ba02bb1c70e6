import Agent
import ArgumentParser
import Etcd
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import HTTPTransport
import Logging
import Operations
import Primitives
import Render
import ServiceLifecycle
import UnixSignals

/// `hecd render`: confd's job (template resources rendered from etcd), driven by etcd watches.
struct RenderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Render confd template resources from etcd, check them, swap them in and reload the service.",
        discussion: """
            Reads confd's own files: CONFDIR/conf.d/*.toml, each with a [template] table (src, dest, keys, prefix, \
            mode, uid/gid or owner, check_cmd, reload_cmd), and the templates in CONFDIR/templates. Keys are kept \
            current by etcd watches; a burst of changes gives one render. Each change is rendered to a staged file \
            next to dest, checked with check_cmd ({{.src}} names the staged file), renamed into place and followed \
            by reload_cmd. A failed check leaves dest and the running service as they are. While etcd cannot be \
            reached the files stay as they are.

            confd's own command line works as it is: `hecd render -onetime -confdir /etc/confd -node 10.0.0.1:2379 \
            -prefix /app`, with confd.toml (-config-file) and the CONFD_* variables; so does `confd …` when confd \
            is a link to hecd. See SUPPORTED.md.
            """
    )

    @Option(name: .long, help: "confd folder with conf.d/ and templates/ (env: HECD_CONFDIR).")
    var confdir: String?

    @Option(name: .long, help: "Poll etcd every this many seconds instead of watching it.")
    var interval: Double?

    @Option(name: .long, help: "Key prefix for every resource, replacing each one's own prefix (confd's -prefix).")
    var prefix: String?

    @Flag(name: .long, help: "Keep a staged file that check_cmd refused, next to dest (confd's -keep-stage-file).")
    var keepStageFile = false

    @Option(name: .long, help: "Where keys come from: etcdv3 (etcd's v3 API, the default), env (environment variables, /app/x is APP_X) or file (--file, YAML or JSON, watched).")
    var backend: String = "etcdv3"

    @Option(name: .long, help: "With --backend file: a YAML or JSON file, or a folder of them; repeat for more.")
    var file: [String] = []

    @Option(name: .long, help: "With --backend file: which files of a folder to read, a glob on their names.")
    var filter: String = "*"

    @Option(name: .long, help: "Changes within this time of a render are batched until this much quiet, e.g. 50ms or 0.2s (a change after a quiet spell renders at once).")
    var debounce: DurationArgument = DurationArgument(.milliseconds(50))

    @Option(name: .long, help: "Longest delay from a change to its render while changes keep coming, e.g. 1s.")
    var maxWait: DurationArgument = DurationArgument(.seconds(1))

    @Flag(name: .long, help: "Render once and exit: non-zero when etcd cannot be read or a resource fails.")
    var onetime = false

    @Flag(name: .long, help: "Print what would change (a unified diff) and change nothing.")
    var noop = false

    @Flag(name: .long, help: "Write the files but run no check_cmd or reload_cmd.")
    var syncOnly = false

    @Option(name: .long, help: "Write every dest below this folder, e.g. /tmp/try for /tmp/try/etc/hecd/haproxy.cfg (env: HECD_DEST_ROOT).")
    var destRoot: String?

    @Option(name: .long, help: "Time limit for each check_cmd and reload_cmd, e.g. 30s.")
    var commandTimeout: DurationArgument = DurationArgument(.seconds(60))

    @OptionGroup(title: "etcd")
    var etcdOptions: EtcdOptions

    @Option(name: .long, help: "trace, debug, info, notice, warning (or warn), error or critical.")
    var logLevel: LogLevel = LogLevel(.info)

    @OptionGroup(title: "Operations")
    var operationsOptions: OperationsOptions

    func validate() throws {
        let environment = ProcessInfo.processInfo.environment
        switch backend {
        case "etcdv3":
            guard !etcdOptions.endpoints(environment).isEmpty else { throw EtcdOptions.missingEndpoints }
            _ = try etcdOptions.credentials(environment)
        case "env":
            break
        case "file":
            guard !file.isEmpty else { throw ValidationError("--backend file needs --file PATH (a YAML or JSON file, or a folder of them)") }
        default:
            throw ValidationError("--backend \(backend) is not supported: use etcdv3 (etcd's v3 API), env or file")
        }
        if let interval, !(interval > 0) { throw ValidationError("--interval must be a positive number of seconds") }
        guard maxWait.duration >= debounce.duration else {
            throw ValidationError("--max-wait must be at least --debounce")
        }
        guard commandTimeout.duration > .zero else { throw ValidationError("--command-timeout must be positive") }
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let logger = LogSetup.bootstrap(
            level: logLevel.level, label: "hecd.render", format: operationsOptions.format(environment),
            environment: environment)
        let folder = confdir ?? environment["HECD_CONFDIR"] ?? "/etc/confd"
        let resources: [CompiledResource]
        do {
            resources = try CompiledResource.load(confdir: folder, prefix: prefix)
        } catch {
            StandardError.print("\(error)")
            throw ExitCode(2)
        }
        let options = RenderOptions(
            write: {
                var settings = WriteSettings(
                    destinationRoot: destRoot ?? environment["HECD_DEST_ROOT"], noop: noop, syncOnly: syncOnly,
                    commandTimeout: commandTimeout.duration)
                settings.keepStageFile = keepStageFile
                return settings
            }(),
            debounce: debounce.duration, maxWait: maxWait.duration, pollInterval: interval.map { .seconds($0) },
            environment: environment)
        let metrics = HECDMetrics(command: "render", version: HECDVersion.current)
        metrics.bootstrapMetricsSystem()
        let base: any KeySource
        switch backend {
        case "env": base = LocalKeySource(.environment(environment))
        case "file": base = LocalKeySource(.files(file, filter: filter))
        default: base = try etcdOptions.requiredClient(environment)
        }
        let source = InstrumentedKeySource(base, metrics: metrics)
        let changed = WakeSignal()
        let instruments = RenderInstruments(
            metrics: metrics, resources: resources.map(\.resource.name), etcd: source.reachability, changed: changed)
        let makeRenderer: @Sendable ([CompiledResource]) -> ConfigRenderer = { resources in
            ConfigRenderer(
                resources: resources, source: source, options: options, logger: logger,
                observer: { instruments.record($0) })
        }
        let renderer = makeRenderer(resources)

        if onetime {
            let summary: RenderSummary
            do {
                summary = try await renderer.renderOnce()
            } catch {
                logger.error("cannot read \(backend == "etcdv3" ? "etcd" : "the keys"): \(error); nothing was rendered")
                throw ExitCode.failure
            }
            if summary.failed { throw ExitCode.failure }
            return
        }
        let operations = try operationsOptions.service(
            metrics: metrics, view: instruments, changed: changed, title: "hecd render \(folder)", etcd: etcdOptions,
            environment: environment, logger: logger)
        defer { operations.stopListening() }
        // SIGHUP reads the confd folder again (new, changed and removed resources) and renders every resource.
        let (requests, requested) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let reloading = ReloadingRenderer(
            initial: resources,
            load: { [prefix] in try CompiledResource.load(confdir: folder, prefix: prefix) },
            makeRenderer: makeRenderer, reloadRequests: requests, logger: logger)
        // The operations service goes last: it is told of a shutdown first (STOPPING=1).
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [
                    .init(service: reloading),
                    .init(service: ReloadSignal(what: "reading the confd folder again and rendering every resource", logger: logger) {
                        requested.yield()
                    }),
                    .init(service: operations),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            logger.error("\(error)")
            throw ExitCode.failure
        }
    }
}

/// A duration on the command line: `50ms`, `1s`, `1.5s`, `2m`, or a bare number of seconds.
struct DurationArgument: ExpressibleByArgument, Sendable, CustomStringConvertible {
    var duration: Duration

    init(_ duration: Duration) {
        self.duration = duration
    }

    init?(argument: String) {
        let text = argument.trimmingWhitespace(newlines: false).lowercased()
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60)]
        var scale = 1.0
        var number = text
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            scale = factor
            number = String(text.dropLast(suffix.count))
            break
        }
        guard let value = Double(number), value >= 0, value.isFinite else { return nil }
        duration = .milliseconds(Int64((value * scale * 1000).rounded()))
    }

    var description: String {
        let milliseconds = duration.wholeMilliseconds
        return milliseconds % 1000 == 0 ? "\(milliseconds / 1000)s" : "\(milliseconds)ms"
    }

    var defaultValueDescription: String { description }
}
