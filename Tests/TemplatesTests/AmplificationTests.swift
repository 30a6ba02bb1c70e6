import Foundation
import Testing

@testable import Templates

/// Functions whose result can be far larger than their arguments (`split` into characters, `seq`, `json` of a
/// long array, `replace` and `join` with a long text, `printf` with wide verbs, deeply nested JSON) are refused
/// by the render's budget before the value is built, not after: the fuzzer found a split that took half a
/// gigabyte and a second, and a nested JSON value that overflowed the stack.
@Suite struct AmplificationTests {
    /// Executes `text` with `limits`; the error's message, or nil when it rendered.
    private func failure(_ text: String, limits: RenderLimits = RenderLimits()) throws -> TemplateError? {
        let template = try Template(name: "amplify.tmpl", text: text)
        do {
            _ = try template.execute(store: MemoryStore([:]), environment: [:], limits: limits)
            return nil
        } catch {
            return error
        }
    }

    private func render(_ text: String, limits: RenderLimits = RenderLimits()) throws -> String {
        try Template(name: "amplify.tmpl", text: text).execute(store: MemoryStore([:]), environment: [:], limits: limits).text
    }

    /// A string of `megabytes` MB of spaces and a `1`, built in a few steps.
    private func big(_ megabytes: Int) -> String {
        #"{{$s := printf "%1000000d" 1}}{{$s = print"# + String(repeating: " $s", count: megabytes) + "}}"
    }

    @Test func splitIntoMoreItemsThanTheBudgetIsRefusedBeforeItIsBuilt() throws {
        let error = try #require(try failure(big(8) + #"{{$l := split $s ""}}{{len $l}}"#))
        #expect(error.line == 1 && error.message.hasPrefix("split: building 8000000 more pieces goes past the render's max_steps budget"))
        // The same split within the budget gives every piece.
        #expect(try render(#"{{$s := printf "%100000d" 1}}{{len (split $s "")}} {{len (split $s " ")}}"#) == "100000 100000")
    }

    @Test func seqAndJSONArraysSpendTheirValuesBeforeBuildingThem() throws {
        let limits = RenderLimits(maxSteps: 10_000)
        #expect(try failure("{{len (seq 1 9000)}}", limits: limits) == nil)
        let seq = try #require(try failure("{{len (seq 1 20000)}}", limits: limits))
        #expect(seq.message.hasPrefix("seq: building 20000 more numbers goes past"))
        // A JSON array of 100,000 numbers from a string of 200 KB.
        let array = #"{{$s := replace (printf "%100000d" 1) " " "0," -1}}{{len (jsonArray (print "[" $s "]"))}}"#
        #expect(try render(array) == "100000")
        let refused = try #require(try failure(array, limits: RenderLimits(maxSteps: 50_000)))
        #expect(refused.message.hasPrefix("jsonArray: building 4096 more JSON values goes past"))
    }

    @Test func jsonNestedPastTheLimitIsRefusedWithGosWords() throws {
        /// `[[…[0]…]]`, `depth` arrays deep.
        func nested(_ depth: Int) -> String {
            #"{{$open := replace (printf "%*s" \#(depth) "") " " "[" -1}}{{$close := replace (printf "%*s" \#(depth) "") " " "]" -1}}"#
                + #"{{$v := jsonArray (print $open "0" $close)}}{{len $v}} {{eq (printf "%v" $v) (print $v)}} {{json (print "{\"a\":" $open "0" $close "}")}}"#
        }
        // At the limit the value is parsed, printed, compared and released like any other.
        let printed = String(repeating: "[", count: GoJSON.maxDepth - 1) + "0" + String(repeating: "]", count: GoJSON.maxDepth - 1)
        #expect(try render(nested(GoJSON.maxDepth - 1)) == "1 true map[a:\(printed)]")
        let error = try #require(try failure(nested(GoJSON.maxDepth + 1)))
        #expect(error.message == "jsonArray: invalid character '[' exceeded max depth")
        // Far deeper than the stack would take, had the parser no limit.
        let deep = #"{{$s := replace (printf "%1000000d" 1) " " "[" -1}}{{json $s}}"#
        #expect(try failure(deep)?.message == "json: invalid character '[' exceeded max depth")
    }

    @Test func replaceAndJoinAreRefusedBeforeTheyBuildMoreThanTheOutputBudget() throws {
        // 999 spaces, each replaced by 100 KB: about 100 MB, past the 64 MB budget.
        let replace = try #require(try failure(#"{{replace (printf "%1000d" 1) " " (printf "%100000d" 1) -1}}"#))
        #expect(replace.message.hasPrefix("replace: its result of 99900001 bytes would be larger than the render's max_output budget"))
        let join = try #require(try failure(#"{{join (split (printf "%100000d" 1) "") (printf "%1000d" 1)}}"#))
        #expect(join.message.hasPrefix("join: its result of 100099000 bytes would be larger"))
        #expect(try render(#"{{replace "a.b.c" "." (printf "%3d" 1) -1}}"#) == "a  1b  1c")
    }

    @Test func printfStopsAtTheOutputBudget() throws {
        // 100 verbs of a million characters each: 100 MB asked for in 900 bytes of format.
        let wide = String(repeating: "%1000000d", count: 100)
        let arguments = String(repeating: " 1", count: 100)
        let limits = RenderLimits(maxOutputBytes: 2_500_000)
        let error = try #require(try failure("{{printf \"\(wide)\"\(arguments)}}", limits: limits))
        #expect(error.message.hasPrefix("printf: its result would be larger than the render's max_output budget (2500000 bytes)"))
        let fits = try render("{{printf \"\(String(repeating: "%1000000d", count: 2))\" 1 2}}", limits: limits)
        #expect(fits.utf8.count == 2_000_000)
    }

    /// `split`, `replace` and `contains` agree with a plain reference on many strings over a small alphabet
    /// (where needles overlap and repeat), and the sizes worked out before building are the sizes built.
    @Test func stringSearchesAgreeWithAReference() {
        var random = SeededGenerator(seed: 20261202)
        let alphabet: [Character] = ["a", "b", "é"]
        func word(_ maximum: Int) -> String {
            String((0..<Int.random(in: 0...maximum, using: &random)).map { _ in alphabet.randomElement(using: &random) ?? "a" })
        }
        for _ in 0..<3000 {
            let text = word(40)
            let needle = word(4)
            let new = word(3)
            let count = Int.random(in: -1...3, using: &random)
            #expect(GoStrings.contains(text, needle) == (needle.isEmpty || text.utf8.reference(find: needle.utf8) != nil))
            if !needle.isEmpty {
                let pieces = text.utf8.reference(split: needle.utf8)
                #expect(GoStrings.split(text, separator: needle) == pieces, "split \(text) by \(needle)")
                #expect(GoStrings.splitCount(text, separator: needle) == pieces.count)
                let replaced = GoStrings.replace(text, old: needle, new: new, count: count)
                let expected = count < 0 ? pieces.joined(separator: new) : Array(pieces.prefix(count + 1)).joined(separator: new) + (pieces.count > count + 1 ? needle + pieces.dropFirst(count + 1).joined(separator: needle) : "")
                #expect(replaced == expected, "replace \(needle) in \(text) by \(new), \(count) times")
            }
            #expect(
                GoStrings.replacedByteCount(text, old: needle, new: new, count: count)
                    == GoStrings.replace(text, old: needle, new: new, count: count).utf8.count)
        }
    }
}

extension String.UTF8View {
    /// The first occurrence by trying every offset: slow and obviously right.
    fileprivate func reference(find needle: String.UTF8View, from start: Int = 0) -> Int? {
        let bytes = Array(self)
        let pattern = Array(needle)
        guard bytes.count >= pattern.count else { return nil }
        for offset in stride(from: start, through: bytes.count - pattern.count, by: 1)
        where Array(bytes[offset..<(offset + pattern.count)]) == pattern {
            return offset
        }
        return nil
    }

    /// Go's `strings.Split` for a non-empty separator, by the reference search.
    fileprivate func reference(split separator: String.UTF8View) -> [String] {
        let bytes = Array(self)
        var pieces: [String] = []
        var start = 0
        while let found = reference(find: separator, from: start) {
            pieces.append(String(decoding: bytes[start..<found], as: UTF8.self))
            start = found + separator.count
        }
        pieces.append(String(decoding: bytes[start...], as: UTF8.self))
        return pieces
    }
}

/// `base` and `dir` work on bytes as Go's `path` does: a slash followed by a combining mark is a slash (as one
/// Swift Character it would not be). Expected values printed by Go 1.19's path.Base and path.Dir.
@Suite struct PathBytesTests {
    @Test(arguments: [
        ("/a/\u{301}b", "\u{301}b", "/a"), ("/a/\u{301}", "\u{301}", "/a"), ("x/\u{301}/", "\u{301}", "x/\u{301}"),
        ("/", "/", "/"), ("", ".", "."), ("a", "a", "."), ("//", "/", "/"), ("/a//", "a", "/a"),
    ])
    func baseAndDirAsGo(path: String, base: String, dir: String) {
        #expect(GoPath.base(path) == base)
        #expect(GoPath.dir(path) == dir)
    }
}
