import DockerEngine
import EngineTesting
import Foundation
import Glibc
@testable import Operations
import TestSupport
import Testing

/// What the listener answers, against an agent on an in-memory engine.
@Suite("OperationsEndpoints", .serialized)
struct OperationsEndpointTests {
    @Test("/readyz is 503 with the reason until the first pass, then 200; /healthz is 200; unknown paths 404")
    func healthAndReadiness() async throws {
        try await withObservedAgent { agent in
            let before = try #require(await agent.get("/readyz"))
            #expect(before.status == 503)
            #expect(before.body.contains("not ready: the first full pass is not done"), "\(before.body)")
            let health = await agent.get("/healthz")
            #expect(health?.status == 200)
            try agent.write("web", replicas: 1)
            agent.start()
            let ready = await eventually(within: 10) { await agent.get("/readyz")?.status == 200 }
            let last = await agent.get("/readyz")
            #expect(ready, "\(String(describing: last))")
            let unknown = await agent.get("/nope")
            #expect(unknown?.status == 404)
            let query = await agent.get("/metrics?x=1")
            #expect(query?.status == 200, "a query string is ignored")
        }
    }

    @Test("only GET and HEAD; HEAD has no body")
    func methods() async throws {
        try await withObservedAgent { agent in
            #expect(try raw("POST /metrics HTTP/1.1\r\nHost: x\r\n\r\n", port: agent.port).hasPrefix("HTTP/1.1 405 "))
            let head = try raw("HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n", port: agent.port)
            #expect(head.hasPrefix("HTTP/1.1 200 ") && head.hasSuffix("\r\n\r\n"), "\(head)")
            #expect(try raw("garbage\r\n\r\n", port: agent.port).hasPrefix("HTTP/1.1 400 "))
        }
    }

    @Test("clients that connect and send nothing do not hold up a scrape")
    func idleClientsDoNotBlock() async throws {
        try await withObservedAgent { agent in
            var idle: [Int32] = []
            defer { idle.forEach { close($0) } }
            for _ in 0..<4 { idle.append(try connect(port: agent.port)) }
            let start = ContinuousClock.now
            let answer = await agent.get("/healthz")
            let took = ContinuousClock.now - start
            #expect(answer?.status == 200)
            #expect(took < .seconds(1), "a scrape behind 4 idle connections took \(took)")
        }
    }

    @Test("creates, failed creates, dead containers and backoff are counted per app; gone apps leave the output")
    func counters() async throws {
        try await withObservedAgent { agent in
            try agent.write("web", replicas: 2)
            agent.start()
            #expect(await eventually(within: 10) { agent.engine.running(app: "web").count == 2 })
            func value(_ series: String) async -> Double? {
                guard let text = await agent.get("/metrics")?.body else { return nil }
                for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
                    return Double(line.dropFirst(series.count + 1))
                }
                return nil
            }
            // A dead container is counted and replaced (the first failure is replaced at once).
            let victim = try #require(agent.engine.running(app: "web").first)
            agent.engine.crash(victim.id)
            let replaced = await eventually(within: 10) {
                await value("hecd_container_failures_total{app=\"web\"}") == 1
                    && agent.engine.running(app: "web").count == 2
            }
            #expect(replaced)
            let created = await value("hecd_container_creates_total{app=\"web\",result=\"ok\"}")
            #expect(created == 3)
            // A failed create is counted, and the second failure in a row puts the app in backoff.
            agent.engine.configure { $0.failingCreates = 1 }
            try agent.write("web", replicas: 3)
            let failed = await eventually(within: 10) {
                let errors = await value("hecd_container_creates_total{app=\"web\",result=\"error\"}")
                let backoff = await value("hecd_app_backoff{app=\"web\"}")
                return errors == 1 && backoff == 1
            }
            #expect(failed)
            let dockerErrors = await value("hecd_docker_requests_total{operation=\"create\",result=\"error\"}")
            #expect(dockerErrors == 1)
            let lastPass = await value("hecd_agent_last_pass_timestamp_seconds") ?? 0
            #expect(lastPass > Date().timeIntervalSince1970 - 60)
            try FileManager.default.removeItem(atPath: agent.directory + "/web.yaml")
            let gone = await eventually(within: 10) { await agent.get("/metrics")?.body.contains("hecd_app_replicas{app=\"web\"") == false }
            #expect(gone, "an app whose manifest is gone leaves hecd_app_replicas")
        }
    }

    @Test("the status page: each app with its counts, no script, no external asset, a meta refresh")
    func statusPage() async throws {
        try await withObservedAgent { agent in
            try agent.write("web", replicas: 3)
            try agent.write("api", replicas: 1)
            agent.start()
            let page = await eventually(within: 10) {
                await agent.get("/")?.body.contains("<td class=\"registered\">3</td>") ?? false
            }
            #expect(page)
            let html = try #require(await agent.get("/")?.body)
            #expect(html.contains("<meta http-equiv=\"refresh\" content=\"5\">"))
            #expect(!html.contains("<script") && !html.contains("src=") && !html.contains("http://") && !html.contains("https://"))
            #expect(html.contains("id=\"app-web\"") && html.contains("id=\"app-api\""))
        }
    }

    /// A new TCP connection to 127.0.0.1:`port`.
    private func connect(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw TestFailure("cannot connect to 127.0.0.1:\(port)")
        }
        return fd
    }

    /// Sends `request` on a new connection; returns the whole answer.
    private func raw(_ request: String, port: Int) throws -> String {
        let fd = try connect(port: port)
        defer { close(fd) }
        _ = Array(request.utf8).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { break }
            answer += buffer[..<count]
        }
        return String(decoding: answer, as: UTF8.self)
    }
}
