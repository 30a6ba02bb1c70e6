import Foundation
import Render
import Templates
import Testing

/// The shipped resources (Deploy/confd) write only plain names and host:port values, whatever etcd holds.
@Suite struct ShippedTemplateDataTests {
    static let keys = [
        "/app/web/web-1": "10.0.0.1:8080",
        "/app/web/web-6": "[fd00::6]:8080",
        "/app/web/web-2": "10.0.0.2:8080\n    server evil 10.6.6.6:80",
        "/app/web/web 3": "10.0.0.3:8080",
        "/app/evil app\nbackend takeover/x": "10.0.0.4:8080",
        "/app/evil{}/x": "10.0.0.4:8080",
        "/app/servers/s-1": "10.0.0.5:80",
        "/app/servers/s-2": "10.0.0.5:80;",
        "/hecd/haproxy/stats-auth": "admin:pw\n    bind *:9999",
    ]

    func render(_ name: String) throws -> RenderResult {
        let compiled = try #require(try CompiledResource.load(confdir: Fixtures.deployConfd + "/" + name).first)
        return try compiled.execute(etcdKeys: Self.keys, environment: [:])
    }

    @Test func haproxy() throws {
        let result = try render("haproxy")
        #expect(result.text.contains("    server s-1 10.0.0.5:80 check"))
        #expect(!result.text.contains("s-2"))
        #expect(result.text.contains(#"    stats auth "admin:pw\x0a    bind *:9999""#))
        #expect(!result.text.contains("\n    bind *:9999"))
        #expect(result.rejections.map(\.key) == ["/app/servers/s-2"])
        #expect(result.secrets == ["admin:pw\n    bind *:9999"])
    }

    @Test func haproxyApps() throws {
        let result = try render("haproxy-apps")
        #expect(result.text.contains("backend app-web\n"))
        #expect(result.text.contains("    server web-1 10.0.0.1:8080 check"))
        #expect(result.text.contains("    server web-6 [fd00::6]:8080 check"))
        for refused in ["evil", "web-2", "web 3", "takeover"] { #expect(!result.text.contains(refused), "\(refused)") }
        #expect(Set(result.rejections.map(\.key)) == [
            "/app/web/web-2", "/app/web/web 3", "/app/evil app\nbackend takeover", "/app/evil{}", "/app/servers/s-2",
        ])
    }

    @Test func nginx() throws {
        let result = try render("nginx")
        #expect(result.text.contains("upstream app-web {\n    server 10.0.0.1:8080 max_fails=2 fail_timeout=10s;\n    server [fd00::6]:8080"))
        for refused in ["evil", "web-2", "10.0.0.3", "takeover", "10.0.0.5:80;"] { #expect(!result.text.contains(refused), "\(refused)") }
        #expect(result.rejections.count == 5)
    }
}
