import DockerEngine
import Foundation
import Testing
import TestSupport

/// Where the docker CLI is on this machine, if anywhere.
private let dockerCLI = ["/usr/local/bin/docker", "/usr/bin/docker"].first { FileManager.default.isExecutableFile(atPath: $0) }

/// A private image on a local registry with htpasswd auth (Debian's `docker-registry`, on 127.0.0.1): pushed from
/// the demo image with `docker login` into a config.json of the test's own, then pulled by the main engine with
/// the credentials read from that file, and refused with a clear error without them. The test removes the
/// registry, the image tags and the containers it made.
@Suite(.serialized, .enabled(if: RegistryProcess.isAvailable && dockerCLI != nil,
                             "needs docker-registry and apache2-utils (htpasswd) from Debian, and the docker CLI"))
struct PrivateRegistryIntegrationTests {
    /// The registry with `hecd-demo:1` pushed as `HOST/private/demo:1`, the folder of a config.json that
    /// `docker login` wrote, and the image reference; the local tag is removed again, so a pull must fetch it.
    private func withPrivateImage(
        _ body: (_ registry: RegistryProcess, _ dockerConfig: String, _ image: String) async throws -> Void
    ) async throws {
        try await withRegistry { registry in
            let docker = dockerCLI ?? "docker"
            let dockerConfig = registry.directory + "/docker-config"
            let image = "\(registry.host)/private/demo:1"
            let cli = ["DOCKER_CONFIG": dockerConfig]
            let login = try await runProgram(
                docker, ["login", registry.host, "-u", registry.username, "-p", registry.password], environment: cli)
            try #require(login.status == 0, "\(login)")
            let tagged = try await runProgram(docker, ["tag", IntegrationEnvironment.image, image], environment: cli)
            try #require(tagged.status == 0, "\(tagged)")
            let result: Result<Void, any Error>
            do {
                let pushed = try await runProgram(docker, ["push", image], environment: cli)
                try #require(pushed.status == 0, "\(pushed)")
                _ = try await runProgram(docker, ["rmi", image], environment: cli)
                result = .success(try await body(registry, dockerConfig, image))
            } catch {
                result = .failure(error)
            }
            _ = try? await runProgram(docker, ["rmi", image], environment: cli)
            try result.get()
        }
    }

    @Test func aPrivateImageIsPulledWithTheCredentialsOfAConfigJSONAndRefusedClearlyWithout() async throws {
        try await withPrivateImage { registry, dockerConfig, image in
            // No credentials at all: the engine's refusal, and what to do.
            let anonymous = DockerClient(
                host: .localEngine, registryAuth: RegistryAuthSource(path: registry.directory + "/none/config.json"))
            do throws(DockerError) {
                try await anonymous.pullImage(image)
                Issue.record("the registry served a private image without credentials")
            } catch {
                #expect(error.isUnauthorizedPull, "\(error)")
                #expect(error.description.contains("no basic auth credentials"), "\(error)")
                #expect(error.description.contains("run `docker login \(registry.host)`"), "\(error)")
                #expect(error.description.contains("--registry-auth FILE"), "\(error)")
            }
            await #expect(throws: DockerError.self) { try await anonymous.inspectImage(image) }

            // Wrong credentials: refused, and the file that held them is named.
            let wrongFile = registry.directory + "/wrong.json"
            let wrong = Data("\(registry.username):not-the-password".utf8).base64EncodedString()
            try #"{"auths":{"\#(registry.host)":{"auth":"\#(wrong)"}}}"#.write(toFile: wrongFile, atomically: true, encoding: .utf8)
            do throws(DockerError) {
                try await DockerClient(host: .localEngine, registryAuth: RegistryAuthSource(path: wrongFile)).pullImage(image)
                Issue.record("the registry served a private image for a wrong password")
            } catch {
                #expect(error.isUnauthorizedPull, "\(error)")
                #expect(error.description.contains("in \(wrongFile) were sent and refused"), "\(error)")
            }

            // The config.json that `docker login` wrote: pulled.
            let docker = DockerClient(host: .localEngine, registryAuth: .dockerDefault(environment: ["DOCKER_CONFIG": dockerConfig]))
            try await docker.pullImage(image)
            let pulled = try await docker.inspectImage(image)
            #expect(pulled.exposedPorts == [80])
        }
    }

    @Test func theAgentPullsAPrivateImageWithRegistryAuthAndSaysWhatToDoWithout() async throws {
        try await withPrivateImage { registry, dockerConfig, image in
            let manifests = registry.directory + "/manifests"
            try FileManager.default.createDirectory(atPath: manifests, withIntermediateDirectories: true)
            try "name: private\nimage: \(image)\nreplicas: 1\nport: 80\nstop_timeout: 1\n"
                .write(toFile: manifests + "/private.yaml", atomically: true, encoding: .utf8)
            let agentID = "reg-\(UUID().uuidString.prefix(6).lowercased())"
            let docker = DockerClient(host: .localEngine)
            func running() async -> Int {
                let listed = (try? await docker.listContainers(labels: ["io.hecd.agent=\(agentID)"])) ?? []
                return listed.filter { $0.state == "running" }.count
            }
            let result: Result<Void, any Error>
            do {
                // Without credentials (a config without this registry): the log says what to do.
                let emptyFile = registry.directory + "/empty.json"
                try #"{"auths":{}}"#.write(toFile: emptyFile, atomically: true, encoding: .utf8)
                let refused = try AgentProcess(arguments: ["--manifests", manifests, "--agent-id", agentID, "--registry-auth", emptyFile])
                let explained = await eventually(within: 15) { refused.log.contains("run `docker login \(registry.host)`") }
                await refused.terminate()
                #expect(explained, "\(refused.log)")
                #expect(refused.log.contains("\(emptyFile) has no entry for \(registry.host)"), "\(refused.log)")
                #expect(await running() == 0)

                // With the config.json `docker login` wrote: the agent pulls the image and creates its container
                // (whether the engine can start it is the engine's business: this is about the pull).
                let agent = try AgentProcess(arguments: [
                    "--manifests", manifests, "--agent-id", agentID, "--registry-auth", dockerConfig + "/config.json",
                ])
                let pulled = await eventually(within: 20) {
                    (try? await docker.inspectImage(image)) != nil && agent.log.contains("private-")
                }
                await agent.terminate()
                #expect(pulled, "\(agent.log)")
                #expect(agent.log.contains("registry credentials from \(dockerConfig)/config.json for \(registry.host)"), "\(agent.log)")
                #expect(!agent.log.contains("pulling \(image) failed"), "\(agent.log)")
                result = .success(())
            } catch {
                result = .failure(error)
            }
            for container in (try? await docker.listContainers(labels: ["io.hecd.agent=\(agentID)"])) ?? [] {
                try? await docker.removeContainer(container.id, force: true)
            }
            try result.get()
        }
    }
}
