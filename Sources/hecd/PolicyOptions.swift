import ArgumentParser
import Manifests

/// What manifests may do to the host: the agent's flags, which `hecd validate --policy` takes too.
struct PolicyOptions: ParsableArguments {
    @Flag(name: .long, help: "Allow `privileged: true`.")
    var allowPrivileged = false

    @Flag(name: .long, help: "Allow the host's network, PID and IPC namespaces (`network: host`, `pid: host`, `ipc: host`).")
    var allowHostNamespaces = false

    @Flag(name: .long, help: "Allow `devices`.")
    var allowDevices = false

    @Option(name: .customLong("allow-cap"), parsing: .singleValue,
            help: ArgumentHelp("Allow a capability beyond Docker's default set in `cap_add` (repeatable or comma-separated; ALL for any).", valueName: "CAP"))
    var allowedCapabilities: [String] = []

    @Option(name: .customLong("allow-bind"), parsing: .singleValue,
            help: ArgumentHelp("Allow bind mounts of this host folder and what is below it (repeatable or comma-separated). By default none.", valueName: "PATH"))
    var allowedBindPaths: [String] = []

    @Flag(name: .long, help: "Allow binding the Docker socket (it gives a container the whole host).")
    var allowDockerSocket = false

    func validate() throws {
        for path in allowedBindPaths.flatMap(Self.split) where !path.hasPrefix("/") {
            throw ValidationError("--allow-bind \(path): give an absolute host path, e.g. --allow-bind /data")
        }
    }

    /// Whether any `--allow-*` flag was given.
    var anyGiven: Bool {
        allowPrivileged || allowHostNamespaces || allowDevices || !allowedCapabilities.isEmpty
            || !allowedBindPaths.isEmpty || allowDockerSocket
    }

    var policy: ManifestPolicy {
        ManifestPolicy(
            allowPrivileged: allowPrivileged, allowHostNamespaces: allowHostNamespaces, allowDevices: allowDevices,
            allowedCapabilities: Set(allowedCapabilities.flatMap(Self.split)),
            allowedBindPaths: allowedBindPaths.flatMap(Self.split), allowDockerSocket: allowDockerSocket)
    }

    private static func split(_ value: String) -> [String] {
        value.split(separator: ",").map { String($0) }.filter { !$0.isEmpty }
    }
}
