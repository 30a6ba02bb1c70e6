import Etcd
import Foundation
import HTTPTransport
import Testing
import TestSupport

/// `hecd agent`, `hecd status` and `hecd render` (the real binary) against an etcd that asks for a user and
/// password, and against one that speaks only TLS with client certificates, set up the way the README's
/// operator guide does it.
@Suite(.serialized) struct EtcdAccessIntegrationTests {
    @Test func everyCommandLogsInWithTheUserAndPasswordFromTheEnvironment() async throws {
        try await withEtcd { etcd in
            try await etcd.etcdctl(["user", "add", "root:r00t-pass"])
            try await etcd.etcdctl(["user", "add", "hecd:hecd-pass"])
            try await etcd.etcdctl(["role", "add", "hecd"])
            try await etcd.etcdctl(["user", "grant-role", "hecd", "hecd"])
            for prefix in ["/app/", "/hecd/"] {
                try await etcd.etcdctl(["role", "grant-permission", "hecd", "--prefix=true", "readwrite", prefix])
            }
            try await etcd.etcdctl(["auth", "enable"])
            let access = ["HECD_ETCD": etcd.clientURL, "HECD_ETCD_USER": "hecd", "HECD_ETCD_PASSWORD": "hecd-pass"]
            let root = EtcdClient(endpoints: [etcd.clientURL], credentials: EtcdCredentials(user: "root", password: "r00t-pass"))
            try await checkEveryCommand(environment: access, registry: root)

            // etcdctl's own variables, with the password after a colon, work as well.
            let etcdctlAccess = ["ETCDCTL_ENDPOINTS": etcd.clientURL, "ETCDCTL_USER": "hecd:hecd-pass"]
            let status = try await runProgram(AgentProcess.binary, ["status", "--json"], environment: etcdctlAccess)
            #expect(status.status == 0, "\(status)")

            // No password: the command says what to set, on standard error, and reads nothing.
            let missing = try await runProgram(
                AgentProcess.binary, ["status", "--etcd", etcd.clientURL], environment: ["HECD_ETCD_USER": "hecd"])
            #expect(missing.status != 0)
            #expect(missing.standardError.contains("set HECD_ETCD_PASSWORD"), "\(missing)")
            // A wrong password: an error on standard error, nothing on standard output, exit 2.
            let wrong = try await runProgram(
                AgentProcess.binary, ["status"], environment: access.merging(["HECD_ETCD_PASSWORD": "nope"]) { $1 })
            #expect(wrong.status == 2, "\(wrong)")
            #expect(wrong.standardOutput.isEmpty, "\(wrong)")
            #expect(wrong.standardError.contains("check the etcd user name and password"), "\(wrong)")
        }
    }

    @Test func everyCommandSpeaksTLSWithTheCertificatesFromEtcdctlsVariables() async throws {
        let certificates = try await TestCertificates.make()
        defer { certificates.remove() }
        try await withEtcd(arguments: certificates.etcdServerArguments, clientScheme: "https") { etcd in
            let access = [
                "ETCDCTL_ENDPOINTS": etcd.clientURL, "ETCDCTL_CACERT": certificates.ca,
                "ETCDCTL_CERT": certificates.clientCertificate, "ETCDCTL_KEY": certificates.clientKey,
            ]
            let tls = TLSFiles(caFile: certificates.ca, certificateFile: certificates.clientCertificate, keyFile: certificates.clientKey)
            try await checkEveryCommand(environment: access, registry: EtcdClient(endpoints: [etcd.clientURL], tls: tls))

            // Without a client certificate etcd refuses the connection, and status says it cannot read etcd.
            let anonymous = try await runProgram(
                AgentProcess.binary, ["status", "--etcd", etcd.clientURL, "--etcd-ca", certificates.ca], environment: [:])
            #expect(anonymous.status == 2, "\(anonymous)")
            #expect(anonymous.standardError.contains("cannot read etcd"), "\(anonymous)")
        }
    }

    /// The agent registers a container, `hecd status` shows it registered and healthy, and `hecd render
    /// --onetime` writes its address into a file: each reaching etcd with `environment` alone.
    /// `registry` reads the keys, from within the test process (polling a binary would load the machine).
    private func checkEveryCommand(environment: [String: String], registry: EtcdClient) async throws {
        try await withAgentHarness { harness in
            try harness.writeManifest("web", harness.webManifest(
                app: "web", replicas: 1, extra: "register: {prefix: /app/servers, drain: 0}"))
            let agent = try AgentProcess(
                arguments: ["--manifests", harness.directory, "--agent-id", harness.agentID, "--host-ip", "127.0.0.1", "--ttl", "3"],
                environment: environment)
            do {
                var keys: [String] = []
                let registered = await eventually(within: 30) {
                    keys = (try? await registry.range(prefix: "/app/servers/").kvs.map(\.key)) ?? []
                    return keys.contains { $0.hasPrefix("/app/servers/web-") }
                }
                #expect(registered, "no key under /app/servers: \(keys)\n\(agent.log)")

                var status = ProgramRun(status: -1, standardOutput: "", standardError: "")
                var healthy = false
                for _ in 0..<20 where !healthy {
                    status = try await runProgram(AgentProcess.binary, ["status"], environment: environment)
                    healthy = status.status == 0
                    if !healthy { try await Task.sleep(for: .milliseconds(500)) }
                }
                #expect(healthy, "\(status)")
                let row = status.standardOutput.split(separator: "\n").first { $0.hasPrefix("web ") } ?? ""
                #expect(row.contains(harness.agentID) && row.hasSuffix("ok"), "\(status)")

                let confdir = harness.directory + "-confd"
                defer { try? FileManager.default.removeItem(atPath: confdir) }
                try FileManager.default.createDirectory(atPath: confdir + "/conf.d", withIntermediateDirectories: true)
                try FileManager.default.createDirectory(atPath: confdir + "/templates", withIntermediateDirectories: true)
                try """
                    [template]
                    src = "servers.tmpl"
                    dest = "\(confdir)/servers.txt"
                    keys = ["/app/servers"]
                    """.write(toFile: confdir + "/conf.d/servers.toml", atomically: true, encoding: .utf8)
                try #"{{range gets "/app/servers/*"}}{{base .Key}} {{.Value}}{{"\n"}}{{end}}"#
                    .write(toFile: confdir + "/templates/servers.tmpl", atomically: true, encoding: .utf8)
                let render = try await runProgram(
                    AgentProcess.binary, ["render", "--confdir", confdir, "--onetime", "--sync-only"], environment: environment)
                #expect(render.status == 0, "\(render)")
                let written = (try? String(contentsOfFile: confdir + "/servers.txt", encoding: .utf8)) ?? ""
                #expect(written.hasPrefix("web-") && written.contains(" 127.0.0.1:"), "servers.txt: \(written)\n\(render)")
            } catch {
                await agent.kill()
                throw error
            }
            await agent.terminate()
        }
    }
}
