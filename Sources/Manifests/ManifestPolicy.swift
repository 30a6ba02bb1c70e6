/// What an agent lets manifests do to its host. The person who writes a manifest does not always own the host:
/// by default the agent refuses privileged containers, the host's network, PID and IPC namespaces, devices,
/// capabilities beyond Docker's default set, bind mounts, and the Docker socket. Each refusal names the field
/// and the agent flag that allows it.
public struct ManifestPolicy: Sendable, Hashable, Codable {
    public var allowPrivileged = false
    /// `network: host`, `pid: host`, `ipc: host`.
    public var allowHostNamespaces = false
    public var allowDevices = false
    /// Capabilities beyond Docker's default set that `cap_add` may name (`ALL` allows every one).
    public var allowedCapabilities: Set<String> = []
    /// Host folders (and what is below them) that `volumes` may bind, normalised.
    public var allowedBindPaths: [String] = []
    /// Binding the Docker socket (or a folder holding it) gives a container the whole host: its own flag.
    public var allowDockerSocket = false

    public init(
        allowPrivileged: Bool = false, allowHostNamespaces: Bool = false, allowDevices: Bool = false,
        allowedCapabilities: Set<String> = [], allowedBindPaths: [String] = [], allowDockerSocket: Bool = false
    ) {
        self.allowPrivileged = allowPrivileged
        self.allowHostNamespaces = allowHostNamespaces
        self.allowDevices = allowDevices
        self.allowedCapabilities = Set(allowedCapabilities.map { name in
            let upper = name.uppercased()
            return upper.hasPrefix("CAP_") ? String(upper.dropFirst(4)) : upper
        })
        self.allowedBindPaths = allowedBindPaths.map(ManifestValidator.normalisedPath)
        self.allowDockerSocket = allowDockerSocket
    }

    /// Everything allowed: schema checks only (`hecd validate` without `--policy`).
    public static let unrestricted = ManifestPolicy(
        allowPrivileged: true, allowHostNamespaces: true, allowDevices: true, allowedCapabilities: ["ALL"],
        allowedBindPaths: ["/"], allowDockerSocket: true)

    /// Docker's default capabilities: `cap_add` of these needs no flag.
    public static let dockerDefaultCapabilities: Set<String> = [
        "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE", "NET_RAW",
        "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
    ]

    /// Where Docker's socket lives on a Debian host.
    static let dockerSockets = ["/var/run/docker.sock", "/run/docker.sock"]

    /// One refused field: its path in the manifest and the message.
    struct Refusal {
        var field: String
        var message: String
    }

    /// Whether this policy lets `spec` run (what the scheduler asks of each host's published policy).
    public func admits(_ spec: AppSpec) -> Bool { refusals(of: spec).isEmpty }

    /// What `spec` asks for that this policy refuses.
    func refusals(of spec: AppSpec) -> [Refusal] {
        var result: [Refusal] = []
        let options = spec.options
        if options.privileged && !allowPrivileged {
            result.append(Refusal(field: "privileged", message:
                "gives the container every capability and every host device, which this agent does not allow; "
                + "remove it, or start the agent with --allow-privileged"))
        }
        for (field, value) in [("network", options.network), ("pid", options.pid), ("ipc", options.ipc)]
        where value == "host" && !allowHostNamespaces {
            result.append(Refusal(field: field, message:
                "`host` shares the host's \(field == "network" ? "network" : field.uppercased()) namespace, which this agent does not allow; "
                + "remove it, or start the agent with --allow-host-namespaces"))
        }
        if !allowDevices {
            for (index, device) in options.devices.enumerated() {
                result.append(Refusal(field: "devices[\(index)]", message:
                    "gives the container the host device \(device.pathOnHost), which this agent does not allow; "
                    + "remove it, or start the agent with --allow-devices"))
            }
        }
        if !allowedCapabilities.contains("ALL") {
            for (index, capability) in options.capAdd.enumerated()
            where !Self.dockerDefaultCapabilities.contains(capability) && !allowedCapabilities.contains(capability) {
                result.append(Refusal(field: "cap_add[\(index)]", message:
                    "\(capability) is beyond Docker's default capabilities, which this agent does not allow; "
                    + "remove it, or start the agent with --allow-cap \(capability)"))
            }
        }
        for (index, volume) in options.volumes.enumerated() {
            guard case .bind(let path) = volume.source else { continue }
            if Self.dockerSockets.contains(where: { Self.path($0, isWithin: path) }) {
                if !allowDockerSocket {
                    result.append(Refusal(field: "volumes[\(index)]", message:
                        "binds \(path), which holds the Docker socket: the container would control the whole host; "
                        + "remove it, or start the agent with --allow-docker-socket"))
                }
                continue
            }
            if !allowedBindPaths.contains(where: { Self.path(path, isWithin: $0) }) {
                result.append(Refusal(field: "volumes[\(index)]", message:
                    "binds the host path \(path), which this agent does not allow; use a named volume "
                    + "(`name:\(volume.target)`), or start the agent with --allow-bind \(path) (or a folder above it)"))
            }
        }
        return result
    }

    /// Whether `path` is `folder` or below it (both normalised).
    static func path(_ path: String, isWithin folder: String) -> Bool {
        folder == "/" || path == folder || path.hasPrefix(folder + "/")
    }
}
