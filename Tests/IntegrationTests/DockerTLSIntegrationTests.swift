import DockerEngine
import Foundation
import HTTPTransport
import Testing
import TestSupport

/// A real dockerd with `--tlsverify` on 127.0.0.1 and certificates made by the test, reached as the docker CLI
/// reaches it: DOCKER_HOST=tcp://…, DOCKER_TLS_VERIFY=1, DOCKER_CERT_PATH. The daemon is the test's own (its own
/// data and exec roots, no bridge); the main dockerd is not touched.
@Suite(.serialized, .enabled(if: TLSDockerd.isAvailable, "needs root, dockerd (docker.io) and openssl"))
struct DockerTLSIntegrationTests {
    private func environment(_ dockerd: TLSDockerd, certPath: String) -> [String: String] {
        ["DOCKER_HOST": dockerd.address, "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": certPath]
    }

    /// A DOCKER_CERT_PATH folder holding only some of the client's files (and `ca` as ca.pem).
    private func partialCertPath(_ dockerd: TLSDockerd, ca: String, withClientCertificate: Bool) throws -> String {
        let folder = dockerd.directory + "/partial-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: ca, toPath: folder + "/ca.pem")
        if withClientCertificate {
            for name in ["cert.pem", "key.pem"] {
                try FileManager.default.copyItem(atPath: dockerd.clientCertificatePath + "/" + name, toPath: folder + "/" + name)
            }
        }
        return folder
    }

    /// Whether the host has the main engine's bridge (a second dockerd must leave it alone).
    private func hasDocker0() -> Bool { FileManager.default.fileExists(atPath: "/sys/class/net/docker0") }

    @Test func theEngineIsReachedWithTheCertPathAndRefusedWithoutAClientCertificate() async throws {
        let hadDocker0 = hasDocker0()
        defer { #expect(hasDocker0() == hadDocker0, "the test's dockerd changed the main engine's docker0") }
        try await withTLSDockerd { dockerd in
            let host = try DockerHost.fromEnvironment(environment(dockerd, certPath: dockerd.clientCertificatePath))
            #expect(host.endpoint == .url("https://127.0.0.1:\(dockerd.port)"))
            #expect(host.plainTCPWarning == nil)
            let docker = DockerClient(host: host)
            #expect(try await docker.negotiateVersion() == "1.41")
            #expect(try await docker.listContainers(labels: ["io.hecd.test=tls"]).isEmpty)
            // The docker CLI, the reference, reaches it with the same three variables.
            if let cli = ["/usr/local/bin/docker", "/usr/bin/docker"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) {
                let version = try await runProgram(
                    cli, ["version", "-f", "{{.Server.APIVersion}}"],
                    environment: environment(dockerd, certPath: dockerd.clientCertificatePath))
                #expect(version.status == 0 && version.standardOutput == "1.41", "\(version)")
            }

            // The same CA but no cert.pem/key.pem: dockerd refuses the handshake.
            let noClient = try partialCertPath(dockerd, ca: dockerd.certificates.ca, withClientCertificate: false)
            let refused = DockerClient(host: try DockerHost.fromEnvironment(environment(dockerd, certPath: noClient)))
            do throws(DockerError) {
                try await refused.ping()
                Issue.record("dockerd --tlsverify answered a client without a certificate")
            } catch {
                #expect(error.isUnreachable, "\(error)")
            }
            #expect(await eventually(within: 5) { dockerd.log.contains("client didn't provide a certificate") }, "\(dockerd.log.suffix(500))")

            // A CA that did not sign the engine's certificate: this client refuses the engine.
            let otherCA = try await TestCertificates.make()
            defer { otherCA.remove() }
            let stranger = try partialCertPath(dockerd, ca: otherCA.ca, withClientCertificate: true)
            let mistrusting = DockerClient(host: try DockerHost.fromEnvironment(environment(dockerd, certPath: stranger)))
            do throws(DockerError) {
                try await mistrusting.ping()
                Issue.record("an engine whose certificate this CA did not sign was trusted")
            } catch {
                #expect(error.isUnreachable, "\(error)")
            }

            // Plain HTTP to the TLS port gets no answer from the API.
            let plain = DockerClient(host: try DockerHost.fromEnvironment(["DOCKER_HOST": dockerd.address]))
            #expect(plain.host.plainTCPWarning != nil)
            await #expect(throws: DockerError.self) { try await plain.ping() }
        }
    }

    @Test func theAgentReachesATLSEngineAndWarnsAboutPlainTCP() async throws {
        let hadDocker0 = hasDocker0()
        defer { #expect(hasDocker0() == hadDocker0, "the test's dockerd changed the main engine's docker0") }
        try await withTLSDockerd { dockerd in
            let manifests = dockerd.directory + "/manifests"
            try FileManager.default.createDirectory(atPath: manifests, withIntermediateDirectories: true)
            let arguments = ["--manifests", manifests, "--agent-id", "tls-\(UUID().uuidString.prefix(6).lowercased())"]

            var tlsEnvironment = environment(dockerd, certPath: dockerd.clientCertificatePath)
            tlsEnvironment["DOCKER_API_VERSION"] = "1.40"
            let agent = try AgentProcess(arguments: arguments, environment: tlsEnvironment)
            let answered = await eventually(within: 10) {
                agent.log.contains("Docker engine at \(dockerd.address) (TLS) speaks API 1.40 (pinned by DOCKER_API_VERSION)")
            }
            #expect(answered, "\(agent.log)")
            #expect(!agent.log.contains("without TLS"), "\(agent.log)")
            await agent.terminate()

            let plain = try AgentProcess(arguments: arguments, environment: ["DOCKER_HOST": "tcp://127.0.0.1:\(freePort())"])
            let warned = await eventually(within: 10) { plain.log.contains("is reached over TCP without TLS") }
            #expect(warned, "\(plain.log)")
            await plain.terminate()
            #expect(plain.log.components(separatedBy: "without TLS").count == 2, "warned once: \(plain.log)")

            let badVersion = try await runProgram(AgentProcess.binary, ["agent"] + arguments, environment: ["DOCKER_API_VERSION": "latest"])
            #expect(badVersion.status != 0)
            #expect(badVersion.standardError.contains("DOCKER_API_VERSION='latest' is not an Engine API version"), "\(badVersion)")
        }
    }
}
