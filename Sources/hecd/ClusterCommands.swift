import ArgumentParser
import Cluster
import Etcd
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import Manifests
import Registry
import Scheduler

/// The options every cluster command shares: where etcd is, and the cluster's root key.
struct ClusterOptions: ParsableArguments {
    @OptionGroup(title: "etcd")
    var etcd: EtcdOptions

    @Option(name: .long, help: "The cluster's root key in etcd.")
    var hecdPrefix: String = "/hecd"

    var keys: ClusterKeys { ClusterKeys(root: hecdPrefix) }

    func client() throws -> EtcdClient { try etcd.requiredClient(ProcessInfo.processInfo.environment) }

    func snapshot(_ client: EtcdClient) async throws -> ClusterSnapshot {
        do {
            return try await ClusterSnapshot.read(client, keys: keys)
        } catch {
            StandardError.print("cannot read the cluster state from etcd: \(error)")
            throw ExitCode(2)
        }
    }
}

/// `hecd apply DIR|FILE`: the cluster's desired apps, from manifests.
struct ApplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Validate manifests and write them to the cluster (/hecd/apps) in one transaction.",
        discussion: """
            Each app's replicas are spread over the cluster agents' hosts (hecd agent --cluster). An invalid file \
            changes nothing for its app. With --watch, saved edits are applied within a second; a file left empty \
            or deleted mid-save removes nothing, a file deleted for more than 2 seconds removes its app.
            """)

    @Argument(help: "A manifest directory or one manifest file.")
    var path: String

    @Flag(name: .long, help: "Print what would change and write nothing.")
    var dryRun = false

    @Flag(name: .long, help: "Also remove the cluster's apps that the directory does not have.")
    var prune = false

    @Flag(name: .long, help: "Keep applying the directory as its files change (implies --prune).")
    var watch = false

    @OptionGroup var cluster: ClusterOptions

    func run() async throws {
        let client = try cluster.client()
        guard watch else {
            let (files, texts) = try load()
            if try await applyOnce(files: files, texts: texts, held: [], client: client) != .applied { throw ExitCode.failure }
            return
        }
        // Watching: a file caught empty or deleted mid-save removes nothing until it has been gone for
        // ApplyWatchGuard.removalGrace; an etcd error or a conflicting change is tried again at the next look.
        var lastTexts: [String: String]?
        var removals = ApplyWatchGuard()
        var recheckAt: ContinuousClock.Instant?
        while true {
            let (files, texts) = try load()
            let now = ContinuousClock.now
            let due = recheckAt.map { now >= $0 } ?? false
            let held = removals.held(files: files, now: now)
            recheckAt = held.recheckAt
            if texts != lastTexts || due {
                lastTexts = texts
                do {
                    if try await applyOnce(files: files, texts: texts, held: held.apps, client: client) == .conflicted { lastTexts = nil }
                } catch {
                    StandardError.print("cannot apply \(path): \(error); trying again")
                    lastTexts = nil
                }
            }
            try await Task.sleep(for: .milliseconds(250))
        }
    }

    private func load() throws -> ([ManifestFile], [String: String]) {
        var status = stat()
        guard stat(path, &status) == 0 else {
            StandardError.print("\(path): no such file or directory")
            throw ExitCode(2)
        }
        let isDirectory = status.st_mode & S_IFMT == S_IFDIR
        let files: [ManifestFile]
        if isDirectory {
            files = try ManifestLoader.loadDirectory(path)
        } else {
            let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            files = [ManifestLoader.parse(text, path: path)]
        }
        // What is written is exactly the text that was validated: each valid file is read once more and that text
        // is parsed again (a file saved in between is checked as saved, or left out).
        var texts: [String: String] = [:]
        var checked: [ManifestFile] = []
        for file in files {
            guard file.spec != nil, let text = try? String(contentsOfFile: file.path, encoding: .utf8) else {
                checked.append(file)
                continue
            }
            let again = ManifestLoader.parse(text, path: file.path)
            if again.spec != nil { texts[file.path] = text }
            checked.append(again)
        }
        return (checked, texts)
    }

    private enum Outcome {
        case applied
        /// Written, except the apps of invalid files.
        case appliedWithProblems
        /// The cluster's apps changed while this apply read them: nothing written.
        case conflicted
    }

    /// Applies the files once; `held` apps are not removed though no file names them.
    private func applyOnce(
        files: [ManifestFile], texts: [String: String], held: Set<String>, client: EtcdClient
    ) async throws -> Outcome {
        let snapshot = try await cluster.snapshot(client)
        var plan = ClusterAdmin.plan(files, texts: texts, snapshot: snapshot)
        plan.missing.removeAll { held.contains($0) }
        for problem in plan.problems { StandardError.print("\(problem)") }
        let prune = self.prune || watch
        for change in plan.changes { print("\(dryRun ? "would apply" : "apply") \(change.app): \(change.summary)") }
        for app in plan.unchanged where !watch { print("unchanged \(app)") }
        for app in plan.missing {
            print(prune ? "\(dryRun ? "would remove" : "remove") \(app): not in \(path)" : "kept \(app): not in \(path) (--prune removes it)")
        }
        guard !dryRun else { return plan.problems.isEmpty ? .applied : .appliedWithProblems }
        guard try await ClusterAdmin.apply(plan, prune: prune, client: client, keys: cluster.keys, snapshot: snapshot) else {
            StandardError.print("the cluster's apps changed while this apply read them: nothing was written; \(watch ? "trying again" : "run it again")")
            return .conflicted
        }
        if !plan.problems.isEmpty {
            StandardError.print("\(plan.problems.count) problem\(plan.problems.count == 1 ? "" : "s"): the apps of those files were left as they are")
        }
        return plan.problems.isEmpty ? .applied : .appliedWithProblems
    }
}

/// `hecd scale APP=N …`.
struct ScaleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scale", abstract: "Set the cluster-wide replica count of apps: hecd scale web=6 api=2.")

    @Argument(help: "APP=COUNT pairs.")
    var counts: [String]

    @OptionGroup var cluster: ClusterOptions

    func validate() throws {
        for pair in counts {
            let parts = pair.split(separator: "=")
            guard parts.count == 2, let count = Int(parts[1]), (0...1000).contains(count) else {
                throw ValidationError("'\(pair)' is not APP=COUNT with a count from 0 to 1000, e.g. web=6")
            }
        }
    }

    func run() async throws {
        let client = try cluster.client()
        for pair in counts {
            let parts = pair.split(separator: "=").map(String.init)
            do {
                print(try await ClusterAdmin.scale(parts[0], to: Int(parts[1]) ?? 0, client: client, keys: cluster.keys))
            } catch {
                StandardError.print("\(error)")
                throw ExitCode.failure
            }
        }
    }
}

/// `hecd rm APP …`.
struct RemoveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rm", abstract: "Remove apps from the cluster: their containers are stopped on every host.")

    @Argument(help: "App names.")
    var apps: [String]

    @OptionGroup var cluster: ClusterOptions

    func run() async throws {
        let client = try cluster.client()
        for app in apps {
            if try await client.delete(cluster.keys.app(app)) == 0 {
                StandardError.print("no app \(app) in the cluster (`hecd apps` lists them)")
                throw ExitCode.failure
            }
            print("removed \(app)")
        }
    }
}

/// `hecd apps`: the cluster's apps, their slots per host, the leader.
struct AppsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apps", abstract: "List the cluster's apps with their slots per host, the leader and the hosts.")

    @OptionGroup var cluster: ClusterOptions

    func run() async throws {
        let client = try cluster.client()
        let snapshot = try await cluster.snapshot(client)
        print(ClusterReport(snapshot).text, terminator: "")
    }
}

/// `hecd rebalance [APP…]`: even apps out over the hosts, one start-first move per app at a time.
struct RebalanceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebalance",
        abstract: "Even apps out over the hosts (all apps by default): at most one slot per app moves at a time, start-first.")

    @Argument(help: "App names; none means every app.")
    var apps: [String] = []

    @OptionGroup var cluster: ClusterOptions

    func run() async throws {
        let client = try cluster.client()
        let declared = try await cluster.snapshot(client).apps.keys.sorted()
        if let unknown = apps.first(where: { !declared.contains($0) }) {
            StandardError.print("no app \(unknown) in the cluster (`hecd apps` lists them); nothing was asked")
            throw ExitCode.failure
        }
        for app in apps.isEmpty ? declared : apps {
            _ = try await client.put(cluster.keys.rebalance(app), "requested")
            print("rebalancing \(app): the leader moves one slot at a time, the new container registered before the old one goes")
        }
    }
}

/// `hecd drain HOST` and `hecd undrain HOST`.
struct DrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drain", abstract: "Move every slot off a host and keep new ones away (hecd undrain HOST lifts it).")

    @Argument(help: "The host's agent id.")
    var host: String

    @OptionGroup var cluster: ClusterOptions

    func run() async throws {
        let client = try cluster.client()
        let snapshot = try await cluster.snapshot(client)
        guard snapshot.hosts[host] != nil || snapshot.slots.contains(where: { $0.host == host }) else {
            let known = snapshot.hosts.keys.sorted().joined(separator: ", ")
            StandardError.print("no host \(host) in the cluster (hosts are named by their agent id: \(known.isEmpty ? "none is live" : known)); nothing was drained")
            throw ExitCode.failure
        }
        _ = try await client.put(cluster.keys.drained(host), "drained")
        print("\(host) drained: its slots move to other hosts")
    }
}

struct UndrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "undrain", abstract: "Let a drained host take slots again (nothing moves back by itself).")

    @Argument(help: "The host's agent id.")
    var host: String

    @OptionGroup var cluster: ClusterOptions

    func run() async throws {
        guard try await cluster.client().delete(cluster.keys.drained(host)) > 0 else {
            StandardError.print("\(host) is not drained (`hecd apps` marks the drained hosts)")
            throw ExitCode.failure
        }
        print("\(host) takes slots again")
    }
}

/// The cluster as text: apps with their count and slots per host, hosts, the leader, and what cannot be placed.
struct ClusterReport {
    let snapshot: ClusterSnapshot

    init(_ snapshot: ClusterSnapshot) { self.snapshot = snapshot }

    var text: String {
        var out = "leader: \(snapshot.leader ?? "none (no agent runs with --cluster, or none may schedule)")\n"
        let hosts = snapshot.hosts.keys.sorted()
        out += "hosts: " + (hosts.isEmpty ? "none" : hosts.map { host in
            var text = host
            if let record = snapshot.hosts[host], !record.labels.isEmpty {
                text += " (" + record.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",") + ")"
            }
            if snapshot.drained.contains(host) { text += " drained" }
            return text
        }.joined(separator: ", ")) + "\n"
        let unplaceable = SchedulerService.decide(snapshot).unplaceable
        for name in snapshot.apps.keys.sorted() {
            guard let app = snapshot.apps[name] else { continue }
            let slots = snapshot.slots.filter { $0.app == name }
            let perHost = Dictionary(grouping: slots, by: \.host).map { host, slots in
                let state = snapshot.hosts[host] == nil ? " (host gone)" : ""
                let record = snapshot.agents[host]?.apps[name]
                let counts = record.map { " running \($0.running), registered \($0.registered)" } ?? ""
                return "\(host): \(slots.count) slot\(slots.count == 1 ? "" : "s")\(state)\(counts)"
            }.sorted()
            let desired = app.spec.map { "\($0.replicas)" } ?? "invalid manifest"
            out += "\(name): desired \(desired), placed \(slots.count)" + (perHost.isEmpty ? "" : "; " + perHost.joined(separator: "; ")) + "\n"
            if let reason = unplaceable[name] { out += "  cannot place: \(reason)\n" }
            if let spec = app.spec, slots.contains(where: { $0.specHash != spec.specHash }) {
                let turned = slots.filter { $0.specHash == spec.specHash }.count
                out += "  rolling out a new spec, one slot at a time: \(turned) of \(slots.count) slots on it\n"
            }
            for problem in app.problems { out += "  \(problem)\n" }
        }
        if snapshot.apps.isEmpty { out += "no apps: hecd apply DIR adds them\n" }
        return out
    }
}
