import Foundation
import Templates

/// The Go reference renderer in `GoReference/main.go`: Go's own text/template with a func map that has confd's
/// semantics. Built for each run of the cases with the `go` found on the machine (Debian: golang-go) into a
/// temporary folder, removed afterwards; `GOCACHE` stays Go's own (`~/.cache/go-build`), or a folder under the
/// temporary directory when there is no home, so a build takes about a second.
enum GoReference {
    /// One case for both engines: a template, the store's keys, the environment and the clock.
    struct Case: Codable, Sendable {
        var name = "t.tmpl"
        var template: String
        var keys: [String: String]
        var env: [String: String] = [:]
        var now: Int64 = 1_709_622_489
        /// "Local": the host's zone (Go's time.Local with TZ unset, hecd's `.hostOffset`), as in production.
        var zone = "Local"
        var offset = 0
    }

    /// What an engine made of a case: the output bytes, or a failure (parse or execution).
    enum Outcome: Equatable, Sendable, CustomStringConvertible {
        case output([UInt8])
        case failure(String)

        var description: String {
            switch self {
            case .output(let bytes):
                let text = String(decoding: bytes, as: UTF8.self)
                let valid = String(validating: bytes, as: UTF8.self) != nil
                return "output \(valid ? "" : "(not UTF-8) ")\(text.debugDescription)"
            case .failure(let message): return "failure: \(message)"
            }
        }

        /// Equal outputs, or both failed (messages differ on purpose: hecd's name line and column).
        func agrees(with other: Outcome) -> Bool {
            switch (self, other) {
            case (.output(let a), .output(let b)): return a == b
            case (.failure, .failure): return true
            default: return false
            }
        }
    }

    private struct WireResult: Decodable {
        var ok: Bool
        var output: String?
        var error: String?
    }

    /// The `go` command: `GO` in the environment (only that one), else on `PATH`, else Debian's and the upstream
    /// locations.
    static let goCommand: String? = {
        let environment = ProcessInfo.processInfo.environment
        var candidates: [String] = []
        if let explicit = environment["GO"], !explicit.isEmpty {
            return FileManager.default.isExecutableFile(atPath: explicit) ? explicit : nil
        }
        for folder in (environment["PATH"] ?? "").split(separator: ":") { candidates.append("\(folder)/go") }
        candidates += ["/usr/lib/go/bin/go", "/usr/local/go/bin/go"]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    /// Why the differential tests cannot run here, or nil when they can.
    static var unavailableReason: String? {
        goCommand == nil ? "Go is not installed (apt-get install golang-go): the differential tests against Go's text/template are skipped" : nil
    }

    /// The folder holding main.go and go.mod.
    static let sourceFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("GoReference")

    /// Builds the reference renderer into `folder`; the binary's path.
    private static func build(into folder: URL) -> Result<String, GoReferenceError> {
        guard let go = goCommand else { return .failure(GoReferenceError(message: "go not found")) }
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let output = folder.appendingPathComponent("goreference").path
        var environment = ProcessInfo.processInfo.environment
        if environment["GOCACHE"] == nil, environment["HOME"] == nil {
            environment["GOCACHE"] = FileManager.default.temporaryDirectory.appendingPathComponent("hecd-go-cache").path
        }
        environment["GOFLAGS"] = "-mod=mod"
        environment["GO111MODULE"] = "on"
        environment["GOPROXY"] = "off"
        let result = run(go, ["build", "-o", output, "."], in: sourceFolder, environment: environment, input: Data())
        guard result.status == 0 else {
            return .failure(GoReferenceError(message: "go build failed (\(result.status)): \(String(decoding: result.error, as: UTF8.self))"))
        }
        return .success(output)
    }

    /// Builds the reference (about a second, with Go's build cache), renders every case with it in one
    /// process, and removes the build; the outcomes in order.
    static func render(_ cases: [Case]) throws -> [Outcome] {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hecd-goreference-\(getpid())-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = try build(into: folder).get()
        let encoder = JSONEncoder()
        var input = Data()
        for item in cases {
            input.append(try encoder.encode(item))
            input.append(0x0A)
        }
        let result = run(path, [], in: sourceFolder, environment: [:], input: input)
        guard result.status == 0 else {
            throw GoReferenceError(message: "goreference exited \(result.status): \(String(decoding: result.error, as: UTF8.self))")
        }
        let decoder = JSONDecoder()
        var outcomes: [Outcome] = []
        for line in result.output.split(separator: 0x0A) where !line.isEmpty {
            let wire = try decoder.decode(WireResult.self, from: Data(line))
            if wire.ok {
                outcomes.append(.output(Array(Data(base64Encoded: wire.output ?? "") ?? Data())))
            } else {
                outcomes.append(.failure(wire.error ?? ""))
            }
        }
        guard outcomes.count == cases.count else {
            throw GoReferenceError(message: "goreference answered \(outcomes.count) of \(cases.count) cases")
        }
        return outcomes
    }

    /// Renders one case with hecd's engine, as `hecd render` does (no data, the case's keys and clock).
    static func renderWithHecd(_ item: Case) -> Outcome {
        do {
            let template = try Template(name: item.name, text: item.template)
            let zone = item.zone == "Local" ? TimeZone.hostOffset : item.zone == "UTC" ? utc : (TimeZone(secondsFromGMT: item.offset) ?? utc)
            let text = try template.render(
                store: MemoryStore(item.keys), data: .null, environment: item.env,
                now: Date(timeIntervalSince1970: TimeInterval(item.now)), timeZone: zone
            )
            return .output(Array(text.utf8))
        } catch {
            return .failure(error.description)
        }
    }

    /// Runs a command with `input` as its standard input (through a file: the cases of a run are a few MB).
    private static func run(
        _ executable: String, _ arguments: [String], in folder: URL, environment: [String: String], input: Data
    ) -> (status: Int32, output: Data, error: Data) {
        let inputFile = FileManager.default.temporaryDirectory.appendingPathComponent("hecd-goreference-input-\(getpid()).jsonl")
        let errorFile = FileManager.default.temporaryDirectory.appendingPathComponent("hecd-goreference-stderr-\(getpid()).txt")
        defer {
            try? FileManager.default.removeItem(at: inputFile)
            try? FileManager.default.removeItem(at: errorFile)
        }
        guard FileManager.default.createFile(atPath: inputFile.path, contents: input),
            FileManager.default.createFile(atPath: errorFile.path, contents: Data()),
            let stdin = FileHandle(forReadingAtPath: inputFile.path),
            let stderr = FileHandle(forWritingAtPath: errorFile.path)
        else {
            return (-1, Data(), Data("cannot write \(inputFile.path)".utf8))
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = folder
        process.environment = environment
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        do {
            try process.run()
        } catch {
            return (-1, Data(), Data("cannot start \(executable): \(error)".utf8))
        }
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try? stdin.close()
        try? stderr.close()
        return (process.terminationStatus, output, (try? Data(contentsOf: errorFile)) ?? Data())
    }
}

struct GoReferenceError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
