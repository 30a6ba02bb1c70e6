#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Primitives
import TOMLKit

/// confd's command line, read as confd reads it, and turned into `hecd render`'s own: a confd user replaces
/// `confd` with `hecd render` (or links `confd` to `hecd`) and changes nothing else.
///
/// What counts, from weakest to strongest: confd's defaults, the config file (`-config-file`, default
/// `/etc/confd/confd.toml` when it exists), the `CONFD_*` environment variables, the flags. Flags take Go's
/// `flag` forms: `-name value`, `-name=value`, `--name value`, and for booleans `-name` or `-name=false`.
/// hecd's own `--options` pass through unchanged.
public struct ConfdCommandLine: Sendable, Equatable {
    /// The arguments for `hecd render`.
    public var arguments: [String]
    /// Variables to set before running (the etcd password never goes on a command line).
    public var environment: [String: String]
    /// Things the user should know, e.g. that `-interval` is not needed because hecd watches.
    public var notes: [String]

    /// A confd setting hecd cannot honour, with what to do instead.
    public struct Problem: Error, CustomStringConvertible, Equatable {
        public var message: String
        public var description: String { message }
        init(_ message: String) { self.message = message }
    }

    /// confd's flags that take a value.
    static let valueFlags: Set<String> = [
        "confdir", "node", "prefix", "interval", "log-level", "config-file", "client-ca-keys", "client-cert",
        "client-key", "username", "password", "scheme", "backend", "file", "filter", "srv-domain", "srv-record",
        "auth-token", "auth-type", "app-id", "user-id", "role-id", "secret-id", "path", "table", "separator",
    ]
    /// confd's boolean flags (`-verbose`, `-debug` and `-quiet` are older confd's).
    static let boolFlags: Set<String> = [
        "onetime", "noop", "sync-only", "keep-stage-file", "watch", "basic-auth", "verbose", "debug", "quiet",
        "version", "client-insecure",
    ]
    /// Flags hecd render has under the same double-dash name with the same meaning, left to it as they are.
    static let sharedDoubleDash: Set<String> = ["confdir", "onetime", "noop", "sync-only", "log-level", "interval", "prefix", "keep-stage-file", "backend", "file"]

    /// Whether `arguments` (after `render`) use confd's flags, so that they need translating.
    public static func isConfdStyle(_ arguments: [String]) -> Bool {
        arguments.contains { argument in
            guard let (name, _, doubleDash) = flagName(argument) else { return false }
            if doubleDash { return !sharedDoubleDash.contains(name) && (valueFlags.contains(name) || boolFlags.contains(name)) }
            return valueFlags.contains(name) || boolFlags.contains(name)
        }
    }

    /// `-name`, `-name=value`, `--name`: the name, the inline value, and whether it had two dashes.
    private static func flagName(_ argument: String) -> (String, String?, Bool)? {
        guard argument.hasPrefix("-"), argument != "-", argument != "--" else { return nil }
        let doubleDash = argument.hasPrefix("--")
        let body = argument.dropFirst(doubleDash ? 2 : 1)
        if let equals = body.firstIndex(of: "=") {
            return (String(body[..<equals]), String(body[body.index(after: equals)...]), doubleDash)
        }
        return (String(body), nil, doubleDash)
    }

    /// Reads confd's flags in `arguments` (what follows `render`), the config file and the environment.
    /// `readFile` reads the config file (nil when it does not exist).
    public static func translate(
        _ arguments: [String], environment: [String: String],
        readFile: (String) -> String? = { path in FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } }
    ) throws(Problem) -> ConfdCommandLine {
        var flags: [String: [String]] = [:]
        var passThrough: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if let (name, _, doubleDash) = flagName(argument), !doubleDash, !valueFlags.contains(name),
                !boolFlags.contains(name), name != "h"
            {
                // Go's flag package, word for word; hecd's own options take two dashes.
                throw Problem("flag provided but not defined: -\(name) (confd's flags take one dash, hecd render's own options two: see hecd render --help)")
            }
            guard let (name, inline, doubleDash) = flagName(argument),
                valueFlags.contains(name) || boolFlags.contains(name),
                !(doubleDash && sharedDoubleDash.contains(name) && !isSingleDashOnly(name))
            else {
                passThrough.append(argument)
                // A hecd option's value goes with it.
                if argument.hasPrefix("--"), !argument.contains("="), index < arguments.count, !arguments[index].hasPrefix("-") {
                    passThrough.append(arguments[index])
                    index += 1
                }
                continue
            }
            if boolFlags.contains(name) {
                let value = inline ?? "true"
                guard let truth = goBool(value) else {
                    throw Problem("invalid boolean value \"\(value)\" for -\(name): use -\(name), -\(name)=true or -\(name)=false")
                }
                flags[name, default: []].append(truth ? "true" : "false")
            } else if let inline {
                flags[name, default: []].append(inline)
            } else {
                guard index < arguments.count else { throw Problem("flag needs an argument: -\(name)") }
                flags[name, default: []].append(arguments[index])
                index += 1
            }
        }
        return try combine(flags: flags, passThrough: passThrough, environment: environment, readFile: readFile)
    }

    /// Names whose double-dash form is hecd's with another meaning: none today (hecd's `--interval` polls,
    /// confd's `-interval` is not needed since hecd watches, so `--interval` stays hecd's).
    private static func isSingleDashOnly(_ name: String) -> Bool { false }

    private static func goBool(_ text: String) -> Bool? {
        switch text {
        case "1", "t", "T", "TRUE", "true", "True": return true
        case "0", "f", "F", "FALSE", "false", "False": return false
        default: return nil
        }
    }

    /// The settings as confd's `Config` holds them, with their origin merged in order.
    struct Settings {
        var backend = "etcdv3"
        var confdir: String?
        var nodes: [String] = []
        var prefix: String?
        var logLevel: String?
        var interval: String?
        var onetime = false
        var noop = false
        var syncOnly = false
        var keepStageFile = false
        var watch = false
        var basicAuth = false
        var clientCAKeys: String?
        var clientCert: String?
        var clientKey: String?
        var username: String?
        var password: String?
        var scheme: String?
        var files: [String] = []
        var filter: String?
        var unsupported: [String] = []
    }

    private static func combine(
        flags: [String: [String]], passThrough: [String], environment: [String: String], readFile: (String) -> String?
    ) throws(Problem) -> ConfdCommandLine {
        var settings = Settings()
        var notes: [String] = []
        let configFile = flags["config-file"]?.last ?? environment["CONFD_CONFIG_FILE"] ?? "/etc/confd/confd.toml"
        if let text = readFile(configFile) {
            try apply(configFile: text, path: configFile, to: &settings)
        } else if flags["config-file"] != nil {
            throw Problem("-config-file \(configFile): no such file")
        }
        // confd's own variables, then CONFD_<FLAG> for every flag (hecd's extension).
        var fromEnvironment: [String: [String]] = [:]
        for name in valueFlags.union(boolFlags) where name != "config-file" {
            let variable = "CONFD_" + name.uppercased().replacing("-", with: "_")
            if let value = environment[variable], !value.isEmpty { fromEnvironment[name] = [value] }
        }
        if let value = environment["CONFD_CLIENT_CAKEYS"], !value.isEmpty { fromEnvironment["client-ca-keys"] = [value] }
        if let nodes = fromEnvironment["node"]?.first {
            fromEnvironment["node"] = nodes.split(separator: ",").map { $0.trimmingWhitespace(newlines: false) }
        }
        try apply(flags: fromEnvironment, to: &settings, origin: "environment")
        try apply(flags: flags, to: &settings, origin: "flag")

        if !settings.unsupported.isEmpty {
            throw Problem("hecd render does not support confd's \(settings.unsupported.joined(separator: ", ")) (Vault, DynamoDB, SRV discovery and tokens are other backends' settings); remove them")
        }

        var out: [String] = []
        switch settings.backend {
        case "etcdv3":
            let scheme = settings.scheme ?? (settings.clientCert != nil || settings.clientCAKeys != nil ? "https" : "http")
            if !settings.nodes.isEmpty {
                let endpoints = settings.nodes.map { node in
                    node.contains("://") ? node : "\(scheme)://\(node)"
                }
                out += ["--etcd", endpoints.joined(separator: ",")]
            } else if environment["HECD_ETCD"] == nil, environment["ETCDCTL_ENDPOINTS"] == nil,
                !passThrough.contains(where: { $0 == "--etcd" || $0.hasPrefix("--etcd=") })
            {
                out += ["--etcd", "\(scheme)://127.0.0.1:2379"]  // confd's default for etcdv3
            }
            if let ca = settings.clientCAKeys { out += ["--etcd-ca", ca] }
            if let cert = settings.clientCert { out += ["--etcd-cert", cert] }
            if let key = settings.clientKey { out += ["--etcd-key", key] }
        case "etcd":
            throw Problem("-backend etcd is confd's etcd v2 API, which etcd 3.4 turns off and 3.6 removed; hecd reads etcd through the v3 API: use -backend etcdv3 with the same -node endpoints (the v3 client port, usually 2379), and write the keys with `etcdctl put` (ETCDCTL_API=3)")
        case "env":
            out += ["--backend", "env"]
        case "file":
            guard !settings.files.isEmpty else { throw Problem("-backend file needs -file PATH (a YAML or JSON file; repeat for more)") }
            out += ["--backend", "file"]
            for file in settings.files { out += ["--file", file] }
            if let filter = settings.filter { out += ["--filter", filter] }
        default:
            throw Problem("-backend \(settings.backend) is not supported by hecd render: use etcdv3 (etcd's v3 API), env or file")
        }
        var variables: [String: String] = [:]
        if let user = settings.username {
            out += ["--etcd-user", user]
            if let password = settings.password { variables["HECD_ETCD_PASSWORD"] = password }
        }
        if let confdir = settings.confdir { out += ["--confdir", confdir] }
        if let prefix = settings.prefix, !prefix.isEmpty { out += ["--prefix", prefix] }
        if settings.onetime { out.append("--onetime") }
        if settings.noop { out.append("--noop") }
        if settings.syncOnly { out.append("--sync-only") }
        if settings.keepStageFile { out.append("--keep-stage-file") }
        if let level = settings.logLevel { out += ["--log-level", level] }
        if let interval = settings.interval, !settings.onetime {
            notes.append("confd's -interval \(interval) is not needed: hecd render watches etcd and renders a change at once (hecd's own --interval polls instead)")
        }
        return ConfdCommandLine(arguments: out + passThrough, environment: variables, notes: notes)
    }

    private static func apply(flags: [String: [String]], to settings: inout Settings, origin: String) throws(Problem) {
        for (name, values) in flags {
            guard let last = values.last else { continue }
            switch name {
            case "backend": settings.backend = last
            case "confdir": settings.confdir = last
            case "node": settings.nodes = values
            case "prefix": settings.prefix = last
            case "interval":
                guard let seconds = Int(last), seconds > 0 else { throw Problem("invalid value \"\(last)\" for -interval: a whole number of seconds") }
                settings.interval = String(seconds)
            case "log-level": settings.logLevel = try logLevel(last)
            case "verbose": if last == "true" { settings.logLevel = "info" }
            case "debug": if last == "true" { settings.logLevel = "debug" }
            case "quiet": if last == "true" { settings.logLevel = "error" }
            case "onetime": settings.onetime = last == "true"
            case "noop": settings.noop = last == "true"
            case "sync-only": settings.syncOnly = last == "true"
            case "keep-stage-file": settings.keepStageFile = last == "true"
            case "watch": settings.watch = last == "true"
            case "basic-auth": settings.basicAuth = last == "true"
            case "client-ca-keys": settings.clientCAKeys = last
            case "client-cert": settings.clientCert = last
            case "client-key": settings.clientKey = last
            case "username": settings.username = last
            case "password": settings.password = last
            case "scheme":
                guard last == "http" || last == "https" else { throw Problem("invalid value \"\(last)\" for -scheme: http or https") }
                settings.scheme = last
            case "file": settings.files = values
            case "filter": settings.filter = last
            case "version", "client-insecure": break
            case "config-file": break
            default: settings.unsupported.append("-" + name)
            }
        }
    }

    /// confd's level names (logrus): panic, fatal, error, warn, warning, info, debug.
    static func logLevel(_ name: String) throws(Problem) -> String {
        switch name.lowercased() {
        case "panic", "fatal": return "critical"
        case "error": return "error"
        case "warn", "warning": return "warning"
        case "info": return "info"
        case "debug": return "debug"
        case "trace": return "trace"
        default: throw Problem("-log-level \(name): use panic, fatal, error, warn, info or debug")
        }
    }

    /// confd.toml: the same settings as the flags, under their TOML names.
    private static func apply(configFile text: String, path: String, to settings: inout Settings) throws(Problem) {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch {
            throw Problem("\(path): \(error)")
        }
        var flags: [String: [String]] = [:]
        let names: [String: String] = [
            "backend": "backend", "confdir": "confdir", "prefix": "prefix", "log-level": "log-level",
            "scheme": "scheme", "client_cakeys": "client-ca-keys", "client_cert": "client-cert", "client_key": "client-key",
            "username": "username", "password": "password", "filter": "filter", "srv_domain": "srv-domain",
            "srv_record": "srv-record", "auth_token": "auth-token",
        ]
        for (key, flag) in names {
            if let value = table[key]?.string { flags[flag] = [value] }
        }
        if let interval = table["interval"]?.int { flags["interval"] = [String(interval)] }
        for (key, flag) in ["noop": "noop", "sync-only": "sync-only", "watch": "watch", "basic_auth": "basic-auth", "keep-stage-file": "keep-stage-file"] {
            if let value = table[key]?.bool { flags[flag] = [value ? "true" : "false"] }
        }
        for (key, flag) in ["nodes": "node", "file": "file"] {
            if let array = table[key]?.array {
                flags[flag] = array.compactMap { $0.string }
            } else if let single = table[key]?.string {
                flags[flag] = [single]
            }
        }
        try apply(flags: flags, to: &settings, origin: path)
    }
}
