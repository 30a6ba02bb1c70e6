import Foundation
import Testing

/// hecd's template engine against Go's text/template with confd's functions (`GoReference/main.go`), on
/// generated templates and key sets: every case must give the same bytes, or fail in both.
///
/// `HECD_DIFF_CASES` (default 5000) and `HECD_DIFF_SEED` (default: a fixed seed) choose the cases;
/// the mismatches of a run, if any, are written to `hecd-differential-mismatches.txt` in the temporary folder.
@Suite("DifferentialTests", .enabled(if: GoReference.unavailableReason == nil, "Go is not installed (apt-get install golang-go): the differential tests against Go's text/template are skipped"))
struct DifferentialTests {
    static let caseCount = Int(ProcessInfo.processInfo.environment["HECD_DIFF_CASES"] ?? "") ?? 5000
    static let seed = UInt64(ProcessInfo.processInfo.environment["HECD_DIFF_SEED"] ?? "") ?? 14

    @Test("generated templates render byte for byte as Go and confd render them")
    func generatedCases() throws {
        var generator = CaseGenerator(seed: Self.seed)
        let cases = (0..<Self.caseCount).map { _ in generator.next() }
        try compare(cases, label: "seed \(Self.seed)")
    }

    /// Compares both engines on `cases`; records one issue listing the first mismatches.
    func compare(_ cases: [GoReference.Case], label: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let expected = try GoReference.render(cases)
        var report = ""
        var mismatches = 0
        var failures = 0
        var notUTF8 = 0
        for (item, goOutcome) in zip(cases, expected) {
            if case .failure = goOutcome { failures += 1 }
            let hecdOutcome = GoReference.renderWithHecd(item)
            // hecd's strings are Swift strings, always UTF-8: where Go's output holds bytes that are not (a
            // slice through a character, base64Decode of binary data), hecd writes U+FFFD for each bad
            // sequence, and everything else must be the same (SUPPORTED.md).
            if case .output(let bytes) = goOutcome, String(validating: bytes, as: UTF8.self) == nil {
                notUTF8 += 1
                if hecdOutcome == .output(Array(String(decoding: bytes, as: UTF8.self).utf8)) { continue }
            }
            if !hecdOutcome.agrees(with: goOutcome) {
                mismatches += 1
                let keys = item.keys.keys.sorted().map { "\($0)=\(item.keys[$0] ?? "")".debugDescription }.joined(separator: " ")
                report += "template: \(item.template.debugDescription)\n  keys: \(keys)\n  go:   \(goOutcome)\n  hecd: \(hecdOutcome)\n\n"
            }
        }
        // The mismatches, for a look at all of them; no file when there are none.
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("hecd-differential-mismatches.txt")
        if mismatches > 0 {
            try? report.write(to: file, atomically: true, encoding: .utf8)
        } else {
            try? FileManager.default.removeItem(at: file)
        }
        print("differential (\(label)): \(cases.count) cases, \(failures) failing in Go, \(notUTF8) with output that is not UTF-8, \(mismatches) mismatches\(mismatches > 0 ? " (\(file.path))" : "")")
        if mismatches > 0 {
            Issue.record("\(mismatches) of \(cases.count) cases differ from Go (\(label)); the first ones:\n\(String(report.prefix(6000)))", sourceLocation: sourceLocation)
        }
    }
}
