#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// confd's `lookupIP` (getaddrinfo) and `lookupSRV` (the C resolver's `res_query`, found at run time).
enum DNS {
    /// Addresses of `host`, IPv4 and IPv6, as sorted unique strings; empty when the lookup fails (as confd does).
    static func lookupIP(_ host: String) -> [String] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Darwin)
        hints.ai_socktype = SOCK_STREAM
        #else
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #endif
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &result) == 0, let first = result else { return [] }
        defer { freeaddrinfo(first) }
        var addresses = Set<String>()
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            if let address = info.pointee.ai_addr, let text = numericHost(address, family: info.pointee.ai_family) {
                addresses.insert(text)
            }
            cursor = info.pointee.ai_next
        }
        return addresses.sorted(by: goLess)
    }

    private static func numericHost(_ address: UnsafeMutablePointer<sockaddr>, family: Int32) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        let ok: Bool
        switch family {
        case AF_INET:
            ok = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { pointer in
                var raw = pointer.pointee.sin_addr
                return inet_ntop(AF_INET, &raw, &buffer, socklen_t(buffer.count)) != nil
            }
        case AF_INET6:
            ok = address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                var raw = pointer.pointee.sin6_addr
                return inet_ntop(AF_INET6, &raw, &buffer, socklen_t(buffer.count)) != nil
            }
        default:
            ok = false
        }
        guard ok else { return nil }
        return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// One SRV record, with Go's field names; `target` keeps its trailing dot as Go's does.
    struct ServiceRecord: Equatable {
        var target: String
        var port: Int
        var priority: Int
        var weight: Int

        var templateValue: TemplateValue {
            .map(["Target": .string(target), "Port": .int(port), "Priority": .int(priority), "Weight": .int(weight)])
        }
    }

    struct Unsupported: Error {}

    /// `net.LookupSRV(service, proto, name)` sorted as confd sorts; empty when the lookup fails.
    /// Throws `Unsupported` when the C resolver is not available.
    static func lookupSRV(service: String, proto: String, name: String) throws(Unsupported) -> [ServiceRecord] {
        let query = service.isEmpty && proto.isEmpty ? name : "_\(service)._\(proto).\(name)"
        guard let resQuery = resolverQuery() else { throw Unsupported() }
        var answer = [UInt8](repeating: 0, count: 65536)
        let length = resQuery(query, 1, 33, &answer, Int32(answer.count))
        guard length > 0 else { return [] }
        let records = parseSRVResponse(Array(answer.prefix(Int(length))))
        return records.sorted { sortKey($0).lexicographicallyPrecedes(sortKey($1)) }
    }

    /// confd's order: `fmt.Sprintf("%s%d%d%d", Target, Port, Priority, Weight)` compared as strings.
    static func sortKey(_ record: ServiceRecord) -> [UInt8] {
        Array("\(record.target)\(record.port)\(record.priority)\(record.weight)".utf8)
    }

    typealias ResQuery = @convention(c) (
        UnsafePointer<CChar>?, Int32, Int32, UnsafeMutablePointer<UInt8>?, Int32
    ) -> Int32

    /// The C resolver's `res_query`, looked up at run time (glibc 2.34+ has it in libc, older in libresolv).
    static func resolverQuery() -> ResQuery? {
        #if canImport(Darwin)
        return nil
        #else
        let handles = [dlopen(nil, RTLD_NOW), dlopen("libresolv.so.2", RTLD_NOW)]
        for handle in handles {
            guard let handle else { continue }
            for symbol in ["res_query", "__res_query"] {
                if let pointer = dlsym(handle, symbol) {
                    return unsafeBitCast(pointer, to: ResQuery.self)
                }
            }
        }
        return nil
        #endif
    }

    /// SRV answers from a DNS response message (RFC 1035 wire format, compressed names).
    static func parseSRVResponse(_ message: [UInt8]) -> [ServiceRecord] {
        func u16(_ at: Int) -> Int? {
            at + 1 < message.count ? Int(message[at]) << 8 | Int(message[at + 1]) : nil
        }
        guard let questions = u16(4), let answers = u16(6) else { return [] }
        var offset = 12
        for _ in 0..<questions {
            guard let (_, next) = readName(message, at: offset) else { return [] }
            offset = next + 4
        }
        var records: [ServiceRecord] = []
        for _ in 0..<answers {
            guard let (_, next) = readName(message, at: offset), let type = u16(next), let length = u16(next + 8)
            else { break }
            let data = next + 10
            guard data + length <= message.count else { break }
            if type == 33, let priority = u16(data), let weight = u16(data + 2), let port = u16(data + 4),
                let (target, _) = readName(message, at: data + 6)
            {
                records.append(ServiceRecord(target: target, port: port, priority: priority, weight: weight))
            }
            offset = data + length
        }
        return records
    }

    /// A domain name as Go prints it (with a trailing dot) and the offset after it in the message.
    static func readName(_ message: [UInt8], at start: Int) -> (String, Int)? {
        var labels: [String] = []
        var offset = start
        var end: Int?
        var jumps = 0
        while offset < message.count {
            let length = Int(message[offset])
            if length == 0 {
                let name = labels.isEmpty ? "." : labels.joined(separator: ".") + "."
                return (name, end ?? offset + 1)
            }
            if length & 0xC0 == 0xC0 {
                guard offset + 1 < message.count, jumps < 64 else { return nil }
                if end == nil { end = offset + 2 }
                offset = (length & 0x3F) << 8 | Int(message[offset + 1])
                jumps += 1
                continue
            }
            guard offset + 1 + length <= message.count else { return nil }
            labels.append(String(decoding: message[(offset + 1)...(offset + length)], as: UTF8.self))
            offset += 1 + length
        }
        return nil
    }
}
