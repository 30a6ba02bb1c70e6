import Registry
import Testing

/// The agent only ever writes `ip:port` values to the registry.
@Suite struct RegisteredAddressTests {
    @Test func ipv4AndIpv6AddressesAreWrittenAsIpPort() {
        #expect(RegisteredAddress.value(hostIP: "10.0.0.5", hostPort: 32768) == "10.0.0.5:32768")
        #expect(RegisteredAddress.value(hostIP: "127.0.0.3", hostPort: 1) == "127.0.0.3:1")
        #expect(RegisteredAddress.value(hostIP: "fd00::5", hostPort: 32768) == "[fd00::5]:32768")
        #expect(RegisteredAddress.value(hostIP: "::1", hostPort: 65535) == "[::1]:65535")
    }

    @Test func anythingElseIsNotRegistered() {
        for hostIP in ["", "host.example.com", "10.0.0.5\nlisten evil", "10.0.0.5 check", "10.0.0.256", "fe80::1%eth0", "[::1]", "10.0.0.5:80"] {
            #expect(RegisteredAddress.value(hostIP: hostIP, hostPort: 80) == nil, "\(hostIP.debugDescription)")
        }
        #expect(RegisteredAddress.value(hostIP: "10.0.0.5", hostPort: 0) == nil)
        #expect(RegisteredAddress.value(hostIP: "10.0.0.5", hostPort: 65536) == nil)
    }
}
