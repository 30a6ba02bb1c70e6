import Primitives
import Testing

@Suite struct SuggestionTests {
    @Test(arguments: [
        ("imgae", "image"), ("Stop-Timeout", "stop_timeout"), ("stopTimeout", "stop_timeout"), ("replica", "replicas"),
        ("reload_command", "reload_cmd"), ("chek_cmd", "check_cmd"),
    ])
    func aTypoGetsTheNameItStandsFor(typo: String, meant: String) {
        let known = ["image", "replicas", "stop_timeout", "reload_cmd", "check_cmd", "port", "src", "dest"]
        #expect(Suggestion.closest(to: typo, among: known) == meant)
    }

    @Test func synonymsAndNoCloseMatch() {
        #expect(Suggestion.closest(to: "cmd", among: ["command", "env"], synonyms: ["cmd": "command"]) == "command")
        #expect(Suggestion.closest(to: "colour", among: ["image", "port", "labels"]) == nil)
        // A short name allows one edit only: `pot` is `port`, `pit` is not.
        #expect(Suggestion.closest(to: "pot", among: ["port"]) == "port")
        #expect(Suggestion.closest(to: "pit", among: ["port"]) == nil)
    }
}

@Suite struct StableHashTests {
    @Test func isFNV1a() {
        // Published FNV-1a 64 test vectors.
        #expect(StableHash.fnv1a("".utf8) == 0xcbf2_9ce4_8422_2325)
        #expect(StableHash.fnv1a("a".utf8) == 0xaf63_dc4c_8601_ec8c)
        #expect(StableHash.hex(of: "foobar") == "85944171f73967e8")
    }
}

@Suite struct SourceProblemTests {
    @Test func printsWhatIsKnown() {
        #expect(SourceProblem(file: "m/web.yaml", line: 3, column: 11, field: "replicas", message: "must be a number").description
            == "m/web.yaml:3:11: replicas: must be a number")
        #expect(SourceProblem(file: "c.toml", line: 5, message: "unknown key").description == "c.toml:5: unknown key")
        #expect(SourceProblem(file: "m", column: 4, message: "cannot be read").description == "m: cannot be read")
    }
}

@Suite struct DurationUnitsTests {
    @Test func convertsWithoutLosingWholeSeconds() {
        #expect(Duration.milliseconds(2500).seconds == 2.5)
        #expect(Duration.seconds(3).wholeMilliseconds == 3000)
        #expect(Duration.microseconds(1_500_001).wholeMilliseconds == 1500)
        #expect(Duration.seconds(2).wholeMicroseconds == 2_000_000)
    }
}
