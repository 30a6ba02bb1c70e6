import DockerEngine
import Foundation
import HTTPTransport
import Synchronization
import Testing
import TestSupport

/// The Docker client against a stub engine on a Unix socket: what goes over the wire, and how answers
/// and errors are read.
@Suite struct DockerClientTests {
    private func client(for server: StubHTTPServer) throws -> DockerClient {
        DockerClient(host: try DockerHost("unix://" + server.socketPath))
    }

    @Test func negotiatesTheOlderOfTheTwoVersions() async throws {
        let server = try StubHTTPServer(.unixSocket) { _ in StubHTTPServer.Reply(status: 200, headers: ["Api-Version": "1.40"], chunks: ["OK"]) }
        defer { server.stop() }
        let docker = try client(for: server)
        #expect(try await docker.negotiateVersion() == "1.40")
        #expect(server.requests.first?.path == "/_ping")
        #expect(server.requests.first?.headers["host"] == "localhost")

        let newer = try StubHTTPServer(.unixSocket) { _ in StubHTTPServer.Reply(status: 200, headers: ["Api-Version": "1.47"], chunks: ["OK"]) }
        defer { newer.stop() }
        #expect(try await client(for: newer).negotiateVersion() == "1.41")
    }

    @Test func listsByLabelWithAURLEncodedFilter() async throws {
        let body = """
            [{"Id":"abc","Names":["/web-1"],"Image":"demo:1","State":"running","Status":"Up 2 seconds",
              "Labels":{"io.hecd.app":"web"},"Created":1700000000,
              "Ports":[{"IP":"0.0.0.0","PrivatePort":80,"PublicPort":32769,"Type":"tcp"},{"PrivatePort":81,"Type":"tcp"}]}]
            """
        let server = try StubHTTPServer(.unixSocket) { _ in .json(200, body) }
        defer { server.stop() }
        let listed = try await client(for: server).listContainers(labels: ["io.hecd.agent=a1"])
        let request = try #require(server.requests.first)
        #expect(request.method == "GET")
        #expect(request.path.hasPrefix("/v1.41/containers/json?all=true&filters="))
        let filters = request.path.components(separatedBy: "filters=").last?.removingPercentEncoding
        #expect(filters == #"{"label":["io.hecd.agent=a1"]}"#)
        #expect(listed.first?.name == "web-1")
        #expect(listed.first?.state == "running")
        #expect(listed.first?.ports.first?.publicPort == 32769)
        #expect(listed.first?.ports.last?.publicPort == nil)
    }

    @Test func createSendsAllPortsPublishedAndNoRestartPolicy() async throws {
        let server = try StubHTTPServer(.unixSocket) { _ in .json(201, #"{"Id":"c0ffee","Warnings":[]}"#) }
        defer { server.stop() }
        let config = ContainerConfig(
            image: "demo:1", command: ["/bin/serve"], env: ["B": "2", "A": "1"], labels: ["io.hecd.app": "web"],
            exposedPorts: [80], hostname: "web-1", stopTimeout: 3)
        let id = try await client(for: server).createContainer(name: "web-1", config: config)
        #expect(id == "c0ffee")
        let request = try #require(server.requests.first)
        #expect(request.method == "POST")
        #expect(request.path == "/v1.41/containers/create?name=web-1")
        #expect(request.headers["content-type"] == "application/json")
        #expect(request.headers["expect"] == nil)
        let json = try #require(request.json)
        #expect(json["Image"] as? String == "demo:1")
        #expect(json["Env"] as? [String] == ["A=1", "B=2"])
        #expect(json["Hostname"] as? String == "web-1")
        #expect((json["ExposedPorts"] as? [String: Any])?.keys.sorted() == ["80/tcp"])
        let hostConfig = try #require(json["HostConfig"] as? [String: Any])
        #expect(hostConfig["PublishAllPorts"] as? Bool == true)
        #expect((hostConfig["RestartPolicy"] as? [String: Any])?["Name"] as? String == "no")
    }

    @Test func engineErrorsCarryTheCallStatusAndMessage() async throws {
        let server = try StubHTTPServer(.unixSocket) { request in
            request.path.contains("create")
                ? .json(409, #"{"message":"Conflict. The container name \"/web-1\" is already in use"}"#)
                : .json(404, #"{"message":"No such image: nope:1"}"#)
        }
        defer { server.stop() }
        let docker = try client(for: server)
        do {
            _ = try await docker.createContainer(name: "web-1", config: ContainerConfig(image: "demo:1"))
            Issue.record("expected a conflict")
        } catch {
            #expect(error.isConflict)
            #expect(error.description.contains("POST /v1.41/containers/create?name=web-1 answered 409"))
            #expect(error.description.contains("already in use"))
        }
        do {
            _ = try await docker.inspectImage("nope:1")
            Issue.record("expected not found")
        } catch {
            #expect(error.isNotFound)
            #expect(error.description.contains("No such image: nope:1"))
        }
    }

    @Test func stopAndStartAcceptNotModified() async throws {
        let server = try StubHTTPServer(.unixSocket) { _ in StubHTTPServer.Reply(status: 304, chunks: [""]) }
        defer { server.stop() }
        let docker = try client(for: server)
        try await docker.startContainer("abc")
        try await docker.stopContainer("abc", timeout: 2)
        #expect(server.requests.map(\.path) == ["/v1.41/containers/abc/start", "/v1.41/containers/abc/stop?t=2"])
    }

    @Test func inspectReadsHostPortsAndTimes() async throws {
        let body = """
            {"Id":"abc","Name":"/web-1","State":{"Status":"exited","Running":false,"ExitCode":137,
             "StartedAt":"2026-11-24T18:00:00.123456789Z","FinishedAt":"0001-01-01T00:00:00Z"},
             "Config":{"Labels":{"io.hecd.app":"web"}},
             "NetworkSettings":{"Ports":{"80/tcp":[{"HostIp":"::","HostPort":"32770"},{"HostIp":"0.0.0.0","HostPort":"32769"}],"81/tcp":null}}}
            """
        let server = try StubHTTPServer(.unixSocket) { _ in .json(200, body) }
        defer { server.stop() }
        let details = try await client(for: server).inspectContainer("abc")
        #expect(details.name == "web-1")
        #expect(details.state.exitCode == 137)
        #expect(details.hostPort(for: 80)?.hostPort == 32769)
        #expect(details.hostPort(for: 81) == nil)
        let started = try #require(details.state.startedAt)
        #expect(abs(started.timeIntervalSince1970 - 1_795_543_200.123) < 0.001)
        #expect(details.state.finishedAt == nil)
    }

    @Test func pullReportsProgressAndThrowsInStreamErrors() async throws {
        let server = try StubHTTPServer(.unixSocket) { request in
            request.path.contains("fromImage=good")
                ? .stream([#"{"status":"Pulling from library/good"}"# + "\n", #"{"status":"Download complete"}"# + "\n"])
                : .stream([#"{"status":"Pulling"}"# + "\n", #"{"error":"manifest unknown","errorDetail":{"message":"manifest unknown"}}"# + "\n"])
        }
        defer { server.stop() }
        let docker = try client(for: server)
        let seen = SeenLines()
        try await docker.pullImage("good:2") { seen.append($0.status ?? "") }
        #expect(seen.lines == ["Pulling from library/good", "Download complete"])
        #expect(server.requests.first?.path == "/v1.41/images/create?fromImage=good&tag=2")
        do {
            try await docker.pullImage("bad")
            Issue.record("expected the in-stream error")
        } catch {
            #expect(error.description.contains("pulling bad failed: manifest unknown"))
        }
        #expect(server.requests.last?.path == "/v1.41/images/create?fromImage=bad&tag=latest")
    }

    @Test func eventsAreSplitOnNewlinesNotChunks() async throws {
        let first = #"{"Type":"container","Action":"start","Actor":{"ID":"abc","Attributes":{"name":"web-1"}},"timeNano":1}"#
        let second = #"{"Type":"container","Action":"die","Actor":{"ID":"abc","Attributes":{"exitCode":"137"}},"timeNano":2}"#
        // One event split across two chunks, two events in one chunk.
        let chunks = [String(first.prefix(30)), String(first.dropFirst(30)) + "\n" + second + "\n"]
        let server = try StubHTTPServer(.unixSocket) { _ in .stream(chunks) }
        defer { server.stop() }
        var actions: [String] = []
        var opened = false
        for try await item in try client(for: server).events(labels: ["io.hecd.agent=a1"]) {
            switch item {
            case .opened: opened = true
            case .line(let line): actions.append(try JSONDecoder().decode(DockerEvent.self, from: line).action)
            }
        }
        #expect(opened)
        #expect(actions == ["start", "die"])
    }

    @Test func followEventsReconnectsAfterTheStreamEnds() async throws {
        let line = #"{"Action":"die","Actor":{"ID":"abc"}}"# + "\n"
        let server = try StubHTTPServer(.unixSocket) { _ in .stream([line]) }
        defer { server.stop() }
        var connects = 0
        var events = 0
        for await update in try client(for: server).followEvents(labels: [], maximumBackoff: .milliseconds(50)) {
            switch update {
            case .connected: connects += 1
            case .event: events += 1
            case .disconnected: break
            }
            if connects == 3 { break }
        }
        #expect(connects == 3)
        #expect(events >= 2)
    }

    @Test func aContainerAlreadyGoingAwayIsNotAFailedStop() async throws {
        let server = try StubHTTPServer(.unixSocket) { request in
            request.path.contains("gone")
                ? .json(404, #"{"message":"No such container: gone"}"#)
                : request.path.contains("leaving")
                    ? .json(409, #"{"message":"removal of container leaving is already in progress"}"#)
                    : .json(409, #"{"message":"Conflict. The container name \"/web\" is already in use"}"#)
        }
        defer { server.stop() }
        let docker = try client(for: server)
        for (id, goingAway) in [("gone", true), ("leaving", true), ("other", false)] {
            do {
                try await docker.stopContainer(id, timeout: 1)
                Issue.record("stopping \(id) should fail")
            } catch {
                #expect(error.isGoingAway == goingAway, "\(id): \(error)")
            }
        }
    }

    @Test func anUnreachableEngineSaysWhatToCheck() async throws {
        let docker = DockerClient(host: try DockerHost("unix:///nonexistent/docker.sock"))
        do {
            try await docker.ping()
            Issue.record("expected a transport error")
        } catch {
            #expect(error.isUnreachable)
            #expect(error.description.contains("is dockerd running?"))
        }
    }

    @Test func dockerHostParsing() throws {
        #expect(try DockerHost("unix:///var/run/docker.sock").endpoint == .unixSocket(path: "/var/run/docker.sock"))
        #expect(try DockerHost("tcp://127.0.0.1:2375").endpoint == .url("http://127.0.0.1:2375"))
        #expect(throws: DockerHostError.self) { try DockerHost("docker.sock") }
        #expect(try DockerHost.fromEnvironment([:]).endpoint == .unixSocket(path: "/var/run/docker.sock"))
    }

    @Test func imageReferences() {
        #expect(ImageReference("busybox").tag == "latest")
        #expect(ImageReference("reg:5000/a/b:1").repository == "reg:5000/a/b")
        #expect(ImageReference("reg:5000/a/b").tag == "latest")
        #expect(ImageReference("a@sha256:00").tag == "sha256:00")
    }
}

/// Collects lines from a callback that may run on another thread.
final class SeenLines: Sendable {
    private let storage = Mutex<[String]>([])
    func append(_ line: String) { storage.withLock { $0.append(line) } }
    var lines: [String] { storage.withLock { $0 } }
}
