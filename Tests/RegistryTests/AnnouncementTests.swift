import Registry
import Testing

/// What is announced at which address, decided without any engine or store.
@Suite struct AnnouncementTests {
    typealias Container = AnnouncementInput.Container
    typealias Binding = AnnouncementInput.Binding

    /// A running container as `docker run -P` publishes port 80: on 0.0.0.0 and on ::.
    func web(_ name: String, port: Int = 32768, v4: String = "0.0.0.0", v6: String? = "::", running: Bool = true,
             hidden: Bool = false) -> Container {
        var bindings = [Binding(containerPort: 80, hostIP: v4, hostPort: port)]
        if let v6 { bindings.append(Binding(containerPort: 80, hostIP: v6, hostPort: port)) }
        return Container(id: "id-" + name, name: name, app: "web", running: running, hidden: hidden, bindings: bindings)
    }

    let apps = ["web": AnnouncementInput.App(prefix: "/app/servers", port: 80)]

    @Test func theHostIPNamesTheAddressAndTheIPv4BindingGivesThePort() {
        let input = AnnouncementInput(containers: [web("web-1", port: 32770)], apps: apps, hostIP: "10.0.0.5")
        let candidates = Announcements.candidates(input)
        #expect(candidates.candidates.map(\.value) == ["10.0.0.5:32770"])
        #expect(candidates.candidates.map(\.key) == ["/app/servers/web-1"])
        // Probed on loopback, where a port published on all addresses answers.
        #expect(candidates.candidates.first?.probeHost == "127.0.0.1")
        let announced = Announcements.announcement(candidates, ready: ["id-web-1"])
        #expect(announced.hold == ["/app/servers/web-1": "10.0.0.5:32770"])
        #expect(announced.keysByContainer == ["id-web-1": ["/app/servers/web-1"]])
        #expect(announced.announcedPerApp == ["web": 1])
    }

    @Test func anIPv6HostIPIsBracketed() {
        let input = AnnouncementInput(containers: [web("web-1", port: 32771)], apps: apps, hostIP: "fd00::5")
        #expect(Announcements.candidates(input).candidates.map(\.value) == ["[fd00::5]:32771"])
    }

    @Test func allAddressesWithoutAHostIPIsAProblemNotAGuess() {
        let input = AnnouncementInput(containers: [web("web-1")], apps: apps, hostIP: nil)
        let candidates = Announcements.candidates(input)
        #expect(candidates.candidates.isEmpty)
        #expect(candidates.problems["web"]?.contains("--host-ip") == true)
        #expect(candidates.owned == ["/app/servers/web-1"], "its key is still the agent's to delete")
    }

    @Test func aBindingOnOneAddressIsUsedAndProbedThere() {
        // dockerd --ip 127.0.0.3, and an engine that publishes on one IPv6 address only.
        let v4 = AnnouncementInput(containers: [web("web-1", v4: "127.0.0.3", v6: nil)], apps: apps, hostIP: nil)
        let v4Candidate = Announcements.candidates(v4).candidates.first
        #expect(v4Candidate?.value == "127.0.0.3:32768")
        #expect(v4Candidate?.probeHost == "127.0.0.3")
        let only6 = Container(id: "id-6", name: "web-6", app: "web", running: true,
                              bindings: [Binding(containerPort: 80, hostIP: "::1", hostPort: 32800)])
        let v6 = Announcements.candidates(AnnouncementInput(containers: [only6], apps: apps, hostIP: nil))
        #expect(v6.candidates.map(\.value) == ["[::1]:32800"])
        #expect(v6.candidates.first?.probeHost == "::1")
    }

    @Test func notRunningHiddenOrNotReadyIsNotHeld() {
        let input = AnnouncementInput(
            containers: [web("up"), web("exited", running: false), web("retiring", hidden: true), web("starting")],
            apps: apps, hostIP: "10.0.0.5")
        let candidates = Announcements.candidates(input)
        #expect(Set(candidates.candidates.map(\.containerID)) == ["id-up", "id-starting"])
        let announced = Announcements.announcement(candidates, ready: ["id-up", "id-exited", "id-retiring"])
        #expect(Set(announced.hold.keys) == ["/app/servers/up"])
        #expect(candidates.owned.count == 4, "every container's key is the agent's, running or not")
    }

    @Test func aContainerKeepsThePrefixAndPortItWasCreatedWith() {
        var old = web("web-old", port: 32790)
        old.labelledPrefix = "/old/prefix"
        old.labelledPort = 80
        // The manifest moved the app to another prefix; the old key is still owned (to be cleaned up).
        let input = AnnouncementInput(containers: [old], apps: apps, hostIP: "10.0.0.5")
        let candidates = Announcements.candidates(input)
        #expect(candidates.candidates.map(\.key) == ["/app/servers/web-old"])
        #expect(candidates.owned == ["/app/servers/web-old", "/old/prefix/web-old"])
        #expect(candidates.prefixes == ["/app/servers", "/old/prefix"])
        // An app without a manifest (being removed) uses its label, then the default.
        let orphan = Container(id: "id-o", name: "api-1", app: "api", running: true, bindings: [])
        #expect(Announcements.candidates(AnnouncementInput(containers: [orphan], apps: [:], hostIP: nil)).owned == ["/app/api/api-1"])
    }

    @Test func neverAnythingButAnIPAndAPort() {
        for hostIP in ["host.example", "10.0.0.5\nlisten evil", "10.0.0.5 check", "fe80::1%eth0", "300.1.1.1"] {
            let input = AnnouncementInput(containers: [web("web-1")], apps: apps, hostIP: hostIP)
            let candidates = Announcements.candidates(input)
            #expect(candidates.candidates.isEmpty, "\(hostIP) must not be registered")
            #expect(candidates.problems["web"] != nil)
        }
    }
}
