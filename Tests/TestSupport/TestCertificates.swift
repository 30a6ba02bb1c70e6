import Foundation

/// A throwaway CA, a server certificate for 127.0.0.1 and a client certificate without a CN (etcd's gateway
/// refuses client certificates with a CN once authentication is on), made with openssl.
public struct TestCertificates: Sendable {
    public let directory: String
    public var ca: String { directory + "/ca.crt" }
    public var serverCertificate: String { directory + "/server.crt" }
    public var serverKey: String { directory + "/server.key" }
    public var clientCertificate: String { directory + "/client.crt" }
    public var clientKey: String { directory + "/client.key" }

    /// etcd's flags to serve TLS with these certificates and ask clients for theirs.
    public var etcdServerArguments: [String] {
        ["--cert-file", serverCertificate, "--key-file", serverKey, "--trusted-ca-file", ca, "--client-cert-auth"]
    }

    public static func make() async throws -> TestCertificates {
        let directory = NSTemporaryDirectory() + "hecd-tls-\(UUID().uuidString.prefix(8).lowercased())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let certificates = TestCertificates(directory: directory)
        do {
            try "subjectAltName=IP:127.0.0.1\n".write(toFile: directory + "/server.ext", atomically: true, encoding: .utf8)
            let key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
            try await openssl(["req", "-x509"] + key + ["-keyout", directory + "/ca.key", "-out", certificates.ca, "-days", "1", "-subj", "/CN=hecd-test-ca"])
            for (name, subject) in [("server", "/CN=127.0.0.1"), ("client", "/O=hecd-test")] {
                try await openssl(["req"] + key + ["-keyout", "\(directory)/\(name).key", "-out", "\(directory)/\(name).csr", "-subj", subject])
                var sign = ["x509", "-req", "-in", "\(directory)/\(name).csr", "-CA", certificates.ca, "-CAkey", directory + "/ca.key",
                            "-CAcreateserial", "-out", "\(directory)/\(name).crt", "-days", "1"]
                if name == "server" { sign += ["-extfile", directory + "/server.ext"] }
                try await openssl(sign)
            }
        } catch {
            certificates.remove()
            throw error
        }
        return certificates
    }

    public func remove() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private static func openssl(_ arguments: [String]) async throws {
        let (status, output) = try await EtcdProcess.run("/usr/bin/openssl", arguments)
        guard status == 0 else {
            throw EtcdProcess.Failure(description: "openssl \(arguments.prefix(2).joined(separator: " ")) failed: \(output)")
        }
    }
}
