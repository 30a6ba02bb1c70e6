import Primitives
import Yams

/// The container fields (storage, name resolution, process, limits, privileges, network, logs) and the
/// port and registration lists.
extension ManifestValidator {
    static let containerFields = [
        "volumes", "tmpfs", "dns", "dns_search", "extra_hosts", "user", "working_dir", "entrypoint", "stop_signal",
        "stdin_open", "tty", "memory", "memory_reservation", "cpus", "pids_limit", "ulimits", "cap_add", "cap_drop",
        "read_only", "privileged", "network", "pid", "ipc", "devices", "log",
    ]
    static let logFields = ["driver", "options"]
    static let ulimitFields = ["soft", "hard"]
    static let registerEntryFields = ["port", "prefix"]
    /// Docker refuses smaller memory limits.
    static let minimumMemory: Int64 = 6 << 20
    static let ulimitNames: Set<String> = [
        "core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile", "nproc", "rss", "rtprio",
        "rttime", "sigpending", "stack",
    ]
    /// Linux capabilities, without `CAP_`.
    static let capabilities: Set<String> = [
        "AUDIT_CONTROL", "AUDIT_READ", "AUDIT_WRITE", "BLOCK_SUSPEND", "BPF", "CHECKPOINT_RESTORE", "CHOWN",
        "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "IPC_LOCK", "IPC_OWNER", "KILL", "LEASE",
        "LINUX_IMMUTABLE", "MAC_ADMIN", "MAC_OVERRIDE", "MKNOD", "NET_ADMIN", "NET_BIND_SERVICE", "NET_BROADCAST",
        "NET_RAW", "PERFMON", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYSLOG", "SYS_ADMIN", "SYS_BOOT",
        "SYS_CHROOT", "SYS_MODULE", "SYS_NICE", "SYS_PACCT", "SYS_PTRACE", "SYS_RAWIO", "SYS_RESOURCE", "SYS_TIME",
        "SYS_TTY_CONFIG", "WAKE_ALARM",
    ]
    static let volumeOptions: Set<String> = [
        "ro", "rw", "z", "Z", "nocopy", "shared", "rshared", "slave", "rslave", "private", "rprivate",
    ]

    /// Reads every container field present in `fields` into options, reporting what is wrong.
    mutating func containerOptions(_ fields: [String: Entry]) -> ContainerOptions {
        var options = ContainerOptions()
        if let entry = fields["volumes"] { options.volumes = volumes(entry) }
        if let entry = fields["tmpfs"] { options.tmpfs = tmpfs(entry) }
        if let entry = fields["dns"] {
            options.dns = stringList(entry, example: "dns: [172.17.42.1]", single: true).compactMap { item in
                guard Self.isIPAddress(item.text) else {
                    report("must be an IP address of a name server, e.g. `172.17.42.1`; got \(Self.quoted(item.text))",
                           field: item.path, at: item.mark)
                    return nil
                }
                return item.text
            }
        }
        if let entry = fields["dns_search"] {
            options.dnsSearch = words(entry, example: "dns_search: [example.com]", what: "a domain")
        }
        if let entry = fields["extra_hosts"] { options.extraHosts = extraHosts(entry) }
        if let entry = fields["user"] { options.user = word(entry, example: "user: \"1000:1000\"") }
        if let entry = fields["working_dir"] { options.workingDir = absolutePath(entry, example: "working_dir: /srv") }
        if let entry = fields["entrypoint"] { options.entrypoint = validateCommand(entry) }
        if let entry = fields["stop_signal"] { options.stopSignal = stopSignal(entry) }
        if let entry = fields["stdin_open"] { options.stdinOpen = bool(entry, example: "stdin_open: true") ?? false }
        if let entry = fields["tty"] { options.tty = bool(entry, example: "tty: true") ?? false }
        if let entry = fields["memory"] {
            options.memoryBytes = byteSize(entry, example: "memory: 512m", minimum: Self.minimumMemory)
        }
        if let entry = fields["memory_reservation"] {
            options.memoryReservationBytes = byteSize(entry, example: "memory_reservation: 256m", minimum: 1)
        }
        if let memory = options.memoryBytes, let reservation = options.memoryReservationBytes, reservation > memory,
           let entry = fields["memory_reservation"] {
            report("must not be more than `memory` (\(memory) bytes); got \(reservation) bytes",
                   field: entry.path, at: entry.valueMark)
        }
        if let entry = fields["cpus"] { options.nanoCPUs = cpus(entry) }
        if let entry = fields["pids_limit"] {
            options.pidsLimit = integer(entry, range: -1...4_194_304, rule: "a number of processes, or -1 for no limit",
                                        example: "pids_limit: 200", optional: true).map(Int64.init)
        }
        if let entry = fields["ulimits"] { options.ulimits = ulimits(entry) }
        if let entry = fields["cap_add"] { options.capAdd = capabilities(entry, allowAll: true) }
        if let entry = fields["cap_drop"] { options.capDrop = capabilities(entry, allowAll: true) }
        if let entry = fields["read_only"] { options.readOnly = bool(entry, example: "read_only: true") ?? false }
        if let entry = fields["privileged"] {
            options.privileged = bool(entry, example: "privileged: false") ?? false
            remember(entry)
        }
        if let entry = fields["network"] { options.network = network(entry) }
        if let entry = fields["pid"] { options.pid = namespace(entry, accepted: ["host"]) }
        if let entry = fields["ipc"] {
            options.ipc = namespace(entry, accepted: ["host", "private", "shareable", "none"])
        }
        if let entry = fields["devices"] { options.devices = devices(entry) }
        if let entry = fields["log"] { options.log = log(entry) }
        return options
    }

    // MARK: - Ports

    /// `ports: [80, 22]` or `ports: {http: 80, ssh: 22}`.
    mutating func ports(_ entry: Entry) -> [AppPort] {
        let rule = "a port number from 1 to 65535"
        var result: [AppPort] = []
        switch entry.value {
        case .sequence(let sequence):
            for (index, item) in sequence.enumerated() {
                let itemEntry = Entry(key: entry.key, path: "\(entry.path)[\(index)]", keyMark: item.mark ?? entry.keyMark, value: item)
                if let number = integer(itemEntry, range: 1...65535, rule: rule, example: "ports: [80, 22]", optional: false) {
                    result.append(AppPort(number: number))
                }
            }
        case .mapping(let mapping):
            for item in entries(of: mapping, parent: entry.path, known: nil) {
                if Self.portNameProblem(item.key) {
                    report("a port name uses lowercase letters, digits and `-`, e.g. `http: 80`", field: item.path, at: item.keyMark)
                    continue
                }
                if let number = integer(item, range: 1...65535, rule: rule, example: "ports: {http: 80}", optional: false) {
                    result.append(AppPort(name: item.key, number: number))
                }
            }
        default:
            if case .scalar = entry.value, !entry.value.isNull, entry.value.tagName == .int {
                report("must be a list, e.g. `ports: [\(Self.scalarText(entry.value))]`, or use `port:` for one port",
                       field: entry.path, at: entry.valueMark)
            } else {
                reportWrongType(entry, expected: "a list of ports or a mapping of names to ports",
                                example: "ports: [80, 22]", optional: true)
            }
            return []
        }
        var seen: Set<Int> = []
        for port in result where !seen.insert(port.number).inserted {
            report("lists port \(port.number) twice; keep one", field: entry.path, at: entry.keyMark)
        }
        if result.isEmpty, problems.isEmpty {
            report("is empty; list the ports to publish, e.g. `ports: [80]`, or delete the line", field: entry.path, at: entry.keyMark)
        }
        return result
    }

    private static func portNameProblem(_ name: String) -> Bool {
        name.isEmpty || !name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
    }

    /// `register: [{port: 80, prefix: /app/web}, {port: ssh, prefix: /app/ssh}]`; a port may be a number or
    /// a name from `ports`.
    mutating func registerList(_ entry: Entry, sequence: Node.Sequence, ports: inout [AppPort]) -> Registration? {
        let example = "register: [{port: 80, prefix: /app/web}]"
        var result: [RegisteredPort] = []
        var prefixes: [String: String] = [:]
        let declaredPorts = ports
        for (index, item) in sequence.enumerated() {
            let path = "\(entry.path)[\(index)]"
            guard case .mapping(let mapping) = item else {
                report("must be a mapping with `port` and `prefix`, e.g. `{port: 80, prefix: /app/web}`; got \(Self.describe(item))",
                       field: path, at: item.mark ?? entry.keyMark)
                continue
            }
            let fields = fieldsByKey(entries(of: mapping, parent: path, known: Self.registerEntryFields))
            guard let portEntry = fields["port"] else {
                report("is missing; say which container port this key points at, e.g. `port: 80`",
                       field: "\(path).port", at: item.mark ?? entry.keyMark)
                continue
            }
            var port: Int?
            if case .scalar(let scalar) = portEntry.value, portEntry.value.tagName != .int, !portEntry.value.isNull {
                port = declaredPorts.first { $0.name == scalar.string }?.number
                if port == nil {
                    let names = declaredPorts.compactMap(\.name)
                    report("names no port of `ports`" + (names.isEmpty ? "" : " (\(names.map { "`\($0)`" }.joined(separator: ", ")))")
                        + "; got \(Self.quoted(scalar.string))", field: portEntry.path, at: portEntry.valueMark)
                    continue
                }
            } else {
                port = integer(portEntry, range: 1...65535, rule: "a port number from 1 to 65535 or a port name",
                               example: "port: 80", optional: false)
                if let number = port, !declaredPorts.isEmpty, !declaredPorts.contains(where: { $0.number == number }) {
                    report("port \(number) is not among `ports`; add it there, or register one of those",
                           field: portEntry.path, at: portEntry.valueMark)
                    continue
                }
            }
            guard let number = port else { continue }
            var prefix: String?
            if let prefixEntry = fields["prefix"] {
                prefix = validatePrefix(prefixEntry)
                if let prefix, let other = prefixes[prefix] {
                    report("is also the prefix of \(other): two ports under one prefix would write the same key; give each its own",
                           field: prefixEntry.path, at: prefixEntry.valueMark)
                }
                if let prefix { prefixes[prefix] = path }
            } else if index > 0 {
                report("is missing; every port after the first needs its own prefix, e.g. `prefix: /app/ssh`",
                       field: "\(path).prefix", at: item.mark ?? entry.keyMark)
                continue
            }
            result.append(RegisteredPort(port: number, prefix: prefix))
        }
        if sequence.isEmpty {
            report("is an empty list; write `\(example)`, or delete `register` to register the first port under /app/<name>",
                   field: entry.path, at: entry.keyMark)
            return nil
        }
        if declaredPorts.isEmpty {
            // No `ports`: the registered ports are the ones to publish.
            var seen: Set<Int> = []
            ports = result.compactMap(\.port).filter { seen.insert($0).inserted }.map { AppPort(number: $0) }
        }
        return Registration(ports: result)
    }

    // MARK: - Storage

    private mutating func volumes(_ entry: Entry) -> [VolumeMount] {
        let example = "volumes: [\"/data:/data\", \"/etc/httpd/conf:/etc/httpd/conf:ro\"]"
        var result: [VolumeMount] = []
        var targets: Set<String> = []
        for item in stringList(entry, example: example, single: false) {
            let parts = item.text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            let source: VolumeMount.Source
            let target: String
            var options: [String] = []
            switch parts.count {
            case 1:
                source = .anonymous
                target = parts[0]
            case 2, 3:
                target = parts[1]
                if parts.count == 3 { options = parts[2].split(separator: ",").map(String.init) }
                let host = parts[0]
                if host.hasPrefix("/") {
                    source = .bind(Self.normalisedPath(host))
                } else if host.hasPrefix(".") || host.hasPrefix("~") {
                    report("the host path must be absolute (a manifest has no folder of its own); write e.g. `/data:/data`; got \(Self.quoted(host))",
                           field: item.path, at: item.mark)
                    continue
                } else if Self.isVolumeName(host) {
                    source = .named(host)
                } else {
                    report("\(Self.quoted(host)) is neither an absolute host path nor a volume name (letters, digits, `_.-`)",
                           field: item.path, at: item.mark)
                    continue
                }
            default:
                report("must be `/host/path:/container/path[:ro]`, `volume-name:/container/path[:ro]` or `/container/path`; got \(Self.quoted(item.text))",
                       field: item.path, at: item.mark)
                continue
            }
            guard target.hasPrefix("/"), target != "/" else {
                report("the container path must be absolute and not `/`, e.g. `/data`; got \(Self.quoted(target))",
                       field: item.path, at: item.mark)
                continue
            }
            if let bad = options.first(where: { !Self.volumeOptions.contains($0) }) {
                report("\(Self.quoted(bad)) is not a volume option; use `ro` or `rw` (also `z`, `Z`, `nocopy` and propagation modes)",
                       field: item.path, at: item.mark)
                continue
            }
            if options.contains("ro") && options.contains("rw") {
                report("says both `ro` and `rw`; keep one", field: item.path, at: item.mark)
                continue
            }
            guard targets.insert(Self.normalisedPath(target)).inserted else {
                report("mounts \(target) a second time; each container path can be mounted once", field: item.path, at: item.mark)
                continue
            }
            fieldMarks[item.path] = item.mark
            result.append(VolumeMount(source: source, target: target, options: options))
        }
        return result
    }

    private mutating func tmpfs(_ entry: Entry) -> [String: String] {
        var result: [String: String] = [:]
        for item in stringList(entry, example: "tmpfs: [/run, \"/tmp:size=64m\"]", single: true) {
            let parts = item.text.split(separator: ":", maxSplits: 1).map(String.init)
            guard let path = parts.first, path.hasPrefix("/"), path != "/" else {
                report("must be an absolute container path, optionally with mount options, e.g. `/tmp:size=64m`; got \(Self.quoted(item.text))",
                       field: item.path, at: item.mark)
                continue
            }
            result[path] = parts.count > 1 ? parts[1] : ""
        }
        return result
    }

    // MARK: - Name resolution and process

    /// `extra_hosts: ["db:10.0.0.5"]` or `extra_hosts: {db: 10.0.0.5}`.
    private mutating func extraHosts(_ entry: Entry) -> [String] {
        var pairs: [(host: String, ip: String, path: String, mark: Mark?)] = []
        if case .mapping(let mapping) = entry.value {
            for item in entries(of: mapping, parent: entry.path, known: nil) {
                guard let ip = text(item, example: "extra_hosts: {db: 10.0.0.5}", optional: false) else { continue }
                pairs.append((item.key, ip, item.path, item.valueMark))
            }
        } else {
            for item in stringList(entry, example: "extra_hosts: [\"db:10.0.0.5\"]", single: false) {
                guard let colon = item.text.firstIndex(of: ":") else {
                    report("must be `host:ip`, e.g. `db:10.0.0.5`; got \(Self.quoted(item.text))", field: item.path, at: item.mark)
                    continue
                }
                pairs.append((String(item.text[..<colon]), String(item.text[item.text.index(after: colon)...]), item.path, item.mark))
            }
        }
        return pairs.compactMap { pair in
            guard !pair.host.isEmpty, !pair.host.contains(where: { $0.isWhitespace || $0 == ":" }),
                Self.isIPAddress(pair.ip) || pair.ip == "host-gateway"
            else {
                report("must be a host name and an IP address (or `host-gateway`), e.g. `db:10.0.0.5`; got \(Self.quoted("\(pair.host):\(pair.ip)"))",
                       field: pair.path, at: pair.mark)
                return nil
            }
            return "\(pair.host):\(pair.ip)"
        }
    }

    private mutating func stopSignal(_ entry: Entry) -> String? {
        guard let text = text(entry, example: "stop_signal: SIGINT", optional: true) else { return nil }
        let upper = text.uppercased()
        let name = upper.hasPrefix("SIG") ? String(upper.dropFirst(3)) : upper
        let known: Set<String> = [
            "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2", "PIPE", "ALRM",
            "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "XCPU", "XFSZ", "VTALRM", "PROF",
            "WINCH", "IO", "PWR", "SYS",
        ]
        if known.contains(name) { return text }
        if let number = Int(text), (1...64).contains(number) { return text }
        report("is not a signal; write e.g. `stop_signal: SIGINT` or `stop_signal: SIGQUIT`; got \(Self.quoted(text))",
               field: entry.path, at: entry.valueMark)
        return nil
    }

    // MARK: - Limits

    /// `512m`, `1g`, `1.5G`, `1048576`: bytes, as the docker CLI reads them (binary units).
    private mutating func byteSize(_ entry: Entry, example: String, minimum: Int64) -> Int64? {
        guard case .scalar(let scalar) = entry.value, !entry.value.isNull else {
            reportWrongType(entry, expected: "a size such as `512m` or `2g`", example: example, optional: true)
            return nil
        }
        guard let bytes = Self.bytes(scalar.string) else {
            report("must be a size: a number with an optional unit b, k, m, g or t (1024-based), e.g. `\(example)`; got \(Self.quoted(scalar.string))",
                   field: entry.path, at: entry.valueMark)
            return nil
        }
        guard bytes >= minimum else {
            report("must be at least \(minimum >> 20 > 0 ? "\(minimum >> 20)m" : "\(minimum) bytes") (Docker refuses less), e.g. `\(example)`; got \(scalar.string)",
                   field: entry.path, at: entry.valueMark)
            return nil
        }
        return bytes
    }

    /// Docker's `RAMInBytes`: `\d+(\.\d+)? ?[bkmgtp]?i?b?`, case-insensitive, 1024-based.
    static func bytes(_ text: String) -> Int64? {
        var number = Substring(text)
        var unit = ""
        while let last = number.last, last.isLetter { unit = String(last).lowercased() + unit; number = number.dropLast() }
        if number.last == " " { number = number.dropLast() }
        let multipliers: [String: Double] = [
            "": 1, "b": 1, "k": 0x1p10, "m": 0x1p20, "g": 0x1p30, "t": 0x1p40, "p": 0x1p50,
        ]
        var unitName = unit
        if unitName.hasSuffix("b"), unitName.count > 1 { unitName.removeLast() }
        if unitName.hasSuffix("i"), unitName.count > 1 { unitName.removeLast() }
        guard let multiplier = multipliers[unitName], !number.isEmpty,
            number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }), number.first != ".", number.last != ".",
            number.filter({ $0 == "." }).count <= 1, let value = Double(number)
        else { return nil }
        let bytes = value * multiplier
        guard bytes.isFinite, bytes < 9.2e18 else { return nil }
        return Int64(bytes)
    }

    /// `cpus: 1.5` → 1,500,000,000 nano-CPUs.
    private mutating func cpus(_ entry: Entry) -> Int64? {
        guard let value = number(entry, range: 0.01...1024, rule: "a number of CPUs from 0.01 to 1024",
                                 example: "cpus: 1.5", optional: true)
        else { return nil }
        let nano = (value * 1e9).rounded()
        guard abs(nano - value * 1e9) < 0.5 else {
            report("has more decimals than Docker accepts (nine); got \(value)", field: entry.path, at: entry.valueMark)
            return nil
        }
        return Int64(nano)
    }

    /// `ulimits: {nofile: {soft: 1024, hard: 4096}, nproc: 512}`.
    private mutating func ulimits(_ entry: Entry) -> [Ulimit] {
        let example = "ulimits: {nofile: {soft: 1024, hard: 4096}}"
        guard case .mapping(let mapping) = entry.value else {
            reportWrongType(entry, expected: "a mapping of limits", example: example, optional: true)
            return []
        }
        var result: [Ulimit] = []
        for item in entries(of: mapping, parent: entry.path, known: nil) {
            guard Self.ulimitNames.contains(item.key) else {
                let known = Self.ulimitNames.sorted().joined(separator: ", ")
                report("is not a ulimit Docker knows (\(known))", field: item.path, at: item.keyMark)
                continue
            }
            let rule = "a whole number, or -1 for unlimited"
            if case .mapping(let limits) = item.value {
                let fields = fieldsByKey(entries(of: limits, parent: item.path, known: Self.ulimitFields))
                guard let softEntry = fields["soft"], let hardEntry = fields["hard"] else {
                    report("needs both `soft` and `hard`, e.g. `\(item.key): {soft: 1024, hard: 4096}`", field: item.path, at: item.keyMark)
                    continue
                }
                guard let soft = integer(softEntry, range: -1...Int.max, rule: rule, example: "soft: 1024", optional: false),
                    let hard = integer(hardEntry, range: -1...Int.max, rule: rule, example: "hard: 4096", optional: false)
                else { continue }
                guard hard == -1 || (soft != -1 && soft <= hard) else {
                    report("the soft limit (\(soft)) must not be above the hard limit (\(hard))", field: item.path, at: item.keyMark)
                    continue
                }
                result.append(Ulimit(name: item.key, soft: Int64(soft), hard: Int64(hard)))
            } else if let value = integer(item, range: -1...Int.max, rule: rule, example: "\(item.key): 4096", optional: false) {
                result.append(Ulimit(name: item.key, soft: Int64(value), hard: Int64(value)))
            }
        }
        return result.sorted { $0.name < $1.name }
    }

    // MARK: - Privileges and namespaces

    private mutating func capabilities(_ entry: Entry, allowAll: Bool) -> [String] {
        stringList(entry, example: "\(entry.key): [NET_ADMIN]", single: false).compactMap { item in
            var name = item.text.uppercased()
            if name.hasPrefix("CAP_") { name.removeFirst(4) }
            guard Self.capabilities.contains(name) || (allowAll && name == "ALL") else {
                var message = "\(Self.quoted(item.text)) is not a Linux capability"
                if let close = FieldSuggestions.suggestion(for: name, among: Self.capabilities.sorted()) {
                    message += "; did you mean `\(close)`?"
                } else {
                    message += "; write names such as `NET_ADMIN` or `SYS_TIME`"
                }
                report(message, field: item.path, at: item.mark)
                return nil
            }
            fieldMarks[item.path] = item.mark
            return name
        }
    }

    private mutating func network(_ entry: Entry) -> String? {
        guard let name = text(entry, example: "network: backend", optional: true) else { return nil }
        if name == "none" {
            report("`none` leaves the container without ports to publish or register; use a network name, or `host`",
                   field: entry.path, at: entry.valueMark)
            return nil
        }
        if name.hasPrefix("container:") {
            report("sharing another container's network is not supported: ports could not be published; use a network name",
                   field: entry.path, at: entry.valueMark)
            return nil
        }
        guard Self.isVolumeName(name) else {
            report("must be a network name (letters, digits, `_.-`) or `host`; got \(Self.quoted(name))",
                   field: entry.path, at: entry.valueMark)
            return nil
        }
        remember(entry)
        return name
    }

    private mutating func namespace(_ entry: Entry, accepted: [String]) -> String? {
        guard let value = text(entry, example: "\(entry.key): host", optional: true) else { return nil }
        guard accepted.contains(value) else {
            report("must be \(accepted.map { "`\($0)`" }.joined(separator: " or ")); got \(Self.quoted(value))",
                   field: entry.path, at: entry.valueMark)
            return nil
        }
        remember(entry)
        return value
    }

    private mutating func devices(_ entry: Entry) -> [DeviceMapping] {
        stringList(entry, example: "devices: [/dev/fuse]", single: false).compactMap { item in
            let parts = item.text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            let host = parts[0]
            let container = parts.count > 1 ? parts[1] : host
            let permissions = parts.count > 2 ? parts[2] : "rwm"
            guard parts.count <= 3, host.hasPrefix("/dev/"), container.hasPrefix("/"), !permissions.isEmpty,
                permissions.allSatisfy({ "rwm".contains($0) })
            else {
                report("must be `/dev/NAME[:/container/path[:rwm]]`; got \(Self.quoted(item.text))", field: item.path, at: item.mark)
                return nil
            }
            fieldMarks[item.path] = item.mark
            return DeviceMapping(pathOnHost: host, pathInContainer: container, permissions: permissions)
        }
    }

    // MARK: - Logs

    private mutating func log(_ entry: Entry) -> LogSettings {
        let example = "log: {driver: json-file, options: {max-size: 10m, max-file: \"3\"}}"
        guard case .mapping(let mapping) = entry.value else {
            reportWrongType(entry, expected: "a mapping", example: example, optional: true)
            return .default
        }
        let fields = fieldsByKey(entries(of: mapping, parent: entry.path, known: Self.logFields))
        let driver = fields["driver"].flatMap { word($0, example: "driver: json-file") } ?? LogSettings.default.driver
        var options: [String: String] = [:]
        if let optionsEntry = fields["options"] {
            if case .mapping(let optionMapping) = optionsEntry.value {
                for item in entries(of: optionMapping, parent: optionsEntry.path, known: nil) {
                    if let value = text(item, example: "max-size: 10m", optional: false) { options[item.key] = value }
                }
            } else {
                reportWrongType(optionsEntry, expected: "a mapping", example: "options: {max-size: 10m}", optional: true)
            }
        } else if driver == LogSettings.default.driver {
            options = LogSettings.default.options
        }
        return LogSettings(driver: driver, options: options)
    }

    // MARK: - Placement

    static let placementFields = ["max_per_host", "constraints", "spread", "on_partition"]

    /// `placement: {max_per_host: 2, constraints: ["zone == a"], spread: zone, on_partition: keep}`.
    mutating func validatePlacement(_ entry: Entry) -> Placement {
        guard case .mapping(let mapping) = entry.value else {
            if !entry.value.isNull {
                reportWrongType(entry, expected: "a mapping", example: "placement: {max_per_host: 2}", optional: true)
            }
            return Placement()
        }
        let fields = fieldsByKey(entries(of: mapping, parent: entry.path, known: Self.placementFields))
        var placement = Placement()
        placement.maxPerHost = fields["max_per_host"].flatMap {
            integer($0, range: 1...Self.maxReplicas, rule: "a whole number from 1 to \(Self.maxReplicas)",
                    example: "max_per_host: 2", optional: true)
        }
        if let constraints = fields["constraints"] {
            placement.constraints = stringList(constraints, example: "constraints: [\"zone == a\"]", single: true)
                .compactMap { item in
                    switch PlacementConstraint.parse(item.text) {
                    case .success(let constraint): return constraint
                    case .failure(let error):
                        report("\(error)", field: item.path, at: item.mark)
                        return nil
                    }
                }
        }
        if let spread = fields["spread"] { placement.spread = word(spread, example: "spread: zone") }
        if let action = fields["on_partition"], let text = text(action, example: "on_partition: keep", optional: true) {
            if let value = Placement.PartitionAction(rawValue: text) {
                placement.onPartition = value
            } else {
                report("must be `keep` (containers run on, their keys expire) or `stop`; got \(Self.quoted(text))",
                       field: action.path, at: action.valueMark)
            }
        }
        return placement
    }

    // MARK: - Shared readers

    /// One item of a list, with where it is.
    struct ListItem {
        var text: String
        var path: String
        var mark: Mark?
    }

    /// A list of strings; `single` also accepts one string for a list of one (`dns: 8.8.8.8`).
    mutating func stringList(_ entry: Entry, example: String, single: Bool) -> [ListItem] {
        switch entry.value {
        case .sequence(let sequence):
            if sequence.count > Self.maxCommandWords {
                report("has \(sequence.count) items; at most \(Self.maxCommandWords) are allowed", field: entry.path, at: entry.keyMark)
                return []
            }
            var items: [ListItem] = []
            for (index, item) in sequence.enumerated() {
                let path = "\(entry.path)[\(index)]"
                guard case .scalar(let scalar) = item, !item.isNull else {
                    report("must be text, e.g. `\(example)`; got \(Self.describe(item))", field: path, at: item.mark ?? entry.keyMark)
                    continue
                }
                items.append(ListItem(text: scalar.string, path: path, mark: item.mark ?? entry.keyMark))
            }
            return items
        case .scalar(let scalar) where single && !entry.value.isNull:
            return [ListItem(text: scalar.string, path: entry.path, mark: entry.valueMark)]
        default:
            reportWrongType(entry, expected: "a list", example: example, optional: true)
            return []
        }
    }

    /// Text without spaces.
    private mutating func word(_ entry: Entry, example: String) -> String? {
        guard let value = text(entry, example: example, optional: true) else { return nil }
        guard !value.isEmpty, !value.contains(where: \.isWhitespace) else {
            report("must be one word without spaces, e.g. `\(example)`; got \(Self.quoted(value))", field: entry.path, at: entry.valueMark)
            return nil
        }
        return value
    }

    private mutating func words(_ entry: Entry, example: String, what: String) -> [String] {
        stringList(entry, example: example, single: true).compactMap { item in
            guard !item.text.isEmpty, !item.text.contains(where: \.isWhitespace) else {
                report("must be \(what) without spaces; got \(Self.quoted(item.text))", field: item.path, at: item.mark)
                return nil
            }
            return item.text
        }
    }

    private mutating func absolutePath(_ entry: Entry, example: String) -> String? {
        guard let value = text(entry, example: example, optional: true) else { return nil }
        guard value.hasPrefix("/") else {
            report("must be an absolute path, e.g. `\(example)`; got \(Self.quoted(value))", field: entry.path, at: entry.valueMark)
            return nil
        }
        return value
    }

    /// `true` or `false` (YAML's other spellings of them too).
    mutating func bool(_ entry: Entry, example: String) -> Bool? {
        guard case .scalar(let scalar) = entry.value, entry.value.tagName == .bool else {
            reportWrongType(entry, expected: "`true` or `false`", example: example, optional: true)
            return nil
        }
        return Bool.construct(from: scalar)
    }

    /// Keeps where a field is, for the policy's messages.
    private mutating func remember(_ entry: Entry) {
        fieldMarks[entry.path] = entry.valueMark
    }

    static func scalarText(_ node: Node) -> String {
        if case .scalar(let scalar) = node { return scalar.string }
        return ""
    }

    static func isVolumeName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first.properties.isAlphabetic || ("0"..."9").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy {
            ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) || "_.-".unicodeScalars.contains($0)
        }
    }

    /// `/data/./x//y/` → `/data/x/y`; `..` steps up (never above `/`).
    static func normalisedPath(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            if part == "." { continue }
            if part == ".." { _ = parts.popLast(); continue }
            parts.append(part)
        }
        return "/" + parts.joined(separator: "/")
    }

    static func isIPAddress(_ text: String) -> Bool {
        IPLiteral.isIP(text)
    }
}
