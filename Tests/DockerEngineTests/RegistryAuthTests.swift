import DockerEngine
import Foundation
import HTTPTransport
import Testing
import TestSupport

/// Registry credentials as the docker CLI keeps and sends them: which registry an image comes from, config.json
/// read, and the `X-Registry-Auth` header a pull sends (recorded by a stub engine).
@Suite struct RegistryAuthTests {
    /// The header decoded back: URL-safe base64 of a JSON object.
    private func decodeHeader(_ header: String) throws -> [String: String] {
        var base64 = header.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        let data = try #require(Data(base64Encoded: base64))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: String])
    }

    @Test func theRegistryIsFoundAsDockerFindsIt() {
        let cases: [(String, String, String)] = [
            ("busybox", "docker.io", "https://index.docker.io/v1/"),
            ("library/busybox:1.36", "docker.io", "https://index.docker.io/v1/"),
            ("team/app:2", "docker.io", "https://index.docker.io/v1/"),
            ("docker.io/team/app", "docker.io", "https://index.docker.io/v1/"),
            ("index.docker.io/team/app", "docker.io", "https://index.docker.io/v1/"),
            ("127.0.0.1:5000/private/demo:1", "127.0.0.1:5000", "127.0.0.1:5000"),
            ("registry.example.com/app@sha256:00", "registry.example.com", "registry.example.com"),
            ("localhost/app", "localhost", "localhost"),
            ("localhost:5000/app", "localhost:5000", "localhost:5000"),
            ("Registry/app", "Registry", "Registry"),
        ]
        for (reference, registry, key) in cases {
            #expect(ImageReference(reference).registry == registry, "\(reference)")
            #expect(ImageReference(reference).credentialsKey == key, "\(reference)")
        }
    }

    @Test func theHeaderIsURLSafeBase64JSONAsTheCLISendsIt() throws {
        // "?>?" encodes to bytes that standard base64 writes with "/" and "+": the header must not.
        let credential = RegistryCredential(username: "hecd", password: "p?>?>~~~", serverAddress: "127.0.0.1:5000")
        #expect(!credential.header.contains("+") && !credential.header.contains("/"))
        #expect(try decodeHeader(credential.header) == ["username": "hecd", "password": "p?>?>~~~", "serveraddress": "127.0.0.1:5000"])
        let token = RegistryCredential(username: "<token>", password: "ignored", identityToken: "tok", serverAddress: "https://index.docker.io/v1/")
        #expect(try decodeHeader(token.header) == ["username": "<token>", "identitytoken": "tok", "serveraddress": "https://index.docker.io/v1/"])
    }

    @Test func configJSONIsReadAsTheCLIReadsIt() throws {
        let json = """
            {"auths": {
                "127.0.0.1:5000": {"auth": "\(Data("hecd:pa:ss".utf8).base64EncodedString())"},
                "https://index.docker.io/v1/": {"auth": "\(Data("hub:secret".utf8).base64EncodedString())"},
                "https://legacy.example.com/v1/": {"username": "old", "password": "style"},
                "tokens.example.com": {"identitytoken": "refresh"},
                "broken.example.com": {"auth": "not base64!"},
                "store.example.com": {}
             },
             "credsStore": "desktop",
             "credHelpers": {"gcr.io": "gcloud"}}
            """
        let credentials = try RegistryCredentials(json: Data(json.utf8), source: "/home/u/.docker/config.json")
        let local = try #require(credentials.credential(for: "127.0.0.1:5000"))
        #expect(local.username == "hecd" && local.password == "pa:ss" && local.serverAddress == "127.0.0.1:5000")
        #expect(credentials.credential(for: "https://index.docker.io/v1/")?.username == "hub")
        // A legacy key with scheme and path matches its host; the server address sent is the one asked for.
        let legacy = try #require(credentials.credential(for: "legacy.example.com"))
        #expect(legacy.username == "old" && legacy.password == "style" && legacy.serverAddress == "legacy.example.com")
        #expect(credentials.credential(for: "tokens.example.com")?.identityToken == "refresh")
        #expect(credentials.credential(for: "broken.example.com") == nil)
        #expect(credentials.credential(for: "store.example.com") == nil)
        #expect(credentials.credential(for: "elsewhere.example.com") == nil)

        let notices = credentials.notices.joined(separator: "\n")
        #expect(notices.contains(#"auths."broken.example.com".auth is not base64 of USER:PASSWORD"#))
        #expect(notices.contains(#"the credential store "desktop" (credsStore), which hecd does not support"#))
        #expect(notices.contains("gcr.io → gcloud"))
        #expect(credentials.isDelegated("gcr.io"))
    }

    @Test func aFileThatIsNotAConfigSaysSo() throws {
        #expect(throws: RegistryCredentialsError.self) { try RegistryCredentials(json: Data("[1]".utf8), source: "x.json") }
        #expect(try RegistryCredentials.load(path: "/nonexistent/config.json") == nil)
    }

    @Test func theDefaultFileFollowsDockerConfig() {
        #expect(RegistryAuthSource.dockerDefault(environment: ["HOME": "/home/u"]).path == "/home/u/.docker/config.json")
        #expect(RegistryAuthSource.dockerDefault(environment: ["HOME": "/home/u", "DOCKER_CONFIG": "/etc/dc/"]).path == "/etc/dc/config.json")
    }

    @Test func aPullSendsTheCredentialsOfTheImagesRegistryReadAtEachPull() async throws {
        let folder = NSTemporaryDirectory() + "hecd-auth-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let file = folder + "/config.json"
        let server = try StubHTTPServer(.unixSocket) { _ in .stream([#"{"status":"Downloaded"}"# + "\n"]) }
        defer { server.stop() }
        let docker = DockerClient(host: try DockerHost("unix://" + server.socketPath), registryAuth: RegistryAuthSource(path: file))

        try await docker.pullImage("127.0.0.1:5000/private/demo:1")  // no file yet: anonymous
        #expect(server.requests.last?.headers["x-registry-auth"] == nil)

        try #"{"auths":{"127.0.0.1:5000":{"auth":"\#(Data("hecd:s3cret".utf8).base64EncodedString())"}}}"#
            .write(toFile: file, atomically: true, encoding: .utf8)
        try await docker.pullImage("127.0.0.1:5000/private/demo:1")
        let request = try #require(server.requests.last)
        #expect(request.path == "/v1.41/images/create?fromImage=127.0.0.1%3A5000%2Fprivate%2Fdemo&tag=1")
        let header = try #require(request.headers["x-registry-auth"])
        #expect(try decodeHeader(header) == ["username": "hecd", "password": "s3cret", "serveraddress": "127.0.0.1:5000"])

        try await docker.pullImage("busybox:1")  // Docker Hub: no entry, no header
        #expect(server.requests.last?.headers["x-registry-auth"] == nil)
    }

    @Test func aRefusedPullSaysWhatToDo() async throws {
        let server = try StubHTTPServer(.unixSocket) { request in
            request.headers["x-registry-auth"] == nil
                ? .json(500, #"{"message":"Head \"http://127.0.0.1:5000/v2/private/demo/manifests/1\": no basic auth credentials"}"#)
                : .json(500, #"{"message":"unauthorized: authentication required"}"#)
        }
        defer { server.stop() }
        let folder = NSTemporaryDirectory() + "hecd-auth-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let file = folder + "/config.json"
        let docker = DockerClient(host: try DockerHost("unix://" + server.socketPath), registryAuth: RegistryAuthSource(path: file))
        do {
            try await docker.pullImage("127.0.0.1:5000/private/demo:1")
            Issue.record("the pull should be refused")
        } catch {
            #expect(error.isUnauthorizedPull)
            #expect(error.description.contains("the registry 127.0.0.1:5000 refused it (Head"))
            #expect(error.description.contains("run `docker login 127.0.0.1:5000`"))
            #expect(error.description.contains("--registry-auth FILE"))
            #expect(error.description.contains("\(file) does not exist"))
        }
        try #"{"auths":{"127.0.0.1:5000":{"auth":"\#(Data("hecd:wrong".utf8).base64EncodedString())"}}}"#
            .write(toFile: file, atomically: true, encoding: .utf8)
        do {
            try await docker.pullImage("127.0.0.1:5000/private/demo:1")
            Issue.record("the pull should be refused")
        } catch {
            #expect(error.isUnauthorizedPull)
            #expect(error.description.contains("the credentials for 127.0.0.1:5000 in \(file) were sent and refused"))
        }
    }
}

/// How the engine is chosen and reached from the docker CLI's variables: TLS, the plain-TCP warning, a pinned
/// API version.
@Suite struct DockerEnvironmentTests {
    /// A DOCKER_CERT_PATH folder with the files named; removed by the caller.
    private func certificateFolder(_ names: [String]) throws -> String {
        let folder = NSTemporaryDirectory() + "hecd-certs-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for name in names { _ = FileManager.default.createFile(atPath: "\(folder)/\(name)", contents: Data("x".utf8)) }
        return folder
    }

    @Test func tlsVerifyTurnsTCPIntoHTTPSWithTheCertificatesOfTheCertPath() throws {
        let folder = try certificateFolder(["ca.pem", "cert.pem", "key.pem"])
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let host = try DockerHost.fromEnvironment([
            "DOCKER_HOST": "tcp://127.0.0.1:2376", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": folder,
        ])
        #expect(host.endpoint == .url("https://127.0.0.1:2376"))
        #expect(host.tls?.caFile == folder + "/ca.pem")
        #expect(host.tls?.certificateFile == folder + "/cert.pem")
        #expect(host.tls?.keyFile == folder + "/key.pem")
        #expect(host.plainTCPWarning == nil)
        // --docker wins over DOCKER_HOST, and is reached over TLS too.
        let flagged = try DockerHost.fromEnvironment(
            ["DOCKER_HOST": "tcp://10.0.0.1:2376", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": folder], address: "tcp://127.0.0.2:2376")
        #expect(flagged.endpoint == .url("https://127.0.0.2:2376"))
    }

    @Test func theDefaultCertPathIsTheDockerConfigFolder() throws {
        let folder = try certificateFolder(["ca.pem", "cert.pem", "key.pem"])
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let viaConfig = try DockerHost.fromEnvironment(["DOCKER_HOST": "tcp://h:2376", "DOCKER_TLS_VERIFY": "yes", "DOCKER_CONFIG": folder])
        #expect(viaConfig.tls?.caFile == folder + "/ca.pem")
        let home = folder + "/home"
        try FileManager.default.createDirectory(atPath: home + "/.docker", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: home + "/.docker/ca.pem", contents: Data("x".utf8))
        let viaHome = try DockerHost.fromEnvironment(["DOCKER_HOST": "tcp://h:2376", "DOCKER_TLS_VERIFY": "1", "HOME": home])
        #expect(viaHome.tls?.caFile == home + "/.docker/ca.pem")
        // No cert.pem/key.pem there: no client certificate, as with the CLI.
        #expect(viaHome.tls?.certificateFile == nil && viaHome.tls?.keyFile == nil)
    }

    @Test func aMissingCAIsAnErrorThatNamesTheFile() throws {
        let folder = try certificateFolder(["cert.pem", "key.pem"])
        defer { try? FileManager.default.removeItem(atPath: folder) }
        do {
            _ = try DockerHost.fromEnvironment(["DOCKER_HOST": "tcp://h:2376", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": folder])
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("DOCKER_TLS_VERIFY is set but \(folder)/ca.pem does not exist"))
        }
    }

    @Test func plainTCPIsWarnedAboutAndUnixSocketsIgnoreTLS() throws {
        let plain = try DockerHost.fromEnvironment(["DOCKER_HOST": "tcp://127.0.0.1:2375"])
        #expect(plain.endpoint == .url("http://127.0.0.1:2375"))
        #expect(plain.plainTCPWarning?.contains("tcp://127.0.0.1:2375 is reached over TCP without TLS") == true)
        let empty = try DockerHost.fromEnvironment(["DOCKER_HOST": "tcp://127.0.0.1:2375", "DOCKER_TLS_VERIFY": ""])
        #expect(empty.plainTCPWarning != nil)
        let socket = try DockerHost.fromEnvironment(["DOCKER_HOST": "unix:///run/d.sock", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": "/nonexistent"])
        #expect(socket.endpoint == .unixSocket(path: "/run/d.sock") && socket.tls == nil && socket.plainTCPWarning == nil)
        #expect(DockerHost.defaultEngine.plainTCPWarning == nil)
    }

    @Test func aPinnedAPIVersionIsUsedWithoutNegotiating() async throws {
        #expect(try DockerClient.pinnedAPIVersion(fromEnvironment: [:]) == nil)
        #expect(try DockerClient.pinnedAPIVersion(fromEnvironment: ["DOCKER_API_VERSION": "1.38"]) == "1.38")
        for bad in ["1", "v1.41", "1.41.0", "1.x"] {
            #expect(throws: DockerHostError.self, "\(bad)") { try DockerClient.pinnedAPIVersion(fromEnvironment: ["DOCKER_API_VERSION": bad]) }
        }
        let server = try StubHTTPServer(.unixSocket) { request in
            request.path == "/_ping"
                ? StubHTTPServer.Reply(status: 200, headers: ["Api-Version": "1.41"], chunks: ["OK"])
                : .json(200, "[]")
        }
        defer { server.stop() }
        let docker = DockerClient(host: try DockerHost("unix://" + server.socketPath), pinnedAPIVersion: "1.38")
        #expect(try await docker.negotiateVersion() == "1.38")
        #expect(docker.apiVersion == "1.38")
        _ = try await docker.listContainers(labels: [])
        #expect(server.requests.last?.path.hasPrefix("/v1.38/containers/json") == true)
    }
}
