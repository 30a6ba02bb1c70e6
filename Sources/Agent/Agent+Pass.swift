import DockerEngine
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import Manifests
import Reconciler
import Registry
import Synchronization

/// What the reconcile loop carries from one pass to the next.
struct PassState {
    var reconciler: Reconciler
    var manifests = ManifestState()
    /// The last inspect of each container, refreshed when its state changes.
    var inspected: [String: ContainerDetails] = [:]
    /// Apps already reported as backing off, with their retry time.
    var reportedBackoff: [String: Date] = [:]
    /// Set while the engine cannot be reached, so the outage is logged once.
    var dockerUnreachable = false
    /// Apps whose host IP problem was logged.
    var reportedHostIPProblems: Set<String> = []
    /// Cluster mode: whether the last pass had a fresh view of this host's slots.
    var clusterWasFresh = false
    /// Apps both local and in the cluster, logged once.
    var reportedClusterClashes: Set<String> = []
    /// Whether the registry was told what to announce yet.
    var announced = false
}

extension Agent {
    /// One reconcile pass. Creates are awaited; retirements and removals are returned as background jobs
    /// so that a slow stop never holds up the next pass.
    func runPass(_ state: inout PassState, reloadManifests: Bool) async -> [@Sendable () async -> Void] {
        if reloadManifests { loadManifests(&state) }
        for app in state.manifests.dropVanished(now: Date()) {
            logger.info("the manifest of \(app) is gone: removing its containers", metadata: ["app": "\(app)"])
        }

        let containers: [ContainerSummary]
        do {
            containers = try await engine.listContainers(labels: ManagedLabels.filter(agentID: configuration.agentID))
            if state.dockerUnreachable {
                logger.info("Docker engine reachable again at \(engine.location)")
                state.dockerUnreachable = false
            }
        } catch {
            if !state.dockerUnreachable {
                logger.error("\(error); retrying every few seconds, containers are left as they are")
                state.dockerUnreachable = true
            }
            pending.withLock { $0.wakeAt = Date().addingTimeInterval(2) }
            observer?(PassReport(at: Date(), dockerReachable: false, apps: []))
            return []
        }

        var exitCodes: [String: Int?] = [:]
        var observed = await observe(containers, cache: &state.inspected, exitCodes: &exitCodes)
        let (desired, hiddenApps, justRefreshed) = mergeCluster(state.manifests.desired, containers: containers, state: &state)
        let specs = Dictionary(desired.apps.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var announcement: Announcement?
        // Not running, or of a cluster app that must not be announced now.
        var hidden = Set(observed.filter { $0.state != .running || hiddenApps.contains($0.app) }.map(\.id))
        if let prober {
            // With a registry, a container is ready once it answers; rollouts wait for that.
            let candidates = announcementCandidates(
                containers, specs: specs, hidden: hidden, reportedHostIPProblems: &state.reportedHostIPProblems)
            let decided = decideAnnouncement(candidates, prober: prober, specs: specs)
            for index in observed.indices where observed[index].state == .running {
                observed[index].ready = decided.keysByContainer[observed[index].id] != nil
            }
            announcement = decided
        }
        let now = Date()
        let plan = state.reconciler.plan(desired: desired, observed: observed, now: now)
        if justRefreshed, let prober {
            // Back in touch with the cluster (a start, or the end of a cut): containers beyond this host's
            // slots go without being announced first, so no key points outside a slot.
            for case .retire(let container, let reason) in plan.actions where reason != .outdated { hidden.insert(container.id) }
            let candidates = announcementCandidates(
                containers, specs: specs, hidden: hidden, reportedHostIPProblems: &state.reportedHostIPProblems)
            announcement = decideAnnouncement(candidates, prober: prober, specs: specs)
        }
        // The first announcement waits for a first probe of every container: a restarted agent's containers are
        // "not ready" only because nobody has asked them yet, and announcing without them would withdraw their
        // keys for a moment. (The prober's first verdicts ask for the next pass.)
        if let announcement, state.announced || prober?.everyTargetChecked != false {
            state.announced = true
            await publish(announcement, containers: containers, observed: observed, plan: plan, apps: desired.apps)
        }
        // Registered containers drain before they stop.
        let keysByContainer = announcement?.keysByContainer ?? [:]
        logger.debug("pass: \(observed.count) containers observed, \(plan.actions.count) actions")
        reportBackoff(plan, state: &state)
        if let wakeAt = [plan.wakeAt, state.manifests.nextRemoval].compactMap({ $0 }).min() {
            pending.withLock { $0.wakeAt = wakeAt }
        }
        if let recheck = state.manifests.nextEmptyCheck {
            // Read an empty manifest again once its grace is over, even if no write event comes.
            pending.withLock { work in
                work.wakeAt = min(work.wakeAt ?? recheck, recheck)
                work.reloadManifests = true
            }
        }

        var creates: [AppSpec] = []
        var jobs: [@Sendable () async -> Void] = []
        for action in plan.actions {
            switch action {
            case .create(let spec):
                creates.append(spec)
            case .retire(let container, let reason):
                let spec = specs[container.app]
                let keys = keysByContainer[container.id] ?? []
                jobs.append(backgroundJob(for: container.id) {
                    await self.retire(container, reason: reason, spec: spec, keys: keys)
                })
            case .remove(let container):
                let exitCode = exitCodes[container.id] ?? state.inspected[container.id]?.state.exitCode
                jobs.append(backgroundJob(for: container.id) { await self.remove(container, exitCode: exitCode) })
            }
        }
        createdThisPass.withLock { $0 = [] }
        let failedApps = await withTaskGroup(of: [String]?.self) { group in
            group.addTask { [creates] in await self.createAll(creates) }
            if !creates.isEmpty {
                group.addTask { [observed] in
                    await self.registerWhileCreating(
                        specs: specs, listed: containers, observed: observed, plan: plan, hiddenApps: hiddenApps)
                    return nil
                }
            }
            var failed: [String] = []
            for await result in group {
                guard let result else { continue }
                failed = result
                group.cancelAll()
            }
            return failed
        }
        for failedApp in failedApps {
            state.reconciler.recordFailure(app: failedApp, at: Date())
            requestPass()
        }
        observer?(PassReport.after(
            plan: plan, observed: observed, specs: desired.apps,
            registered: announcement.map(\.announcedPerApp),
            createdApps: createdThisPass.withLock { $0.compactMap { $0.labels[ManagedLabels.app] } }, createFailures: failedApps,
            invalidManifests: state.manifests.brokenCount))
        return jobs
    }

    private func loadManifests(_ state: inout PassState) {
        guard !configuration.manifestsDirectory.isEmpty else { return }
        do {
            let files = try ManifestLoader.loadDirectory(configuration.manifestsDirectory, policy: configuration.policy)
            for problem in state.manifests.update(with: files) {
                logger.error("invalid manifest, its app is left as it was: \(problem)")
            }
        } catch {
            logger.error("cannot read manifests: \(error); keeping the apps as they were")
        }
    }

    /// Builds the reconciler's view, inspecting only containers whose state changed since the last look.
    private func observe(
        _ containers: [ContainerSummary], cache: inout [String: ContainerDetails], exitCodes: inout [String: Int?]
    ) async -> [ObservedContainer] {
        let busy = inFlight.withLock { $0 }
        let died = diedByEvent.withLock { $0 }
        var observed: [ObservedContainer] = []
        var listed = Set<String>()
        for summary in containers {
            listed.insert(summary.id)
            if cache[summary.id]?.state.status != summary.state, summary.state != "created" {
                cache[summary.id] = try? await engine.inspectContainer(summary.id)
            }
            guard var container = ManagedLabels.observed(summary, details: cache[summary.id]) else { continue }
            if let exitCode = died[summary.id] {
                if container.state == .running {
                    exitCodes[summary.id] = exitCode
                    container.state = .exited
                    container.ready = false
                } else {
                    diedByEvent.withLock { $0[summary.id] = nil }
                }
            }
            if busy.contains(summary.id) {
                container.state = container.state == .running ? .stopping : .removing
                container.ready = false
            }
            observed.append(container)
        }
        cache = cache.filter { listed.contains($0.key) }
        diedByEvent.withLock { $0 = $0.filter { listed.contains($0.key) } }
        return observed
    }

    private func reportBackoff(_ plan: Plan, state: inout PassState) {
        for (app, until) in plan.backingOff where state.reportedBackoff[app] != until {
            let seconds = Int(until.timeIntervalSinceNow.rounded(.up))
            logger.warning(
                "backing off \(app): its containers keep failing (\(state.reconciler.failures(of: app)) in a row); next try in \(seconds) s",
                metadata: ["app": "\(app)"])
        }
        state.reportedBackoff = plan.backingOff
    }

    /// Marks a container busy for the time of a background job.
    private func backgroundJob(for id: String, _ body: @escaping @Sendable () async -> Void) -> @Sendable () async -> Void {
        inFlight.withLock { _ = $0.insert(id) }
        return {
            await body()
            self.inFlight.withLock { _ = $0.remove(id) }
            self.requestPass()
        }
    }
}
