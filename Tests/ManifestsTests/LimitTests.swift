import Foundation
import Manifests
import Testing
import Primitives

/// The alias bomb of issue 10: one 100 KB string anchored in `env` and aliased 300 times (30 MB expanded).
func aliasBomb(name: String = "bomb", copies: Int = 300) -> String {
    var text = manifest(name: name, "env:\n  A: &s " + String(repeating: "x", count: 100_000) + "\n")
    for index in 0..<copies { text += "  B\(index): *s\n" }
    return text
}

/// Bounds that keep a small file from becoming a huge container spec.
@Suite struct LimitTests {
    @Test func theAliasBombIsInvalidAndNamesTheField() throws {
        let text = aliasBomb()
        #expect(text.utf8.count < ManifestLoader.maxFileSize)
        let found = try #require(problem(text))
        // 100 KB per copy: the 10th alias passes 1 MB.
        #expect(found.field == "env.B9")
        #expect(found.line == 15)
        #expect(found.description.hasPrefix("Manifests/web.yaml:15:3: env.B9: the manifest grows past 1048576 bytes here once its YAML aliases are expanded"))
    }

    @Test func aliasesWithinTheLimitAreFine() throws {
        let spec = try #require(parse(aliasBomb(copies: 5)).spec)
        #expect(spec.env.count == 6)
    }

    @Test func nestedAliasesAreMeasuredWithoutExpandingThem() {
        // Billion laughs: 10 levels of 10 aliases is 10^10 scalars; measuring stops at the limit.
        var text = manifest("labels:\n  a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
        for level in 1..<10 {
            let refs = Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ")
            text += "  a\(level): &a\(level) [\(refs)]\n"
        }
        let start = ContinuousClock.now
        let found = problems(text)
        #expect(ContinuousClock.now - start < .seconds(5))
        #expect(found.contains { $0.message.contains("YAML aliases are expanded") && $0.field?.hasPrefix("labels.a") == true })
    }

    @Test func tooManyEnvEntriesLabelsOrCommandWords() {
        let env = "env:\n" + (0...1000).map { "  V\($0): x\n" }.joined()
        #expect(problem(manifest(env))?.description == "Manifests/web.yaml:4:1: env: has 1001 entries; at most 1000 are allowed")
        let labels = "labels:\n" + (0...256).map { "  l\($0): x\n" }.joined()
        #expect(problem(manifest(labels))?.description == "Manifests/web.yaml:4:1: labels: has 257 entries; at most 256 are allowed")
        let command = "command: [" + Array(repeating: "x", count: 1001).joined(separator: ", ") + "]\n"
        #expect(problem(manifest(command))?.description == "Manifests/web.yaml:4:1: command: has 1001 words; a command may have at most 1000")
        #expect(parse(manifest("env:\n" + (0..<1000).map { "  V\($0): x\n" }.joined())).spec != nil)
    }
}
