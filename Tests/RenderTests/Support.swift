import Etcd
import Foundation
import Logging
import Render
import Synchronization
import Templates
import TestSupport

/// A folder of its own under the temporary directory, removed by `remove()`.
struct TemporaryFolder: Sendable {
    let path: String

    init(_ name: String = "render") throws {
        path = NSTemporaryDirectory() + "hecd-\(name)-\(UUID().uuidString.prefix(8).lowercased())"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ relative: String) -> String { path + "/" + relative }

    /// Writes `text` at `relative`, creating folders.
    @discardableResult
    func write(_ relative: String, _ text: String) throws -> String {
        let full = file(relative)
        try FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: full, atomically: false, encoding: .utf8)
        return full
    }

    func read(_ relative: String) -> String? {
        FileManager.default.contents(atPath: file(relative)).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Files in a folder whose names start with `.` and contain `.hecd-`: leftover stage files.
    func stageFiles(in relative: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: file(relative))) ?? []
        return names.filter { $0.hasPrefix(".") && $0.contains(".hecd-") }
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// Runs `body` with a fresh temporary folder and removes it afterwards.
func withTemporaryFolder<Value>(_ name: String = "render", _ body: (TemporaryFolder) async throws -> Value) async throws -> Value {
    let folder = try TemporaryFolder(name)
    defer { folder.remove() }
    return try await body(folder)
}

/// A confd folder written from strings: `resources` are file name → TOML, `templates` name → text.
func makeConfdir(in folder: TemporaryFolder, resources: [String: String], templates: [String: String]) throws -> String {
    for (name, text) in resources { try folder.write("confd/conf.d/\(name)", text) }
    for (name, text) in templates { try folder.write("confd/templates/\(name)", text) }
    return folder.file("confd")
}

/// The test target's fixtures.
enum Fixtures {
    static var folder: String {
        Bundle.module.resourceURL?.appendingPathComponent("Fixtures").path ?? ""
    }

    static func text(_ relative: String) throws -> String {
        try String(contentsOfFile: folder + "/" + relative, encoding: .utf8)
    }

    /// The repository's `Deploy/confd` folder.
    static var deployConfd: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Deploy/confd").path
    }

    /// The seed article's four keys.
    static let articleKeys: [String: String] = [
        "/app/servers/backstabbing_rosalind": "192.168.1.22:49156",
        "/app/servers/cocky_morse": "192.168.1.22:49158",
        "/app/servers/goofy_goldstine": "192.168.1.22:49160",
        "/app/servers/prickly_blackwell": "192.168.1.22:49162",
    ]
}

/// Log messages kept for assertions.
final class LogRecorder: Sendable {
    struct Entry: Sendable {
        var level: Logger.Level
        var message: String
    }

    private let entries = Mutex<[Entry]>([])

    var all: [Entry] { entries.withLock { $0 } }
    var messages: [String] { all.map(\.message) }

    func count(containing text: String) -> Int { messages.filter { $0.contains(text) }.count }

    func record(_ entry: Entry) { entries.withLock { $0.append(entry) } }

    var logger: Logger {
        Logger(label: "test.render") { _ in RecordingHandler(recorder: self) }
    }

    private struct RecordingHandler: LogHandler {
        let recorder: LogRecorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            recorder.record(Entry(level: event.level, message: "\(event.message)"))
        }
    }
}

/// A key source scripted by the test: reads answer from `keys` (or fail while `reachable` is false), and
/// watches deliver whatever the test sends with `send`.
final class ScriptedKeySource: KeySource, Sendable {
    private struct State {
        var keys: [String: String]
        var revision: Int64 = 1
        var reachable = true
        var reads = 0
        var watches: [String: AsyncStream<EtcdWatchUpdate>.Continuation] = [:]
    }

    private let state: Mutex<State>

    init(_ keys: [String: String] = [:]) {
        state = Mutex(State(keys: keys))
    }

    var reads: Int { state.withLock { $0.reads } }
    var watchedPrefixes: [String] { state.withLock { $0.watches.keys.sorted() } }

    func setReachable(_ reachable: Bool) { state.withLock { $0.reachable = reachable } }

    /// Changes the stored keys without telling any watch (as a change lost to compaction would be).
    func setKeys(_ keys: [String: String]) {
        state.withLock {
            $0.keys = keys
            $0.revision += 1
        }
    }

    func readKeys(prefix: String, revision: Int64?) async throws -> EtcdRange {
        try state.withLock { state in
            state.reads += 1
            guard state.reachable else {
                throw EtcdError.transport(call: "POST /v3/kv/range", failures: [])
            }
            let kvs = state.keys.filter { $0.key.hasPrefix(prefix) }.sorted { $0.key < $1.key }
                .map { EtcdKeyValue(key: $0.key, value: $0.value, modRevision: state.revision) }
            return EtcdRange(kvs: kvs, revision: state.revision, count: kvs.count)
        }
    }

    func watchKeys(prefix: String, fromRevision: Int64) -> AsyncStream<EtcdWatchUpdate> {
        let (stream, continuation) = AsyncStream<EtcdWatchUpdate>.makeStream()
        state.withLock { $0.watches[prefix] = continuation }
        continuation.yield(.connected(revision: fromRevision - 1))
        return stream
    }

    /// Waits until the renderer watches `count` prefixes.
    func waitForWatches(_ count: Int, timeout: Duration = .seconds(5)) async throws {
        let deadline = ContinuousClock.now + timeout
        while state.withLock({ $0.watches.count }) < count {
            guard ContinuousClock.now < deadline else { throw TestFailure("the renderer never watched \(count) prefixes") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Stores a put and delivers it to the watch on `prefix`.
    func put(_ key: String, _ value: String, watch prefix: String) {
        let (update, continuation) = state.withLock { state in
            state.keys[key] = value
            state.revision += 1
            let event = EtcdEvent(kind: .put, kv: EtcdKeyValue(key: key, value: value, modRevision: state.revision))
            return (EtcdWatchUpdate.events([event], revision: state.revision), state.watches[prefix])
        }
        continuation?.yield(update)
    }

    func delete(_ key: String, watch prefix: String) {
        let (update, continuation) = state.withLock { state in
            state.keys[key] = nil
            state.revision += 1
            let event = EtcdEvent(kind: .delete, kv: EtcdKeyValue(key: key, value: "", modRevision: state.revision))
            return (EtcdWatchUpdate.events([event], revision: state.revision), state.watches[prefix])
        }
        continuation?.yield(update)
    }

    func send(_ update: EtcdWatchUpdate, watch prefix: String) {
        state.withLock { $0.watches[prefix] }?.yield(update)
    }

    var currentRevision: Int64 { state.withLock { $0.revision } }
}

/// Collects the renderer's reports.
final class ReportLog: Sendable {
    private let reports = Mutex<[ResourceReport]>([])

    var all: [ResourceReport] { reports.withLock { $0 } }

    func append(_ report: ResourceReport) { reports.withLock { $0.append(report) } }

    var observer: @Sendable (ResourceReport) -> Void { { self.append($0) } }

    /// Waits until at least `count` reports arrived.
    func waitFor(_ count: Int, timeout: Duration = .seconds(10)) async throws {
        let deadline = ContinuousClock.now + timeout
        while all.count < count {
            guard ContinuousClock.now < deadline else {
                throw TestFailure("expected \(count) renders, saw \(all.count): \(all.map { "\($0.outcome)" })")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}

/// Runs the renderer's watch loop in the background for the duration of `body`; fails when the renderer does
/// not stop within 10 s of being cancelled.
func whileRunning<Value>(_ renderer: ConfigRenderer, _ body: () async throws -> Value) async throws -> Value {
    let stopped = Mutex(false)
    let task = Task {
        defer { stopped.withLock { $0 = true } }
        try await renderer.run()
    }
    let result: Result<Value, any Error>
    do {
        result = .success(try await body())
    } catch {
        result = .failure(error)
    }
    task.cancel()
    let deadline = ContinuousClock.now + .seconds(10)
    while !stopped.withLock({ $0 }) {
        guard ContinuousClock.now < deadline else { throw TestFailure("the renderer did not stop when cancelled") }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return try result.get()
}

extension SyncOutcome {
    var isUpdated: Bool { if case .updated = self { true } else { false } }
    var isCheckFailed: Bool { if case .checkFailed = self { true } else { false } }
    var isReloadFailed: Bool { if case .reloadFailed = self { true } else { false } }
}
