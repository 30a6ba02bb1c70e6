import Manifests

/// What `hecd apply --watch` must not remove from the cluster although the directory does not show it right
/// now: an editor's save can leave a file empty or half-written for a moment, or delete it before it writes
/// the new one. An app is pruned only when its file has been gone for `removalGrace`; a file that is present
/// but unreadable keeps the app it last declared.
public struct ApplyWatchGuard: Sendable {
    public static let removalGrace: Duration = .seconds(2)

    /// Each file's app, from its last valid read.
    private var appOfPath: [String: String] = [:]
    /// Files that were valid once and are gone, with when they were first missed.
    private var goneSince: [String: ContinuousClock.Instant] = [:]

    public init() {}

    /// Takes in the files just read. Returns the apps to keep though no valid file names them, and when to
    /// look again (a gone file's grace ends then; nil when none is pending).
    public mutating func held(
        files: [ManifestFile], now: ContinuousClock.Instant
    ) -> (apps: Set<String>, recheckAt: ContinuousClock.Instant?) {
        var held: Set<String> = []
        var present: Set<String> = []
        for file in files {
            present.insert(file.path)
            goneSince[file.path] = nil
            if let spec = file.spec {
                appOfPath[file.path] = spec.name
            } else if file.declaredName == nil, let app = appOfPath[file.path] {
                held.insert(app)
            }
        }
        var recheckAt: ContinuousClock.Instant?
        for (path, app) in appOfPath where !present.contains(path) {
            let since = goneSince[path] ?? now
            goneSince[path] = since
            let deadline = since.advanced(by: Self.removalGrace)
            if now < deadline {
                held.insert(app)
                recheckAt = min(recheckAt ?? deadline, deadline)
            } else {
                appOfPath[path] = nil
                goneSince[path] = nil
            }
        }
        return (held, recheckAt)
    }
}
