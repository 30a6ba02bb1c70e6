import Foundation
import Manifests
import Reconciler
import Testing

@Suite struct BackoffTests {
    let spec = webSpec(replicas: 1)
    var desired: DesiredState { DesiredState(apps: [spec]) }
    var hash: String { spec.specHash }

    /// A container that started at `started` and crashed five seconds later.
    func crashed(_ name: String, startedAt started: Date) -> ObservedContainer {
        let offset = started.timeIntervalSince(t0)
        return container(name, hash: hash, state: .exited, created: offset, started: offset, finished: offset + 5)
    }

    @Test func exitedContainerIsRemovedAndReplacedAtOnce() {
        var reconciler = Reconciler()
        let spec = webSpec(replicas: 2)
        let running = container("web-a", hash: hash)
        let exited = container("web-b", hash: hash, state: .exited, created: 0, started: 0, finished: 30)
        let plan = reconciler.plan(desired: DesiredState(apps: [spec]), observed: [running, exited], now: at(40))
        #expect(plan.actions == [.remove(exited), .create(spec)])
        #expect(plan.backingOff.isEmpty)
        #expect(plan.wakeAt == nil)
        #expect(reconciler.failures(of: "web") == 1)
    }

    @Test func replicasDyingTogetherAreOneFailure() {
        var reconciler = Reconciler()
        let spec = webSpec(replicas: 3)
        let dead = ["web-a", "web-b", "web-c"].map { crashed($0, startedAt: t0) }
        let plan = reconciler.plan(desired: DesiredState(apps: [spec]), observed: dead, now: at(10))
        #expect(plan.createCount == 3, "all replaced at once: a dockerd restart is not a crash loop")
        #expect(plan.backingOff.isEmpty)
        #expect(reconciler.failures(of: "web") == 1)
    }

    @Test func deadContainerCountsLikeAnExitedOne() {
        var reconciler = Reconciler()
        let dead = container("web-a", hash: hash, state: .dead, finished: 3)
        let plan = reconciler.plan(desired: desired, observed: [dead], now: at(10))
        #expect(plan.actions == [.remove(dead), .create(spec)])
        #expect(reconciler.failures(of: "web") == 1)
    }

    @Test func eachExitedContainerIsCountedOnce() {
        var reconciler = Reconciler()
        let exited = crashed("web-a", startedAt: t0)
        _ = reconciler.plan(desired: desired, observed: [exited], now: at(10))
        // The removal failed; the container is still there on the next pass.
        let again = reconciler.plan(desired: desired, observed: [exited], now: at(11))
        #expect(again.removedNames == ["web-a"])
        #expect(reconciler.failures(of: "web") == 1)
    }

    @Test func delayDoublesFromTenSecondsUpToFiveMinutes() {
        var reconciler = Reconciler()
        let expectedDelays: [TimeInterval] = [0, 10, 20, 40, 80, 160, 300, 300]
        var now = t0
        for (index, delay) in expectedDelays.enumerated() {
            let failure = crashed("web-\(index)", startedAt: now.addingTimeInterval(-5))
            let plan = reconciler.plan(desired: desired, observed: [failure], now: now)
            #expect(reconciler.failures(of: "web") == index + 1)
            // The dead container goes regardless of backoff.
            #expect(plan.removedNames == ["web-\(index)"])
            if delay == 0 {
                #expect(plan.createCount == 1)
                #expect(plan.backingOff.isEmpty)
                #expect(plan.wakeAt == nil)
            } else {
                let retryAt = now.addingTimeInterval(delay)
                #expect(plan.createCount == 0)
                #expect(plan.backingOff == ["web": retryAt])
                #expect(plan.wakeAt == retryAt)

                let early = reconciler.plan(desired: desired, observed: [], now: retryAt.addingTimeInterval(-1))
                #expect(early.actions.isEmpty)
                #expect(early.wakeAt == retryAt)

                let due = reconciler.plan(desired: desired, observed: [], now: retryAt)
                #expect(due.actions == [.create(spec)])
                #expect(due.backingOff.isEmpty)
                #expect(due.wakeAt == nil)
            }
            // The replacement runs for a few seconds and crashes too.
            now = now.addingTimeInterval(delay + 5)
        }
    }

    @Test func wakeAtIsTheEarliestRetryAcrossApps() {
        var reconciler = Reconciler()
        let api = AppSpec(name: "api", image: "api:1", replicas: 1)
        reconciler.recordFailure(app: "web", at: at(0))
        reconciler.recordFailure(app: "web", at: at(0))
        reconciler.recordFailure(app: "api", at: at(3))
        reconciler.recordFailure(app: "api", at: at(3))
        reconciler.recordFailure(app: "api", at: at(3))
        let plan = reconciler.plan(desired: DesiredState(apps: [spec, api]), observed: [], now: at(5))
        #expect(plan.actions.isEmpty)
        #expect(plan.backingOff == ["web": at(10), "api": at(23)])
        #expect(plan.wakeAt == at(10))
    }

    @Test func recordFailureCountsAndHoldsBackCreation() {
        var reconciler = Reconciler()
        reconciler.recordFailure(app: "web", at: t0)
        #expect(reconciler.failures(of: "web") == 1)
        #expect(reconciler.plan(desired: desired, observed: [], now: t0).actions == [.create(spec)])

        reconciler.recordFailure(app: "web", at: at(1))
        #expect(reconciler.failures(of: "web") == 2)
        let held = reconciler.plan(desired: desired, observed: [], now: at(1))
        #expect(held.actions.isEmpty)
        #expect(held.backingOff == ["web": at(11)])
        #expect(reconciler.plan(desired: desired, observed: [], now: at(11)).actions == [.create(spec)])
        #expect(reconciler.failures(of: "web") == 2)
    }

    @Test func scaleDownAndRemovalHappenDuringBackoff() {
        var reconciler = Reconciler()
        reconciler.recordFailure(app: "web", at: t0)
        reconciler.recordFailure(app: "web", at: t0)
        let keep = container("web-a", hash: hash, created: 0)
        let extra = container("web-b", hash: hash, created: 1)
        let exited = crashed("web-c", startedAt: t0)
        let plan = reconciler.plan(desired: desired, observed: [keep, extra, exited], now: at(6))
        #expect(plan.actions == [.retire(extra, .scaleDown), .remove(exited)])
    }

    @Test func longRunBeforeExitingRestartsTheCount() {
        var reconciler = Reconciler()
        for _ in 0..<3 { reconciler.recordFailure(app: "web", at: t0) }
        let veteran = container("web-a", hash: hash, state: .exited, created: 100, started: 100, finished: 700)
        let plan = reconciler.plan(desired: desired, observed: [veteran], now: at(710))
        #expect(reconciler.failures(of: "web") == 1)
        #expect(plan.actions == [.remove(veteran), .create(spec)])
    }

    @Test func shortRunBeforeExitingKeepsCounting() {
        var reconciler = Reconciler()
        for _ in 0..<3 { reconciler.recordFailure(app: "web", at: t0) }
        let brief = container("web-a", hash: hash, state: .exited, created: 100, started: 100, finished: 699)
        _ = reconciler.plan(desired: desired, observed: [brief], now: at(710))
        #expect(reconciler.failures(of: "web") == 4)
    }

    @Test func readyContainerRunningLongEnoughResetsTheCount() {
        var reconciler = Reconciler()
        reconciler.recordFailure(app: "web", at: t0)
        reconciler.recordFailure(app: "web", at: t0)
        let healthy = container("web-a", hash: hash, created: 10, started: 10)
        _ = reconciler.plan(desired: desired, observed: [healthy], now: at(500))
        #expect(reconciler.failures(of: "web") == 2)
        _ = reconciler.plan(desired: desired, observed: [healthy], now: at(610))
        #expect(reconciler.failures(of: "web") == 0)
    }

    @Test func notReadyContainerDoesNotResetTheCount() {
        var reconciler = Reconciler()
        reconciler.recordFailure(app: "web", at: t0)
        reconciler.recordFailure(app: "web", at: t0)
        let unhealthy = container("web-a", hash: hash, created: 10, started: 10, ready: false)
        _ = reconciler.plan(desired: desired, observed: [unhealthy], now: at(5000))
        #expect(reconciler.failures(of: "web") == 2)
    }

    /// An old replica that keeps running must not hide that its siblings keep crashing.
    @Test func longRunningSiblingDoesNotResetWhileOthersKeepFailing() {
        var reconciler = Reconciler()
        let spec = webSpec(replicas: 2)
        let veteran = container("web-old", hash: hash, created: 0, started: 0)
        var now = at(10_000)
        for index in 1...4 {
            let failure = crashed("web-\(index)", startedAt: now.addingTimeInterval(-5))
            let plan = reconciler.plan(desired: DesiredState(apps: [spec]), observed: [veteran, failure], now: now)
            #expect(reconciler.failures(of: "web") == index)
            now = plan.wakeAt ?? now.addingTimeInterval(1)
        }
    }

    @Test func retiredContainersAreNoFailureWhenTheyExit() {
        var reconciler = Reconciler()
        let spec = webSpec(replicas: 1)
        let a = container("web-a", hash: hash, created: 0)
        let b = container("web-b", hash: hash, created: 1)
        let c = container("web-c", hash: hash, created: 2)
        let first = reconciler.plan(desired: DesiredState(apps: [spec]), observed: [a, b, c], now: at(10))
        #expect(first.retired == ["web-b": .scaleDown, "web-c": .scaleDown])

        var stoppedB = b
        stoppedB.state = .exited
        stoppedB.finishedAt = at(11)
        var stoppedC = c
        stoppedC.state = .dead
        let second = reconciler.plan(desired: DesiredState(apps: [spec]), observed: [a, stoppedB, stoppedC], now: at(12))
        #expect(second.actions == [.remove(stoppedB), .remove(stoppedC)])
        #expect(reconciler.failures(of: "web") == 0)
    }

    @Test func backoffIsForgottenWhenTheAppIsNoLongerDeclared() {
        var reconciler = Reconciler()
        for _ in 0..<3 { reconciler.recordFailure(app: "web", at: t0) }
        for _ in 0..<2 { reconciler.recordFailure(app: "api", at: t0) }
        _ = reconciler.plan(desired: DesiredState(apps: [], untouchable: ["api"]), observed: [], now: at(1))
        #expect(reconciler.failures(of: "web") == 0)
        // An untouchable app may still be declared by its broken manifest: its count is kept.
        #expect(reconciler.failures(of: "api") == 2)
        #expect(reconciler.plan(desired: desired, observed: [], now: at(2)).actions == [.create(spec)])
    }
}
