#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import Primitives
import Templates
import TOMLKit

/// A problem in a confd folder, located as precisely as the source allows: `file:line:column: message`.
public typealias ResourceProblem = SourceProblem

/// Every problem found in a confd folder; nothing is rendered until all are fixed.
public struct ConfdirError: Error, Sendable, Hashable, CustomStringConvertible {
    public var problems: [ResourceProblem]

    public init(problems: [ResourceProblem]) {
        self.problems = problems
    }

    public var description: String { problems.map(\.description).joined(separator: "\n") }
}

/// Reads confd's template resources: `CONFDIR/conf.d/*.toml`, each with a `[template]` table whose `src` is a
/// file in `CONFDIR/templates`.
public enum ResourceLoader {
    /// The keys a `[template]` table may hold.
    public static let templateKeys: [String] = [
        "src", "dest", "keys", "prefix", "mode", "uid", "gid", "owner", "group", "check_cmd", "reload_cmd",
        "haproxy_runtime_api", "max_output", "max_steps",
    ]

    /// Reads every `*.toml` in `confdir/conf.d` (sorted by name; names starting with `.` are skipped) and
    /// checks that each template file exists. Throws every problem found, each with file and line.
    public static func load(confdir: String) throws(ConfdirError) -> [TemplateResource] {
        let resourceFolder = PathText.join(confdir, "conf.d")
        let templatesFolder = PathText.join(confdir, "templates")
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: resourceFolder)
        } catch {
            throw ConfdirError(problems: [ResourceProblem(
                file: resourceFolder, message: "cannot read the folder of template resources (is --confdir \(confdir) right?)")])
        }
        let files = names.filter { $0.hasSuffix(".toml") && !$0.hasPrefix(".") }.sorted()
        guard !files.isEmpty else {
            throw ConfdirError(problems: [ResourceProblem(
                file: resourceFolder, message: "no template resources (*.toml files with a [template] table)")])
        }
        var resources: [TemplateResource] = []
        var problems: [ResourceProblem] = []
        for name in files {
            let path = PathText.join(resourceFolder, name)
            guard let data = FileManager.default.contents(atPath: path) else {
                problems.append(ResourceProblem(file: path, message: "cannot read the file"))
                continue
            }
            do {
                let resource = try parse(String(decoding: data, as: UTF8.self), file: path, templatesFolder: templatesFolder)
                if !FileManager.default.fileExists(atPath: resource.sourcePath) {
                    let text = String(decoding: data, as: UTF8.self)
                    problems.append(ResourceProblem(
                        file: path, line: TOMLLines.line(ofKey: "src", in: text),
                        message: "src: template \(resource.sourcePath) does not exist"))
                    continue
                }
                resources.append(resource)
            } catch {
                problems.append(contentsOf: error.problems)
            }
        }
        let destinations = Dictionary(grouping: resources, by: \.destination).filter { $0.value.count > 1 }
        for (destination, sharing) in destinations.sorted(by: { $0.key < $1.key }) {
            problems.append(ResourceProblem(
                file: sharing[1].file,
                message: "dest \(destination) is also written by \(sharing[0].name): each destination needs one resource"))
        }
        guard problems.isEmpty else { throw ConfdirError(problems: problems) }
        return resources
    }

    /// Parses one resource file's text. `file` is used in messages and kept in the resource.
    public static func parse(_ text: String, file: String, templatesFolder: String) throws(ConfdirError) -> TemplateResource {
        if let problem = ResourceSyntax.check(text) {
            throw ConfdirError(problems: [ResourceProblem(
                file: file, line: problem.line, column: problem.column, message: problem.message)])
        }
        let document: TOMLTable
        do {
            document = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfdirError(problems: [ResourceProblem(
                file: file, line: error.source.begin.line, column: error.source.begin.column,
                message: "invalid TOML: \(error.description)")])
        } catch {
            throw ConfdirError(problems: [ResourceProblem(file: file, message: "invalid TOML: \(error)")])
        }
        var problems: [ResourceProblem] = []
        func problem(_ key: String?, _ message: String) {
            let line = key.map { TOMLLines.line(ofKey: $0, in: text) } ?? TOMLLines.line(ofTable: "template", in: text)
            problems.append(ResourceProblem(file: file, line: line, message: message))
        }
        for key in document.keys where key != "template" {
            problems.append(ResourceProblem(
                file: file, line: TOMLLines.line(ofTable: key, in: text) ?? TOMLLines.line(ofKey: key, in: text),
                message: "unknown \(document[key]?.table != nil ? "table [\(key)]" : "key \(key)"): a resource file holds one [template] table"))
        }
        guard let table = document["template"]?.table else {
            problems.append(ResourceProblem(
                file: file, line: TOMLLines.line(ofKey: "template", in: text),
                message: document["template"] == nil ? "no [template] table" : "template must be a table: [template]"))
            throw ConfdirError(problems: problems)
        }
        for key in table.keys where !templateKeys.contains(key) {
            let hint = Suggestion.closest(to: key, among: templateKeys).map { "; did you mean \($0)?" } ?? ""
            problem(key, "unknown key \(key) in [template]\(hint) (keys: \(templateKeys.joined(separator: ", ")))")
        }

        func string(_ key: String, required: Bool = false) -> String? {
            guard let value = table[key] else {
                if required { problem(nil, "[template] needs \(key) = \"…\"") }
                return nil
            }
            guard let text = value.string else {
                problem(key, "\(key) must be a string, not \(value.type)")
                return nil
            }
            if required, text.isEmpty { problem(key, "\(key) must not be empty") }
            return text
        }
        func id(_ key: String) -> UInt32? {
            guard let value = table[key] else { return nil }
            guard let number = value.int else {
                problem(key, "\(key) must be an integer, not \(value.type)")
                return nil
            }
            if number == -1 { return nil }  // confd's "unset".
            guard number >= 0, number <= Int(UInt32.max) else {
                problem(key, "\(key) \(number) is not a valid id")
                return nil
            }
            return UInt32(number)
        }

        let source = string("src", required: true) ?? ""
        let destination = string("dest", required: true) ?? ""
        if !destination.isEmpty, !destination.hasPrefix("/") {
            problem("dest", "dest must be an absolute path, not \(destination)")
        }
        let prefix = string("prefix") ?? "/"
        var keys: [String] = []
        if let value = table["keys"] {
            if let array = value.array {
                for element in array {
                    if let key = element.string {
                        keys.append(key)
                    } else {
                        problem("keys", "keys must list strings; found \(element.type)")
                    }
                }
                if array.isEmpty { problem("keys", "keys must list at least one key, e.g. keys = [\"/app/servers\"]") }
            } else {
                problem("keys", "keys must be a list of strings, e.g. keys = [\"/app/servers\"]")
            }
        } else {
            problem(nil, "[template] needs keys = [\"/some/prefix\", …]")
        }
        var mode: UInt32?
        if let value = table["mode"] {
            if let text = value.string {
                mode = parseMode(text)
                if mode == nil { problem("mode", "mode \(text) is not an octal permission such as \"0644\"") }
            } else {
                problem("mode", "mode must be a string of octal digits such as \"0644\", not \(value.type)")
            }
        }
        var uid = id("uid")
        var gid = id("gid")
        if let owner = string("owner") {
            if table["uid"] != nil || table["gid"] != nil {
                problem("owner", "give either owner or uid/gid, not both")
            } else {
                switch Owner.resolve(owner) {
                case .success(let ids): (uid, gid) = ids
                case .failure(let message): problem("owner", message)
                }
            }
        }
        // confd's `group = "name"` (or a number): the destination's group, with uid or owner or alone.
        if let group = string("group") {
            if table["gid"] != nil {
                problem("group", "give either group or gid, not both")
            } else if let owner = string("owner"), owner.contains(":") {
                problem("group", "give the group either in owner (user:group) or in group, not both")
            } else {
                switch Owner.resolve(":" + group) {
                case .success(let ids): gid = ids.1
                case .failure(let message): problem("group", message.replacing("owner: ", with: "group: "))
                }
            }
        }
        let check = string("check_cmd").flatMap { $0.trimmingWhitespace(newlines: false).isEmpty ? nil : $0 }
        let reload = string("reload_cmd").flatMap { $0.trimmingWhitespace(newlines: false).isEmpty ? nil : $0 }
        var runtimeAPI = false
        if let value = table["haproxy_runtime_api"] {
            if let flag = value.bool {
                runtimeAPI = flag
            } else {
                problem("haproxy_runtime_api", "haproxy_runtime_api must be true or false, not \(value.type)")
            }
        }
        var limits = RenderLimits()
        if let value = table["max_output"] {
            if let bytes = value.int ?? value.string.flatMap(parseSize), bytes > 0 {
                limits.maxOutputBytes = bytes
            } else {
                problem("max_output", "max_output must be a size in bytes such as 67108864 or \"64MB\" (KB, MB, GB), more than 0")
            }
        }
        if let value = table["max_steps"] {
            if let steps = value.int, steps > 0 {
                limits.maxSteps = steps
            } else {
                problem("max_steps", "max_steps must be a whole number of steps more than 0, e.g. 10000000")
            }
        }
        guard problems.isEmpty else { throw ConfdirError(problems: problems) }
        return TemplateResource(
            file: file, source: source, sourcePath: PathText.join(templatesFolder, source),
            destination: destination, prefix: prefix, keys: keys, mode: mode, uid: uid, gid: gid,
            checkCommand: check, reloadCommand: reload, haproxyRuntimeAPI: runtimeAPI, limits: limits)
    }

    /// A size: `1048576`, `512KB`, `64MB`, `1GB` (powers of 1024; `K`, `M`, `G`, `KiB`… also read).
    static func parseSize(_ text: String) -> Int? {
        let trimmed = text.trimmingWhitespace(newlines: false).uppercased()
        let digits = trimmed.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, let number = Int(digits) else { return nil }
        let unit = trimmed.dropFirst(digits.count).trimmingWhitespace(newlines: false)
        let multipliers: [String: Int] = [
            "": 1, "B": 1, "K": 1 << 10, "KB": 1 << 10, "KIB": 1 << 10, "M": 1 << 20, "MB": 1 << 20, "MIB": 1 << 20,
            "G": 1 << 30, "GB": 1 << 30, "GIB": 1 << 30,
        ]
        guard let multiplier = multipliers[unit] else { return nil }
        let (bytes, overflow) = number.multipliedReportingOverflow(by: multiplier)
        return overflow ? nil : bytes
    }

    /// Octal permission bits: "0644", "644", "0o644"; at most 07777.
    static func parseMode(_ text: String) -> UInt32? {
        var digits = text.trimmingWhitespace(newlines: false)
        if digits.hasPrefix("0o") || digits.hasPrefix("0O") { digits.removeFirst(2) }
        guard !digits.isEmpty, let value = UInt32(digits, radix: 8), value <= 0o7777 else { return nil }
        return value
    }
}

/// `owner = "user"` or `"user:group"` (names or numbers) resolved to ids.
enum Owner {
    enum Resolution { case success((UInt32?, UInt32?)), failure(String) }

    static func resolve(_ owner: String) -> Resolution {
        let parts = owner.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let user = parts[0]
        var uid: UInt32?
        var primaryGroup: UInt32?
        if !user.isEmpty {
            if let number = UInt32(user) {
                uid = number
            } else if let entry = getpwnam(user) {
                uid = entry.pointee.pw_uid
                primaryGroup = entry.pointee.pw_gid
            } else {
                return .failure("owner: no user \(user) on this machine (see /etc/passwd)")
            }
        }
        var gid = primaryGroup
        if parts.count > 1, !parts[1].isEmpty {
            let group = parts[1]
            if let number = UInt32(group) {
                gid = number
            } else if let entry = getgrnam(group) {
                gid = entry.pointee.gr_gid
            } else {
                return .failure("owner: no group \(group) on this machine (see /etc/group)")
            }
        }
        if uid == nil, gid == nil { return .failure("owner must name a user, a user:group or :group") }
        return .success((uid, gid))
    }
}

/// Finds where a key or table is written in TOML text, for messages (TOMLKit does not report value positions).
enum TOMLLines {
    /// The line of `key = …` inside `[template]` (or of `template.key = …`); nil when not found.
    static func line(ofKey key: String, in text: String, table: String = "template") -> Int? {
        var section = ""
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingWhitespace(newlines: false)
            if let name = header(line) {
                section = name
                continue
            }
            guard let equals = line.firstIndex(of: "=") else { continue }
            let written = unquote(line[..<equals].trimmingWhitespace(newlines: false))
            if section == table, written == key { return index + 1 }
            if section.isEmpty, written == "\(table).\(key)" || written == key { return index + 1 }
        }
        return nil
    }

    /// The line of the `[table]` header; nil when not found.
    static func line(ofTable table: String, in text: String) -> Int? {
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if header(rawLine.trimmingWhitespace(newlines: false)) == table { return index + 1 }
        }
        return nil
    }

    private static func header(_ line: String) -> String? {
        guard line.hasPrefix("["), let close = line.firstIndex(of: "]") else { return nil }
        let name = line[line.index(after: line.startIndex)..<close].trimming { "[] \t".contains($0) }
        return unquote(name)
    }

    private static func unquote(_ text: String) -> String {
        if text.count >= 2, let first = text.first, first == "\"" || first == "'", text.last == first {
            return String(text.dropFirst().dropLast())
        }
        return text
    }
}
