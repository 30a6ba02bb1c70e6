import Foundation
import Templates
import Testing

/// The seed article's function examples and its HAProxy template, with the article's keys.
@Suite struct ArticleTests {
    static let cases: [Case] = [
        Case(#"{{ with get "/app/servers/prickly_blackwell"}}server {{base .Key}} {{.Value}} check{{end}}"#,
             "server prickly_blackwell 192.168.1.22:49162 check"),
        Case("{{range gets \"/app/servers/*\"}}{{.Key}} {{.Value}}\n{{end}}", """
            /app/servers/backstabbing_rosalind 192.168.1.22:49156
            /app/servers/cocky_morse 192.168.1.22:49158
            /app/servers/goofy_goldstine 192.168.1.22:49160
            /app/servers/prickly_blackwell 192.168.1.22:49162

            """),
        Case(#"{{getv "/app/servers/cocky_morse"}}"#, "192.168.1.22:49158"),
        Case("{{range getvs \"/app/servers/*\"}}value: {{.}}\n{{end}}", """
            value: 192.168.1.22:49156
            value: 192.168.1.22:49158
            value: 192.168.1.22:49160
            value: 192.168.1.22:49162

            """),
        Case(#"{{ $url := split (getv "/app/servers/cocky_morse") ":" }}host: {{index $url 0}} port: {{index $url 1}}"#,
             "host: 192.168.1.22 port: 49158"),
        Case("{{range ls \"/app/servers/\"}}subkey: {{.}}\n{{end}}", """
            subkey: backstabbing_rosalind
            subkey: cocky_morse
            subkey: goofy_goldstine
            subkey: prickly_blackwell

            """),
        Case("{{range lsdir \"/app/\"}}subdir: {{.}}\n{{end}}", "subdir: servers\n"),
    ]

    @Test(arguments: cases) func articleExample(_ golden: Case) {
        check(golden)
    }

    @Test func haproxyConfigMatchesGoByteForByte() throws {
        let text = try fixture("haproxy.cfg.tmpl")
        let expected = try fixture("haproxy.cfg")
        let template = try Template(name: "haproxy.cfg.tmpl", text: text)
        let output = try template.render(store: articleStore)
        #expect(output == expected)
        // The range leaves an 8-space line before each server line and after the last.
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.filter { $0 == "        " }.count == 5)
        #expect(lines.filter { $0.hasPrefix("        server ") }.count == 4)
    }

    @Test func haproxyTemplateRendersAgainAfterTheStoreChanges() throws {
        let template = try Template(name: "haproxy.cfg.tmpl", text: try fixture("haproxy.cfg.tmpl"))
        let one = MemoryStore(["/app/servers/web-1": "10.0.0.1:80"])
        let none = MemoryStore([:])
        #expect(try template.render(store: one).contains("        server web-1 10.0.0.1:80 check inter 5000 fall 1 rise 2\n"))
        #expect(try template.render(store: none).contains("        option forwardfor\n        \n        stats enable\n"))
    }
}
