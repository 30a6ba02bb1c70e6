import Templates
import Testing

/// Go text/template constructs, each with the output Go produces.
@Suite struct LanguageTests {
    static let textAndLiteralsCases: [Case] = [
        Case("plain text, no actions", "plain text, no actions"),
        Case("", ""),
        Case("{{.name}}", "web"),
        Case("{{.missing}}", "<no value>"),
        Case("{{.nested.inner.x}}", "deep"),
        Case("{{.nested.nope.x}}", "<no value>"),
        Case("{{.nothing}}", "<no value>"),
        Case("{{.}}", "<no value>", data: .null),
        Case("{{.}}", "just a string", data: "just a string"),
        Case("{{.tags}} {{.m}} {{.emptyMap}} {{.empty}}", "[a b] map[a:1 b:2] map[] []"),
        Case(#"{{"a\tb\u00e9\x41"}}"#, "a\tbéA"),
        Case("{{`raw \\n {{ }}`}}", "raw \\n {{ }}"),
        Case("{{1}} {{-1}} {{+7}} {{1.5}} {{1e3}} {{0x1F}} {{0o17}} {{0b101}} {{010}} {{1_000}} {{'a'}} {{.5}}",
             "1 -1 7 1.5 1000 31 15 5 8 1000 97 0.5"),
        Case("{{1e6}} {{123456.5}} {{0.0001}} {{0.00001}} {{1.0}} {{100000.0}}", "1e+06 123456.5 0.0001 1e-05 1 100000"),
        Case("{{true}} {{false}} {{.port}} {{.ratio}}", "true false 8080 0.5"),
        Case("{{print nil}}", "<nil>"),
        Case("{{\"}}\"}}", "}}"),
        Case("a{{\n.name\n}}b", "awebb"),
    ]

    static let trimmingCases: [Case] = [
        Case("a  {{- .name -}}  b", "awebb"),
        Case("a \n\t {{- .name}} \n b", "aweb \n b"),
        Case("{{.name -}}\n\n   x", "webx"),
        Case("x {{-3}}", "x -3"),
        Case("x {{- 3}}", "x3"),
        Case("a{{/* a comment */}}b", "ab"),
        Case("a \n {{- /* trimmed comment */ -}} \n b", "ab"),
        Case("a{{/* multi\nline\ncomment */}}b", "ab"),
        Case("{{range .tags -}}\n  {{.}}\n{{- end}}", "ab"),
        Case("<{{- range .tags}} {{.}} {{end -}}>", "< a  b >"),
        Case("a\n{{- if true}}\nb\n{{- end}}\nc", "a\nb\nc"),
    ]

    static let pipelinesCases: [Case] = [
        Case(#"{{"abc" | printf "%s-%s" "x"}}"#, "x-abc"),
        Case(#"{{.name | toUpper | printf "<%s>"}}"#, "<WEB>"),
        Case(#"{{printf "%d" (len .tags)}}"#, "2"),
        Case(#"{{(split "a:b" ":")}}"#, "[a b]"),
        Case("{{ (index .tags 1) }}", "b"),
        Case(#"{{ (get "/app/servers/cocky_morse").Value }}"#, "192.168.1.22:49158"),
        Case(#"{{ (get "/app/servers/cocky_morse").Key | base }}"#, "cocky_morse"),
        Case("{{ (.nested).inner.x }}", "deep"),
        Case(#"{{ (map "a" (map "b" "c")).a.b }}"#, "c"),
        Case("{{ .tags | len | printf \"%03d\" }}", "002"),
        Case(#"{{ "a" | eq "a" }}"#, "true"),
        Case(#"{{ 0 | or "" }}"#, "0"),
    ]

    static let variablesCases: [Case] = [
        Case("{{$x := 1}}{{$x}}", "1"),
        Case("{{$x := 1}}{{$x = 2}}{{$x}}", "2"),
        Case(#"{{$x := "a"}}{{if true}}{{$x = "b"}}{{end}}{{$x}}"#, "b"),
        Case(#"{{$x := "outer"}}{{if true}}{{$x := "inner"}}{{$x}}{{end}} {{$x}}"#, "inner outer"),
        Case("{{with $y := .name}}{{$y}}{{end}}", "web"),
        Case("{{if $v := .missing}}yes{{else}}{{$v}}{{end}}", "<no value>"),
        Case("{{with .nested}}{{$.name}} {{.inner.x}}{{end}}", "web deep"),
        Case("{{$}}", "map[a:1]", data: ["a": 1]),
        Case("{{$x := .tags}}{{$x}} {{index $x 0}}", "[a b] a"),
        Case("{{$m := .nested}}{{$m.inner.x}}", "deep"),
        Case("{{$n := 0}}{{range .nums}}{{$n = add $n .}}{{end}}{{$n}}", "15"),
        Case("{{range $i, $v := .tags}}{{$x := $v}}{{$x}}{{end}}", "ab"),
        Case("{{$x := 1}}{{range .tags}}{{$x}}{{end}}", "11"),
        Case("{{$i := 9}}{{range $i = .tags}}{{$i}}{{end}} {{$i}}", "ab b"),
        Case("{{$i := 0}}{{$v := 0}}{{range $i, $v = .tags}}{{end}}{{$i}}{{$v}}", "1b"),
    ]

    static let rangesCases: [Case] = [
        Case("{{range $i, $v := .tags}}{{$i}}={{$v}} {{end}}", "0=a 1=b "),
        Case("{{range $v := .tags}}{{$v}}{{end}}", "ab"),
        Case("{{range .tags}}{{.}}{{end}}", "ab"),
        Case("{{range .m}}{{.}}{{end}}", "12"),
        Case("{{range $k, $v := .m}}{{$k}}:{{$v}};{{end}}", "a:1;b:2;"),
        Case("{{range $k, $v := .zm}}{{$k}}{{$v}} {{end}}", "aA mM zZ "),
        Case("{{range .empty}}x{{else}}empty{{end}}", "empty"),
        Case("{{range .emptyMap}}x{{else}}empty map{{end}}", "empty map"),
        Case("{{range .missing}}x{{else}}none{{end}}", "none"),
        Case("{{range .nothing}}x{{else}}nil{{end}}", "nil"),
        Case("{{range 3}}{{.}}{{end}}", "012"),
        Case("{{range 0}}x{{else}}zero{{end}}", "zero"),
        Case("{{range .tags}}{{range $.tags}}{{.}}{{end}}|{{end}}", "ab|ab|"),
        Case("{{range $i, $t := .tags}}{{range $j, $u := $.tags}}{{$i}}{{$j}} {{end}}{{end}}", "00 01 10 11 "),
        Case(#"{{range gets "/nothing/*"}}x{{else}}no servers{{end}}"#, "no servers"),
    ]

    static let breakAndContinueCases: [Case] = [
        Case("{{range .nums}}{{if eq . 3}}{{break}}{{end}}{{.}}{{end}}", "12"),
        Case("{{range .nums}}{{if eq . 3}}{{continue}}{{end}}{{.}}{{end}}", "1245"),
        Case("{{range .nums}}{{with .}}{{if gt . 1}}{{break}}{{end}}{{end}}{{.}}{{end}}", "1"),
        Case("{{range .tags}}{{range $.nums}}{{if eq . 2}}{{break}}{{end}}{{.}}{{end}}{{.}}{{end}}", "1a1b"),
        Case("{{range $k, $v := .zm}}{{if eq $k \"m\"}}{{continue}}{{end}}{{$v}}{{end}}", "AZ"),
        Case("{{range .nums}}{{if eq . 1}}{{continue}}{{else if eq . 4}}{{break}}{{end}}{{.}}{{end}}", "23"),
    ]

    static let conditionalsCases: [Case] = [
        Case("{{if .name}}yes{{else}}no{{end}}", "yes"),
        Case("{{if .missing}}yes{{else}}no{{end}}", "no"),
        Case(#"{{if 0}}a{{else if ""}}b{{else if .tags}}c{{else}}d{{end}}"#, "c"),
        Case(#"{{if 0}}a{{else if ""}}b{{else}}d{{end}}"#, "d"),
        Case(#"{{if 0.0}}a{{end}}{{if "0"}}b{{end}}{{if .emptyMap}}c{{end}}{{if false}}d{{end}}{{if .nothing}}e{{end}}{{if .empty}}f{{end}}{{if 1}}g{{end}}"#,
             "bg"),
        Case(#"{{if get "/app/servers/cocky_morse"}}kv is true{{end}}"#, "kv is true"),
        Case("{{if not .missing}}absent{{end}}", "absent"),
        Case("{{if and .name .tags}}both{{end}}", "both"),
        Case("{{with .missing}}x{{else}}y{{end}}", "y"),
        Case("{{with .name}}{{.}}{{end}}", "web"),
        Case("{{with .missing}}a{{else with .name}}{{.}}{{end}}", "web"),
        Case("{{with .missing}}a{{else with .nothing}}b{{else}}c{{end}}", "c"),
        Case("{{with .nested}}{{with .inner}}{{.x}}{{end}}{{end}}", "deep"),
    ]

    static let definitionsCases: [Case] = [
        Case(#"{{define "T"}}[{{.}}]{{end}}{{template "T" "x"}}"#, "[x]"),
        Case(#"{{define "T"}}T{{end}}a{{template "T"}}b"#, "aTb"),
        Case(#"{{template "T" .name}}{{define "T"}}({{.}}){{end}}"#, "(web)"),
        Case(#"{{block "B" .name}}<{{.}}>{{end}}"#, "<web>"),
        Case(#"{{define "T"}}{{$}}{{end}}{{template "T" 5}}"#, "5"),
        Case(#"{{$x := 1}}{{define "T"}}{{.}}{{end}}{{template "T" $x}}"#, "1"),
        Case("{{define \"a\"}}A{{end}}\n{{template \"a\"}}", "\nA"),
        Case(#"{{define "count"}}{{if .}}{{len .}}{{template "count" (slice . 1)}}{{end}}{{end}}{{template "count" .nums}}"#, "54321"),
        Case(#"{{define "server"}}server {{base .Key}} {{.Value}}{{end}}{{range gets "/app/servers/c*"}}{{template "server" .}}{{end}}"#,
             "server cocky_morse 192.168.1.22:49158"),
        Case(#"{{define "t"}}defined body{{end}}  "#, "defined body"),
        Case(#"{{define "T"}}{{end}}{{define "T"}}second{{end}}{{template "T"}}"#, "second"),
    ]

    @Test(arguments: textAndLiteralsCases) func textAndLiterals(_ golden: Case) { check(golden) }
    @Test(arguments: trimmingCases) func trimming(_ golden: Case) { check(golden) }
    @Test(arguments: pipelinesCases) func pipelines(_ golden: Case) { check(golden) }
    @Test(arguments: variablesCases) func variables(_ golden: Case) { check(golden) }
    @Test(arguments: rangesCases) func ranges(_ golden: Case) { check(golden) }
    @Test(arguments: breakAndContinueCases) func breakAndContinue(_ golden: Case) { check(golden) }
    @Test(arguments: conditionalsCases) func conditionals(_ golden: Case) { check(golden) }
    @Test(arguments: definitionsCases) func definitions(_ golden: Case) { check(golden) }

    @Test func renderTemplateNamedRunsADefinition() throws {
        let template = try Template(name: "t", text: #"main{{define "part"}}part {{.}}{{end}}"#)
        #expect(template.definedTemplates == ["part", "t"])
        #expect(try template.render(store: articleStore) == "main")
        #expect(try template.render(templateNamed: "part", store: articleStore, data: "x") == "part x")
    }
}
