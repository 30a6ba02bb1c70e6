#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Etcd
import Manifests

/// The cluster's desired state as operators change it: `hecd apply`, `scale`, `rm`. Every change is one
/// transaction that compares the revisions it read, so two operators cannot overwrite each other unseen.
public enum ClusterAdmin {
    /// What `hecd apply` would do.
    public struct ApplyPlan: Sendable {
        public struct Change: Sendable {
            public var app: String
            public var text: String
            /// Nil for a new app.
            public var previous: ClusterSnapshot.App?
            public var summary: String
        }

        public var changes: [Change] = []
        public var unchanged: [String] = []
        /// Apps in etcd that the directory no longer has (removed only by `apply --prune`).
        public var missing: [String] = []
        /// Invalid files: nothing of their app changes.
        public var problems: [ManifestProblem] = []
    }

    /// Compares the valid manifests with what etcd holds.
    public static func plan(_ files: [ManifestFile], texts: [String: String], snapshot: ClusterSnapshot) -> ApplyPlan {
        var plan = ApplyPlan()
        var named: Set<String> = []
        for file in files {
            guard let spec = file.spec, let text = texts[file.path] else {
                plan.problems += file.problems
                if let name = file.declaredName { named.insert(name) }
                continue
            }
            named.insert(spec.name)
            let previous = snapshot.apps[spec.name]
            if let previous, previous.text == text {
                plan.unchanged.append(spec.name)
                continue
            }
            plan.changes.append(ApplyPlan.Change(
                app: spec.name, text: text, previous: previous, summary: summary(of: spec, against: previous?.spec)))
        }
        plan.missing = snapshot.apps.keys.filter { !named.contains($0) }.sorted()
        return plan
    }

    /// One line on what changes: `new: 6 × hecd-demo:1`, `replicas 2 → 3`, `spec changed: rolls out`.
    static func summary(of spec: AppSpec, against previous: AppSpec?) -> String {
        guard let previous else { return "new: \(spec.replicas) × \(spec.image)" }
        var parts: [String] = []
        if previous.replicas != spec.replicas { parts.append("replicas \(previous.replicas) → \(spec.replicas)") }
        if previous.specHash != spec.specHash { parts.append("spec changed: its containers are replaced one at a time") }
        if previous.placement != spec.placement { parts.append("placement changed") }
        if parts.isEmpty { parts.append("manifest text changed (nothing that placement or containers use)") }
        return parts.joined(separator: "; ")
    }

    /// Writes the plan's changes (and, with `prune`, deletes the missing apps) in one transaction that fails
    /// when any of those apps changed since the snapshot.
    public static func apply(
        _ plan: ApplyPlan, prune: Bool, client: EtcdClient, keys: ClusterKeys, snapshot: ClusterSnapshot
    ) async throws -> Bool {
        var compare: [EtcdCompare] = []
        var operations: [EtcdOperation] = []
        for change in plan.changes {
            let key = keys.app(change.app)
            compare.append(change.previous.map { .modRevision(key, equals: $0.modRevision) } ?? .absent(key))
            operations.append(.put(key, change.text))
        }
        if prune {
            for app in plan.missing {
                let key = keys.app(app)
                compare.append(.modRevision(key, equals: snapshot.apps[app]?.modRevision ?? 0))
                operations.append(.delete(key))
            }
        }
        guard !operations.isEmpty else { return true }
        return try await client.txn(EtcdTxn(compare: compare, success: operations)).succeeded
    }

    /// The manifest text with its top-level `replicas:` set to `count`; nil when it has no such line.
    public static func settingReplicas(_ text: String, to count: Int) -> String? {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let index = lines.firstIndex(where: { $0.hasPrefix("replicas:") }) else { return nil }
        let comment = lines[index].firstIndex(of: "#").map { "  " + lines[index][$0...] } ?? ""
        lines[index] = "replicas: \(count)" + comment
        return lines.joined(separator: "\n")
    }

    /// Sets one app's replica count: the stored manifest with a new `replicas`, checked like `hecd apply`.
    public static func scale(
        _ app: String, to count: Int, client: EtcdClient, keys: ClusterKeys
    ) async throws -> String {
        guard let stored = try await client.get(keys.app(app)) else {
            throw ClusterError("no app \(app) in the cluster: `hecd apps` lists them; `hecd apply FILE` adds one")
        }
        guard let text = settingReplicas(stored.value, to: count) else {
            throw ClusterError("the manifest of \(app) has no top-level `replicas:` line to change: edit it and `hecd apply` it")
        }
        let file = ManifestLoader.parse(text, path: "etcd:" + keys.app(app))
        guard let spec = file.spec else {
            throw ClusterError(file.problems.map(\.description).joined(separator: "\n"))
        }
        let key = keys.app(app)
        let result = try await client.txn(EtcdTxn(
            compare: [.modRevision(key, equals: stored.modRevision)], success: [.put(key, text)]))
        guard result.succeeded else {
            throw ClusterError("\(app) changed while it was being scaled: run the command again")
        }
        return "\(app): replicas \(spec.replicas)"
    }
}
