import Foundation
import Manifests
import Testing

/// Parses `yaml` as `Manifests/web.yaml`.
func parse(_ yaml: String) -> ManifestFile {
    ManifestLoader.parse(yaml, path: "Manifests/web.yaml")
}

/// The problems of an invalid manifest; records an issue when it is valid.
func problems(_ yaml: String, sourceLocation: SourceLocation = #_sourceLocation) -> [ManifestProblem] {
    let file = parse(yaml)
    if case .success(let spec) = file.result {
        Issue.record("expected problems, got \(spec)", sourceLocation: sourceLocation)
    }
    return file.problems
}

/// The single problem of an invalid manifest; records an issue when there are none or several.
func problem(_ yaml: String, sourceLocation: SourceLocation = #_sourceLocation) -> ManifestProblem? {
    let found = problems(yaml, sourceLocation: sourceLocation)
    guard found.count == 1 else {
        Issue.record("expected one problem, got \(found.map(\.description))", sourceLocation: sourceLocation)
        return nil
    }
    return found.first
}

/// A fresh temporary directory, removed when `body` returns.
func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
    let path = FileManager.default.temporaryDirectory
        .appendingPathComponent("hecd-manifests-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
}

func write(_ text: String, to path: String) throws {
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
}

/// The smallest valid manifest with the given name, plus extra lines.
func manifest(name: String = "web", _ extra: String = "") -> String {
    "name: \(name)\nimage: hecd-demo:1\nreplicas: 1\n" + extra
}
