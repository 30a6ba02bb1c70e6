import Foundation
import Templates
import Testing

/// Registry values and key names are data: the checks, escapes and budgets that keep them from becoming config.
@Suite struct RegistryDataTests {
    /// The values of issue 10, each of which reached haproxy.cfg through `{{.Value}}`.
    static let injections = [
        "127.0.0.1:25510\nlisten evil\n    bind 127.0.0.1:25999 #",
        "127.0.0.1:25510\n    stats auth admin:pw",
        #"127.0.0.1:25510 check check-sni "x;set server servers/web1 addr 127.0.0.2 port 25511;""#,
    ]

    @Test func plainAddressesAreAcceptedAndEverythingElseIsNot() {
        for good in ["10.0.0.1:80", "127.0.0.1:65535", "[::1]:8080", "[fd00::8]:32768", "web-1.example.com:443", "db:5432"] {
            #expect(RegistryData.addressProblem(good) == nil, "\(good)")
        }
        let bad = Self.injections + [
            "", "10.0.0.1", "10.0.0.1:0", "10.0.0.1:65536", "10.0.0.1:080", "10.0.0.1:+80", "256.0.0.1:80", "1.2.3:80",
            "fd00::1:80", "[fd00::zz]:80", "[::1]80", "web 1:80", "-web:80", "a..b:80", "1.2.3.4.5:80", "x:80;", "x:80#",
            "x:80\u{0}", "é.example:80", "10.0.0.1:80\r",
        ]
        for value in bad {
            #expect(RegistryData.addressProblem(value) != nil, "\(value.debugDescription) was accepted")
        }
        #expect(RegistryData.addressProblem(Self.injections[0])?.contains("a newline") == true)
        #expect(RegistryData.addressProblem("fd00::1:80")?.contains("brackets") == true)
    }

    @Test func plainNames() {
        for good in ["web-1", "web_1", "app.v2", "A", "cocky_morse"] {
            #expect(RegistryData.nameProblem(good) == nil)
        }
        for bad in ["", "a b", "a;b", "a/b", "x\nlisten", "é", String(repeating: "a", count: 256), "a\"b"] {
            #expect(RegistryData.nameProblem(bad) != nil, "\(bad.debugDescription) was accepted")
        }
    }

    @Test func validServersKeepsPlainServersAndReportsTheRestOnce() throws {
        var values = ["/app/servers/web-1": "10.0.0.1:80", "/app/servers/web-2": "[fd00::2]:80", "/app/servers/bad name": "10.0.0.3:80"]
        for (index, value) in Self.injections.enumerated() { values["/app/servers/inj\(index)"] = value }
        let template = try Template(name: "t", text: """
            {{range validServers (gets "/app/servers/*")}}server {{base .Key}} {{.Value}}
            {{end}}{{range validServers (gets "/app/servers/*")}}{{end}}
            """)
        let result = try template.execute(store: MemoryStore(values), environment: [:])
        #expect(result.text == "server web-1 10.0.0.1:80\nserver web-2 [fd00::2]:80\n")
        // Read twice, reported once each.
        #expect(result.rejections.count == 4)
        let injection = try #require(result.rejections.first { $0.key == "/app/servers/inj0" })
        #expect(injection.description == #"key "/app/servers/inj0" = "127.0.0.1:25510\nlisten evil\n    bind 127.0.0.1:25999 #": the value is not a plain host:port (IPv4, [IPv6] or a DNS name; port 1-65535): it holds a newline"#)
        #expect(result.rejections.contains { $0.key == "/app/servers/bad name" && $0.reason.contains("server name") })
    }

    @Test func validNamesKeepsPlainNames() throws {
        let store = MemoryStore(["/app/web/w-1": "10.0.0.1:80", "/app/bad app\nbackend x/w": "10.0.0.1:80"])
        let template = try Template(name: "t", text: #"{{range validNames (lsdir "/app") "/app"}}[{{.}}]{{end}}"#)
        let result = try template.execute(store: store, environment: [:])
        #expect(result.text == "[web]")
        #expect(result.rejections.map(\.key) == ["/app/bad app\nbackend x"])
    }

    @Test func quotingForHaproxyAndNginx() throws {
        #expect(RegistryData.haproxyQuoted(#"ad"min:p#a$s\s;x'y"#) == #""ad\"min:p#a\$s\\s;x'y""#)
        #expect(RegistryData.haproxyQuoted("a\nb\u{1}") == #""a\x0ab\x01""#)
        #expect(RegistryData.haproxyQuoted("pässwörd") == "\"pässwörd\"")
        #expect(RegistryData.nginxQuoted("a\"b\\c\nd") == #""a\"b\\c\nd""#)
        #expect(RegistryData.nginxQuoted("$host") == nil)
        #expect(try render(#"{{haproxyQuote "a b"}} {{nginxQuote "x;y"}}"#) == #""a b" "x;y""#)
        #expect(throws: TemplateError.self) { try render(#"{{nginxQuote "$x"}}"#) }
    }

    @Test func secretValuesAreReportedToTheCaller() throws {
        let template = try Template(name: "t", text: #"stats auth {{getv "/auth" | secret | haproxyQuote}}"#)
        let result = try template.execute(store: MemoryStore(["/auth": "admin:s3cret"]), environment: [:])
        #expect(result.text == #"stats auth "admin:s3cret""#)
        #expect(result.secrets == ["admin:s3cret"])
    }

    // MARK: - Budgets

    @Test func printfWidthsAndPrecisionsAreCappedAsInGo() throws {
        #expect(try render(#"{{printf "%*d" 2000000000 1}}"#) == "%!(BADWIDTH)1")
        #expect(try render(#"{{printf "%*d" -2000000 1}}"#) == "%!(BADWIDTH)1")
        #expect(try render(#"{{printf "%.*d" 2000000000 1}}"#) == "%!(BADPREC)1")
        #expect(try render(#"{{printf "%.*d" -1 1}}"#) == "%!(BADPREC)1")
        #expect(try render(#"{{printf "%*d" 1000000 1 | len}}"#) == "1000000")
        #expect(try render(#"{{printf "%12345678d" 1}}"#) == "%!(NOVERB)%!(EXTRA int=1)")
        #expect(try render(#"{{printf "%.12345678f|" 1.5}}"#) == "%!(NOVERB)%!(EXTRA float64=1.5)")
    }

    @Test func aStringDoubledAtEachRecursionIsStoppedByTheOutputBudget() throws {
        let text = """
            start
            {{define "double"}}{{.}}{{template "double" (printf "%s%s" . .)}}{{end}}
            {{- template "double" "xxxxxxxxxxxxxxxx"}}
            """
        let template = try Template(name: "runaway.tmpl", text: text)
        let start = ContinuousClock.now
        #expect {
            _ = try template.execute(store: MemoryStore([:]), environment: [:])
        } throws: { error in
            guard let error = error as? TemplateError else { return false }
            return error.templateName == "runaway.tmpl" && error.line == 2 && error.message.contains("max_output")
        }
        #expect(ContinuousClock.now - start < .seconds(10))
        // A smaller budget stops it sooner, with the same kind of message.
        let limits = RenderLimits(maxOutputBytes: 1000)
        #expect(throws: TemplateError.self) {
            _ = try template.execute(store: MemoryStore([:]), environment: [:], limits: limits)
        }
    }

    @Test func aRecursionThatWritesNothingIsStoppedByTheStepBudget() throws {
        // 2^40 calls, 40 deep: within the depth limit, beyond any budget.
        let text = """
            {{define "fork"}}{{if lt . 40}}
            {{- template "fork" (add . 1)}}{{template "fork" (add . 1)}}{{end}}{{end}}
            {{- template "fork" 0}}
            """
        let template = try Template(name: "fork.tmpl", text: text)
        for limits in [RenderLimits(maxSteps: 100_000)] {
            let start = ContinuousClock.now
            #expect {
                _ = try template.execute(store: MemoryStore([:]), environment: [:], limits: limits)
            } throws: { error in
                guard let error = error as? TemplateError else { return false }
                return error.templateName == "fork.tmpl" && error.line == 2 && error.message.contains("max_steps")
            }
            #expect(ContinuousClock.now - start < .seconds(10))
        }
    }

    @Test func theBudgetsLeaveOrdinaryTemplatesAlone() throws {
        let template = try Template(name: "t", text: #"{{range seq 1 1000}}{{printf "%05d" .}}{{end}}"#)
        let result = try template.execute(store: MemoryStore([:]), environment: [:], limits: RenderLimits(maxOutputBytes: 5000))
        #expect(result.text.utf8.count == 5000)
        #expect(throws: TemplateError.self) {
            _ = try template.execute(store: MemoryStore([:]), environment: [:], limits: RenderLimits(maxOutputBytes: 4999))
        }
    }
}
