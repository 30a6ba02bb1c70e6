#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Credentials for one registry, as `docker login` stores them, and the `X-Registry-Auth` header that carries
/// them to the engine for a pull.
public struct RegistryCredential: Sendable, Hashable {
    public var username: String?
    public var password: String?
    /// An OAuth refresh token (`identitytoken` in config.json), sent instead of a password.
    public var identityToken: String?
    /// The registry these credentials are for, as the engine expects it (`127.0.0.1:5000`, or Docker Hub's
    /// `https://index.docker.io/v1/`).
    public var serverAddress: String

    public init(username: String? = nil, password: String? = nil, identityToken: String? = nil, serverAddress: String) {
        self.username = username
        self.password = password
        self.identityToken = identityToken
        self.serverAddress = serverAddress
    }

    /// The `X-Registry-Auth` value: JSON `{"username","password","serveraddress"}` (or with `identitytoken`),
    /// empty fields left out, in URL-safe base64 with padding, as the docker CLI encodes it.
    public var header: String {
        struct Wire: Encodable {
            let username: String?
            let password: String?
            let identitytoken: String?
            let serveraddress: String
        }
        let wire = Wire(
            username: username.flatMap { $0.isEmpty ? nil : $0 },
            password: identityToken == nil ? password.flatMap { $0.isEmpty ? nil : $0 } : nil,
            identitytoken: identityToken, serveraddress: serverAddress)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let json = (try? encoder.encode(wire)) ?? Data()
        return String(json.base64EncodedString().map { $0 == "+" ? "-" : $0 == "/" ? "_" : $0 })
    }
}

/// The registry credentials of a docker CLI config file (`~/.docker/config.json`: its `auths`), read the way
/// the docker CLI reads them. Credential stores and helpers (`credsStore`, `credHelpers`) run programs that
/// hecd does not run: they are reported in `notices`, and their registries get no credentials.
public struct RegistryCredentials: Sendable, Hashable {
    /// The file read, for messages.
    public let source: String
    /// Entries of `auths`, by their key as written (`127.0.0.1:5000`, `https://index.docker.io/v1/`).
    public let entries: [String: RegistryCredential]
    /// `credsStore`, when set.
    public let credentialStore: String?
    /// `credHelpers`: registry → helper name.
    public let credentialHelpers: [String: String]
    /// Entries that could not be used, each a sentence naming the entry.
    public let problems: [String]

    /// Parses a config.json. Throws when it is not a JSON object; a broken entry is skipped and named in
    /// `problems`.
    public init(json data: Data, source: String) throws(RegistryCredentialsError) {
        struct Entry: Decodable {
            let auth: String?
            let username: String?
            let password: String?
            let identitytoken: String?
        }
        struct File: Decodable {
            let auths: [String: Entry]?
            let credsStore: String?
            let credHelpers: [String: String]?
        }
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: data)
        } catch {
            throw RegistryCredentialsError(
                path: source, message: "is not a docker config file (JSON with \"auths\"): \(error)")
        }
        var entries: [String: RegistryCredential] = [:]
        var problems: [String] = []
        for (key, entry) in (file.auths ?? [:]).sorted(by: { $0.key < $1.key }) {
            var credential = RegistryCredential(
                username: entry.username, password: entry.password, identityToken: entry.identitytoken,
                serverAddress: key)
            if let auth = entry.auth, !auth.isEmpty {
                guard let decoded = Data(base64Encoded: auth).map({ String(decoding: $0, as: UTF8.self) }),
                    let colon = decoded.firstIndex(of: ":")
                else {
                    problems.append("\(source): auths.\"\(key)\".auth is not base64 of USER:PASSWORD; that entry is skipped")
                    continue
                }
                credential.username = String(decoded[..<colon])
                credential.password = String(decoded[decoded.index(after: colon)...])
            }
            if credential.identityToken?.isEmpty == true { credential.identityToken = nil }
            guard credential.identityToken != nil || credential.username?.isEmpty == false else {
                // `docker login` through a credential store leaves an empty entry: nothing to send.
                continue
            }
            entries[key] = credential
        }
        self.source = source
        self.entries = entries
        self.credentialStore = file.credsStore.flatMap { $0.isEmpty ? nil : $0 }
        self.credentialHelpers = file.credHelpers ?? [:]
        self.problems = problems
    }

    /// Reads `path`; nil when the file does not exist.
    public static func load(path: String) throws(RegistryCredentialsError) -> RegistryCredentials? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RegistryCredentialsError(path: path, message: "cannot be read (permissions?)")
        }
        return try RegistryCredentials(json: data, source: path)
    }

    /// The credentials for `registry` (a host such as `127.0.0.1:5000`, or Docker Hub's
    /// `https://index.docker.io/v1/`): the entry with exactly that key, else the one whose key names the same
    /// host (`https://127.0.0.1:5000/v2/`, `docker.io`), as the docker CLI matches legacy keys. The credential's
    /// `serverAddress` is `registry`.
    public func credential(for registry: String) -> RegistryCredential? {
        let wanted = Self.hostname(registry)
        let found = entries[registry]
            ?? entries.sorted(by: { $0.key < $1.key }).first(where: { Self.hostname($0.key) == wanted })?.value
        guard var found else { return nil }
        found.serverAddress = registry
        return found
    }

    /// What this file holds that hecd does not use, each a sentence for the log: `credsStore` and `credHelpers`
    /// (programs that hecd does not run), and broken entries.
    public var notices: [String] {
        var notices = problems
        if let credentialStore {
            notices.append(
                "\(source) names the credential store \"\(credentialStore)\" (credsStore), which hecd does not support: "
                    + "only credentials written in \"auths\" are used; pass --registry-auth FILE with "
                    + "{\"auths\":{\"HOST\":{\"auth\":\"BASE64(USER:PASSWORD)\"}}} for registries kept in the store")
        }
        if !credentialHelpers.isEmpty {
            let list = credentialHelpers.sorted(by: { $0.key < $1.key }).map { "\($0.key) → \($0.value)" }
            notices.append(
                "\(source) names credential helpers (credHelpers: \(list.joined(separator: ", "))), which hecd does not "
                    + "support: pulls from those registries get no credentials unless \"auths\" has them")
        }
        return notices
    }

    /// Whether a credential store or helper that hecd does not run may hold the credentials for `registry`.
    public func isDelegated(_ registry: String) -> Bool {
        credentialStore != nil || credentialHelpers.keys.contains { Self.hostname($0) == Self.hostname(registry) }
    }

    /// The host a config key or server address names: scheme and path dropped, Docker Hub's names made one.
    static func hostname(_ address: String) -> String {
        var text = Substring(address)
        for scheme in ["https://", "http://"] where text.hasPrefix(scheme) { text = text.dropFirst(scheme.count) }
        let host = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        return ImageReference.dockerHubNames.contains(host) ? ImageReference.dockerHubDomain : host
    }
}

/// Where pulls take their credentials from: a docker CLI config file, read again at each pull, so that a
/// `docker login` after a refused pull takes effect at the next attempt without restarting the agent.
public struct RegistryAuthSource: Sendable, Hashable {
    /// The config file (`--registry-auth FILE`, or `$DOCKER_CONFIG/config.json`, or `~/.docker/config.json`).
    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// The docker CLI's own file: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
    public static func dockerDefault(environment: [String: String]) -> RegistryAuthSource {
        RegistryAuthSource(path: DockerConfigFolder.path(environment) + "/config.json")
    }

    /// The file's credentials; nil when the file does not exist.
    public func load() throws(RegistryCredentialsError) -> RegistryCredentials? {
        try RegistryCredentials.load(path: path)
    }
}

/// A registry credentials file that cannot be used.
public struct RegistryCredentialsError: Error, Sendable, CustomStringConvertible {
    public let path: String
    public let message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { "\(path) \(message)" }
}
