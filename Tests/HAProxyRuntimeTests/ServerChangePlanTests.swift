import Foundation
import HAProxyRuntime
import Testing

/// Which config changes the runtime API can make, decided from the text of two configs.
@Suite struct ServerChangePlanTests {
    static let base = """
        global
            master-worker
            stats socket /run/hecd-haproxy.sock mode 600 level admin
        defaults
            mode http
        frontend http
            bind *:80
            default_backend servers
        backend servers
            balance roundrobin
            option httpchk
            server web-1 10.0.0.7:32768 check inter 2s fall 2 rise 1
            server web-2 10.0.0.8:32770 check inter 2s fall 2 rise 1
        listen stats
            bind 127.0.0.1:8404
            stats enable
        """

    func plan(_ new: String, from old: String = base) -> ServerChangePlan {
        ServerChangePlan.between(HAProxyConfig(old), HAProxyConfig(new))
    }

    func replacing(_ old: String, with new: String) -> String {
        Self.base.replacingOccurrences(of: old, with: new)
    }

    @Test func serversThatComeAndGoAreRuntimeChangesAddsFirst() throws {
        let new = replacing(
            "    server web-1 10.0.0.7:32768 check inter 2s fall 2 rise 1\n",
            with: "    server web-3 10.0.0.9:32771 check inter 2s fall 2 rise 1\n")
        guard case .runtime(let changes) = plan(new) else {
            Issue.record("expected runtime changes, got \(plan(new))")
            return
        }
        #expect(changes.map(\.description) == ["+servers/web-3 10.0.0.9:32771", "-servers/web-1"])
        guard case .add(_, let server) = changes[0] else { return }
        #expect(server.arguments == "10.0.0.9:32771 check inter 2s fall 2 rise 1")
    }

    @Test func aServerThatMovedIsAnAddressChange() {
        let new = replacing("web-2 10.0.0.8:32770", with: "web-2 10.0.0.8:32999")
        #expect(plan(new) == .runtime([.move(backend: "servers", server: "web-2", host: "10.0.0.8", port: 32999)]))
        let v6 = replacing("web-2 10.0.0.8:32770", with: "web-2 [fd00::8]:80")
        #expect(plan(v6) == .runtime([.move(backend: "servers", server: "web-2", host: "fd00::8", port: 80)]))
    }

    @Test func commentsBlankLinesAndIndentationChangeNothing() {
        let new = "# rendered at 12:00\n" + replacing("    balance roundrobin", with: "\tbalance   roundrobin  # spread\n\n")
        #expect(plan(new) == .runtime([]))
    }

    @Test func everythingElseNeedsAReload() {
        let cases: [(String, String)] = [
            (replacing("balance roundrobin", with: "balance leastconn"), "backend servers changed beyond its servers"),
            (replacing("check inter 2s fall 2 rise 1\n    server web-2", with: "check inter 5s fall 2 rise 1\n    server web-2"),
             "backend servers/web-1 changed its settings"),
            (replacing("listen stats", with: "backend other\n    server x 10.0.0.1:80\nlisten stats"),
             "sections were added or removed"),
            (replacing("bind *:80", with: "bind *:8080"), "frontend http changed beyond its servers"),
            (replacing("web-2 10.0.0.8:32770", with: "web-2 web2.example.com:80"),
             "backend servers/web-2 changed its settings"),
            (Self.base + "\n    server web-9 app.example.com:80", "listen stats/web-9 has no IP address and port (app.example.com:80)"),
            (replacing("web-2 10.0.0.8", with: "web-1 10.0.0.8"), "backend servers names a server twice"),
            (replacing("    option httpchk", with: "    option httpchk\n    default-server inter 3s\n    server web-0 10.0.0.6:1"),
             "backend servers changed beyond its servers"),
        ]
        for (new, reason) in cases {
            #expect(plan(new) == .reload(reason))
        }
        let defaults = Self.base.replacingOccurrences(of: "    mode http", with: "    mode http\n    default-server check")
        let added = defaults.replacingOccurrences(of: "listen stats", with: "    server web-3 10.0.0.9:1\nlisten stats")
        #expect(plan(added, from: defaults) == .reload("backend servers has default-server settings"))
    }

    @Test func theAdminSocketComesFromGlobal() {
        #expect(HAProxyConfig(Self.base).adminSocketPath == "/run/hecd-haproxy.sock")
        let prefixed = Self.base.replacingOccurrences(of: "socket /run", with: "socket unix@/run")
        #expect(HAProxyConfig(prefixed).adminSocketPath == "/run/hecd-haproxy.sock")
        let operatorLevel = Self.base.replacingOccurrences(of: "level admin", with: "level operator")
        #expect(HAProxyConfig(operatorLevel).adminSocketPath == nil)
        let tcp = Self.base.replacingOccurrences(of: "/run/hecd-haproxy.sock", with: "ipv4@127.0.0.1:9999")
        #expect(HAProxyConfig(tcp).adminSocketPath == nil)
    }

    @Test func quotesAndEscapesKeepTheirHashes() {
        let config = HAProxyConfig("""
            backend b
                http-request set-header X-Tag "a # b"
                server s1 10.0.0.1:80 # a comment
            """)
        #expect(config.sections.first?.lines == [["http-request", "set-header", "X-Tag", "\"a # b\""], ["server", "s1", "10.0.0.1:80"]])
        #expect(config.sections.first?.servers.map(\.name) == ["s1"])
    }
}
