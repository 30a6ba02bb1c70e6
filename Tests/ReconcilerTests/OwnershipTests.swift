import Foundation
import Manifests
import Reconciler
import Testing

/// Which containers the reconciler may touch at all.
@Suite struct OwnershipTests {
    let web = webSpec(replicas: 1)

    /// Containers of an app named `api` in every state the reconciler acts on.
    let apiContainers = [
        container("api-running", app: "api", hash: "h1"),
        container("api-paused", app: "api", hash: "h1", state: .paused, ready: false),
        container("api-restarting", app: "api", hash: "h2", state: .restarting, ready: false),
        container("api-exited", app: "api", hash: "h1", state: .exited, finished: 4),
        container("api-dead", app: "api", hash: "h1", state: .dead),
        container("api-created", app: "api", hash: "h1", state: .created),
    ]

    @Test func untouchableAppsGetNoActionsAtAll() {
        var reconciler = Reconciler()
        let desired = DesiredState(apps: [web], untouchable: ["api"])
        let plan = reconciler.plan(desired: desired, observed: apiContainers, now: at(10))
        #expect(plan.actions == [.create(web)])
        #expect(reconciler.failures(of: "api") == 0)
    }

    @Test func untouchableWinsOverADeclaration() {
        var reconciler = Reconciler()
        let api = AppSpec(name: "api", image: "api:2", replicas: 5)
        let desired = DesiredState(apps: [api], untouchable: ["api"])
        let plan = reconciler.plan(desired: desired, observed: apiContainers, now: at(10))
        #expect(plan.actions.isEmpty)
    }

    @Test func keepUndeclaredLeavesUndeclaredContainersAlone() {
        var reconciler = Reconciler()
        let desired = DesiredState(apps: [web], keepUndeclared: true)
        let plan = reconciler.plan(desired: desired, observed: apiContainers, now: at(10))
        #expect(plan.actions == [.create(web)])
    }

    @Test func keepUndeclaredStillReconcilesDeclaredApps() {
        var reconciler = Reconciler()
        let exited = container("web-a", hash: web.specHash, state: .exited, finished: 2)
        let desired = DesiredState(apps: [web], keepUndeclared: true)
        let plan = reconciler.plan(desired: desired, observed: [exited], now: at(10))
        #expect(plan.actions == [.remove(exited), .create(web)])
    }

    @Test func undeclaredContainersAreRetiredOrRemoved() {
        var reconciler = Reconciler()
        let plan = reconciler.plan(desired: DesiredState(apps: [web]), observed: apiContainers, now: at(10))
        #expect(plan.retired == ["api-running": .undeclared, "api-paused": .undeclared, "api-restarting": .undeclared])
        #expect(plan.removedNames == ["api-created", "api-dead", "api-exited"])
        #expect(plan.createCount == 1)
        #expect(plan.actions.count == 7)
        #expect(reconciler.failures(of: "api") == 0)
    }

    @Test func undeclaredContainerIsNoFailureWhenItsAppComesBack() {
        var reconciler = Reconciler()
        let stray = container("api-a", app: "api", hash: "h1")
        let first = reconciler.plan(desired: DesiredState(apps: []), observed: [stray], now: at(10))
        #expect(first.actions == [.retire(stray, .undeclared)])

        // The manifest is back before the retirement finished removing the stopped container.
        var stopped = stray
        stopped.state = .exited
        let api = AppSpec(name: "api", image: "api:1", replicas: 1)
        let second = reconciler.plan(desired: DesiredState(apps: [api]), observed: [stopped], now: at(20))
        #expect(second.actions == [.remove(stopped), .create(api)])
        #expect(reconciler.failures(of: "api") == 0)
    }

    @Test func nothingDeclaredAndNothingRunningIsAnEmptyPlan() {
        var reconciler = Reconciler()
        let plan = reconciler.plan(desired: DesiredState(apps: []), observed: [], now: t0)
        #expect(plan.actions.isEmpty)
        #expect(plan.backingOff.isEmpty)
        #expect(plan.wakeAt == nil)
    }
}
