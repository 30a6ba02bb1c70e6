import ArgumentParser
import Etcd
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import HTTPTransport
import Primitives
#if canImport(Glibc)
import Glibc
#endif

/// Where etcd is and how to log in to it, shared by `agent`, `render` and `status`. Each option falls back
/// to a `HECD_*` environment variable, then to etcdctl's own (`ETCDCTL_ENDPOINTS`, `ETCDCTL_USER`, …), so
/// a shell set up for etcdctl works as it is.
struct EtcdOptions: ParsableArguments {
    @Option(name: .customLong("etcd"), help: "etcd endpoints, comma-separated, e.g. http://10.0.0.1:2379 (env: HECD_ETCD, ETCDCTL_ENDPOINTS).")
    var endpoints: String?

    @Option(name: .customLong("etcd-user"), help: "etcd user (env: HECD_ETCD_USER, ETCDCTL_USER as user or user:password); the password comes from HECD_ETCD_PASSWORD (or ETCDCTL_PASSWORD), never from the command line.")
    var user: String?

    @Option(name: .customLong("etcd-ca"), help: "CA file to verify etcd's certificate (env: HECD_ETCD_CA, ETCDCTL_CACERT).")
    var caFile: String?

    @Option(name: .customLong("etcd-cert"), help: "Client certificate for etcd (env: HECD_ETCD_CERT, ETCDCTL_CERT).")
    var certificateFile: String?

    @Option(name: .customLong("etcd-key"), help: "Client key for etcd (env: HECD_ETCD_KEY, ETCDCTL_KEY).")
    var keyFile: String?

    func validate() throws {
        if let user, user.contains(":") {
            throw ValidationError("--etcd-user takes a user name only: put the password in HECD_ETCD_PASSWORD (a command line shows in ps)")
        }
    }

    /// The endpoints given, or none.
    func endpoints(_ environment: [String: String]) -> [String] {
        let text = endpoints ?? environment["HECD_ETCD"] ?? environment["ETCDCTL_ENDPOINTS"] ?? ""
        return text.split(separator: ",").map { $0.trimmingWhitespace(newlines: false) }.filter { !$0.isEmpty }
            .map { $0.hasPrefix("http://") || $0.hasPrefix("https://") ? $0 : "http://" + $0 }
    }

    /// The user and password, or nil when no user is given. Throws when a user has no password.
    func credentials(_ environment: [String: String]) throws -> EtcdCredentials? {
        let password = environment["HECD_ETCD_PASSWORD"] ?? environment["ETCDCTL_PASSWORD"]
        guard let given = user ?? environment["HECD_ETCD_USER"] ?? environment["ETCDCTL_USER"] else { return nil }
        // etcdctl's form: `user:password`, or `user` with the password given elsewhere.
        if user == nil, let colon = given.firstIndex(of: ":") {
            return EtcdCredentials(user: String(given[..<colon]), password: String(given[given.index(after: colon)...]))
        }
        guard let password else {
            throw ValidationError("etcd user \(given) needs a password: set HECD_ETCD_PASSWORD")
        }
        return EtcdCredentials(user: given, password: password)
    }

    /// The CA, certificate and key files, or nil when none is given.
    func tls(_ environment: [String: String]) -> TLSFiles? {
        let ca = caFile ?? environment["HECD_ETCD_CA"] ?? environment["ETCDCTL_CACERT"]
        let certificate = certificateFile ?? environment["HECD_ETCD_CERT"] ?? environment["ETCDCTL_CERT"]
        let key = keyFile ?? environment["HECD_ETCD_KEY"] ?? environment["ETCDCTL_KEY"]
        guard ca != nil || certificate != nil || key != nil else { return nil }
        return TLSFiles(caFile: ca, certificateFile: certificate, keyFile: key)
    }

    /// A client for the endpoints given, or nil when there are none.
    func client(
        _ environment: [String: String], requestTimeout: Duration = .seconds(5),
        observer: (@Sendable (EtcdRequestRecord) -> Void)? = nil
    ) throws -> EtcdClient? {
        let endpoints = endpoints(environment)
        guard !endpoints.isEmpty else { return nil }
        return EtcdClient(
            endpoints: endpoints, tls: tls(environment), credentials: try credentials(environment),
            requestTimeout: requestTimeout, observer: observer)
    }

    /// A client, or a usage error saying how to name etcd.
    func requiredClient(_ environment: [String: String]) throws -> EtcdClient {
        guard let client = try client(environment) else { throw Self.missingEndpoints }
        return client
    }

    static let missingEndpoints = ValidationError("say where etcd is: --etcd URL[,URL…] (or HECD_ETCD, or ETCDCTL_ENDPOINTS)")
}

/// Error output: messages for the user go to standard error, results to standard output.
enum StandardError {
    static func print(_ message: String) {
        let line = Array((message + "\n").utf8)
        _ = line.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }
}
