import DockerEngine
import Foundation
import Testing

/// Scaling while containers that ignore SIGTERM stop (each stop takes its whole `stop_timeout`, as with many
/// real apps), against the real dockerd.
@Suite(.serialized) struct SlowStopIntegrationTests {
    /// busybox httpd as PID 1 ignores SIGTERM: `docker stop` waits out the stop timeout, then kills.
    private func stubbornManifest(_ harness: AgentHarness, replicas: Int) -> String {
        harness.webManifest(app: "stubborn", replicas: replicas)
            .replacingOccurrences(of: "stop_timeout: 2", with: "stop_timeout: 8")
            + "command: [\"/bin/httpd\", \"-f\", \"-p\", \"80\", \"-h\", \"/www\"]\n"
    }

    @Test func anotherAppScalesUpWhileTenStopsWaitOutTheirTimeout() async throws {
        try await withAgentHarness { harness in
            try harness.writeManifest("stubborn", stubbornManifest(harness, replicas: 10))
            try harness.writeManifest("web", harness.webManifest(app: "web", replicas: 0))
            harness.startAgent()
            let stubborn = try await harness.waitForRunning("stubborn", count: 10, within: 60)

            // At once: the 10 go to 0 (8 s each) and web goes 0 → 5.
            try harness.writeManifest("stubborn", stubbornManifest(harness, replicas: 0))
            try harness.writeManifest("web", harness.webManifest(app: "web", replicas: 5))
            let scaledAt = ContinuousClock.now
            try await harness.waitForRunning("web", count: 5, within: 30)
            let webRunning = ContinuousClock.now - scaledAt

            // web did not wait behind the stops: the stubborn containers were still stopping.
            let stillStopping = try await harness.runningContainers(app: "stubborn").count
            #expect(stillStopping > 0, "web's 5 ran only after \(webRunning), once the stops were over")

            // The 10 stops ran side by side, in one wave of one stop timeout, not in waves of a thread pool:
            // the containers go away (stopped, then removed) within a few seconds of each other.
            var firstGone: ContinuousClock.Instant?
            let deadline = ContinuousClock.now + .seconds(40)
            var left = stubborn.count
            while left > 0, ContinuousClock.now < deadline {
                left = try await harness.containers(app: "stubborn").count
                if left < stubborn.count, firstGone == nil { firstGone = ContinuousClock.now }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(left == 0)
            if let firstGone {
                let spread = ContinuousClock.now - firstGone
                #expect(spread < .seconds(4), "the stubborn containers went away \(spread) apart: the stops ran in waves")
            }
        }
    }
}
