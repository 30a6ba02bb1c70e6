import Foundation
import FuzzTargets
import Testing

/// Every committed corpus input (seeds, and the reproducers of bugs the fuzzer found) goes through its target
/// in the regular build: a regression test of the corpus, fast enough for every test run.
@Suite struct CorpusReplayTests {
    /// `Fuzz/corpus/` of this checkout.
    static let corpus = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz/corpus")

    static func inputs(of target: FuzzTarget) throws -> [URL] {
        let folder = corpus.appendingPathComponent(target.rawValue)
        return try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { !$0.lastPathComponent.hasPrefix(".") }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    @Test(arguments: FuzzTarget.allCases)
    func everyCorpusInputKeepsTheInvariants(target: FuzzTarget) throws {
        let inputs = try Self.inputs(of: target)
        #expect(inputs.count >= 5, "Fuzz/corpus/\(target.rawValue) holds a seed corpus")
        for input in inputs {
            let broken = target.check(try Data(contentsOf: input))
            #expect(broken.isEmpty, "Fuzz/corpus/\(target.rawValue)/\(input.lastPathComponent): \(broken)")
        }
    }

}
