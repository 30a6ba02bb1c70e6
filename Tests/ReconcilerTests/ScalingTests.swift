import Foundation
import Manifests
import Reconciler
import Testing

@Suite struct ScalingTests {
    let hash = webSpec(replicas: 1).specHash

    @Test func scaleUpFromZeroCreatesAllReplicas() {
        var reconciler = Reconciler()
        let spec = webSpec(replicas: 3)
        let plan = reconciler.plan(desired: DesiredState(apps: [spec]), observed: [], now: t0)
        #expect(plan.actions == [.create(spec), .create(spec), .create(spec)])
        #expect(plan.backingOff.isEmpty)
        #expect(plan.wakeAt == nil)
    }

    @Test func scaleUpCreatesOnlyTheMissingReplicas() {
        var reconciler = Reconciler()
        let spec = webSpec(replicas: 3)
        let plan = reconciler.plan(
            desired: DesiredState(apps: [spec]), observed: [container("web-a", hash: hash)], now: at(10))
        #expect(plan.actions == [.create(spec), .create(spec)])
    }

    @Test func scaleDownRetiresNotReadyThenNewest() {
        var reconciler = Reconciler()
        let oldest = container("web-a", hash: hash, created: 0)
        let starting = container("web-b", hash: hash, created: 10, ready: false)
        let middle = container("web-c", hash: hash, created: 20)
        let newest = container("web-d", hash: hash, created: 30)
        let plan = reconciler.plan(
            desired: DesiredState(apps: [webSpec(replicas: 2)]),
            observed: [newest, oldest, middle, starting], now: at(100))
        #expect(plan.actions == [.retire(starting, .scaleDown), .retire(newest, .scaleDown)])
    }

    @Test func scaleDownThreeToOneKeepsTheOldest() {
        var reconciler = Reconciler()
        let containers = [
            container("web-a", hash: hash, created: 0),
            container("web-b", hash: hash, created: 10),
            container("web-c", hash: hash, created: 20),
        ]
        let plan = reconciler.plan(
            desired: DesiredState(apps: [webSpec(replicas: 1)]), observed: containers, now: at(100))
        #expect(plan.retired == ["web-b": .scaleDown, "web-c": .scaleDown])
        #expect(plan.createCount == 0)
    }

    @Test func scaleToZeroRetiresEverything() {
        var reconciler = Reconciler()
        let containers = [
            container("web-a", hash: hash, created: 0),
            container("web-b", hash: hash, created: 10, ready: false),
        ]
        let plan = reconciler.plan(
            desired: DesiredState(apps: [webSpec(replicas: 0)]), observed: containers, now: at(100))
        #expect(plan.actions == [.retire(containers[0], .scaleDown), .retire(containers[1], .scaleDown)])
    }

    @Test func adoptionOfRunningContainersCreatesNothing() {
        var reconciler = Reconciler()
        let containers = [
            container("web-a", hash: hash, created: 0),
            container("web-b", hash: hash, created: 5),
            container("web-c", hash: hash, state: .restarting, created: 9, ready: false),
        ]
        let plan = reconciler.plan(
            desired: DesiredState(apps: [webSpec(replicas: 3)]), observed: containers, now: at(50))
        #expect(plan.actions.isEmpty)
        #expect(plan.wakeAt == nil)
    }

    @Test func pausedAndRestartingCountAsReplicas() {
        var reconciler = Reconciler()
        let containers = [
            container("web-a", hash: hash, state: .paused, ready: false),
            container("web-b", hash: hash, state: .restarting, ready: false),
        ]
        let plan = reconciler.plan(
            desired: DesiredState(apps: [webSpec(replicas: 2)]), observed: containers, now: at(50))
        #expect(plan.actions.isEmpty)
    }

    @Test func createdContainerIsRemovedWithoutCountingAFailure() {
        var reconciler = Reconciler()
        let spec = webSpec(replicas: 1)
        let neverStarted = container("web-a", hash: hash, state: .created)
        let plan = reconciler.plan(desired: DesiredState(apps: [spec]), observed: [neverStarted], now: at(10))
        #expect(plan.actions == [.remove(neverStarted), .create(spec)])
        #expect(reconciler.failures(of: "web") == 0)
    }

    @Test func removingContainersAreIgnored() {
        var reconciler = Reconciler()
        let spec = webSpec(replicas: 1)
        let leaving = container("web-a", hash: hash, state: .removing)
        let plan = reconciler.plan(desired: DesiredState(apps: [spec]), observed: [leaving], now: at(10))
        #expect(plan.actions == [.create(spec)])

        let stray = container("api-a", app: "api", hash: "x", state: .removing)
        let undeclared = reconciler.plan(desired: DesiredState(apps: []), observed: [stray], now: at(20))
        #expect(undeclared.actions.isEmpty)
    }

    @Test func actionsAreSortedByAppThenContainerName() {
        var reconciler = Reconciler()
        let api = AppSpec(name: "api", image: "api:1", replicas: 1)
        let web = webSpec(replicas: 1)
        let observed = [
            container("web-z", hash: hash, state: .exited, finished: 5),
            container("zeta-b", app: "zeta", hash: "x"),
            container("web-b", hash: hash, created: 1),
            container("zeta-a", app: "zeta", hash: "x", state: .created),
            container("web-a", hash: hash, created: 2, ready: false),
        ]
        let plan = reconciler.plan(desired: DesiredState(apps: [web, api]), observed: observed, now: at(10))
        #expect(plan.actions == [
            .create(api),
            .retire(observed[4], .scaleDown),
            .remove(observed[0]),
            .remove(observed[3]),
            .retire(observed[1], .undeclared),
        ])
    }

    @Test func sameObservationGivesSamePlan() {
        let observed = (0..<6).map { container("web-\($0)", hash: hash, created: TimeInterval($0 % 3)) }
        var first = Reconciler()
        var second = Reconciler()
        let desired = DesiredState(apps: [webSpec(replicas: 2)])
        let plan = first.plan(desired: desired, observed: observed, now: at(10))
        #expect(plan.actions == second.plan(desired: desired, observed: observed.reversed(), now: at(10)).actions)
        // Kept: the two oldest (created at 0), web-0 and web-3.
        #expect(plan.retiredNames == ["web-1", "web-2", "web-4", "web-5"])
    }
}
