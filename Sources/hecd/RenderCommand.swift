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
            """
    )

    @Option(name: .long, help: "confd folder with conf.d/ and templates/ (env: HECD_CONFDIR).")
    var confdir: String?

    @Option(name: .long, help: "Poll etcd every this many seconds instead of watching it.")
    var interval: Double?

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

    func validate() throws {
        let environment = ProcessInfo.processInfo.environment
        guard !etcdOptions.endpoints(environment).isEmpty else { throw EtcdOptions.missingEndpoints }
        _ = try etcdOptions.credentials(environment)
        if let interval, !(interval > 0) { throw ValidationError("--interval must be a positive number of seconds") }
        guard maxWait.duration >= debounce.duration else {
            throw ValidationError("--max-wait must be at least --debounce")
        }
        guard commandTimeout.duration > .zero else { throw ValidationError("--command-timeout must be positive") }
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let logger = LogSetup.bootstrap(level: logLevel.level, label: "hecd.render")
        let folder = confdir ?? environment["HECD_CONFDIR"] ?? "/etc/confd"
        let resources: [CompiledResource]
        do {
            resources = try CompiledResource.load(confdir: folder)
        } catch {
            StandardError.print("\(error)")
            throw ExitCode(2)
        }
        let options = RenderOptions(
            write: WriteSettings(
                destinationRoot: destRoot ?? environment["HECD_DEST_ROOT"], noop: noop, syncOnly: syncOnly,
                commandTimeout: commandTimeout.duration),
            debounce: debounce.duration, maxWait: maxWait.duration, pollInterval: interval.map { .seconds($0) },
            environment: environment)
        let renderer = ConfigRenderer(resources: resources, source: try etcdOptions.requiredClient(environment), options: options, logger: logger)

        if onetime {
            let summary: RenderSummary
            do {
                summary = try await renderer.renderOnce()
            } catch {
                logger.error("cannot read etcd: \(error); nothing was rendered")
                throw ExitCode.failure
            }
            if summary.failed { throw ExitCode.failure }
            return
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: renderer)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
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
