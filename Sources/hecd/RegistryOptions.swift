import Primitives
import ArgumentParser
import Etcd
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import HTTPTransport
import Logging
import Registry

/// The agent's options for announcing containers in etcd (where etcd is comes from `EtcdOptions`). Each also
/// reads an environment variable, so a systemd unit can use an environment file.
struct RegistryOptions: ParsableArguments {
    @Option(name: .long, help: "The IP announced for this host's containers (env: HECD_HOST_IP).")
    var hostIP: String?

    @Option(name: .long, help: "Announce the IPv4 address of this interface, e.g. eth0 (env: HECD_HOST_INTERFACE).")
    var hostInterface: String?

    @Option(name: .long, help: "Lease TTL in seconds: a dead agent's keys vanish after this long (env: HECD_TTL).")
    var ttl: Int?

    @Option(name: .long, help: "Seconds between deregistering a container and stopping it, unless its manifest sets register.drain.")
    var drain: Double = 2

    @Flag(name: .long, help: "On SIGTERM, leave the keys registered (they expire with the lease) instead of revoking the lease (env: HECD_KEEP_REGISTERED=1).")
    var keepRegistered = false

    func keepRegistered(_ environment: [String: String]) -> Bool {
        keepRegistered || ["1", "true", "yes"].contains(environment["HECD_KEEP_REGISTERED"]?.lowercased() ?? "")
    }

    /// The registry, or nil when no etcd endpoint is given (then nothing is registered).
    /// - Parameter instrument: wraps the etcd store, e.g. to count and time its requests.
    func registry(
        agentID: String, etcd: EtcdOptions, environment: [String: String], logger: Logger,
        instrument: (any RegistryStore) -> any RegistryStore = { $0 }
    ) throws -> Registry? {
        let ttl = effectiveTTL(environment)
        guard ttl >= 3 else { throw ValidationError("--ttl must be at least 3 seconds (keepalives go every TTL/3)") }
        guard let client = try etcd.client(environment, requestTimeout: Registry.requestTimeout(ttl: ttl)) else {
            return nil
        }
        return Registry(store: instrument(EtcdStore(client: client)), agentID: agentID, ttl: ttl, logger: logger)
    }

    /// `--ttl`, else HECD_TTL, else 10 s.
    func effectiveTTL(_ environment: [String: String]) -> Int {
        ttl ?? environment["HECD_TTL"].flatMap { Int($0) } ?? 10
    }

    /// The explicit host IP: `--host-ip`, or the address of `--host-interface`; nil when neither is given.
    func hostIP(_ environment: [String: String]) throws -> String? {
        if let ip = hostIP ?? environment["HECD_HOST_IP"] {
            guard IPLiteral.isIP(ip) else {
                throw ValidationError("--host-ip \(ip) is not an IP address")
            }
            return ip
        }
        guard let name = hostInterface ?? environment["HECD_HOST_INTERFACE"] else { return nil }
        guard let address = Self.ipv4Address(of: name) else {
            throw ValidationError("interface \(name) has no IPv4 address (see `ip -4 addr`); pass --host-ip instead")
        }
        return address
    }

    /// The first IPv4 address of an interface, from getifaddrs.
    static func ipv4Address(of interface: String) -> String? {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return nil }
        defer { freeifaddrs(list) }
        for entry in sequence(first: first, next: { $0.pointee.ifa_next }) {
            guard let address = entry.pointee.ifa_addr, address.pointee.sa_family == sa_family_t(AF_INET),
                String(cString: entry.pointee.ifa_name) == interface
            else { continue }
            var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
            var ipv4 = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
            guard inet_ntop(AF_INET, &ipv4, &text, socklen_t(text.count)) != nil else { continue }
            return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        return nil
    }
}
