import Manifests
import Testing

@Suite struct SpecHashTests {
    let base = AppSpec(
        name: "web", image: "hecd-demo:1", replicas: 3, port: 80, command: ["/bin/httpd", "-f"],
        env: ["GREETING": "hello"], labels: ["team": "web"]
    )

    @Test func stableAndShort() {
        #expect(base.specHash == base.specHash)
        #expect(base.specHash.count == 16)
    }

    @Test func changesWithWhatShapesAContainer() {
        var image = base
        image.image = "hecd-demo:2"
        var env = base
        env.env["GREETING"] = "bye"
        var command = base
        command.command = ["/bin/httpd", "-f", "-v"]
        var noCommand = base
        noCommand.command = nil
        var labels = base
        labels.labels["team"] = "api"
        var port = base
        port.port = 8080
        var stop = base
        stop.stopTimeout = 30
        let hashes = [base, image, env, command, noCommand, labels, port, stop].map(\.specHash)
        #expect(Set(hashes).count == hashes.count)
    }

    @Test func ignoresReplicasRegistrationAndHealth() {
        var other = base
        other.replicas = 7
        other.register = Registration(prefix: "/elsewhere", drainSeconds: 5)
        other.health = HealthCheck(http: "/healthz")
        #expect(other.specHash == base.specHash)
    }

    @Test func parsedManifestsHashLikeTheirSpec() throws {
        let one = try #require(parse(manifest("env: {A: b}\n")).spec)
        let more = try #require(parse("name: web\nimage: hecd-demo:1\nreplicas: 5\nenv: {A: b}\n").spec)
        #expect(one.specHash == more.specHash)
    }
}
