import Yams
import Primitives

/// Checks a composed manifest against the schema, collecting every problem with its line and field path.
struct ManifestValidator {
    static let rootFields = [
        "name", "image", "replicas", "port", "ports", "command", "env", "labels", "stop_timeout", "register", "health",
        "placement",
    ] + containerFields
    static let registerFields = ["prefix", "drain"]
    static let healthFields = ["http", "tcp", "interval", "timeout", "retries", "start_period"]
    static let maxNameLength = 63
    static let maxReplicas = 1000
    static let maxStopTimeout = 3600
    static let maxDrainSeconds = 3600
    static let reservedLabelPrefix = "io.hecd."
    /// The most `env` entries, `labels` and `command` words a manifest may have.
    static let maxEnvEntries = 1000
    static let maxLabels = 256
    static let maxCommandWords = 1000

    /// The file, for messages.
    let path: String
    /// What the agent lets a manifest do to its host.
    let policy: ManifestPolicy
    /// Where the fields the policy looks at are, for its messages.
    var fieldMarks: [String: Mark] = [:]
    /// Placeholders the composer wrote for keys repeated in one mapping.
    let repeatedKeys: [String: RepeatedKey]
    private(set) var problems: [ManifestProblem] = []
    /// The `name` value, when it is a valid name (even if other fields are wrong).
    private(set) var declaredName: String?
    private(set) var declaredNameLine: Int?

    init(path: String, repeatedKeys: [String: RepeatedKey] = [:], policy: ManifestPolicy = .unrestricted) {
        self.path = path
        self.policy = policy
        self.repeatedKeys = repeatedKeys
    }

    /// One key and its value in a mapping, with the key's full field path.
    struct Entry {
        var key: String
        var path: String
        var keyMark: Mark?
        var value: Node

        /// Where a problem with the value is best shown: the value itself when it is a non-empty scalar,
        /// else the key (an empty value has no place of its own; a list or mapping may start lines below).
        var valueMark: Mark? {
            if case .scalar = value, !value.isNull, let mark = value.mark { return mark }
            return keyMark
        }
    }

    // MARK: - The manifest

    mutating func validate(_ root: Node) -> AppSpec? {
        // Before anything reads the values: aliases can make a small file enormous.
        if let overflow = ExpandedSize.overflow(of: root, limit: ManifestLoader.maxFileSize) {
            report(
                "the manifest grows past \(ManifestLoader.maxFileSize) bytes here once its YAML aliases are expanded "
                    + "(each `*alias` repeats the whole value of its `&anchor`); a manifest may have at most "
                    + "\(ManifestLoader.maxFileSize) bytes either way: write the values out, or make them shorter",
                field: overflow.field, at: overflow.mark)
            return nil
        }
        guard case .mapping(let mapping) = root else {
            report(
                "a manifest describes one app with fields such as `name: web`, `image: hecd-demo:1` and "
                    + "`replicas: 3`; this file holds \(Self.describe(root)) instead",
                at: root.mark
            )
            return nil
        }
        let fields = fieldsByKey(entries(of: mapping, parent: "", known: Self.rootFields))
        let missingMark = mapping.mark

        let name = required(fields["name"], field: "name", example: "name: web", missingAt: missingMark)
            .flatMap { validateName($0) }
        let image = required(fields["image"], field: "image", example: "image: hecd-demo:1", missingAt: missingMark)
            .flatMap { validateImage($0) }
        let replicas = required(fields["replicas"], field: "replicas", example: "replicas: 3", missingAt: missingMark)
            .flatMap {
                integer($0, range: 0...Self.maxReplicas, rule: "a whole number from 0 to \(Self.maxReplicas)",
                        example: "replicas: 3", optional: false)
            }
        let port = fields["port"].flatMap {
            integer($0, range: 1...65535, rule: "a port number from 1 to 65535", example: "port: 80", optional: true)
        }
        var ports = port.map { [AppPort(number: $0)] } ?? []
        if let portsEntry = fields["ports"] {
            if fields["port"] != nil {
                report("is given together with `port`; list every port under `ports` and delete `port`",
                       field: portsEntry.path, at: portsEntry.keyMark)
            } else {
                ports = self.ports(portsEntry)
            }
        }
        let command = fields["command"].flatMap { validateCommand($0) }
        let env = fields["env"].flatMap { stringMap($0, kind: .env) } ?? [:]
        let labels = fields["labels"].flatMap { stringMap($0, kind: .labels) } ?? [:]
        let stopTimeout = fields["stop_timeout"].flatMap {
            integer($0, range: 0...Self.maxStopTimeout,
                    rule: "a whole number of seconds from 0 to \(Self.maxStopTimeout)",
                    example: "stop_timeout: 10", optional: true)
        } ?? AppSpec.defaultStopTimeout
        let register = fields["register"].flatMap { validateRegister($0, ports: &ports) } ?? Registration()
        let health = fields["health"].flatMap { validateHealth($0) }
        let options = containerOptions(fields)
        let placement = fields["placement"].map { validatePlacement($0) } ?? Placement()

        guard problems.isEmpty, let name, let image, let replicas else { return nil }
        let spec = AppSpec(
            name: name, image: image, replicas: replicas, command: command, env: env, labels: labels,
            stopTimeout: stopTimeout, register: register, health: health, ports: ports, options: options,
            placement: placement
        )
        for refusal in policy.refusals(of: spec) {
            report(refusal.message, field: refusal.field, at: fieldMarks[refusal.field])
        }
        return problems.isEmpty ? spec : nil
    }

    // MARK: - Fields

    mutating func validateName(_ entry: Entry) -> String? {
        guard let name = text(entry, example: "name: web", optional: false) else { return nil }
        if let reason = Self.nameProblem(name) {
            var message = "\(reason), e.g. `name: web`; got \(Self.quoted(name))"
            if let fixed = Self.suggestedName(for: name) { message += "; perhaps `name: \(fixed)`" }
            report(message, field: entry.path, at: entry.valueMark)
            return nil
        }
        declaredName = name
        declaredNameLine = entry.valueMark?.line
        return name
    }

    /// Why `name` is not a valid app name, or nil when it is.
    static func nameProblem(_ name: String) -> String? {
        if name.isEmpty { return "must not be empty" }
        if name.count > maxNameLength {
            return "is \(name.count) characters long but may have at most \(maxNameLength)"
        }
        let scalars = Array(name.unicodeScalars)
        let startsWell = scalars.first.map(isLowercaseLetterOrDigit) ?? false
        let restIsValid = scalars.dropFirst().allSatisfy { isLowercaseLetterOrDigit($0) || "_.-".unicodeScalars.contains($0) }
        if !startsWell || !restIsValid {
            return "must use only lowercase letters, digits, `_`, `.` and `-`, starting with a letter or digit"
        }
        return nil
    }

    private static func isLowercaseLetterOrDigit(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar)
    }

    /// A valid name close to an invalid one (`Web App` → `web-app`), if there is an obvious one.
    private static func suggestedName(for name: String) -> String? {
        var scalars = String.UnicodeScalarView()
        for scalar in name.lowercased().unicodeScalars {
            let allowed = isLowercaseLetterOrDigit(scalar) || "_.-".unicodeScalars.contains(scalar)
            scalars.append(allowed ? scalar : "-")
        }
        var candidate = String(scalars)
        while let first = candidate.unicodeScalars.first, !isLowercaseLetterOrDigit(first) {
            candidate.removeFirst()
        }
        candidate = String(candidate.prefix(maxNameLength))
        guard candidate != name, nameProblem(candidate) == nil else { return nil }
        return candidate
    }

    mutating func validateImage(_ entry: Entry) -> String? {
        guard let image = text(entry, example: "image: hecd-demo:1", optional: false) else { return nil }
        if image.isEmpty {
            report("must not be empty; give an image reference, e.g. `image: hecd-demo:1`",
                   field: entry.path, at: entry.valueMark)
            return nil
        }
        if image.contains(where: \.isWhitespace) {
            report("must be one image reference without spaces, e.g. `image: hecd-demo:1`; got \(Self.quoted(image))",
                   field: entry.path, at: entry.valueMark)
            return nil
        }
        return image
    }

    mutating func validateCommand(_ entry: Entry) -> [String]? {
        let example = #"command: ["/bin/httpd", "-f", "-p", "80"]"#
        switch entry.value {
        case .sequence(let sequence):
            if sequence.count > Self.maxCommandWords {
                report("has \(sequence.count) words; a command may have at most \(Self.maxCommandWords)",
                       field: entry.path, at: entry.keyMark)
                return nil
            }
            if sequence.isEmpty {
                report("is an empty list; list the program and its arguments, e.g. `\(example)`, "
                    + "or delete the line to run the image's own command", field: entry.path, at: entry.keyMark)
                return nil
            }
            var command: [String] = []
            var valid = true
            for (index, item) in sequence.enumerated() {
                let itemPath = "\(entry.path)[\(index)]"
                let itemMark = item.mark ?? entry.keyMark
                switch item {
                case .scalar(let scalar) where !item.isNull:
                    if index == 0 && scalar.string.isEmpty {
                        report("is empty, but the first item is the program to run, e.g. `/bin/httpd`",
                               field: itemPath, at: itemMark)
                        valid = false
                    }
                    command.append(scalar.string)
                case .scalar:
                    report(#"has no value; write "" for an empty argument, or remove the item"#,
                           field: itemPath, at: itemMark)
                    valid = false
                default:
                    report("must be one argument as text, e.g. `\"-f\"`; got \(Self.describe(item))",
                           field: itemPath, at: itemMark)
                    valid = false
                }
            }
            return valid ? command : nil
        case .scalar(let scalar) where !entry.value.isNull:
            let words = scalar.string.split(whereSeparator: \.isWhitespace).map { "\"\($0)\"" }
            let suggestion = words.isEmpty ? example : "command: [\(words.joined(separator: ", "))]"
            report("must be a list with the program and each argument as its own item, e.g. `\(suggestion)`; "
                + "got \(Self.describe(entry.value))", field: entry.path, at: entry.valueMark)
            return nil
        default:
            reportWrongType(entry, expected: "a list of strings", example: example, optional: true)
            return nil
        }
    }

    enum StringMapKind {
        case env, labels
    }

    mutating func stringMap(_ entry: Entry, kind: StringMapKind) -> [String: String]? {
        let example = kind == .env ? "env: {GREETING: hello}" : "labels: {team: web}"
        guard case .mapping(let mapping) = entry.value else {
            if entry.value.isNull { return [:] }
            var message = "must be a mapping of names to values, e.g. `\(example)`; got \(Self.describe(entry.value))"
            if kind == .env, case .sequence = entry.value {
                message += "; write each variable as `NAME: value` on its own line under `env:`, not `- NAME=value`"
            }
            report(message, field: entry.path, at: entry.keyMark)
            return nil
        }
        let limit = kind == .env ? Self.maxEnvEntries : Self.maxLabels
        if mapping.count > limit {
            report("has \(mapping.count) entries; at most \(limit) are allowed", field: entry.path, at: entry.keyMark)
            return nil
        }
        var result: [String: String] = [:]
        var valid = true
        for item in entries(of: mapping, parent: entry.path, known: nil) {
            if let reason = kind == .env ? Self.envNameProblem(item.key) : Self.labelKeyProblem(item.key) {
                report(reason, field: item.path, at: item.keyMark)
                valid = false
                continue
            }
            switch item.value {
            case .scalar(let scalar) where !item.value.isNull:
                result[item.key] = scalar.string
            case .scalar:
                report(#"has no value; write `\#(item.key): ""` for an empty value"#, field: item.path, at: item.keyMark)
                valid = false
            default:
                report("must be a single value, e.g. `\(item.key): hello`; got \(Self.describe(item.value))",
                       field: item.path, at: item.keyMark)
                valid = false
            }
        }
        return valid ? result : nil
    }

    private static func envNameProblem(_ name: String) -> String? {
        let scalars = Array(name.unicodeScalars)
        func isLetter(_ scalar: Unicode.Scalar) -> Bool {
            ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || scalar == "_"
        }
        let valid = scalars.first.map(isLetter) ?? false
            && scalars.dropFirst().allSatisfy { isLetter($0) || ("0"..."9").contains($0) }
        if valid { return nil }
        return "is not a valid environment variable name: use letters, digits and `_`, not starting with a digit, "
            + "e.g. `GREETING`"
    }

    private static func labelKeyProblem(_ key: String) -> String? {
        if key.isEmpty { return "a label key must not be empty; write e.g. `team: web`" }
        if key.contains(where: { $0.isWhitespace }) {
            return "a label key must not contain spaces; write e.g. `team: web`"
        }
        if key.lowercased().hasPrefix(reservedLabelPrefix) {
            return "labels starting with `\(reservedLabelPrefix)` are reserved for hecd's own bookkeeping; "
                + "choose another key, e.g. `team: web`"
        }
        return nil
    }

    mutating func validateRegister(_ entry: Entry, ports: inout [AppPort]) -> Registration? {
        if case .sequence(let sequence) = entry.value {
            return registerList(entry, sequence: sequence, ports: &ports)
        }
        guard case .mapping(let mapping) = entry.value else {
            if entry.value.isNull { return Registration() }
            reportWrongType(entry, expected: "a mapping, or a list of `{port, prefix}`",
                            example: "register: {prefix: /app/servers}", optional: true)
            return nil
        }
        let fields = fieldsByKey(entries(of: mapping, parent: entry.path, known: Self.registerFields))
        let prefix = fields["prefix"].flatMap { validatePrefix($0) }
        let drain = fields["drain"].flatMap {
            number($0, range: 0...Double(Self.maxDrainSeconds),
                   rule: "a number of seconds from 0 to \(Self.maxDrainSeconds)", example: "drain: 2", optional: true)
        }
        return Registration(prefix: prefix, drainSeconds: drain)
    }

    mutating func validatePrefix(_ entry: Entry) -> String? {
        guard let prefix = text(entry, example: "prefix: /app/servers", optional: true) else { return nil }
        let reason: String?
        if prefix.contains(where: \.isWhitespace) {
            reason = "must not contain spaces"
        } else if !prefix.hasPrefix("/") {
            reason = "must start with `/`"
        } else if prefix.hasSuffix("/") {
            reason = "must not end with `/`"
        } else if prefix.contains("//") {
            reason = "must not contain `//`"
        } else {
            reason = nil
        }
        guard let reason else { return prefix }
        var message = "\(reason), e.g. `prefix: /app/servers`; got \(Self.quoted(prefix))"
        let parts = prefix.split(separator: "/")
        if !parts.isEmpty, !prefix.contains(where: \.isWhitespace) {
            message += "; perhaps `prefix: /\(parts.joined(separator: "/"))`"
        }
        report(message, field: entry.path, at: entry.valueMark)
        return nil
    }

    mutating func validateHealth(_ entry: Entry) -> HealthCheck? {
        guard case .mapping(let mapping) = entry.value else {
            if entry.value.isNull { return nil }
            if case .scalar(let scalar) = entry.value, scalar.string.hasPrefix("/") {
                report("must be a mapping; write `health: {http: \(scalar.string)}`", field: entry.path, at: entry.keyMark)
            } else {
                reportWrongType(entry, expected: "a mapping", example: "health: {http: /healthz}", optional: true)
            }
            return nil
        }
        let fields = fieldsByKey(entries(of: mapping, parent: entry.path, known: Self.healthFields))
        var check = HealthCheck()
        if let httpEntry = fields["http"] {
            guard let http = text(httpEntry, example: "http: /healthz", optional: false) else { return nil }
            guard http.hasPrefix("/"), !http.contains(where: \.isWhitespace) else {
                report("must be a URL path starting with `/` and without spaces, e.g. `http: /healthz`; got \(Self.quoted(http))",
                       field: httpEntry.path, at: httpEntry.valueMark)
                return nil
            }
            check.http = http
        }
        if let tcpEntry = fields["tcp"] {
            if check.http != nil {
                report("is given together with `http`; a check is either an HTTP request or a TCP connection: keep one",
                       field: tcpEntry.path, at: tcpEntry.keyMark)
                return nil
            }
            check.tcpPort = integer(tcpEntry, range: 1...65535, rule: "the container port that must accept connections",
                                    example: "tcp: 5432", optional: false)
        }
        func seconds(_ key: String, _ range: ClosedRange<Double>, example: String) -> Duration? {
            guard let item = fields[key] else { return nil }
            guard let value = duration(item, range: range, example: example) else { return nil }
            return .milliseconds(Int64((value * 1000).rounded()))
        }
        check.interval = seconds("interval", 0.1...3600, example: "interval: 5s")
        check.timeout = seconds("timeout", 0.1...300, example: "timeout: 2s")
        check.startPeriod = seconds("start_period", 0...3600, example: "start_period: 30s")
        check.retries = fields["retries"].flatMap {
            integer($0, range: 1...100, rule: "a number of failed checks from 1 to 100", example: "retries: 3", optional: true)
        }
        return check
    }

    /// `5`, `2.5`, `500ms`, `5s`, `1m30s`, `1h` (Go's duration units, as compose writes them): seconds.
    mutating func duration(_ entry: Entry, range: ClosedRange<Double>, example: String) -> Double? {
        guard case .scalar(let scalar) = entry.value, !entry.value.isNull else {
            reportWrongType(entry, expected: "a duration", example: example, optional: true)
            return nil
        }
        guard let value = Self.seconds(scalar.string), range.contains(value) else {
            report("must be a duration from \(Self.formatted(range.lowerBound)) to \(Self.formatted(range.upperBound)) s, "
                + "e.g. `\(example)` (units ms, s, m, h); got \(Self.quoted(scalar.string))", field: entry.path, at: entry.valueMark)
            return nil
        }
        return value
    }

    static func formatted(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }

    /// Parses a plain number of seconds or a Go duration (`1m30s`).
    static func seconds(_ text: String) -> Double? {
        if let plain = Double(text), plain.isFinite, !text.contains(where: \.isLetter) { return plain }
        var rest = Substring(text)
        var total = 0.0
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { $0.isLetter }
            rest = rest.dropFirst(unit.count)
            switch unit {
            case "ms": total += value / 1000
            case "s": total += value
            case "m": total += value * 60
            case "h": total += value * 3600
            default: return nil
            }
        }
        return total
    }

    // MARK: - Mappings

    /// The mapping's entries. Reports keys that are not plain text, repeated keys, and — when `known` is
    /// given — unknown keys (with a suggestion when one looks like a typo); none of those are returned.
    mutating func entries(of mapping: Node.Mapping, parent: String, known: [String]?) -> [Entry] {
        var result: [Entry] = []
        var firstLines: [String: Int] = [:]
        for (keyNode, value) in mapping {
            guard case .scalar(let keyScalar) = keyNode else {
                report("has a key that is \(Self.describe(keyNode)); keys must be plain names",
                       field: parent.isEmpty ? nil : parent, at: keyNode.mark)
                continue
            }
            var key = keyScalar.string
            var firstLine = firstLines[key]
            if let repeated = repeatedKeys[key] {
                key = repeated.key
                firstLine = repeated.firstLine
            }
            let path = parent.isEmpty ? key : "\(parent).\(key)"
            if let firstLine {
                report("is written twice in this mapping (first on line \(firstLine)); keep one and delete the other",
                       field: path, at: keyNode.mark)
                continue
            }
            firstLines[key] = keyNode.mark?.line ?? 0
            if let known, !known.contains(key) {
                report(Self.unknownFieldMessage(key, parent: parent, known: known), field: path, at: keyNode.mark)
                continue
            }
            result.append(Entry(key: key, path: path, keyMark: keyNode.mark, value: value))
        }
        return result
    }

    func fieldsByKey(_ entries: [Entry]) -> [String: Entry] {
        Dictionary(entries.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
    }

    private static func unknownFieldMessage(_ key: String, parent: String, known: [String]) -> String {
        if key == "<<" {
            return "YAML merge keys are not supported in manifests; write the fields out in full"
        }
        let place = parent.isEmpty ? "a manifest field" : "a field of `\(parent)`"
        if let suggestion = FieldSuggestions.suggestion(for: key, among: known) {
            return "is not \(place); did you mean `\(suggestion)`?"
        }
        let list = known.map { "`\($0)`" }.joined(separator: ", ")
        return "is not \(place); fix its spelling or delete it (the fields are \(list))"
    }

    // MARK: - Scalars

    mutating func required(_ entry: Entry?, field: String, example: String, missingAt mark: Mark?) -> Entry? {
        if entry == nil {
            report("is missing; add it, e.g. `\(example)`", field: field, at: mark)
        }
        return entry
    }

    /// The scalar's text as written, whatever YAML type it resolves to (`PORT: 80` gives `"80"`).
    mutating func text(_ entry: Entry, example: String, optional: Bool) -> String? {
        if case .scalar(let scalar) = entry.value, !entry.value.isNull { return scalar.string }
        reportWrongType(entry, expected: "text", example: example, optional: optional)
        return nil
    }

    mutating func integer(
        _ entry: Entry, range: ClosedRange<Int>, rule: String, example: String, optional: Bool
    ) -> Int? {
        guard case .scalar(let scalar) = entry.value, entry.value.tagName == .int else {
            reportWrongType(entry, expected: rule, example: example, optional: optional)
            return nil
        }
        guard let value = Self.decimalInteger(scalar.string) else {
            let how = Self.looksDecimal(scalar.string) ? "" : " written as a plain decimal number"
            report("must be \(rule)\(how), e.g. `\(example)`; got \(scalar.string)",
                   field: entry.path, at: entry.valueMark)
            return nil
        }
        guard range.contains(value) else {
            report("must be \(rule), e.g. `\(example)`; got \(value)", field: entry.path, at: entry.valueMark)
            return nil
        }
        return value
    }

    mutating func number(
        _ entry: Entry, range: ClosedRange<Double>, rule: String, example: String, optional: Bool
    ) -> Double? {
        guard case .scalar(let scalar) = entry.value,
              entry.value.tagName == .int || entry.value.tagName == .float
        else {
            reportWrongType(entry, expected: rule, example: example, optional: optional)
            return nil
        }
        let parsed = entry.value.tagName == .int
            ? Self.decimalInteger(scalar.string).map(Double.init)
            : Double.construct(from: scalar)
        guard let value = parsed, value.isFinite, range.contains(value) else {
            report("must be \(rule), e.g. `\(example)`; got \(scalar.string)", field: entry.path, at: entry.valueMark)
            return nil
        }
        return value
    }

    /// Decimal integers only: YAML 1.1 would also read `010` as octal and `0x10` as hex, which surprises.
    static func decimalInteger(_ text: String) -> Int? {
        guard looksDecimal(text) else { return nil }
        return Int(text)
    }

    static func looksDecimal(_ text: String) -> Bool {
        var digits = Substring(text)
        if let sign = digits.first, sign == "-" || sign == "+" { digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.allSatisfy({ ("0"..."9").contains($0) }) else { return false }
        return digits == "0" || digits.first != "0"
    }

    mutating func reportWrongType(_ entry: Entry, expected: String, example: String, optional: Bool) {
        if entry.value.isNull {
            let rest = optional ? ", or delete the line to use the default" : ""
            report("has no value; give \(expected), e.g. `\(example)`\(rest)", field: entry.path, at: entry.keyMark)
            return
        }
        var message = "must be \(expected), e.g. `\(example)`; got \(Self.describe(entry.value))"
        if case .scalar(let scalar) = entry.value, scalar.style != .plain, scalar.style != .any,
           Double(scalar.string) != nil {
            message += "; remove the quotes"
        }
        report(message, field: entry.path, at: entry.valueMark)
    }

    // MARK: - Reporting

    mutating func report(_ message: String, field: String? = nil, at mark: Mark?) {
        problems.append(ManifestProblem(file: path, line: mark?.line, column: mark?.column, field: field, message: message))
    }

    /// How a value reads in a "got …" clause.
    static func describe(_ node: Node) -> String {
        switch node {
        case .scalar(let scalar):
            switch node.tagName {
            case .null: return "no value"
            case .bool: return "`\(scalar.string)`, which YAML reads as true or false"
            case .int, .float: return "the number \(scalar.string)"
            default: return "the string \(quoted(scalar.string))"
            }
        case .sequence: return "a list"
        case .mapping: return "a mapping"
        case .alias: return "an alias"
        }
    }

    /// The text in double quotes, shortened when long.
    static func quoted(_ text: String) -> String {
        let limit = 60
        let shown = text.count > limit ? String(text.prefix(limit)) + "…" : text
        var escaped = ""
        for character in shown {
            switch character {
            case "\"", "\\": escaped += "\\\(character)"
            case "\n", "\r\n": escaped += "\\n"
            case "\t": escaped += "\\t"
            default: escaped.append(character)
            }
        }
        return "\"" + escaped + "\""
    }
}

extension Node {
    /// A scalar that YAML reads as null: empty, `~` or `null`.
    var isNull: Bool {
        if case .scalar = self { return tagName == .null }
        return false
    }

    /// The resolved tag's name (`Tag.name` itself is internal to Yams).
    var tagName: Tag.Name {
        Tag.Name(rawValue: tag.rawValue)
    }
}
