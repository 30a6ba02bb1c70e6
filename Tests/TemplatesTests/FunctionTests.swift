import Foundation
import Templates
import Testing

/// Go's predefined functions.
@Suite struct BuiltinFunctionTests {
    static let cases: [Case] = [
        Case("{{and 1 0 2}} {{and 1 2}} {{or 0 \"\" \"x\"}} [{{or 0 \"\"}}] {{not 0}} {{not .name}}", "0 2 x [] true false"),
        Case("{{and false (index .tags 5)}} {{or true (index .tags 5)}}", "false true"),
        Case(#"{{len "héllo"}} {{len .m}} {{len .tags}} {{len ""}}"#, "6 2 2 0"),
        Case(#"{{index .tags 0}} {{index .m "b"}} {{index .nested "inner" "x"}} {{index "abc" 1}} {{index .tags}}"#, "a 2 deep 98 [a b]"),
        // Go digs the nil interface{} out of the map: no value (print gets the nil itself).
        Case(#"{{index .m "zz"}}"#, "<no value>"),
        Case(#"{{print (index .m "zz")}} {{(and nil 1)}} {{or 0 nil}}"#, "<nil> <no value> <no value>"),
        Case(#"{{slice "hello" 1 3}} {{slice .nums 1 3}} {{slice .nums 3}} {{slice .nums}} {{slice "abc" 3}}|"#, "el [2 3] [4 5] [1 2 3 4 5] |"),
        Case(#"{{print 1 2 "a" "b" 3}}"#, "1 2ab3"),
        Case(#"{{print "a" 1 2 "b"}}"#, "a1 2b"),
        Case(#"{{println 1 "a"}}"#, "1 a\n"),
        Case(#"{{printf "%5s|%-5s|%05d|%.2f|%x|%X|%q|%v|%t|%%|%c" "ab" "cd" 42 3.14159 255 "hi" "q" .tags true 65}}"#,
             #"   ab|cd   |00042|3.14|ff|6869|"q"|[a b]|true|%|A"#),
        Case(#"{{printf "%d %s" 1}}"#, "1 %!s(MISSING)"),
        Case(#"{{printf "%d" "x"}} {{printf "%s" 1}}"#, "%!d(string=x) %!s(int=1)"),
        Case(#"{{printf "%s" "a" 2}}"#, "a%!(EXTRA int=2)"),
        Case(#"{{printf "%6.2f|%e|%g|%v|%.3g|%8.3e" 3.14159 1234.5678 0.00001 2.5 1234.5678 -0.000123}}"#,
             "  3.14|1.234568e+03|1e-05|2.5|1.23e+03|-1.230e-04"),
        Case(#"{{printf "%T %T %T %T %T" 1 "a" .tags 1.5 (get "/app/servers/cocky_morse")}}"#,
             "int string []interface {} float64 memkv.KVPair"),
        Case(#"{{printf "%+d|% d|%x|%o|%b|%#x|%8.3d|%-4d|" 5 5 -255 8 5 255 7 3}}"#, "+5| 5|-ff|10|101|0xff|     007|3   |"),
        Case(#"{{printf "%v %+v" (get "/app/servers/cocky_morse") (get "/app/servers/cocky_morse")}}"#,
             "{/app/servers/cocky_morse 192.168.1.22:49158} {Key:/app/servers/cocky_morse Value:192.168.1.22:49158}"),
        Case(#"{{printf "%q %v %d" .tags .m .nums}}"#, #"["a" "b"] map[a:1 b:2] [1 2 3 4 5]"#),
        Case(#"{{printf "%*d|%.*f|%U" 4 7 1 2.25 9731}}"#, "   7|2.2|U+2603"),
        Case(#"{{printf "%v %s" nil nil}}"#, "<nil> %!s(<nil>)"),
        Case("{{eq 1 1}} {{eq 1 2 1}} {{eq \"a\" \"b\"}} {{ne 1 2}} {{lt 1 2}} {{le 2 2}} {{gt \"b\" \"a\"}} {{ge 1.5 2.5}}",
             "true true false true true true true false"),
        Case(#"{{eq .missing "x"}} {{eq .nothing nil}} {{eq true true}} {{lt "a" "b"}} {{lt "B" "a"}}"#, "false true true true true"),
        Case(#"{{eq (get "/app/servers/cocky_morse") (get "/app/servers/cocky_morse")}}"#, "true"),
        Case(#"{{html "<a href='x'>&\"</a>"}}"#, "&lt;a href=&#39;x&#39;&gt;&amp;&#34;&lt;/a&gt;"),
        Case(#"{{html 1 "<"}}"#, "1&lt;"),
        Case(#"{{js "a'b\"c<d>=&\\"}}"#, #"a\'b\"c\u003Cd\u003E\u003D\u0026\\"#),
        Case(#"{{js "tab\there"}}"#, #"tab\u0009here"#),
        Case(#"{{urlquery "a b&c=d/é~"}}"#, "a+b%26c%3Dd%2F%C3%A9~"),
        Case("{{.name | html}} {{.name | urlquery}}", "web web"),
    ]

    @Test(arguments: cases) func builtin(_ golden: Case) { check(golden) }
}

/// confd's functions, as template_funcs.go and memkv define them.
@Suite struct ConfdFunctionTests {
    static let nested = MemoryStore([
        "/app/upstream/web/a": "10.0.0.1",
        "/app/upstream/web/b": "10.0.0.2",
        "/app/upstream/api/a": "10.0.1.1",
        "/app/upstream/flag": "on",
        "/app/config": "{\"host\":\"db\",\"port\":5432,\"tags\":[\"x\",\"y\"],\"big\":1234567,\"ok\":true}",
        "/app/list": "[\"b\",\"a\"]",
        "/app/values/1": "zeta",
        "/app/values/2": "alpha",
        "/app/values/3": "mid",
        "/application/other": "not under /app",
        "/top": "leaf",
    ])

    static let cases: [Case] = [
        Case(#"{{base "/a/b/c"}} {{dir "/a/b/c"}} {{base "/a/b/"}} {{dir "a"}} {{base ""}} {{dir "/"}} {{base "/"}}"#, "c /a/b b . . / /"),
        Case(#"{{join (split "a,b,c" ",") "-"}} {{split "" ","}} {{len (split "abc" "")}}"#, "a-b-c [] 3"),
        Case(#"{{toUpper "abc-é"}} {{toLower "ABC"}}"#, "ABC-É abc"),
        Case(#"{{contains "haystack" "st"}} {{contains "abc" "x"}} {{contains "abc" ""}}"#, "true false true"),
        Case(#"{{replace "a.b.c" "." "-" -1}} {{replace "a.b.c" "." "-" 1}} {{replace "ab" "" "_" -1}}"#, "a-b-c a-b.c _a_b_"),
        Case(#"{{trimSuffix "file.conf" ".conf"}} {{trimSuffix "file" ".conf"}}"#, "file file"),
        Case(#"{{$d := json (getv "/app/config")}}{{$d.host}}:{{$d.port}} {{index $d.tags 1}} {{$d.big}} {{$d.ok}}"#,
             "db:5432 y 1.234567e+06 true", store: nested),
        Case(#"{{range jsonArray "[1,\"a\",true,null,{\"k\":[]}]"}}{{.}},{{end}}"#, "1,a,true,<no value>,map[k:[]],"),
        Case(#"{{range jsonArray (getv "/app/list")}}{{.}}{{end}} {{json "null"}}"#, "ba map[]", store: nested),
        Case(#"{{$m := map "a" 1 "b" "x"}}{{$m.a}}{{$m.b}}{{index $m "b"}} {{map}}"#, "1xx map[]"),
        Case(#"{{datetime}}"#, "2024-03-05 07:08:09.125 +0000 UTC"),
        Case(#"{{datetime.Format "2006-01-02T15:04:05Z07:00"}}"#, "2024-03-05T07:08:09Z"),
        Case(#"{{datetime.Format "Mon Jan _2 3:04:05PM 2006 MST .000 -07:00 002"}}"#, "Tue Mar  5 7:08:09AM 2024 UTC .125 +00:00 065"),
        Case(#"{{(datetime).Unix}} {{datetime.Year}} {{datetime.Month}} {{datetime.Weekday}}"#, "1709622489 2024 March Tuesday"),
        Case(#"{{with datetime}}{{.Format "Monday, 02-Jan-06 15:04"}}{{end}}"#, "Tuesday, 05-Mar-24 07:08"),
        Case(#"{{parseBool "true"}} {{parseBool "0"}} {{parseBool "T"}}"#, "true false true"),
        Case(#"{{add (atoi "40") 2}} {{atoi "-7"}} {{atoi "+3"}}"#, "42 -7 3"),
        Case("{{add 1 2}} {{sub 1 2}} {{mul 3 4}} {{div 7 2}} {{mod 7 2}} {{div -7 2}} {{mod -7 2}}", "3 -1 12 3 1 -3 -1"),
        Case("{{range seq 1 3}}{{.}}{{end}} {{seq 3 1}} {{seq 2 2}}", "123 [] [2]"),
        Case(#"{{sortByLength (split "ccc,a,bb,d" ",")}}"#, "[a d bb ccc]"),
        Case(#"{{range sortKVByLength (gets "/app/servers/*")}}{{base .Key}} {{end}}"#,
             "cocky_morse goofy_goldstine prickly_blackwell backstabbing_rosalind "),
        // confd's Reverse switches on []string and []memkv.KVPair: gets' KVPairs, seq's []int and jsonArray's
        // []interface {} come back as they are; a variable sees the reversal, which is in place.
        Case(#"{{reverse (split "a,b,c" ",")}} {{range reverse (gets "/app/servers/*")}}{{base .Key | printf "%.1s"}}{{end}}"#, "[c b a] bcgp"),
        Case(#"{{reverse (seq 1 3)}} {{reverse (jsonArray "[1,2]")}} {{range reverse (sortKVByLength (gets "/app/servers/*"))}}{{base .Key | printf "%.1s"}}{{end}}"#, "[1 2 3] [1 2] bpgc"),
        Case(#"{{$s := split "bb,a,ccc" ","}}{{sortByLength $s}} {{$s}} {{reverse $s}} {{$s}} {{$s | reverse}} {{$s}}"#, "[a bb ccc] [a bb ccc] [ccc bb a] [ccc bb a] [a bb ccc] [a bb ccc]"),
        Case(#"{{base64Encode "hello"}} {{base64Decode "aGVsbG8="}} {{base64Encode ""}} {{base64Decode "aGk="}}"#, "aGVsbG8= hello  hi"),
        Case(#"{{getenv "HECD_TEST_VAR"}} {{getenv "NOPE" "dflt"}} [{{getenv "NOPE"}}] {{getenv "EMPTY_VAR" "d"}}"#, "from-env dflt [] d"),
        Case(#"{{exists "/app/servers/cocky_morse"}} {{exists "/nope"}} {{exists "/app/servers"}}"#, "true false false"),
        Case(#"{{getv "/nope" "fallback"}} {{getv "/app/servers/cocky_morse" "unused"}}"#, "fallback 192.168.1.22:49158"),
        Case(#"{{with get "/app/servers/goofy_goldstine"}}{{.Key}}={{.Value}}{{end}} {{get "/app/servers/cocky_morse"}}"#,
             "/app/servers/goofy_goldstine=192.168.1.22:49160 {/app/servers/cocky_morse 192.168.1.22:49158}"),
        Case(#"{{range gets "/app/servers/[cg]*"}}{{base .Key}} {{end}}"#, "cocky_morse goofy_goldstine "),
        Case(#"{{range gets "/app/servers/cocky_mors?"}}{{.Value}}{{end}}"#, "192.168.1.22:49158"),
        Case(#"{{range gets "/app/servers/[^b-o]*"}}{{base .Key}}{{end}}"#, "prickly_blackwell"),
        Case(#"{{range gets "/app/*"}}{{.Key}} {{end}}"#, "/app/config /app/list ", store: nested),
        Case(#"{{range gets "/app/*/*/a"}}{{.Key}} {{end}}"#, "/app/upstream/api/a /app/upstream/web/a ", store: nested),
        Case(#"{{len (gets "/app/servers/cocky_morse")}} {{len (gets "/app/servers")}}"#, "1 0"),
        Case(#"{{getvs "/app/values/*"}}"#, "[alpha mid zeta]", store: nested),
        Case(#"{{ls "/app"}} {{ls "/app/"}} {{ls "/app/upstream"}} {{ls "/app/upstream/web/"}}"#,
             "[config list upstream values] [config list upstream values] [api flag web] [a b]", store: nested),
        Case(#"{{lsdir "/app"}} {{lsdir "/app/upstream/"}} {{lsdir "/app/upstream/web"}}"#, "[upstream values] [api web] []", store: nested),
        Case(#"{{ls "/app/upstream/flag"}} {{ls "/nowhere"}} {{lsdir "/nowhere"}}"#, "[flag] [] []", store: nested),
        // memkv on the root: ls lists the keys right under it, lsdir nothing.
        Case(#"{{ls "/"}} {{lsdir "/"}}"#, "[top] []", store: nested),
        Case(#"{{range lsdir "/app/upstream"}}{{$dir := .}}{{range ls (printf "/app/upstream/%s" .)}}{{$dir}}/{{.}} {{end}}{{end}}"#,
             "api/a web/a web/b ", store: nested),
        Case(#"{{lookupIP "127.0.0.1"}} {{lookupIPV4 "127.0.0.1"}} {{lookupIPV6 "127.0.0.1"}} {{lookupIP "::1"}}"#,
             "[127.0.0.1] [127.0.0.1] [] [::1]"),
        Case(#"{{fileExists "/"}} {{fileExists "/no/such/file"}}"#, "true false"),
    ]

    @Test(arguments: cases) func confd(_ golden: Case) { check(golden) }

    @Test func lookupIPOfLocalhostIncludesLoopback() throws {
        let output = try render(#"{{range lookupIP "localhost"}}{{.}} {{end}}"#)
        #expect(output.contains("127.0.0.1 ") || output.contains("::1 "))
    }

    @Test func extraFunctionsAddAndOverride() throws {
        let template = try Template(
            name: "t",
            text: #"{{greet "bob"}} {{toUpper "x"}} {{.name | greet}}"#,
            functions: [
                "greet": { args in .string("hello " + (args.first?.description ?? "")) },
                "toUpper": { _ in "overridden" },
            ]
        )
        #expect(try template.render(store: articleStore, data: sampleData) == "hello bob overridden hello web")
    }

    @Test func extraFunctionErrorNamesFunctionAndPosition() throws {
        struct Refused: Error, CustomStringConvertible { var description: String { "refused" } }
        let template = try Template(name: "t", text: "\n  {{fail 1}}", functions: ["fail": { _ in throw Refused() }])
        #expect(throws: TemplateError(templateName: "t", line: 2, column: 5, message: "fail: refused")) {
            try template.render(store: articleStore)
        }
    }
}
