import Foundation
import Templates
import Testing

/// One case per difference from Go and confd that the differential tests found (issue 14), with what Go 1.19's
/// text/template and confd's functions render (taken from `GoReference`); nil means Go fails.
@Suite("GoParityTests")
struct GoParityTests {
    struct Parity: Sendable, CustomTestStringConvertible {
        var template: String
        var keys: [String: String]
        var expected: String?
        var testDescription: String { template }
        init(_ template: String, _ keys: [String: String], _ expected: String?) {
            self.template = template
            self.keys = keys
            self.expected = expected
        }
        init(_ template: String, _ expected: String?) {
            self.init(template, [:], expected)
        }
    }

    static let cases: [Parity] = [
        // printf verbs and flags.
        Parity(#"{{printf "%x %X %b" 1.5 1e21 1.0}}"#, "0x1.8p+00 0X1.B1AE4D6E2EF5P+69 4503599627370496p-52"),
        Parity(#"{{printf "%#x" 1e21}}"#, "0x1.b1ae4d6e2ef5p+69"),
        Parity(#"{{printf "%#v %#v %#v" (split "a,b" ",") (get "/app/a") (map "k" 1)}}"#, ["/app/a": "1"], #"[]string{"a", "b"} memkv.KVPair{Key:"/app/a", Value:"1"} map[string]interface {}{"k":1}"#),
        Parity(#"{{printf "%+q %#q %#q" "héllo" "a b" "a`b"}}"#, #""h\u00e9llo" `a b` "a`b""#),
        Parity(#"{{printf "%[2]d %[1]d %[3]d" 1 2}}"#, "2 1 %!d(BADINDEX)"),
        Parity(#"{{printf "%#U %U" 0x1F600 -1}}"#, "U+1F600 '😀' U+FFFFFFFFFFFFFFFF"),
        Parity(#"{{printf "%-10s|" -7}}"#, "%!s(int=-7        )|"),
        Parity(#"{{printf "%+v %+v %+d" 0 (get "/app/a") 0}}"#, ["/app/a": "1"], "0 {Key:/app/a Value:1} +0"),
        Parity(#"{{printf "%d %s" (jsonArray "[null,1]") (map "a" nil)}}"#, "[<nil> %!d(float64=1)] map[a:<nil>]"),
        Parity(#"{{printf "% t|%+s" 0 3.14159}}"#, "%!t(int= 0)|%!s(float64=+3.14159)"),
        Parity(#"{{printf "%T %T %T %T %T" (gets "/*") (getvs "/*") (seq 1 2) (jsonArray "[]") (sortKVByLength (gets "/*"))}}"#, ["/a": "1"], "memkv.KVPairs []string []int []interface {} []memkv.KVPair"),
        // <no value> against <nil>.
        Parity(#"{{index (json "{}") "x"}} {{(json "{\"a\":null}").a}} {{and nil 1}} {{or 0 nil}} {{range jsonArray "[null]"}}{{.}}{{end}} {{range $k, $v := json "{\"a\":null}"}}{{$v}}{{end}}"#, "<no value> <no value> <no value> <no value> <no value> <no value>"),
        Parity(#"{{html 1 "a" nil}} {{urlquery nil}}"#, "1a&lt;no value&gt; %3Cno+value%3E"),
        // Nil slices and maps, as Go tells them from empty ones.
        Parity(#"{{printf "%#v %#v %#v %#v %v" (seq 3 1) (jsonArray "null") (json "null") (lookupIPV6 "localhost") (seq 3 1)}} {{eq (seq 2 1) nil}} {{eq (json "null") nil}} {{eq nil (seq 1 2)}}"#,
            "[]int(nil) []interface {}(nil) map[string]interface {}(nil) []string(nil) [] true true false"),
        Parity(#"{{eq (seq 2 1) (seq 3 1)}} {{eq (seq 2 1) (seq 1 2)}} {{eq (json "null") (json "{}")}} {{ne (seq 3 1) (seq 1 2)}}"#, "true false false true"),
        Parity(#"{{eq (seq 1 2) (seq 1 2)}}"#, nil),
        Parity(#"{{eq (seq 1 2) (json "{}")}}"#, nil),
        // confd's functions.
        Parity(#"{{getv "/x" "d"}} {{getenv "NOPE" "d"}} {{getenv "EMPTY" "d"}}"#, "d d d"),
        Parity(#"{{reverse (gets "/*")}} {{reverse (seq 1 3)}} {{reverse (jsonArray "[1,2]")}} {{reverse (getvs "/*")}}"#, ["/a": "1", "/b": "2"], "[{/a 1} {/b 2}] [1 2 3] [1 2] [2 1]"),
        Parity(#"{{$v := getvs "/*"}}{{sortByLength $v}} {{$v}} {{$p := gets "/*"}}{{sortKVByLength $p}} {{$p}}"#, ["/aa": "bb", "/b": "a"], "[a bb] [a bb] [{/b a} {/aa bb}] [{/b a} {/aa bb}]"),
        Parity(#"{{ls "/"}} {{lsdir "/"}} {{ls "/app//"}} {{lsdir "/app/./db"}} {{ls "/app/./db"}}"#, ["/top": "1", "/app/db/x": "1", "/app/db/y/z": "2"], "[top] [] [app] [] [app]"),
        // Go's sort.Sort is not stable: 60 words, many of one length, in Go's order.
        Parity(#"{{sortByLength (split "ji0,fj1,jbja2,eidd3,iihg4,dc5,abcj6,e7,e8,jggg9,cfba10,hd11,geg12,jfij13,jdfa14,jcf15,d16,ebb17,hbfb18,caeg19,bajj20,g21,iei22,ae23,b24,j25,d26,ejec27,f28,fcg29,higj30,j31,gde32,eiei33,agj34,agj35,af36,ffje37,ajaa38,ehe39,cfc40,fje41,gba42,ei43,ed44,cgb45,j46,fdh47,bf48,jh49,dba50,fj51,ef52,j53,jcg54,ieh55,geg56,agcd57,h58,idah59" ",")}}"#, "[e7 e8 j31 b24 j46 dc5 j25 h58 fj1 g21 d26 f28 j53 d16 ji0 bf48 ef52 af36 ae23 hd11 ei43 jh49 fj51 ed44 jcf15 jggg9 jbja2 geg56 ieh55 fcg29 jcg54 eidd3 gde32 iihg4 agj34 agj35 ebb17 abcj6 dba50 ehe39 cfc40 fje41 gba42 iei22 fdh47 cgb45 geg12 hbfb18 cfba10 jdfa14 ajaa38 ffje37 eiei33 jfij13 higj30 caeg19 ejec27 agcd57 bajj20 idah59]"),
        Parity(#"{{ls "app"}} {{ls "/app"}} {{lsdir "/app/"}}"#, ["app/rel": "1", "/./app/x": "2", "/app//y/z": "3"], "[rel] [ .] [y]"),
        Parity(#"{{join (jsonArray "[\"a\"]") ","}}"#, nil),
        Parity(#"{{sortByLength (jsonArray "[\"a\"]")}}"#, nil),
        Parity(#"{{gets "/app/["}}"#, "[]"),
        Parity(#"{{gets "/app/["}}"#, ["/x": "1"], nil),
        // index of a string is a uint8.
        Parity(#"{{index "héllo" 1}} {{printf "%v|%d|%x|%c|%q|%T|%#v|%s|%U|%5v|" (index "abc" 0) (index "abc" 0) (index "abc" 0) (index "abc" 0) (index "abc" 0) (index "abc" 0) (index "abc" 0) (index "abc" 0) (index "abc" 0) (index "abc" 0)}} {{eq (index "a" 0) 97}} {{lt (index "a" 0) 98}} {{index "abc" (index "\u0001" 0)}} {{slice "abc" (index "\u0001" 0)}} {{print (index "a" 0) 1}}"#,
            "195 97|97|61|a|'a'|uint8|0x61|%!s(uint8=97)|U+0061|   97| true true 98 bc 97 1"),
        Parity(#"{{add (index "a" 0) 1}}"#, nil),
        // Numbers.
        Parity(#"{{add 1.0 1}} {{seq 1.0 2}} {{mul 1e3 2}}"#, "2 [1 2] 2000"),
        Parity(#"{{1e400}}"#, nil),
        Parity(#"{{add 1.5 1}}"#, nil),
        Parity(#"{{jsonArray "[1e400]"}}"#, nil),
        // Others.
        Parity(#"{{datetime.Location}}"#, "Local"),
        // .Month and .Weekday are time.Month and time.Weekday: named ints with a String method.
        Parity(#"{{datetime.Month}} {{printf "%d|%02d|%v|%s|%q|%x|%T|%#v|%t|%5s|%-8v|" datetime.Month datetime.Month datetime.Month datetime.Month datetime.Month datetime.Month datetime.Month datetime.Month datetime.Month datetime.Month datetime.Weekday}} {{eq datetime.Month 3}} {{lt datetime.Weekday 3}} {{if datetime.Weekday}}T{{else}}F{{end}} {{print datetime.Month 1}} {{(json "{}") | len | eq datetime.Weekday}}"#,
            #"March 3|03|March|March|"March"|4d61726368|time.Month|3|%!t(time.Month=3)|March|Tuesday | true true T March 1 false"#),
        Parity(#"{{add datetime.Month 1}}"#, nil),
        Parity(#"{{printf "%+*d" datetime.Month "ﬀ"}}"#, "%!d(string=  ﬀ)"),
        Parity(#"{{toLower "İ"}} {{toUpper "ß"}} {{toLower "ǅ"}}"#, "i ß ǆ"),
    ]

    @Test("renders what Go and confd render", arguments: cases)
    func parity(_ item: Parity) {
        let outcome = GoReference.renderWithHecd(GoReference.Case(template: item.template, keys: item.keys, env: ["EMPTY": ""]))
        switch (outcome, item.expected) {
        case (.output(let bytes), let expected?):
            #expect(String(decoding: bytes, as: UTF8.self) == expected)
        case (.failure, nil):
            break
        default:
            Issue.record("\(item.template): hecd \(outcome), Go \(item.expected ?? "fails")")
        }
    }
}
