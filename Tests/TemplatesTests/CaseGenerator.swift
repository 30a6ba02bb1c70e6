import Foundation

/// SplitMix64: a small seeded generator, so a failing case can be made again from its seed.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Generates templates and key sets for the differential tests: confd templates as people write them (stores
/// walked with `gets`, `ls`, `lsdir`, values through `printf`, `json`, string and number functions) and the
/// corners where an engine written from Go's documentation can go wrong (printf verbs and flags, nil values,
/// in-place sorting, path cleaning, numbers, Unicode case mapping, bytes that are not UTF-8).
///
/// Only Go 1.19 syntax: hecd's newer forms (`range` over an int, `{{else with}}`) are tested by its golden tests.
struct CaseGenerator {
    var random: SeededGenerator

    init(seed: UInt64) { random = SeededGenerator(seed: seed) }

    mutating func pick<T>(_ items: [T]) -> T { items[Int.random(in: 0..<items.count, using: &random)] }
    mutating func chance(_ probability: Double) -> Bool { Double.random(in: 0..<1, using: &random) < probability }
    mutating func count(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &random) }

    // MARK: Stores

    static let names = ["web", "db", "cache", "a", "b", "backstabbing_rosalind", "cocky_morse", "x-1", "x.2", "Z", "é", "srv10", "srv9"]
    static let values = [
        "10.0.0.1:80", "192.168.1.22:49156", "", "0", "1", "-7", "42", "3.5", "true", "false", "hello world",
        "Straße", "İstanbul", "ǅemal", "ﬀ", "a,b,c", "/etc/haproxy", "{\"a\":1,\"b\":[1,2],\"c\":{\"d\":\"e\"}}",
        "[1,\"two\",null,true,{\"k\":3.25}]", "aGVsbG8=", "/w==", "wA==", "with\nnewline", "tab\there", "1e3",
        "9223372036854775807", "日本語", "\"quoted\"", "<b>&amp;</b>",
    ]

    mutating func store() -> [String: String] {
        var keys: [String: String] = [:]
        if chance(0.08) { return keys }
        for _ in 0..<count(1...9) {
            var parts = ["app"]
            if chance(0.6) { parts.append(pick(["servers", "db", "config", "upstreams"])) }
            for _ in 0..<count(0...2) { parts.append(pick(Self.names)) }
            if chance(0.1) { parts = [pick(Self.names)] }
            keys["/" + parts.joined(separator: "/")] = pick(Self.values)
        }
        // Now and then a key that is not clean (confd cleans its keys; a store from elsewhere may not).
        if chance(0.1) { keys[pick(["/app//x", "/app/./y", "/app/servers/", "/app/../z", "app/rel", "/app/servers/a/."])] = pick(Self.values) }
        return keys
    }

    // MARK: Operands

    static let paths = [
        "/", "/app", "/app/", "/app//", "/app/./servers", "/app/servers", "/app/servers/", "/app/db", "/app/config",
        "/nope", "", "app", "/app/servers/web", "/app/../app/servers", "/app/servers/..",
    ]
    static let globs = [
        "/app/*", "/app/servers/*", "/app/*/*", "/app/*/*/*", "/app/servers/[a-c]*", "/app/servers/[^a]*", "*",
        "/app/?", "/app/servers/\\a*", "/app/[", "/app/servers/[z-a]", "/*/*", "/app/servers/web*", "/app/**",
    ]
    static let stringLiterals = [
        "\"\"", "\"abc\"", "\"héllo\"", "\"İ\"", "\"Straße\"", "\"ǅ\"", "\"a b\"", "\"a\\\"b\"", "\"\\t\"", "\"日本\"",
        "\"10\"", "\"-3\"", "\"0x10\"", "\"1.5\"", "\"true\"", "`raw\\n`", "\"a,b,,c\"", "\"ΣΑΣ\"",
        "\"ß\"", "\"ﬀ\"", "\"ǈ\"", "\"K\"", "\"ı\"", "\"\\u00e9\"", "\"<&>\"", "\"/a/b/\"", "\"%d\"",
    ]
    static let intLiterals = ["0", "1", "-1", "7", "-7", "42", "255", "1000000", "0x1F", "017", "0o17", "0b101", "1_000", "'a'", "'é'", "9223372036854775807", "-9223372036854775808"]
    static let floatLiterals = ["0.0", "1.5", "-2.25", "1e6", "1e21", "1e20", "0.0001", "0.00001", "3.14159", "1.0", ".5", "1e400", "0x1p4", "100.0", "-0.0", "2.5e-8", "123456789.0"]

    mutating func stringOperand() -> String {
        switch count(0...9) {
        case 0...4: return pick(Self.stringLiterals)
        case 5: return "(getv \(quoted(pick(Self.keyCandidates))) \"dflt\")"
        case 6: return "(base \(quoted(pick(Self.paths))))"
        case 7: return "(printf \"%d-%s\" 3 \"x\")"
        case 8: return "(getenv \(pick(["\"HOME_X\"", "\"EMPTY\"", "\"UNSET\""])) \(pick(["\"d\"", "\"\""])))"
        default: return "(toUpper \(pick(Self.stringLiterals)))"
        }
    }

    static let keyCandidates = [
        "/app/servers/web", "/app/web", "/app/db", "/app/a", "/app/servers/a", "/nope", "/app/servers/cocky_morse",
        "/app/config/db", "/app/servers//web", "/app/./web", "/app",
    ]

    mutating func listOperand() -> String {
        pick([
            "(gets \(quoted(pick(Self.globs))))", "(getvs \(quoted(pick(Self.globs))))", "(ls \(quoted(pick(Self.paths))))",
            "(lsdir \(quoted(pick(Self.paths))))", "(seq \(pick(["1", "0", "3", "-2"])) \(pick(["3", "1", "0", "5"])))",
            "(split \(pick(Self.stringLiterals)) \(pick(["\",\"", "\"\"", "\"b\"", "\" \""])))",
            "(jsonArray \(quoted(pick(Self.jsonArrays))))", "(slice (split \"a,b,c,d\" \",\") 1 3)",
        ])
    }

    static let jsonArrays = ["[]", "[1,2,3]", "[\"b\",\"a\",\"ccc\"]", "[null]", "[1.5,\"x\",true,null,{\"a\":1}]", "null", "[[1,2],[3]]", "[1e400]", "[\"é\",\"\\u00ff\"]", "[9007199254740993]", "[-0]"]
    static let jsonObjects = ["{}", "{\"a\":1}", "{\"a\":null,\"b\":\"x\"}", "{\"n\":{\"m\":[1,2]},\"z\":true}", "null", "{\"b\":2,\"a\":1.5}", "{\"a\":1e21,\"b\":100000000000000000000}", "[1]", "\"s\"", "{\"k\":\"v\"", "{\"a\":-0.0}"]

    mutating func anyOperand() -> String {
        switch count(0...12) {
        case 0...2: return stringOperand()
        case 3, 4: return pick(Self.intLiterals)
        case 5: return pick(Self.floatLiterals)
        case 6: return pick(["true", "false", "nil"])
        case 7: return listOperand()
        case 8: return "(json \(quoted(pick(Self.jsonObjects))))"
        case 9: return "(get \(quoted(pick(Self.keyCandidates))))"
        case 10: return pick(["(index (json \"{}\") \"x\")", "(index (jsonArray \"[null]\") 0)", "(and nil 1)", "(or 0 nil)", "(map \"a\" 1 \"b\" nil)", "(index (map \"a\" nil) \"a\")", "(json \"{\\\"a\\\":null}\").a"])
        case 11: return "(map \(stringOperand()) \(pick(Self.intLiterals)))"
        default: return pick(["(add 1 2)", "(sub 1 3)", "(len \"héllo\")", "(atoi \"12\")", "(parseBool \"T\")", "datetime.Month", "datetime.Weekday", "datetime.Day", "(index \"héllo\" 1)"])
        }
    }

    func quoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    // MARK: Snippets

    mutating func printfFormat() -> String {
        var format = ""
        for _ in 0..<count(1...2) {
            if chance(0.3) { format += pick(["x", " ", "[", "é", ":"]) }
            format += "%"
            for flag in ["-", "+", "#", "0", " "] where chance(0.15) { format += flag }
            if chance(0.1) { format += pick(["[1]", "[2]", "[3]"]) }
            if chance(0.35) { format += pick(["1", "5", "8", "12", "*", "0"]) }
            if chance(0.3) { format += pick([".0", ".1", ".2", ".5", ".*", "."]) }
            if chance(0.05) { format += pick(["[1]", "[2]"]) }
            format += pick(["v", "v", "s", "s", "d", "d", "q", "x", "X", "o", "O", "b", "c", "U", "e", "E", "f", "F", "g", "G", "t", "T", "%", "z"])
        }
        if chance(0.05) { format += pick(["%", "%!", "%-"]) }
        return format
    }

    mutating func printfSnippet() -> String {
        var args: [String] = []
        for _ in 0..<count(0...3) { args.append(anyOperand()) }
        let format = printfFormat()
        return "{{printf \(quoted(format))\(args.map { " " + $0 }.joined())}}"
    }

    mutating func storeSnippet() -> String {
        switch count(0...9) {
        case 0: return "{{range gets \(quoted(pick(Self.globs)))}}{{.Key}}={{.Value}};{{end}}"
        case 1: return "{{range getvs \(quoted(pick(Self.globs)))}}[{{.}}]{{end}}"
        case 2: return "{{ls \(quoted(pick(Self.paths)))}}|{{lsdir \(quoted(pick(Self.paths)))}}"
        case 3: return "{{range $d := lsdir \(quoted(pick(Self.paths)))}}{{$d}}:{{range ls (printf \"/app/%s\" $d)}}{{.}},{{end}};{{end}}"
        case 4: return "{{getv \(quoted(pick(Self.keyCandidates)))\(chance(0.5) ? " \"dflt\"" : "")}}"
        case 5: return "{{exists \(quoted(pick(Self.keyCandidates)))}} {{with get \(quoted(pick(Self.keyCandidates)))}}{{.Key}} {{.Value}}{{end}}"
        case 6: return "{{$p := gets \(quoted(pick(Self.globs)))}}{{reverse $p}}|{{sortKVByLength $p}}|{{$p}}"
        case 7: return "{{$v := getvs \(quoted(pick(Self.globs)))}}{{sortByLength $v}}|{{reverse $v}}|{{$v}}"
        case 8: return "{{range $i, $kv := gets \(quoted(pick(Self.globs)))}}{{$i}}:{{base $kv.Key}}@{{dir $kv.Key}}={{$kv.Value | toUpper}} {{end}}"
        default: return "{{len (gets \(quoted(pick(Self.globs))))}} {{index (getvs \(quoted(pick(Self.globs)))) 0}}"
        }
    }

    mutating func stringSnippet() -> String {
        let s = stringOperand()
        switch count(0...9) {
        case 0: return "{{toLower \(s)}}|{{toUpper \(s)}}"
        case 1: return "{{split \(s) \(pick(["\",\"", "\"\"", "\"l\""]))}}"
        case 2: return "{{join (split \(s) \(pick(["\",\"", "\"\""]))) \"+\"}}"
        case 3: return "{{replace \(s) \(pick(["\"l\"", "\"\"", "\"a\""])) \"_\" \(pick(["-1", "0", "1", "2"]))}}"
        case 4: return "{{contains \(s) \(pick(["\"\"", "\"a\"", "\"é\""]))}} {{trimSuffix \(s) \(pick(["\"c\"", "\"\"", "\"o\""]))}}"
        case 5: return "{{base \(quoted(pick(Self.paths)))}} {{dir \(quoted(pick(Self.paths)))}}"
        case 6: return "{{base64Encode \(s)}} {{base64Decode \(quoted(pick(["aGVsbG8=", "aGVsbG8", "wA==", "/w==", "////", "a===", "YQ==\n", "Zm9v YmFy"])))}}"
        case 7: return "{{html \(s)}} {{js \(s)}} {{urlquery \(s)}}"
        case 8: return "{{print \(anyOperand()) \(anyOperand())}}|{{println \(anyOperand()) \(anyOperand())}}"
        default: return "{{len \(s)}} {{slice \(s) \(pick(["0", "1", "2"]))}} {{index \(s) \(pick(["0", "1"]))}}"
        }
    }

    mutating func numberSnippet() -> String {
        let operands = Self.intLiterals + ["1.0", "2.5", "\"3\"", "nil", "1e3", "(len \"ab\")", "(atoi \"5\")"]
        switch count(0...6) {
        case 0: return "{{\(pick(["add", "sub", "mul", "div", "mod"])) \(pick(operands)) \(pick(operands))}}"
        case 1:
            // Not the extreme ints: Go's seq loops (and allocates) until the int wraps.
            let small = operands.filter { !$0.hasPrefix("9223") && !$0.hasPrefix("-9223") && $0 != "1000000" }
            return "{{seq \(pick(small)) \(pick(small))}}"
        case 2: return "{{atoi \(pick(["\"12\"", "\"-0\"", "\"+5\"", "\"1e3\"", "\"99999999999999999999\"", "\" 1\"", "\"0x10\"", "\"\""]))}}"
        case 3: return "{{parseBool \(pick(["\"t\"", "\"TRUE\"", "\"yes\"", "\"0\"", "\"False\"", "\"\""]))}}"
        case 4: return "{{\(pick(Self.floatLiterals))}} {{\(pick(Self.intLiterals))}}"
        case 5:
            let scalars = Self.intLiterals + Self.floatLiterals + Self.stringLiterals + ["true", "false", "nil", "(getv \"/app/a\" \"x\")", "(index \"héllo\" 1)"]
            let containers = ["(seq 2 1)", "(seq 1 2)", "(jsonArray \"null\")", "(jsonArray \"[]\")", "(json \"null\")", "(json \"{}\")", "(split \"a\" \",\")", "(get \"/app/a\")", "nil"]
            if chance(0.3) { return "{{\(pick(["eq", "ne"])) \(pick(containers)) \(pick(containers))}} {{printf \"%#v %#v\" \(pick(containers)) \(pick(containers))}}" }
            return "{{\(pick(["eq", "ne", "lt", "le", "gt", "ge"])) \(pick(scalars)) \(pick(scalars))}}"
        default: return "{{if \(anyOperand())}}T{{else}}F{{end}} {{not \(anyOperand())}} {{and \(anyOperand()) \(anyOperand())}} {{or \(anyOperand()) \(anyOperand())}}"
        }
    }

    mutating func dataSnippet() -> String {
        switch count(0...7) {
        case 0: return "{{$j := json \(quoted(pick(Self.jsonObjects)))}}{{$j}} {{range $k, $v := $j}}{{$k}}={{$v}};{{end}}"
        case 1: return "{{range jsonArray \(quoted(pick(Self.jsonArrays)))}}<{{.}}>{{end}}"
        case 2: return "{{$m := map \"b\" 2 \"a\" \(anyOperand())}}{{$m}} {{$m.a}} {{index $m \"z\"}} {{$m.z}}"
        case 3: return "{{with $x := index (json \(quoted(pick(Self.jsonObjects)))) \"a\"}}{{$x}}{{else}}none{{end}}"
        case 4: return "{{$l := \(listOperand())}}{{reverse $l}} {{$l}} {{len $l}}"
        case 5: return "{{range $i, $v := \(listOperand())}}{{if $i}},{{end}}{{$v}}{{end}}"
        case 6: return "{{$t := datetime}}{{$t}}|{{$t.Year}} {{$t.Month}} {{$t.Day}} {{$t.Weekday}} {{$t.Location}} {{$t.Unix}}|{{$t.Format \(pick(["\"2006-01-02T15:04:05Z07:00\"", "\"Jan _2 Mon 3PM .000\"", "\"20060102\"", "\"MST -0700\"", "\"Monday January\""]))}}"
        default: return "{{(json \(quoted(pick(Self.jsonObjects)))).a}}|{{index (jsonArray \(quoted(pick(Self.jsonArrays)))) 0}}"
        }
    }

    mutating func languageSnippet() -> String {
        switch count(0...7) {
        case 0: return "a {{- \" b \" -}} c\n{{- /* comment */ -}}\nd"
        case 1: return "{{range $i, $v := \(listOperand())}}{{if eq $i 1}}{{continue}}{{end}}{{if gt $i 2}}{{break}}{{end}}{{$v}};{{end}}"
        case 2: return "{{define \"x\"}}[{{.}}]{{end}}{{template \"x\" \(anyOperand())}}{{template \"x\"}}"
        case 3: return "{{$x := \(anyOperand())}}{{$x = \(anyOperand())}}{{$x}}"
        case 4: return "{{with \(anyOperand())}}{{.}}{{else}}empty{{end}}"
        case 5: return "{{range \(listOperand())}}{{.}}{{else}}none{{end}}"
        case 6: return "{{\(anyOperand()) | printf \"%v\"}} {{\"x\" | printf \"%s-%s\" \"y\"}}"
        default: return "{{block \"b\" \(anyOperand())}}<{{.}}>{{end}}"
        }
    }

    /// Corners of the language and of the functions: scoping, trimming, literals and escapes, index and slice,
    /// comparisons, escapers, integer arithmetic, path and string edge cases, JSON numbers, time layouts.
    mutating func cornerSnippet() -> String {
        pick([
            "{{$x := 1}}{{if true}}{{$x := 2}}{{$x}}{{end}}{{$x}}{{if true}}{{$x = 3}}{{end}}{{$x}}",
            "{{with $x := \(anyOperand())}}{{$x}}{{else}}-{{end}}",
            "{{range $k, $v := map \"b\" 1 \"a\" \(anyOperand())}}{{$k}}={{$v}};{{end}}",
            "{{- 3}} {{3 -}} x {{-3}} {{- /* c */ -}} y",
            "{{\"\\a\\b\\f\\v\\x41\\u00e9\\U0001F600\\101\" | printf \"%q\"}} {{'\\n'}} {{'\\x41'}} {{'\\u00e9'}}",
            "{{0x1p-2}} {{1e-7}} {{1.5e300}} {{0x_1F}} {{0X1F}} {{1_0.5}} {{.5e1}} {{-0}} {{+1}}",
            "{{mul 4611686018427387904 2}} {{add 9223372036854775807 1}} {{div -7 2}} {{mod -7 2}} {{div -9223372036854775808 -1}}",
            "{{replace \"abc\" \"\" \"-\" -1}} {{replace \"aaaa\" \"a\" \"b\" 2}} {{replace \"héllo\" \"é\" \"e\" -1}}",
            "{{split \"héllo\" \"\"}} {{split \"a日b日c\" \"日\"}} {{split \"\" \",\"}} {{len (split \"\" \"\")}}",
            "{{base \"\"}} {{dir \"\"}} {{base \"///\"}} {{dir \"///a//b/\"}} {{base \"a/b/\"}} {{dir \"a\"}} {{dir \"/a/../../b\"}}",
            "{{toUpper \"ǆ\"}} {{toLower \"ǅ\"}} {{toUpper \"ﬀ\"}} {{toLower \"ΣΑΣ\"}} {{toUpper \"ı\"}} {{toLower \"K\"}} {{toUpper \"ŉ\"}}",
            "{{index (jsonArray \"[[1,2],[3]]\") 0 1}} {{index (json \"{\\\"n\\\":{\\\"m\\\":[1,2]}}\") \"n\" \"m\" 1}} {{slice (split \"a,b,c,d\" \",\") 0 1 2}} {{len (json \"{\\\"a\\\":1}\")}}",
            "{{eq 1 2 3 1}} {{eq \"a\" \"b\"}} {{le \"a\" \"b\"}} {{ne 1 1}} {{eq 1.0 1}} {{gt 'a' 96}} {{eq true true}}",
            "{{html \"<a href='x'>&\\\"\\u0000</a>\"}} {{js \"é\\u2028'\\\"<>&=\\n\\u007f\"}} {{urlquery \"a b&c=d/é~\"}} {{html 1 \"a\" nil}}",
            "{{print}}|{{println}}|{{print 1 2 \"a\" 3 \"b\" \"c\" nil true}}|{{println nil}}",
            "{{$j := json \"{\\\"a\\\":1.0,\\\"b\\\":-0,\\\"c\\\":1e-7,\\\"d\\\":123456789012,\\\"e\\\":\\\"\\\\u00e9\\\\n\\\",\\\"f\\\":[]}\"}}{{$j}} {{printf \"%v|%.2f|%e\" $j.d $j.a $j.c}}",
            "{{$t := datetime}}{{$t.Format \"Mon Jan 2 15:04:05 MST 2006\"}}|{{$t.Format \"3:04:05 pm .999 ,000 Z07:00 -07:00:00 Z0700\"}}|{{$t.UnixMilli}} {{$t.YearDay}} {{$t.Hour}} {{$t.Minute}} {{$t.Second}} {{$t.Nanosecond}} {{$t.UTC}} {{$t.String}}",
            "{{define \"t\"}}({{$}}{{.}}){{end}}{{template \"t\" 1}}{{template \"t\" (split \"a,b\" \",\")}}{{block \"u\" .}}[{{.}}]{{end}}",
            "{{range $i, $e := seq 1 4}}{{if eq $i 2}}{{break}}{{end}}{{$e}}{{end}}|{{range seq 3 1}}x{{else}}empty{{end}}",
            "{{atoi \"-9223372036854775808\"}} {{atoi \"007\"}} {{atoi \"+0\"}}",
            "{{atoi \"\(pick(["9223372036854775808", "1_000", "0b1", "", "-", "1e3"]))\"}}",
            "{{lt 1 1.5}}",
            "{{fileExists \"/\"}} {{fileExists \"\"}} {{fileExists \"/nonexistent-hecd\"}} {{fileExists \"/etc/hosts\"}}",
            "{{lookupIP \"localhost\"}} {{lookupIPV4 \"localhost\"}} {{lookupIPV6 \"localhost\"}} {{range lookupIP \"localhost\"}}<{{.}}>{{end}} {{len (lookupIPV6 \"localhost\")}}",
            "{{printf \"%-8q|%5.2s|%08.3f|%+.3e|%x|% x|%#X|%10.4v|%-10v|\" \"日本語\" \"日本語\" -3.14159 123456.789 \"héllo\" \"ab\" \"ab\" 3.14159265 (seq 1 2)}}",
            "{{printf \"%6.2f|%-6d|%06d|%+06d|% 06d|%x|%X|%o|%#o|%b|%c|%q|%U\" 3.14159 42 -42 42 42 -255 255 8 8 5 0x1F600 0x1F600 0x1F600}}",
            "{{printf \"%g|%G|%e|%.3g|%.10g|%g|%g|%g|%v|%v\" 1e6 1e-5 0.0 100000.0 1e21 1e20 123456789.0 0.000012345 1e-320 5e-324}}",
            "{{printf \"%t|%v|%s|%d\" true (map \"k\" (seq 1 2)) (jsonArray \"[\\\"a\\\",1,null]\") (json \"{\\\"z\\\":1,\\\"a\\\":[2]}\")}}",
        ])
    }

    /// confd's documented examples (docs/templates.md) and the seed article's nested ranges, on a store shaped
    /// for them (some keys left out at random, values that are sometimes not what the template expects).
    static let documentedTemplates = [
        "{{$endpoint := map \"name\" \"elasticsearch\" \"private_port\" 9200 \"public_port\" 443}}\nname: {{index $endpoint \"name\"}}\nprivate-port: {{index $endpoint \"private_port\"}}\npublic-port: {{index $endpoint \"public_port\"}}\n",
        "{{with get \"/key\"}}\n    key: {{base .Key}}\n    value: {{.Value}}\n{{end}}",
        "{{if exists \"/key\"}}\n    value: {{getv \"/key\"}}\n{{end}}",
        "{{range gets \"/*\"}}\n    key: {{.Key}}\n    value: {{.Value}}\n{{end}}",
        "value: {{getv \"/key\" \"default_value\"}}",
        "{{range getvs \"/*\"}}\n    value: {{.}}\n{{end}}",
        "ipaddr: {{getenv \"HOST_IP\" \"127.0.0.1\"}}",
        "# Generated by confd {{datetime}}\n# {{datetime.Format \"Jan 2, 2006 at 3:04pm (MST)\"}}",
        "{{ $url := split (getv \"/deis/service\") \":\" }}\n    host: {{index $url 0}}\n    port: {{index $url 1}}",
        "key: {{toUpper \"value\"}} {{toLower \"Value\"}} {{base64Encode \"Value\"}} {{base64Decode \"VmFsdWU=\"}}",
        "{{range gets \"/services/zookeeper/*\"}}\n{{$data := json .Value}}\n  id: {{$data.Id}}\n  ip: {{$data.IP}}\n{{end}}",
        "{{$data := json (getv \"/test/data/\")}}\ntype: {{ (index $data.animals 1).type }}\nname: {{ (index $data.animals 1).name }}\n{{range $data.animals}}\n{{.name}}\n{{end}}",
        "{{range jsonArray (getv \"/services/data/\")}}\nval: {{.}}\n{{end}}",
        "{{range ls \"/deis/services\"}}\n   value: {{.}}\n{{end}}{{range lsdir \"/deis/services\"}}\n   value: {{.}}\n{{end}}",
        "{{with dir \"/services/data/url\"}}\ndir: {{.}}\n{{end}}",
        "{{$services := getvs \"/services/elasticsearch/*\"}}\nservices: {{join $services \",\"}}",
        "{{$backend := getv \"/services/backend/nginx\"}}\nbackend = {{replace $backend \"-\" \"_\" -1}}",
        "{{range $dir := lsdir \"/app\"}}\nbackend {{base $dir}}\n{{$custdir := printf \"/app/%s/*\" $dir}}{{range gets $custdir}}\n    server {{base .Key}} {{.Value}} check\n{{end}}{{end}}",
        "frontend http\n    bind 0.0.0.0:80\n{{range $app := lsdir \"/app\"}}    use_backend {{$app}} if { hdr_beg(host) -i {{$app}}. }\n{{end}}{{range $app := ls \"/app\"}}{{if not (exists (printf \"/app/%s\" $app))}}backend {{$app}}\n    balance roundrobin\n{{range $i, $s := getvs (printf \"/app/%s/*\" $app)}}    server {{$app}}-{{$i}} {{$s}}\n{{end}}{{end}}{{end}}",
        "upstream app {\n{{range sortKVByLength (gets \"/app/servers/*\")}}    server {{.Value}};\n{{else}}    server 127.0.0.1:65535; # none\n{{end}}}\n{{range $k, $v := json (getv \"/test/data/\" \"{}\")}}{{$k}}={{$v}}\n{{end}}",
    ]

    mutating func documentedStore() -> [String: String] {
        var keys: [String: String] = [:]
        let candidates: [(String, [String])] = [
            ("/key", ["value", "", "é"]),
            ("/deis/service", ["10.0.0.1:8080", "nohost", ""]),
            ("/services/zookeeper/host1", [#"{"Id":"host1","IP":"192.168.10.11"}"#, "not json", #"{"Id":1}"#]),
            ("/services/zookeeper/host2", [#"{"Id":"host2","IP":"192.168.10.12"}"#]),
            ("/test/data/", [#"{"animals":[{"type":"dog","name":"Fido"},{"type":"cat","name":"Misse"}]}"#, #"{"animals":[1]}"#, "[]"]),
            ("/services/data/", [#"["10.0.0.1","10.0.0.2"]"#, "[1,2.5,true,null]", "{}"]),
            ("/deis/services/a", ["1"]), ("/deis/services/b/c", ["2"]),
            ("/services/elasticsearch/1", ["10.0.0.1:9200"]), ("/services/elasticsearch/2", ["10.0.0.2:9200"]),
            ("/services/backend/nginx", ["my-backend-1", ""]),
            ("/app/web/web-1", ["10.0.0.1:80"]), ("/app/web/web-22", ["10.0.0.2:80"]), ("/app/api/api-1", ["10.0.1.1:8080"]),
            ("/app/servers/a", ["10.0.0.1:80"]), ("/app/servers/bbb", ["10.0.0.2:80"]), ("/app/servers/cc", ["10.0.0.3:80"]),
            ("/app/solo", ["1"]),
        ]
        for (key, values) in candidates where chance(0.8) { keys[key] = pick(values) }
        return keys
    }

    /// The structure of templates: fields of KVPairs and of JSON maps, chains, definitions with recursion,
    /// nested ranges, else-if chains, pipelines into pipelines, nil data, misplaced keywords.
    static let structureTemplates = [
        "{{with get \"/app/a\"}}{{.Key}}={{.Value}}{{end}}|{{(get \"/app/a\").Value}}|{{(index (gets \"/app/*\") 0).Key}}",
        "{{with get \"/app/a\"}}{{.Key.Foo}}{{end}}",
        "{{with get \"/app/a\"}}{{.Nope}}{{end}}",
        "{{define \"row\"}}{{.Key}}={{.Value}};{{end}}{{range $i, $p := gets \"/app/*\"}}{{$i}}{{template \"row\" $p}}{{end}}",
        "{{define \"r\"}}{{if .}}{{template \"r\" (slice . 1)}}{{index . 0}}{{end}}{{end}}{{template \"r\" (split \"a,b,c\" \",\")}}",
        "{{$}}|{{.}}|{{.x}}|{{$.x}}|{{.x.y}}|{{range .}}x{{end}}|{{with .}}w{{else}}none{{end}}",
        "{{len .}}",
        "{{if and (exists \"/app/a\") (eq (getv \"/app/a\" \"\") \"1\")}}one{{else if exists \"/app/b\"}}b{{else if not (exists \"/app\")}}none{{else}}other{{end}}",
        "{{getv \"/app/a\" \"\" | printf \"%s-%s\" \"x\" | len}} {{\"a\" | printf \"%s%s\" \"b\" | printf \"%q\"}}",
        "{{if gt (atoi (getv \"/app/port\" \"0\")) 1024}}high{{else}}low{{end}}",
        "{{range $x := jsonArray \"[[1,2],[3],[]]\"}}{{range $x}}{{.}}{{else}}empty{{end}};{{end}}",
        "{{$j := json \"{\\\"Key\\\":\\\"k\\\",\\\"n\\\":{\\\"m\\\":1}}\"}}{{$j.Key}} {{$j.n.m}} {{$j.n.z}} {{$j.q.r}} {{with $j.n}}{{.m}}{{end}}",
        "a{{/* comment */}}b{{- /* trimmed */ -}} c {{/* x */ -}} d",
        "{{break}}",
        "{{range seq 1 2}}{{end}}{{end}}",
        "{{template \"missing\"}}",
        "{{if}}{{end}}",
        "{{range $i, $v, $w := seq 1 2}}{{end}}",
        "{{$x := 1}}{{range $x := seq 5 6}}{{$x}}{{end}}{{$x}}",
        "{{with $v := getv \"/app/a\" \"\"}}[{{$v}}]{{else}}empty{{end}}",
        "{{range $k, $v := map \"b\" (seq 1 2) \"a\" (map \"x\" 1)}}{{$k}}:{{range $v}}{{.}}{{end}};{{end}}",
        "{{printf \"%v\" (print (gets \"/app/*\"))}} {{println (getvs \"/app/*\") (ls \"/app\")}}",
        "{{range gets \"/app/*\"}}{{$.x}}{{end}}",
        "{{ .  }}{{  \"x\"  }}{{(\"y\")}}{{((1))}}",
        "{{nil}}",
        "{{1 2}}",
        "{{\"a\" | 1}}",
        "{{printf}}",
        "{{index}}",
        "{{$u}}",
    ]

    /// One case: one to three snippets (mostly one, so a failure points at one thing).
    /// Long lists with many equal lengths, where Go's sort (not stable) decides the order: sortByLength on a
    /// split of 13 to 200 words, sortKVByLength and reverse on a store of as many servers.
    mutating func longSortCase() -> GoReference.Case {
        let count = count(13...200)
        let letters = Array("abcdefghij")
        var words: [String] = []
        for index in 0..<count {
            let length = self.count(1...4)
            words.append(String((0..<length).map { _ in pick(letters) }) + (chance(0.2) ? String(index) : ""))
        }
        var keys: [String: String] = [:]
        for word in words { keys["/app/servers/" + word] = "10.0.0.\(self.count(1...254)):80" }
        let template = pick([
            "{{sortByLength (split \(quoted(words.joined(separator: ","))) \",\")}}",
            "{{range sortKVByLength (gets \"/app/servers/*\")}}{{base .Key}} {{end}}",
            "{{$v := getvs \"/app/servers/*\"}}{{sortByLength $v}}{{reverse $v}}{{$v}}",
            "{{$p := gets \"/app/servers/*\"}}{{sortKVByLength $p}}{{$p}}{{range reverse (sortKVByLength $p)}}{{.Key}};{{end}}",
            "{{range sortByLength (ls \"/app/servers\")}}{{.}},{{end}}",
        ])
        return GoReference.Case(template: template, keys: keys)
    }

    mutating func next() -> GoReference.Case {
        if chance(0.04) { return longSortCase() }
        if chance(0.08) {
            var keys = store()
            if chance(0.6) { keys["/app/a"] = pick(["1", "x", ""]) }
            if chance(0.3) { keys["/app/port"] = pick(["80", "8080", "x"]) }
            return GoReference.Case(template: pick(Self.structureTemplates), keys: keys)
        }
        if chance(0.1) {
            var item = GoReference.Case(template: pick(Self.documentedTemplates), keys: documentedStore(), env: chance(0.5) ? ["HOST_IP": "10.1.1.1"] : [:])
            item.now = Int64.random(in: 0...4_102_444_800, using: &random)
            return item
        }
        var text = ""
        let snippets = chance(0.8) ? 1 : count(2...3)
        for index in 0..<snippets {
            if index > 0 { text += pick(["\n", " ", ""]) }
            switch count(0...9) {
            case 0, 1: text += printfSnippet()
            case 2, 3: text += storeSnippet()
            case 4: text += stringSnippet()
            case 5: text += numberSnippet()
            case 6, 7: text += dataSnippet()
            case 8: text += chance(0.5) ? languageSnippet() : cornerSnippet()
            default: text += "{{\(anyOperand())}}"
            }
        }
        var item = GoReference.Case(template: text, keys: store(), env: ["HOME_X": "/home/x", "EMPTY": ""])
        // Times from 1901 to 2100, on whole seconds (a leap day, a year's last day, 1970 itself among them).
        item.now = chance(0.5) ? 1_709_622_489 : Int64.random(in: -2_177_452_800...4_102_444_800, using: &random)
        return item
    }
}
