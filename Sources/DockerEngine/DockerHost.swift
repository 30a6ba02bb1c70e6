#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import HTTPTransport

/// Which Docker engine to talk to, and how: `unix:///var/run/docker.sock` (the default), `tcp://HOST:PORT`, or
/// `tcp://HOST:PORT` over TLS with the docker CLI's `DOCKER_TLS_VERIFY` and `DOCKER_CERT_PATH`.
public struct DockerHost: Sendable, Hashable, CustomStringConvertible {
    public static let defaultSocket = "unix:///var/run/docker.sock"

    public let endpoint: HTTPEndpoint
    /// The CA that signs the engine's certificate, and this client's certificate and key; nil without TLS.
    public let tls: TLSFiles?
    public let description: String

    /// The engine at /var/run/docker.sock.
    public static let defaultEngine = DockerHost(endpoint: .unixSocket(path: "/var/run/docker.sock"), tls: nil, description: defaultSocket)

    private init(endpoint: HTTPEndpoint, tls: TLSFiles?, description: String) {
        self.endpoint = endpoint
        self.tls = tls
        self.description = description
    }

    /// Parses a `DOCKER_HOST`-style address, without TLS. Throws a message that says what is accepted.
    public init(_ address: String) throws(DockerHostError) {
        try self.init(address, tls: nil)
    }

    /// Parses a `DOCKER_HOST`-style address; with `tls`, a `tcp://` address is reached over HTTPS and its
    /// certificate checked against `tls.caFile` (a Unix socket ignores `tls`, as the docker CLI does).
    public init(_ address: String, tls: TLSFiles?) throws(DockerHostError) {
        if address.hasPrefix("unix://") {
            let path = String(address.dropFirst("unix://".count))
            guard path.hasPrefix("/") else { throw .notAnAddress(address) }
            self.init(endpoint: .unixSocket(path: path), tls: nil, description: address)
        } else if address.hasPrefix("tcp://") || address.hasPrefix("http://") {
            let rest = address.split(separator: "://", maxSplits: 1).last.map(String.init) ?? ""
            guard !rest.isEmpty else { throw .notAnAddress(address) }
            let scheme = tls == nil ? "http://" : "https://"
            self.init(
                endpoint: .url(scheme + rest.trimmingSuffix("/")), tls: tls,
                description: tls == nil ? address : "\(address) (TLS)")
        } else if address.hasPrefix("/") {
            self.init(endpoint: .unixSocket(path: address), tls: nil, description: address)
        } else {
            throw .notAnAddress(address)
        }
    }

    /// The engine the docker CLI would use: `address` (a `--docker` flag) or `DOCKER_HOST`, else the default
    /// socket; over TLS when `DOCKER_TLS_VERIFY` is set (to anything but the empty string, as the CLI reads
    /// it), with `ca.pem`, `cert.pem` and `key.pem` from `DOCKER_CERT_PATH` (default: `DOCKER_CONFIG`, else
    /// `~/.docker`). As with the CLI, a missing `cert.pem`/`key.pem` pair means no client certificate; a
    /// missing `ca.pem` is an error here (the CLI would fall back to the system's CAs, which never sign a
    /// dockerd's certificate).
    public static func fromEnvironment(
        _ environment: [String: String], address: String? = nil
    ) throws(DockerHostError) -> DockerHost {
        let chosen = address ?? environment["DOCKER_HOST"].flatMap { $0.isEmpty ? nil : $0 }
        guard let chosen else { return defaultEngine }
        guard let verify = environment["DOCKER_TLS_VERIFY"], !verify.isEmpty,
            chosen.hasPrefix("tcp://") || chosen.hasPrefix("http://")
        else { return try DockerHost(chosen) }
        let folder = certificateFolder(environment)
        let files = FileManager.default
        let ca = folder + "/ca.pem", certificate = folder + "/cert.pem", key = folder + "/key.pem"
        guard files.fileExists(atPath: ca) else {
            throw DockerHostError(
                address: chosen,
                message: "DOCKER_TLS_VERIFY is set but \(ca) does not exist: DOCKER_CERT_PATH names the folder "
                    + "holding ca.pem, cert.pem and key.pem (default: DOCKER_CONFIG, else ~/.docker)")
        }
        let hasClientCertificate = files.fileExists(atPath: certificate) && files.fileExists(atPath: key)
        let tls = TLSFiles(
            caFile: ca, certificateFile: hasClientCertificate ? certificate : nil,
            keyFile: hasClientCertificate ? key : nil)
        return try DockerHost(chosen, tls: tls)
    }

    /// Where the docker CLI looks for `ca.pem`, `cert.pem` and `key.pem`.
    static func certificateFolder(_ environment: [String: String]) -> String {
        if let path = environment["DOCKER_CERT_PATH"], !path.isEmpty { return path.trimmingSuffix("/") }
        return DockerConfigFolder.path(environment)
    }

    /// Whether the engine is reached over plain TCP, where anyone who can reach the port commands the engine
    /// (and so the host, as root).
    public var isPlainTCP: Bool {
        if case .url(let base) = endpoint { base.hasPrefix("http://") } else { false }
    }

    /// A warning for the operator when the engine is reached over TCP without TLS; nil otherwise.
    public var plainTCPWarning: String? {
        guard isPlainTCP else { return nil }
        return "the Docker engine at \(description) is reached over TCP without TLS: anyone who can reach that "
            + "port controls the engine and the host; set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH (ca.pem, cert.pem, "
            + "key.pem) as for the docker CLI, and run dockerd with --tlsverify"
    }
}

/// The docker CLI's configuration folder: `DOCKER_CONFIG`, else `~/.docker`. It holds `config.json` (registry
/// credentials) and, unless `DOCKER_CERT_PATH` says otherwise, the TLS files.
enum DockerConfigFolder {
    static func path(_ environment: [String: String]) -> String {
        if let folder = environment["DOCKER_CONFIG"], !folder.isEmpty { return folder.trimmingSuffix("/") }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? FileManager.default.homeDirectoryForCurrentUser.path
        return home.trimmingSuffix("/") + "/.docker"
    }
}

/// A Docker address or connection setting that cannot be used, with what to do about it.
public struct DockerHostError: Error, Sendable, CustomStringConvertible {
    public let address: String
    public let message: String

    public init(address: String, message: String) {
        self.address = address
        self.message = message
    }

    /// An address that is neither `unix:///path` nor `tcp://host:port`.
    static func notAnAddress(_ address: String) -> DockerHostError {
        DockerHostError(
            address: address,
            message: "'\(address)' is not a Docker address: use unix:///var/run/docker.sock or tcp://HOST:PORT")
    }

    public var description: String { message }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String {
        var text = self
        while text.hasSuffix(suffix) { text.removeLast(suffix.count) }
        return text
    }
}
