import Render
import Testing

/// confd's command line read as confd reads it and turned into hecd render's options.
@Suite struct ConfdCommandLineTests {
    func translate(_ arguments: [String], environment: [String: String] = [:], files: [String: String] = [:]) throws -> ConfdCommandLine {
        try ConfdCommandLine.translate(arguments, environment: environment) { files[$0] }
    }

    @Test func theSeedArticlesCommandLine() throws {
        let confd = try translate(["-verbose", "-interval", "10", "-node", "192.168.1.21:4001", "-confdir", "/etc/confd"])
        #expect(confd.arguments == ["--etcd", "http://192.168.1.21:4001", "--confdir", "/etc/confd", "--log-level", "info"])
        #expect(confd.notes.contains { $0.contains("-interval 10 is not needed") })
        #expect(ConfdCommandLine.isConfdStyle(["-verbose", "-confdir", "/etc/confd"]))
        #expect(!ConfdCommandLine.isConfdStyle(["--confdir", "/etc/confd", "--etcd", "http://x:2379"]))
    }

    @Test func nodesRepeatAndGoFlagForms() throws {
        let confd = try translate(["-node=10.0.0.1:2379", "--node", "https://10.0.0.2:2379", "-onetime", "-noop=true", "-sync-only=false", "-prefix", "/app", "-keep-stage-file", "-watch"])
        #expect(confd.arguments == ["--etcd", "http://10.0.0.1:2379,https://10.0.0.2:2379", "--prefix", "/app", "--onetime", "--noop", "--keep-stage-file"])
    }

    @Test func logLevelsAndCredentials() throws {
        let confd = try translate(["-log-level", "panic", "-node", "h:1", "-username", "root", "-password", "s3cret", "-basic-auth", "-client-ca-keys", "/ca.pem", "-client-cert", "/c.pem", "-client-key", "/k.pem"])
        #expect(confd.arguments == ["--etcd", "https://h:1", "--etcd-ca", "/ca.pem", "--etcd-cert", "/c.pem", "--etcd-key", "/k.pem", "--etcd-user", "root", "--log-level", "critical"])
        #expect(confd.environment == ["HECD_ETCD_PASSWORD": "s3cret"])
        #expect(try translate(["-node", "h:1", "-scheme", "https"]).arguments == ["--etcd", "https://h:1"])
        #expect(throws: ConfdCommandLine.Problem.self) { try translate(["-log-level", "loud"]) }
    }

    @Test func configFileThenEnvironmentThenFlags() throws {
        let toml = """
            backend = "etcdv3"
            confdir = "/srv/confd"
            nodes = ["10.0.0.9:2379"]
            prefix = "/from-file"
            log-level = "debug"
            noop = true
            """
        let fromFile = try translate([], files: ["/etc/confd/confd.toml": toml])
        #expect(fromFile.arguments == ["--etcd", "http://10.0.0.9:2379", "--confdir", "/srv/confd", "--prefix", "/from-file", "--noop", "--log-level", "debug"])
        let environment = ["CONFD_PREFIX": "/from-env", "CONFD_CLIENT_CERT": "/env-cert.pem", "CONFD_NODE": "a:1,b:2"]
        let overridden = try translate(["-prefix", "/from-flag", "-config-file", "/x.toml"], environment: environment, files: ["/x.toml": toml])
        #expect(overridden.arguments == ["--etcd", "https://a:1,https://b:2", "--etcd-cert", "/env-cert.pem", "--confdir", "/srv/confd", "--prefix", "/from-flag", "--noop", "--log-level", "debug"])
        #expect(throws: ConfdCommandLine.Problem.self) { try translate(["-config-file", "/missing.toml"]) }
    }

    @Test func backendsHecdDoesNotReadAreRefusedWithWhatToDo() throws {
        do {
            _ = try translate(["-backend", "etcd", "-node", "127.0.0.1:4001"])
            Issue.record("-backend etcd was accepted")
        } catch let problem as ConfdCommandLine.Problem {
            #expect(problem.message.contains("v3 API"))
            #expect(problem.message.contains("-backend etcdv3"))
        }
        #expect(throws: ConfdCommandLine.Problem.self) { try translate(["-backend", "consul"]) }
        #expect(throws: ConfdCommandLine.Problem.self) { try translate(["-srv-domain", "example.com"]) }
    }

    @Test func anUnknownSingleDashFlagIsRefusedAsGoRefusesIt() throws {
        do {
            _ = try translate(["-onetime", "-confidr", "/etc/confd"])
            Issue.record("-confidr was accepted")
        } catch let problem as ConfdCommandLine.Problem {
            #expect(problem.message.hasPrefix("flag provided but not defined: -confidr"))
        }
    }

    @Test func hecdsOwnOptionsPassThrough() throws {
        let confd = try translate(["-onetime", "--dest-root", "/tmp/x", "--debounce", "10ms", "--etcd", "http://e:2379"])
        #expect(confd.arguments == ["--onetime", "--dest-root", "/tmp/x", "--debounce", "10ms", "--etcd", "http://e:2379"])
        #expect(try translate(["-onetime"]).arguments == ["--etcd", "http://127.0.0.1:2379", "--onetime"])
    }
}
