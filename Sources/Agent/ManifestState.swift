#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Manifests
import Reconciler

/// What the agent believes the manifests declare, holding on to the last valid version of each file so
/// that a broken edit changes nothing for its app.
struct ManifestState {
    /// The last valid spec read from each file.
    private(set) var lastValid: [String: AppSpec] = [:]
    /// Files that are broken now, with the app they name when that can be told.
    private var broken: [String: String?] = [:]
    /// Content digest and problems of each broken file already logged, so each is logged once per change.
    private var reported: [String: String] = [:]
    /// Files that vanished, and since when. Editors and `git checkout` replace a file by removing it and
    /// writing it again: an app is dropped only once its file has stayed away for `removalGrace`.
    private var missingSince: [String: Date] = [:]
    let removalGrace: TimeInterval
    /// Files that were valid and are now empty, and since when. An in-place save (`cat > web.yaml`) truncates
    /// the file before it writes: an empty read is reported only once the file has stayed empty for `emptyGrace`.
    private var emptySince: [String: Date] = [:]
    /// Empty files whose grace is over (reported, and not rechecked again).
    private var emptyConfirmed: Set<String> = []
    let emptyGrace: TimeInterval

    init(removalGrace: TimeInterval = 2, emptyGrace: TimeInterval = 1) {
        self.removalGrace = removalGrace
        self.emptyGrace = emptyGrace
    }

    /// How many manifest files are broken now.
    var brokenCount: Int { broken.count }

    /// When a vanished file's app is due to be dropped, if one is pending.
    var nextRemoval: Date? {
        missingSince.values.min().map { $0.addingTimeInterval(removalGrace) }
    }

    /// When an empty file should be read again to tell a truncate from a real emptying, if one is pending.
    var nextEmptyCheck: Date? {
        emptySince.values.min().map { $0.addingTimeInterval(emptyGrace) }
    }

    /// Drops the apps whose files have been gone for the grace period; returns their names.
    mutating func dropVanished(now: Date) -> [String] {
        var dropped: [String] = []
        for (path, since) in missingSince where now.timeIntervalSince(since) >= removalGrace {
            missingSince[path] = nil
            if let spec = lastValid.removeValue(forKey: path) { dropped.append(spec.name) }
        }
        return dropped.sorted()
    }

    /// Takes a fresh load of the directory; returns the problems not logged before.
    mutating func update(with files: [ManifestFile], now: Date = Date()) -> [ManifestProblem] {
        var fresh: [ManifestProblem] = []
        let present = Set(files.map(\.path))
        for path in lastValid.keys where !present.contains(path) && missingSince[path] == nil {
            missingSince[path] = now
        }
        for path in present { missingSince[path] = nil }
        broken = [:]
        for file in files {
            if !file.isEmpty {
                emptySince[file.path] = nil
                emptyConfirmed.remove(file.path)
            }
            switch file.result {
            case .success(let spec):
                lastValid[file.path] = spec
                reported[file.path] = nil
            case .failure(let error):
                broken[file.path] = file.declaredName
                if file.isEmpty, lastValid[file.path] != nil, !emptyConfirmed.contains(file.path) {
                    let since = emptySince[file.path] ?? now
                    // Probably between an in-place save's truncate and its write: not worth an error yet.
                    if now.timeIntervalSince(since) < emptyGrace {
                        emptySince[file.path] = since
                        continue
                    }
                    emptySince[file.path] = nil
                    emptyConfirmed.insert(file.path)
                }
                // The problems are part of the key: a file can become a duplicate when another file changes.
                let key = file.contentDigest + error.problems.map(\.description).joined(separator: "\n")
                if reported[file.path] != key {
                    reported[file.path] = key
                    fresh += error.problems
                }
            }
        }
        for path in reported.keys where !present.contains(path) { reported[path] = nil }
        for path in emptySince.keys where !present.contains(path) { emptySince[path] = nil }
        emptyConfirmed.formIntersection(present)
        return fresh
    }

    /// The desired state for the reconciler.
    var desired: DesiredState {
        let apps = lastValid.keys.sorted().compactMap { lastValid[$0] }
        var seen = Set<String>()
        let unique = apps.filter { seen.insert($0.name).inserted }
        var untouchable = Set<String>()
        var keepUndeclared = false
        for (path, name) in broken where lastValid[path] == nil {
            if let name { untouchable.insert(name) } else { keepUndeclared = true }
        }
        return DesiredState(apps: unique, untouchable: untouchable.subtracting(seen), keepUndeclared: keepUndeclared)
    }
}
