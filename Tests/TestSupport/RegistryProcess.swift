import Foundation
import HTTPTransport

/// A Docker registry (Debian's `docker-registry`, distribution 2.8) of the test's own on 127.0.0.1 and a free
/// port, with htpasswd authentication (one user, a bcrypt hash made by `htpasswd -B`) and its storage in a
/// temporary folder. Engines treat 127.0.0.0/8 registries as insecure-allowed, so plain HTTP is enough.
public final class RegistryProcess: Sendable {
    public static let binary = ProcessInfo.processInfo.environment["DOCKER_REGISTRY_BINARY"] ?? "/usr/bin/docker-registry"
    public static let htpasswdBinary = "/usr/bin/htpasswd"

    public let directory: String
    public let port: Int
    public let username: String
    public let password: String
    private let daemon: Daemon

    /// `127.0.0.1:PORT`, the registry's name in image references.
    public var host: String { "127.0.0.1:\(port)" }
    public var log: String { daemon.log }

    /// Whether this machine has the registry and htpasswd (Debian: docker-registry, apache2-utils).
    public static var isAvailable: Bool {
        FileManager.default.isExecutableFile(atPath: binary) && FileManager.default.isExecutableFile(atPath: htpasswdBinary)
    }

    private init(directory: String, port: Int, username: String, password: String, daemon: Daemon) {
        self.directory = directory
        self.port = port
        self.username = username
        self.password = password
        self.daemon = daemon
    }

    /// Starts the registry and waits until `GET /v2/` answers (401: it asks for credentials).
    public static func start(
        username: String = "hecd", password: String = "s3cret-\(UUID().uuidString.prefix(6))", timeout: Duration = .seconds(10)
    ) async throws -> RegistryProcess {
        let directory = NSTemporaryDirectory() + "hecd-registry-\(UUID().uuidString.prefix(8).lowercased())"
        let files = FileManager.default
        try files.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let port = freePort()
        let daemon: Daemon
        do {
            let hash = try await runProgram(htpasswdBinary, ["-B", "-b", "-n", username, password], environment: [:])
            guard hash.status == 0, hash.standardOutput.hasPrefix(username + ":$2") else {
                throw TestFailure("htpasswd -B did not make a bcrypt entry: \(hash)")
            }
            try (hash.standardOutput + "\n").write(toFile: directory + "/htpasswd", atomically: true, encoding: .utf8)
            try """
                version: 0.1
                log:
                  level: warn
                storage:
                  filesystem:
                    rootdirectory: \(directory)/data
                http:
                  addr: 127.0.0.1:\(port)
                auth:
                  htpasswd:
                    realm: hecd-test
                    path: \(directory)/htpasswd

                """.write(toFile: directory + "/config.yml", atomically: true, encoding: .utf8)
            daemon = try Daemon(binary, ["serve", directory + "/config.yml"], logFile: directory + "/registry.log")
        } catch {
            try? files.removeItem(atPath: directory)
            throw error
        }
        let registry = RegistryProcess(directory: directory, port: port, username: username, password: password, daemon: daemon)
        let probe = HTTPClient(endpoint: .url("http://127.0.0.1:\(port)"))
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let answer = try? await probe.send(HTTPRequest(.get, "/v2/", timeout: .seconds(1))), answer.status == 401 {
                return registry
            }
            guard daemon.isRunning else { break }
            try? await Task.sleep(for: .milliseconds(50))
        }
        let log = registry.log
        await registry.stop()
        throw TestFailure("docker-registry did not answer on 127.0.0.1:\(port) within \(timeout); its log:\n\(log.suffix(2000))")
    }

    /// Stops the registry and removes its folder (storage included).
    public func stop() async {
        await daemon.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// Runs `body` with a registry of its own, stopped and removed afterwards, whether `body` returned or threw.
public func withRegistry<Value>(_ body: (RegistryProcess) async throws -> Value) async throws -> Value {
    let registry = try await RegistryProcess.start()
    let result: Result<Value, any Error>
    do {
        result = .success(try await body(registry))
    } catch {
        result = .failure(error)
    }
    await registry.stop()
    return try result.get()
}
