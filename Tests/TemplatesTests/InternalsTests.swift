import Foundation
import Testing

@testable import Templates

/// The Go library pieces the functions rest on, tested directly.
@Suite struct InternalsTests {
    @Test(arguments: [
        ("/app/servers/*", "/app/servers/web-1", true),
        ("/app/servers/*", "/app/servers/web/1", false),
        ("/app/*/port", "/app/web/port", true),
        ("/app/servers/web-?", "/app/servers/web-1", true),
        ("/app/servers/web-?", "/app/servers/web-10", false),
        ("/app/[a-c]*", "/app/beta", true),
        ("/app/[^a-c]*", "/app/beta", false),
        ("/app/\\*", "/app/*", true),
        ("/app/\\*", "/app/x", false),
        ("*", "", true),
        ("a*b*c", "axxbyyc", true),
        ("a*b", "axxbyy", false),
        ("/exact", "/exact", true),
    ])
    func pathMatch(pattern: String, name: String, matches: Bool) throws {
        #expect(try GoPath.match(pattern, name) == matches)
    }

    @Test func malformedPatternsThrow() {
        for pattern in ["[", "/a/[", "[a-", "\\", "[]"] {
            #expect(throws: GoPath.BadPattern.self) { try GoPath.match(pattern, "abc") }
        }
    }

    @Test func pathClean() {
        let cases = [("", "."), ("/", "/"), ("/a/b/", "/a/b"), ("a//b", "a/b"), ("/a/./b/../c", "/a/c"), ("/..", "/"), ("../a", "../a"), ("a/..", ".")]
        for (input, expected) in cases {
            #expect(GoPath.clean(input) == expected, "clean(\(input))")
        }
        #expect(GoPath.literalPrefix("/app/servers/*") == "/app/servers/")
        #expect(GoPath.literalPrefix("/app/s[ab]") == "/app/s")
    }

    @Test func memoryStoreListsByPrefixInByteOrder() {
        let store = MemoryStore(["/b": "2", "/a/2": "x", "/a/1": "y", "/ab": "z", "/é": "e", "/Z": "upper"])
        #expect(store.entries(withPrefix: "/a/").map(\.key) == ["/a/1", "/a/2"])
        #expect(store.entries(withPrefix: "/a").map(\.key) == ["/a/1", "/a/2", "/ab"])
        #expect(store.all().map(\.key) == ["/Z", "/a/1", "/a/2", "/ab", "/b", "/é"])
        #expect(store.entries(withPrefix: "/nothing").isEmpty)
        #expect(store.get("/ab") == "z")
        #expect(store.get("/a") == nil)
    }

    @Test func shortestFloatFormattingFollowsGo() {
        let cases: [(Double, String)] = [
            (0, "0"), (1, "1"), (0.1, "0.1"), (123456, "123456"), (1234567, "1.234567e+06"), (1e21, "1e+21"),
            (0.0001, "0.0001"), (0.00001234, "1.234e-05"), (-2.5, "-2.5"), (Double.leastNonzeroMagnitude, "5e-324"),
            (.infinity, "+Inf"), (-.infinity, "-Inf"), (.nan, "NaN"),
        ]
        for (value, expected) in cases {
            #expect(GoFormat.value(.double(value)) == expected, "\(value)")
        }
    }

    @Test func quoting() throws {
        #expect(GoQuote.quote("a\"b\\c\n\u{1}é") == #""a\"b\\c\n\x01é""#)
        #expect(try GoQuote.unquote(#""\101\x42\u0043\U00000044\n""#) == "ABCD\n")
        #expect(try GoQuote.unquote("`a\r\nb`") == "a\nb")
        #expect(throws: FunctionError.self) { try GoQuote.unquote(#""\q""#) }
    }

    @Test func goTimeFormatLayouts() {
        let date = Date(timeIntervalSince1970: 1_709_622_489.5)  // 2024-03-05 07:08:09.5 UTC
        let berlin = TimeZone(secondsFromGMT: 3600) ?? GoTime.utc
        #expect(GoTime.format(date, GoTime.utc, layout: "2006-01-02 15:04:05.000000 Z07:00") == "2024-03-05 07:08:09.500000 Z")
        #expect(GoTime.format(date, berlin, layout: "2006-01-02T15:04:05-07:00 pm") == "2024-03-05T08:08:09+01:00 am")
        #expect(GoTime.format(date, GoTime.utc, layout: "Jan January Mon Monday 1 01 2 02 _2 06 3 03 4 04 5 05 .9 ,999") ==
            "Mar March Tue Tuesday 3 03 5 05  5 24 7 07 8 08 9 09 .5 ,5")
        #expect(GoTime.string(date, GoTime.utc) == "2024-03-05 07:08:09.5 +0000 UTC")
    }

    /// A DNS response for `_http._tcp.example.com` with two SRV answers, the second target compressed.
    @Test func parsesSRVAnswersFromWireFormat() {
        func name(_ labels: [String]) -> [UInt8] {
            labels.flatMap { [UInt8($0.utf8.count)] + Array($0.utf8) } + [0]
        }
        func u16(_ v: Int) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xFF)] }
        var message: [UInt8] = u16(0x1234) + u16(0x8180) + u16(1) + u16(2) + u16(0) + u16(0)
        let questionOffset = message.count
        message += name(["_http", "_tcp", "example", "com"]) + u16(33) + u16(1)
        // Answer 1: name is a pointer to the question; target web2.example.com.
        let target1 = name(["web2", "example", "com"])
        message += [0xC0, UInt8(questionOffset)] + u16(33) + u16(1) + [0, 0, 0, 60] + u16(6 + target1.count)
        message += u16(10) + u16(5) + u16(8080)
        let exampleOffset = message.count + 5  // "example" inside target1
        message += target1
        // Answer 2: target "web1" + pointer to "example.com".
        let target2 = [UInt8(4)] + Array("web1".utf8) + [0xC0, UInt8(exampleOffset)]
        message += [0xC0, UInt8(questionOffset)] + u16(33) + u16(1) + [0, 0, 0, 60] + u16(6 + target2.count)
        message += u16(20) + u16(1) + u16(80) + target2

        let records = DNS.parseSRVResponse(message)
        #expect(records == [
            DNS.ServiceRecord(target: "web2.example.com.", port: 8080, priority: 10, weight: 5),
            DNS.ServiceRecord(target: "web1.example.com.", port: 80, priority: 20, weight: 1),
        ])
        let sorted = records.sorted { DNS.sortKey($0).lexicographicallyPrecedes(DNS.sortKey($1)) }
        #expect(sorted.map(\.target) == ["web1.example.com.", "web2.example.com."])
        #expect(DNS.parseSRVResponse([1, 2, 3]).isEmpty)
    }

    #if os(Linux)
    @Test func resolverIsFoundAtRunTime() {
        #expect(DNS.resolverQuery() != nil)
    }
    #endif

    @Test func lookupSRVReturnsRecordsWithGoFieldNames() throws {
        let value = DNS.ServiceRecord(target: "a.", port: 1, priority: 2, weight: 3).templateValue
        let template = try Template(name: "t", text: "{{.Target}}:{{.Port}} {{.Priority}}/{{.Weight}}")
        #expect(try template.render(store: MemoryStore([:]), data: value) == "a.:1 2/3")
    }
}

/// Parse once, render many times, from many tasks at once.
@Suite struct ReuseTests {
    @Test func oneTemplateRendersConcurrently() async throws {
        let template = try Template(name: "t", text: #"{{range gets "/app/servers/*"}}{{base .Key}}={{.Value}};{{end}}{{.}}"#)
        let expected = (0..<50).map { i in
            "backstabbing_rosalind=192.168.1.22:49156;cocky_morse=192.168.1.22:49158;"
                + "goofy_goldstine=192.168.1.22:49160;prickly_blackwell=192.168.1.22:49162;\(i)"
        }
        let outputs = try await withThrowingTaskGroup(of: (Int, String).self) { group in
            for i in 0..<50 {
                group.addTask { (i, try template.render(store: articleStore, data: .int(i))) }
            }
            var results = [String](repeating: "", count: 50)
            for try await (i, output) in group { results[i] = output }
            return results
        }
        #expect(outputs == expected)
    }

    @Test func renderingAThousandServersIsQuick() throws {
        var values: [String: String] = [:]
        for i in 0..<1000 { values["/app/servers/web-\(i)"] = "10.0.\(i / 256).\(i % 256):80" }
        let store = MemoryStore(values)
        let template = try Template(name: "haproxy.cfg.tmpl", text: try fixture("haproxy.cfg.tmpl"))
        let clock = ContinuousClock()
        var output = ""
        let elapsed = try clock.measure {
            for _ in 0..<5 { output = try template.render(store: store) }
        }
        #expect(output.components(separatedBy: "        server web-").count == 1001)
        #expect(elapsed < .seconds(5))
    }
}
