import Templates
import Testing

/// Parse and execution errors name the template, line and column (1-based) and say what was expected.
@Suite struct ErrorTests {
    static let parseErrors: [ErrorCase] = [
        ErrorCase("{{.x", "t:1:1: unclosed action; expected }}"),
        ErrorCase("ok\n  {{if .x ", "t:2:3: unclosed action; expected }}"),
        ErrorCase("{{.x}", "t:1:5: bad character U+007D '}'"),
        ErrorCase("a\n{{end}}", "t:2:3: unexpected {{end}}; there is no {{if}}, {{range}}, {{with}}, {{define}} or {{block}} to close"),
        ErrorCase("{{else}}", "t:1:3: unexpected {{else}}; expected it inside {{if}}, {{range}} or {{with}}"),
        ErrorCase("{{if 1}}x", "t:1:10: unexpected end of input; expected {{end}} to close {{if}} from line 1"),
        ErrorCase("{{range .tags}}", "t:1:16: unexpected end of input; expected {{end}} to close {{range}} from line 1"),
        ErrorCase("a\nb\n{{range .x}}\n{{if .y}}\n{{end}}\n",
                  "t:6:1: unexpected end of input; expected {{end}} to close {{range}} from line 3"),
        ErrorCase(#"{{define "d"}}x"#, "t:1:16: unexpected end of input; expected {{end}} to close {{define}} from line 1"),
        ErrorCase("{{range .x}}\n{{else}}\n{{else}}\n{{end}}",
                  "t:3:3: unexpected {{else}}; expected {{end}} to close {{range}} from line 1, which already has an {{else}}"),
        ErrorCase("{{with 1}}{{else if 2}}{{end}}", "t:1:13: unexpected {{else if}} in {{with}} from line 1; expected {{else}} or {{end}}"),
        ErrorCase(#"{{if 1}}{{define "x"}}{{end}}{{end}}"#,
                  "t:1:11: unexpected {{define}} inside {{if}} from line 1; {{define}} is only allowed at the top level"),
        ErrorCase("{{nope 1}}", #"t:1:3: function "nope" not defined"#),
        ErrorCase("{{.name | nope}}", #"t:1:11: function "nope" not defined"#),
        ErrorCase("{{$x}}", #"t:1:3: undefined variable "$x""#),
        ErrorCase("{{if true}}{{$x := 1}}{{end}}{{$x}}", #"t:1:32: undefined variable "$x""#),
        ErrorCase("{{break}}", "t:1:3: {{break}} outside {{range}}"),
        ErrorCase("{{continue}}", "t:1:3: {{continue}} outside {{range}}"),
        ErrorCase("{{range .tags}}{{else}}{{break}}{{end}}", "t:1:26: {{break}} outside {{range}}"),
        ErrorCase(#"{{range .tags}}{{template "b"}}{{end}}{{define "b"}}{{break}}{{end}}"#, "t:1:55: {{break}} outside {{range}}"),
        ErrorCase("{{/* unclosed", "t:1:1: unclosed comment; expected */ before the end of the text"),
        ErrorCase("{{/* c */ }}", "t:1:8: comment ends before closing delimiter; expected */}}"),
        ErrorCase("{{\"abc}}", "t:1:3: unterminated quoted string"),
        ErrorCase("{{`abc}}", "t:1:3: unterminated raw quoted string"),
        ErrorCase("{{.a-b}}", "t:1:5: bad character U+002D '-'"),
        ErrorCase("{{ # }}", "t:1:4: unexpected \"#\" in command"),
        ErrorCase("{{ (1 }}", "t:1:7: unclosed left paren; expected )"),
        ErrorCase("{{ 1) }}", "t:1:5: unexpected right paren"),
        ErrorCase("{{true.x}}", #"t:1:3: unexpected . after term "true""#),
        ErrorCase(#"{{define "a"}}x{{end}}{{define "a"}}y{{end}}"#, #"t:1:25: template: multiple definition of template "a""#),
        ErrorCase(#"{{define "B"}}o{{end}}{{block "B" .}}d{{end}}"#, #"t:1:25: template: multiple definition of template "B""#),
        ErrorCase("{{if}}{{end}}", "t:1:5: missing value for if"),
        ErrorCase("{{}}", "t:1:3: missing value for command"),
        ErrorCase("{{1 | 2}}", "t:1:7: non executable command in pipeline stage 2"),
        ErrorCase("{{range $i, $v, $w := .}}{{end}}", "t:1:15: too many declarations in range"),
        ErrorCase("{{template .name}}", "t:1:12: unexpected \".name\" in template clause; expected a quoted template name"),
        ErrorCase("{{1.x}}", #"t:1:3: bad number syntax: "1.x""#),
        ErrorCase("{{99999999999999999999}}", "t:1:3: 99999999999999999999 overflows int"),
    ]

    static let executionErrors: [ErrorCase] = [
        ErrorCase("line1\n  {{getv \"/x\"}}", "t:2:5: getv: key /x not found"),
        ErrorCase(#"{{get "/x"}}"#, "t:1:3: get: key /x not found"),
        ErrorCase("{{len 1 2}}", "t:1:3: wrong number of args for len: want 1 got 2"),
        ErrorCase("{{.name | len 1}}", "t:1:11: wrong number of args for len: want 1 got 2"),
        ErrorCase("{{getv}}", "t:1:3: wrong number of args for getv: want 1 to 2 got 0"),
        ErrorCase("{{printf}}", "t:1:3: wrong number of args for printf: want at least 1 got 0"),
        ErrorCase(#"{{template "nope"}}"#, #"t:1:3: template "nope" not defined"#),
        ErrorCase("{{index .tags 5}}", "t:1:3: index: index out of range: 5"),
        ErrorCase(#"{{index .tags "a"}}"#, "t:1:3: index: cannot index slice/array with type string"),
        ErrorCase("{{index 1 0}}", "t:1:3: index: can't index item of type int"),
        ErrorCase("{{slice .tags 2 1}}", "t:1:3: slice: invalid slice index: 2 > 1"),
        ErrorCase(#"{{lt 1 "a"}}"#, "t:1:3: lt: incompatible types for comparison"),
        ErrorCase("{{eq 1 1.0}}", "t:1:3: eq: incompatible types for comparison"),
        ErrorCase("{{lt .tags .tags}}", "t:1:3: lt: invalid type for comparison"),
        ErrorCase("{{eq .tags .tags}}", "t:1:3: eq: non-comparable type [a b]: []interface {}"),
        ErrorCase("{{eq 1}}", "t:1:3: eq: missing argument for comparison"),
        ErrorCase(#"{{add "1" 2}}"#, "t:1:3: add: wrong type for argument 1; expected int; got string"),
        ErrorCase("{{toUpper .missing}}", "t:1:3: toUpper: invalid value for argument 1; expected string"),
        ErrorCase("{{div 1 0}}", "t:1:3: div: runtime error: integer divide by zero"),
        ErrorCase("{{mod 1 0}}", "t:1:3: mod: runtime error: integer divide by zero"),
        ErrorCase("{{len 3}}", "t:1:3: len: len of type int"),
        ErrorCase("{{.name.x}}", "t:1:3: can't evaluate field x in type string"),
        ErrorCase("{{.tags.x}}", "t:1:3: can't evaluate field x in type []interface {}"),
        ErrorCase("{{.nothing.x}}", "t:1:3: nil pointer evaluating interface {}.x"),
        ErrorCase("{{$x := 1}}{{$x.y}}", "t:1:14: can't evaluate field y in type int"),
        ErrorCase(#"{{(get "/app/servers/cocky_morse").Port}}"#, "t:1:4: can't evaluate field Port in type memkv.KVPair"),
        ErrorCase(#"{{.m.a 1}}"#, "t:1:3: a is not a method but has arguments"),
        ErrorCase(#"{{range "abc"}}{{end}}"#, "t:1:9: range can't iterate over abc"),
        ErrorCase("{{range $k, $v := 5}}{{end}}", "t:1:9: can't use 5 to iterate over more than one variable"),
        ErrorCase("{{nil}}", "t:1:3: nil is not a command"),
        ErrorCase("{{1 2}}", "t:1:3: can't give argument to non-function 1"),
        ErrorCase("{{.name | .tags}}", "t:1:11: tags is not a method but has arguments"),
        ErrorCase(#"{{json "{bad"}}"#, "t:1:3: json: invalid character 'b' looking for beginning of object key string"),
        ErrorCase(#"{{json "[1]"}}"#, "t:1:3: json: json: cannot unmarshal array into Go value of type map[string]interface {}"),
        ErrorCase(#"{{jsonArray "[1,"}}"#, "t:1:3: jsonArray: unexpected end of JSON input"),
        ErrorCase(#"{{gets "/a/["}}"#, "t:1:3: gets: syntax error in pattern"),
        ErrorCase(#"{{map "a"}}"#, "t:1:3: map: invalid map call"),
        ErrorCase(#"{{map 1 2}}"#, "t:1:3: map: map keys must be strings"),
        ErrorCase(#"{{parseBool "yes"}}"#, #"t:1:3: parseBool: strconv.ParseBool: parsing "yes": invalid syntax"#),
        ErrorCase(#"{{atoi "12a"}}"#, #"t:1:3: atoi: strconv.Atoi: parsing "12a": invalid syntax"#),
        ErrorCase(#"{{base64Decode "a$=="}}"#, "t:1:3: base64Decode: illegal base64 data at input byte 1"),
        ErrorCase(#"{{join .nums ","}}"#, "t:1:3: join: wrong type for argument 1; expected []string; got []interface {}"),
        ErrorCase(#"{{datetime.Nope}}"#, "t:1:3: can't evaluate field Nope in type time.Time"),
        ErrorCase(#"{{define "T"}}{{template "T"}}{{end}}{{template "T"}}"#, "t:1:17: exceeded maximum template depth (200)"),
    ]

    @Test(arguments: parseErrors) func parseError(_ golden: ErrorCase) {
        #expect(throws: TemplateError.self) { try Template(name: "t", text: golden.template) }
        expectError(golden)
    }

    @Test(arguments: executionErrors) func executionError(_ golden: ErrorCase) throws {
        _ = try Template(name: "t", text: golden.template)  // Parses fine; fails only when rendered.
        expectError(golden)
    }

    private func expectError(_ golden: ErrorCase, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            let output = try render(golden.template)
            Issue.record("expected an error, rendered \(output.debugDescription)", sourceLocation: sourceLocation)
        } catch {
            #expect("\(error)" == golden.expected, sourceLocation: sourceLocation)
        }
    }

    @Test func errorCarriesItsParts() {
        #expect(throws: TemplateError(templateName: "haproxy.cfg.tmpl", line: 3, column: 11, message: "getv: key /missing not found")) {
            let template = try Template(name: "haproxy.cfg.tmpl", text: "global\n\n        {{getv \"/missing\"}}\n")
            _ = try template.render(store: articleStore)
        }
    }
}
