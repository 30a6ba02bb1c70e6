// hecd-template-bench TEMPLATE KEYS.tsv RUNS OUTPUT
//
// Renders TEMPLATE against the keys in KEYS.tsv (a line per key: the key, a tab, the value) RUNS times, each time as a confd render
// does it: the store built from the keys, the template parsed, then executed. Writes the last output to OUTPUT and
// one JSON line to stdout: {"ns": [each run's nanoseconds], "bytes": N, "maxrss_kb": peak resident memory (VmHWM)}.
// The Go side is Tests/TemplatesTests/GoReference (`goreference -bench` takes the same arguments); bench/templates.py
// runs both. A developer tool: not installed.
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import Templates

func fail(_ message: String) -> Never {
    let line = Array("hecd-template-bench: \(message)\n".utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    exit(2)
}

let arguments = CommandLine.arguments
guard arguments.count == 5, let runs = Int(arguments[3]), runs > 0 else {
    fail("usage: hecd-template-bench TEMPLATE KEYS.tsv RUNS OUTPUT")
}
guard let templateData = FileManager.default.contents(atPath: arguments[1]) else { fail("cannot read \(arguments[1])") }
let text = String(decoding: templateData, as: UTF8.self)

/// The keys file's lines, read into a dictionary; the file's bytes are released on return.
func readKeys(_ path: String) -> [String: String] {
    guard let data = FileManager.default.contents(atPath: path) else { fail("cannot read \(path)") }
    var keys: [String: String] = [:]
    data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
        for line in bytes.split(separator: UInt8(ascii: "\n")) {
            guard let tab = line.firstIndex(of: UInt8(ascii: "\t")) else { fail("\(path): a line without a tab") }
            keys[String(decoding: line[..<tab], as: UTF8.self)] = String(decoding: line[(tab + 1)...], as: UTF8.self)
        }
    }
    return keys
}
let keys = readKeys(arguments[2])

var nanoseconds: [Int64] = []
var output = ""
let clock = ContinuousClock()
for _ in 0..<runs {
    let start = clock.now
    do {
        let store = MemoryStore(keys)
        let template = try Template(name: "bench.tmpl", text: text)
        output = try template.execute(store: store, environment: [:]).text
    } catch {
        fail("\(error)")
    }
    let took = clock.now - start
    nanoseconds.append(took.components.seconds * 1_000_000_000 + took.components.attoseconds / 1_000_000_000)
}
guard FileManager.default.createFile(atPath: arguments[4], contents: Data(output.utf8)) else { fail("cannot write \(arguments[4])") }
// VmHWM, not getrusage's ru_maxrss: that one keeps the high-water mark of the process before exec (a Python
// parent's, for instance).
/// A /proc file (its size reads as 0, so it is read until the end).
func readProc(_ path: String) -> String {
    let descriptor = open(path, O_RDONLY)
    guard descriptor >= 0 else { return "" }
    defer { close(descriptor) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        if count <= 0 { break }
        bytes += chunk[..<count]
    }
    return String(decoding: bytes, as: UTF8.self)
}
let status = readProc("/proc/self/status")
let peak = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }
    .flatMap { Int($0.dropFirst("VmHWM:".count).split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "") } ?? -1
print(#"{"ns": [\#(nanoseconds.map(String.init).joined(separator: ", "))], "bytes": \#(output.utf8.count), "maxrss_kb": \#(peak)}"#)
