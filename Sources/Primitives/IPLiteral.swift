#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// IP address literals as the C library reads them (`inet_pton`): no names, no zones, no brackets.
public enum IPLiteral {
    public static func isIPv4(_ text: String) -> Bool {
        var address = in_addr()
        return !text.contains(":") && inet_pton(AF_INET, text, &address) == 1
    }

    public static func isIPv6(_ text: String) -> Bool {
        var address = in6_addr()
        return text.contains(":") && inet_pton(AF_INET6, text, &address) == 1
    }

    public static func isIP(_ text: String) -> Bool { isIPv4(text) || isIPv6(text) }
}
