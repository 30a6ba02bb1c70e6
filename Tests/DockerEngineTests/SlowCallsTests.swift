import DockerEngine
import Foundation
import HTTPTransport
import Testing
import TestSupport

/// Slow engine calls (stops that wait out their timeout) against a stub engine that answers each connection
/// on its own thread: fast calls never queue behind them.
@Suite struct SlowCallsTests {
    /// The engine as the agent sees it during a big scale-down: every stop takes 10 s.
    private static func slowStopEngine() throws -> StubHTTPServer {
        try StubHTTPServer(.unixSocket) { request in
            if request.path.contains("/stop") { return .json(204, "", after: .seconds(10)) }
            if request.path.contains("/containers/json") { return .json(200, "[]") }
            if request.path.contains("/containers/create") { return .json(201, #"{"Id":"new1"}"#) }
            if request.path.contains("/start") { return .json(204, "") }
            return .json(404, #"{"message":"no such path"}"#)
        }
    }

    @Test func listCreateAndStartAnswerWhileTwentyStopsAreInFlight() async throws {
        let server = try Self.slowStopEngine()
        defer { server.stop() }
        let docker = DockerClient(host: try DockerHost("unix://" + server.socketPath))

        let stops = Task {
            await withTaskGroup(of: Void.self) { group in
                for index in 0..<20 {
                    group.addTask { try? await docker.stopContainer("old\(index)", timeout: 10) }
                }
            }
        }
        defer { stops.cancel() }
        // Every stop has reached the engine and is waiting there.
        let deadline = ContinuousClock.now + .seconds(5)
        while server.requests.filter({ $0.path.contains("/stop") }).count < 20, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(server.requests.filter { $0.path.contains("/stop") }.count == 20)

        let clock = ContinuousClock()
        let listed = try await clock.measure { _ = try await docker.listContainers(labels: ["io.hecd.app=web"]) }
        var id = ""
        let created = try await clock.measure {
            id = try await docker.createContainer(name: "web-new", config: ContainerConfig(image: "demo:1"))
        }
        let started = try await clock.measure { try await docker.startContainer(id) }
        #expect(id == "new1")
        // Queued behind a stop, a call would take its 10 s; a loaded 2-core machine running the whole suite
        // takes up to 0.2 s for one unqueued call, so 1 s tells the two apart.
        #expect(listed < .seconds(1), "list took \(listed) behind 20 slow stops")
        #expect(created < .seconds(1), "create took \(created) behind 20 slow stops")
        #expect(started < .seconds(1), "start took \(started) behind 20 slow stops")
    }

    @Test func cancellingASlowCallEndsItAtOnceAndFreesItsTransfer() async throws {
        let server = try Self.slowStopEngine()
        defer { server.stop() }
        let http = HTTPClient(endpoint: .unixSocket(path: server.socketPath))
        let stop = Task { try await http.send(HTTPRequest(.post, "/v1.41/containers/old/stop?t=10")) }
        let deadline = ContinuousClock.now + .seconds(5)
        while server.requests.isEmpty, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(http.transfersInFlight == 1)
        let cancelled = ContinuousClock.now
        stop.cancel()
        let result = await stop.result
        // At once: not when the engine answers, 10 s later (the bound leaves room for a loaded machine).
        #expect(ContinuousClock.now - cancelled < .seconds(2))
        #expect(throws: CancellationError.self) { try result.get() }
        // The transfer is off the event loop, not left running until the engine answers.
        #expect(http.transfersInFlight == 0)
    }

    @Test func aStreamReleasedEarlyIsClosed() async throws {
        let server = try StubHTTPServer(.unixSocket) { _ in .stream((0..<100).map { "{\"n\":\($0)}\n" }, pause: .milliseconds(100)) }
        defer { server.stop() }
        let http = HTTPClient(endpoint: .unixSocket(path: server.socketPath))
        var lines = 0
        for try await event in http.stream(HTTPRequest(.get, "/events")) {
            if case .line = event { lines += 1 }
            if lines == 2 { break }
        }
        let deadline = ContinuousClock.now + .seconds(2)
        while http.transfersInFlight > 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(lines == 2)
        #expect(http.transfersInFlight == 0)
    }
}
