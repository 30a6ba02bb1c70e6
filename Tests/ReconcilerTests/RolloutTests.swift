import Foundation
import Manifests
import Reconciler
import Testing

@Suite struct RolloutTests {
    let oldHash = webSpec(replicas: 1, image: "demo-web:1").specHash

    func oldContainers(_ count: Int) -> [ObservedContainer] {
        (0..<count).map { container("web-old-\($0)", hash: oldHash, created: TimeInterval($0)) }
    }

    /// What a whole rollout looked like.
    struct Outcome {
        var docker: FakeDocker
        var plans: [Plan]
        /// Ready containers at the start and after every step (actions applied, then replacements ready).
        var readyCounts: [Int]
        var maxStarting: Int
    }

    /// Runs passes until a pass has nothing to do and nothing is starting: each pass's actions are applied,
    /// then the new containers become ready (two observations per pass).
    func roll(_ containers: [ObservedContainer], to spec: AppSpec, maxPasses: Int = 40) -> Outcome {
        var reconciler = Reconciler()
        var docker = FakeDocker(containers, now: at(1000))
        var outcome = Outcome(docker: docker, plans: [], readyCounts: [docker.readyCount], maxStarting: 0)
        for _ in 0..<maxPasses {
            let plan = reconciler.plan(desired: DesiredState(apps: [spec]), observed: docker.containers, now: docker.now)
            let starting = docker.containers.filter { !$0.ready }.count
            if plan.actions.isEmpty && starting == 0 { break }
            outcome.plans.append(plan)
            docker.apply(plan)
            outcome.readyCounts.append(docker.readyCount)
            outcome.maxStarting = max(outcome.maxStarting, docker.containers.filter { !$0.ready }.count)
            docker.advance(5)
            docker.becomeReady()
            outcome.readyCounts.append(docker.readyCount)
            docker.advance(5)
        }
        outcome.docker = docker
        return outcome
    }

    func expectFinished(_ outcome: Outcome, on spec: AppSpec) {
        #expect(outcome.docker.containers.count == spec.replicas)
        #expect(outcome.docker.containers.allSatisfy { $0.specHash == spec.specHash && $0.ready })
    }

    @Test func rollingReplacementStepByStep() {
        let spec = webSpec(replicas: 2, image: "demo-web:2")
        let old = oldContainers(2)
        var reconciler = Reconciler()
        var docker = FakeDocker(old, now: at(1000))
        func pass() -> Plan {
            reconciler.plan(desired: DesiredState(apps: [spec]), observed: docker.containers, now: docker.now)
        }

        // 1. Surge: one new container, nothing retired yet.
        let first = pass()
        #expect(first.actions == [.create(spec)])
        docker.apply(first)
        // 2. It is not ready yet: wait.
        #expect(pass().actions.isEmpty)
        docker.becomeReady()
        // 3. Ready: the oldest outdated container goes.
        let third = pass()
        #expect(third.actions == [.retire(old[0], .outdated)])
        docker.apply(third)
        #expect(docker.readyCount == 2)
        // 4. The next replacement.
        let fourth = pass()
        #expect(fourth.actions == [.create(spec)])
        docker.apply(fourth)
        #expect(pass().actions.isEmpty)
        docker.becomeReady()
        // 5. The last old one goes, then nothing is left to do.
        let fifth = pass()
        #expect(fifth.actions == [.retire(old[1], .outdated)])
        docker.apply(fifth)
        #expect(pass().actions.isEmpty)
        #expect(docker.containers.allSatisfy { $0.specHash == spec.specHash })
    }

    @Test func rollingReplacementNeverDropsBelowReplicas() {
        let spec = webSpec(replicas: 3, image: "demo-web:2")
        let outcome = roll(oldContainers(3), to: spec)
        #expect(outcome.readyCounts.allSatisfy { $0 >= 3 })
        #expect(outcome.maxStarting == 1)
        #expect(outcome.plans.allSatisfy { plan in plan.retired.values.allSatisfy { $0 == .outdated } })
        // Create one, then (once it is ready) retire one: two passes per replaced container.
        #expect(outcome.plans.map(\.createCount) == [1, 0, 1, 0, 1, 0])
        #expect(outcome.plans.map(\.retiredNames) == [[], ["web-old-0"], [], ["web-old-1"], [], ["web-old-2"]])
        expectFinished(outcome, on: spec)
    }

    @Test func outdatedContainersWithinTheAllowanceStay() {
        let spec = webSpec(replicas: 3, image: "demo-web:2")
        let old = oldContainers(3)
        var reconciler = Reconciler()
        var docker = FakeDocker(old, now: at(1000))
        var allowed = 3
        func pass() -> Plan {
            reconciler.plan(
                desired: DesiredState(apps: [spec], outdatedAllowed: ["web": allowed]), observed: docker.containers, now: docker.now)
        }
        #expect(pass().actions.isEmpty, "no slot rolled yet: the old containers are the replicas")

        // The scheduler turns one slot: one replacement, start-first, and the others stay.
        allowed = 2
        let first = pass()
        #expect(first.actions == [.create(spec)])
        docker.apply(first)
        #expect(pass().actions.isEmpty, "the replacement is not ready yet")
        docker.becomeReady()
        let second = pass()
        #expect(second.retiredNames == ["web-old-0"], "the oldest goes once its replacement is ready")
        docker.apply(second)
        #expect(pass().actions.isEmpty, "two slots still carry the old spec")
        #expect(docker.readyCount == 3)
        #expect(docker.containers.filter { $0.specHash == oldHash }.count == 2)
    }

    @Test func anAllowanceBeyondTheOutdatedContainersCreatesTheNewSpec() {
        // Slot 2 carries the old hash, but its container is gone (a failover): the new spec is all there is.
        let spec = webSpec(replicas: 3, image: "demo-web:2")
        var reconciler = Reconciler()
        let plan = reconciler.plan(
            desired: DesiredState(apps: [spec], outdatedAllowed: ["web": 2]), observed: oldContainers(1), now: at(1000))
        #expect(plan.createCount == 2)
        #expect(plan.retiredNames.isEmpty)
    }

    @Test func aNotReadyOutdatedContainerIsReplacedBeforeAReadyOne() {
        let spec = webSpec(replicas: 2, image: "demo-web:2")
        var old = oldContainers(2)
        old[1].ready = false
        var reconciler = Reconciler()
        var docker = FakeDocker(old, now: at(1000))
        let first = reconciler.plan(
            desired: DesiredState(apps: [spec], outdatedAllowed: ["web": 1]), observed: docker.containers, now: docker.now)
        #expect(first.actions == [.create(spec)])
        docker.apply(first)
        for index in docker.containers.indices where docker.containers[index].id.hasPrefix("new-") {
            docker.containers[index].ready = true
        }
        let second = reconciler.plan(
            desired: DesiredState(apps: [spec], outdatedAllowed: ["web": 1]), observed: docker.containers, now: docker.now)
        #expect(second.retiredNames == ["web-old-1"], "the one that serves nobody goes")
    }

    @Test func specChangeWithScaleDown() {
        let spec = webSpec(replicas: 1, image: "demo-web:2")
        let old = oldContainers(3)
        var reconciler = Reconciler()
        let first = reconciler.plan(desired: DesiredState(apps: [spec]), observed: old, now: at(1000))
        // Down to the declared count at once, oldest first; the newest old one keeps serving.
        #expect(first.actions == [.retire(old[0], .outdated), .retire(old[1], .outdated)])

        let outcome = roll(old, to: spec)
        #expect(outcome.readyCounts.allSatisfy { $0 >= 1 })
        #expect(outcome.maxStarting == 1)
        expectFinished(outcome, on: spec)
    }

    @Test func specChangeWithScaleUp() {
        let spec = webSpec(replicas: 3, image: "demo-web:2")
        let outcome = roll(oldContainers(1), to: spec)
        // Capacity only grows until it reaches the declared count, and never falls below it afterwards.
        let reached = outcome.readyCounts.firstIndex { $0 >= 3 } ?? outcome.readyCounts.endIndex
        let growing = outcome.readyCounts[..<reached]
        #expect(zip(growing, growing.dropFirst()).allSatisfy { $0 <= $1 })
        #expect(outcome.readyCounts[reached...].allSatisfy { $0 >= 3 })
        #expect(reached < outcome.readyCounts.endIndex)
        #expect(outcome.maxStarting == 1)
        expectFinished(outcome, on: spec)
    }

    @Test func specChangeWithScaleToZeroRetiresAllAtOnce() {
        let spec = webSpec(replicas: 0, image: "demo-web:2")
        let old = oldContainers(3)
        var reconciler = Reconciler()
        let plan = reconciler.plan(desired: DesiredState(apps: [spec]), observed: old, now: at(1000))
        #expect(plan.actions == old.map { .retire($0, .outdated) })
    }

    @Test func tooManyCurrentContainersDuringRolloutAreScaledDown() {
        let spec = webSpec(replicas: 1, image: "demo-web:2")
        let newHash = spec.specHash
        let stale = container("web-old", hash: oldHash, created: 0)
        let current = (1...3).map { container("web-new-\($0)", hash: newHash, created: TimeInterval($0)) }
        var reconciler = Reconciler()
        let plan = reconciler.plan(desired: DesiredState(apps: [spec]), observed: [stale] + current, now: at(1000))
        #expect(plan.retired == ["web-old": .outdated, "web-new-2": .scaleDown, "web-new-3": .scaleDown])
        #expect(plan.createCount == 0)
    }

    @Test func notReadyOutdatedContainerIsRetiredBeforeReadyOnes() {
        let spec = webSpec(replicas: 2, image: "demo-web:2")
        let oldReady = container("web-old-a", hash: oldHash, created: 0)
        let oldStuck = container("web-old-b", hash: oldHash, state: .restarting, created: 5, ready: false)
        let fresh = container("web-new", hash: spec.specHash, created: 10)
        var reconciler = Reconciler()
        let plan = reconciler.plan(
            desired: DesiredState(apps: [spec]), observed: [oldReady, oldStuck, fresh], now: at(1000))
        #expect(plan.actions == [.retire(oldStuck, .outdated)])
    }

    /// A retired container the agent is still stopping (its drain, then a stop that may take its whole
    /// timeout) still runs: no next replacement is created until it is gone, so that never more than
    /// replicas + 1 containers run.
    @Test func rolloutWaitsForARetiredContainerToStop() {
        let spec = webSpec(replicas: 2, image: "demo-web:2")
        let new = container("web-new-0", hash: spec.specHash, created: 10)
        let stopping = container("web-old-0", hash: oldHash, state: .stopping, created: 0, ready: false)
        let old = container("web-old-1", hash: oldHash, created: 1)
        var reconciler = Reconciler()
        let waiting = reconciler.plan(desired: DesiredState(apps: [spec]), observed: [stopping, old, new], now: at(1000))
        #expect(waiting.actions.isEmpty, "the surge is taken by the container still stopping")
        let gone = reconciler.plan(desired: DesiredState(apps: [spec]), observed: [old, new], now: at(1001))
        #expect(gone.actions == [.create(spec)])
    }

    @Test func rolloutWaitsForAStartingReplacement() {
        let spec = webSpec(replicas: 2, image: "demo-web:2")
        let starting = container("web-new", hash: spec.specHash, created: 10, ready: false)
        var reconciler = Reconciler()
        let plan = reconciler.plan(
            desired: DesiredState(apps: [spec]), observed: oldContainers(2) + [starting], now: at(1000))
        #expect(plan.actions.isEmpty)
    }

    /// A broken new version crash-loops with backoff while the old containers keep serving.
    @Test func crashingReplacementBacksOffAndKeepsOldContainers() {
        let spec = webSpec(replicas: 2, image: "demo-web:2")
        let old = oldContainers(2).map { container in
            var container = container
            container.startedAt = at(-10_000)  // long-running: they must not reset the failure count
            return container
        }
        var reconciler = Reconciler()
        var docker = FakeDocker(old, now: at(1000))
        var retryTimes: [Date] = []
        for _ in 0..<5 {
            let plan = reconciler.plan(desired: DesiredState(apps: [spec]), observed: docker.containers, now: docker.now)
            #expect(plan.retired.isEmpty)
            docker.apply(plan)
            if let wakeAt = plan.wakeAt {
                retryTimes.append(wakeAt)
                docker.now = wakeAt
                continue
            }
            // The replacement starts and crashes two seconds later.
            docker.advance(2)
            for index in docker.containers.indices where docker.containers[index].specHash == spec.specHash {
                docker.containers[index].state = .exited
                docker.containers[index].ready = false
                docker.containers[index].finishedAt = docker.now
            }
            docker.advance(1)
        }
        #expect(reconciler.failures(of: "web") == 3)
        #expect(docker.containers.map(\.name) == ["web-old-0", "web-old-1"])
        #expect(retryTimes.count == 2)
    }
}
