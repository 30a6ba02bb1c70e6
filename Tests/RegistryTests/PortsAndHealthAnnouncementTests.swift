import Registry
import Testing

/// Several registered ports, Docker's HEALTHCHECK status and host networking in the announcement decision.
@Suite struct PortsAndHealthAnnouncementTests {
    typealias Container = AnnouncementInput.Container
    typealias Binding = AnnouncementInput.Binding
    typealias PortPrefix = AnnouncementInput.PortPrefix

    func container(_ name: String, health: String? = nil, hostNetwork: Bool = false) -> Container {
        Container(
            id: "id-" + name, name: name, app: "web", running: true, labelledPort: 80,
            bindings: hostNetwork ? [] : [
                Binding(containerPort: 80, hostIP: "0.0.0.0", hostPort: 32001),
                Binding(containerPort: 22, hostIP: "0.0.0.0", hostPort: 32002),
            ],
            dockerHealth: health, hostNetwork: hostNetwork)
    }

    let twoPorts = AnnouncementInput.App(
        prefix: nil, port: 80,
        registrations: [PortPrefix(port: nil, prefix: "/app/servers"), PortPrefix(port: 22, prefix: "/app/ssh")])

    @Test func oneKeyPerRegisteredPortAndOneProbePerContainer() {
        let input = AnnouncementInput(containers: [container("web-1")], apps: ["web": twoPorts], hostIP: "10.0.0.5")
        let candidates = Announcements.candidates(input)
        #expect(Dictionary(uniqueKeysWithValues: candidates.candidates.map { ($0.key, $0.value) }) == [
            "/app/servers/web-1": "10.0.0.5:32001", "/app/ssh/web-1": "10.0.0.5:32002",
        ])
        // Both keys wait for the same check: the first registered port's.
        #expect(Set(candidates.candidates.map(\.probePort)) == [32001])
        let announced = Announcements.announcement(candidates, ready: ["id-web-1"])
        #expect(announced.keysByContainer == ["id-web-1": ["/app/servers/web-1", "/app/ssh/web-1"]])
        #expect(announced.announcedPerApp == ["web": 1], "containers are counted, not keys")
        #expect(Announcements.announcement(candidates, ready: []).hold.isEmpty)
    }

    @Test func aTCPCheckProbesItsOwnPort() {
        var app = twoPorts
        app.healthTCPPort = 22
        app.hasHealthCheck = true
        let candidates = Announcements.candidates(AnnouncementInput(containers: [container("web-1")], apps: ["web": app], hostIP: "10.0.0.5"))
        #expect(Set(candidates.candidates.map(\.probePort)) == [32002])
        #expect(candidates.candidates.allSatisfy { $0.healthPath == nil })
    }

    @Test func dockersHealthDecidesWhenTheManifestHasNoCheck() {
        let app = AnnouncementInput.App(prefix: "/app/servers", port: 80)
        for (health, announced) in [("starting", false), ("unhealthy", false), ("healthy", true)] {
            let candidates = Announcements.candidates(AnnouncementInput(
                containers: [container("web-1", health: health)], apps: ["web": app], hostIP: "10.0.0.5"))
            #expect(candidates.candidates.first?.dockerHealthy == announced)
            // Whatever a probe of hecd's own would say.
            #expect(!Announcements.announcement(candidates, ready: ["id-web-1"]).hold.isEmpty == announced, "\(health)")
            #expect(!Announcements.announcement(candidates, ready: []).hold.isEmpty == announced, "\(health)")
        }
        // The manifest's own check wins over the image's HEALTHCHECK.
        let checked = AnnouncementInput.App(prefix: "/app/servers", port: 80, healthPath: "/healthz")
        let candidates = Announcements.candidates(AnnouncementInput(
            containers: [container("web-1", health: "unhealthy")], apps: ["web": checked], hostIP: "10.0.0.5"))
        #expect(candidates.candidates.first?.dockerHealthy == nil)
        #expect(Announcements.announcement(candidates, ready: ["id-web-1"]).hold == ["/app/servers/web-1": "10.0.0.5:32001"])
    }

    @Test func onTheHostNetworkTheContainerPortIsTheHostPort() {
        let app = AnnouncementInput.App(prefix: "/app/servers", port: 8080)
        var host = container("web-1", hostNetwork: true)
        host.labelledPort = 8080
        let candidates = Announcements.candidates(AnnouncementInput(containers: [host], apps: ["web": app], hostIP: "10.0.0.5"))
        #expect(candidates.candidates.map(\.value) == ["10.0.0.5:8080"])
        #expect(candidates.candidates.first?.probeHost == "127.0.0.1")
    }

    @Test func anAppBeingRemovedKeepsEveryKeyItsContainerWasCreatedWith() {
        var orphan = container("web-1")
        orphan.labelledPrefix = "/app/servers"
        orphan.labelledRegistrations = [PortPrefix(port: 80, prefix: "/app/servers"), PortPrefix(port: 22, prefix: "/app/ssh")]
        let candidates = Announcements.candidates(AnnouncementInput(containers: [orphan], apps: [:], hostIP: "10.0.0.5"))
        #expect(candidates.owned == ["/app/servers/web-1", "/app/ssh/web-1"])
    }
}
