import Cluster
import DockerEngine
import Etcd
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import Logging
import Manifests
import Primitives
import Reconciler
import Registry
import ServiceLifecycle
import Synchronization

/// `hecd agent`: keeps each manifest's replicas running on one Docker engine.
///
/// It reconciles after every manifest change (inotify), every Docker event about its containers, every
/// reconnect of the event stream, when a backoff expires, and periodically. Each pass lists the agent's
/// containers, asks the `Reconciler` what to do and does it. Stopping the agent leaves containers running.
public final class Agent: Service {
    let configuration: AgentConfiguration
    /// The container engine: `DockerClient`, or `InMemoryEngine` in tests.
    let engine: any ContainerEngine
    let logger: Logger
    /// Announces ready containers; nil when the agent runs without etcd.
    let registry: Registry?
    /// Tells when a container takes traffic; used with a registry only.
    let prober: ReadinessProber?
    /// The registry key of each running container, so that a `die` event withdraws it at once.
    let keysByContainer = Mutex<[String: [String]]>([:])
    let startedAt = Date()
    /// Work noticed since the last pass; a signal wakes the loop.
    let pending = Mutex(PendingWork())
    private let wake: AsyncStream<Void>.Continuation
    private let wakeSignals: AsyncStream<Void>
    /// Containers being retired or removed in the background, hidden from the reconciler meanwhile.
    let inFlight = Mutex<Set<String>>([])
    /// Containers that a `die` event reported dead. The engine can list a container as running for a
    /// moment after its `die` event, and no later event follows a crash, so the event is trusted over
    /// the list until the list agrees. Values are the exit codes the events carried.
    let diedByEvent = Mutex<[String: Int?]>([:])
    /// Wakes `registerWhileCreating`: a container started, or its readiness changed.
    let registrationRefresh = WakeSignal()
    /// The containers the current pass created, as their creates learned them.
    let createdThisPass = Mutex<[ContainerSummary]>([])
    /// Cluster mode: this host's slots, its host record and candidacy, and the scheduler.
    let cluster: ClusterMember?
    /// Told what each pass saw and decided (metrics, health, systemd status); nil: nobody listens.
    let observer: PassObserver?

    /// `clusterClient` is the etcd client of cluster mode (`configuration.cluster`), which needs a registry.
    /// `observer` is called after every pass with its counts (`PassReport`).
    public init(
        configuration: AgentConfiguration, engine: any ContainerEngine, registry: Registry? = nil,
        clusterClient: EtcdClient? = nil, logger: Logger, observer: PassObserver? = nil
    ) {
        self.observer = observer
        self.configuration = configuration
        self.engine = engine
        self.logger = logger
        self.registry = registry
        let (wakeSignals, wake) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        self.wakeSignals = wakeSignals
        self.wake = wake
        let registrationRefresh = registrationRefresh
        if let settings = configuration.cluster, let clusterClient, registry != nil {
            self.cluster = Self.makeClusterMember(
                settings: settings, client: clusterClient, agentID: configuration.agentID, hostIP: configuration.hostIP,
                policy: configuration.policy, logger: logger, onChange: { wake.yield() })
        } else {
            self.cluster = nil
        }
        self.prober = registry == nil ? nil : ReadinessProber(
            onSlowStart: { [logger] containerID, period in
                let id = containerID.prefix(12)
                logger.warning("""
                    container \(id) is not ready \(period) after it started (its health.start_period); it stays \
                    unregistered until its check passes: see `docker logs \(id)`
                    """)
            },
            onChange: {
                wake.yield()
                registrationRefresh.signal()
            })
    }

    /// What should happen at the next pass.
    struct PendingWork {
        var reloadManifests = true
        var wakeAt: Date?
        var lastPass = Date.distantPast
    }

    /// Re-reads the manifests and runs a full pass soon (SIGHUP).
    public func requestFullPass() {
        requestPass(reloadManifests: true)
    }

    /// Asks for a pass soon; `reloadManifests` re-reads the directory first.
    func requestPass(reloadManifests: Bool = false) {
        if reloadManifests { pending.withLock { $0.reloadManifests = true } }
        wake.yield()
    }

    public func run() async throws {
        // Cluster mode may run without local manifests (an empty directory name).
        var watcher: ManifestWatcher?
        if !configuration.manifestsDirectory.isEmpty || configuration.cluster == nil {
            var status = stat()
            guard stat(configuration.manifestsDirectory, &status) == 0, status.st_mode & S_IFMT == S_IFDIR else {
                throw AgentError(
                    "manifest directory \(configuration.manifestsDirectory) does not exist: create it or pass --manifests DIR")
            }
            watcher = try ManifestWatcher(directory: configuration.manifestsDirectory) { [weak self] in
                self?.requestPass(reloadManifests: true)
            }
        }
        defer { watcher?.stop() }
        let manifests = configuration.manifestsDirectory.isEmpty ? "none" : configuration.manifestsDirectory
        logger.info(
            "agent \(configuration.agentID) starting: manifests in \(manifests)\(cluster == nil ? "" : ", cluster mode"), Docker at \(engine.location)")

        await withGracefulShutdownHandler {
            // Discarding: a group that is never awaited would keep every finished stop and removal (about
            // 8 kB each: 1.6 MB per 200 containers scaled up and down).
            await withDiscardingTaskGroup { group in
                group.addTask { await self.followDockerEvents() }
                group.addTask { await self.tick() }
                if let registry { group.addTask { await registry.run() } }
                if let prober { group.addTask { await prober.run() } }
                if let cluster {
                    group.addTask { await cluster.assignments.run() }
                    if let scheduler = cluster.scheduler { group.addTask { await scheduler.run() } }
                }
                await self.reconcileLoop(background: &group)
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.wake.finish()
        }
        await registry?.shutdown(revoke: !configuration.keepRegistered)
        logger.info("agent \(configuration.agentID) stopped; its containers keep running")
    }

    // MARK: - Loops

    /// Turns Docker events into passes; a reconnect also asks for one, since events may have been missed.
    private func followDockerEvents() async {
        var connectedBefore = false
        for await update in engine.followEvents(labels: ManagedLabels.filter(agentID: configuration.agentID)) {
            switch update {
            case .connected:
                if connectedBefore { logger.info("Docker event stream reconnected: re-listing containers") }
                connectedBefore = true
                requestPass()
            case .event(let event):
                logger.debug("Docker event \(event.action) for \(event.name ?? event.containerID)")
                switch event.action {
                case "die":
                    diedByEvent.withLock { $0[event.containerID] = event.attributes["exitCode"].flatMap { Int($0) } }
                    await withdrawAtOnce(event.containerID)
                    requestPass()
                case "start", "destroy":
                    diedByEvent.withLock { $0[event.containerID] = nil }
                    if event.action == "start" { registrationRefresh.signal() }
                    requestPass()
                case "stop", "oom", "pause", "unpause":
                    requestPass()
                case let action where action.hasPrefix("health_status"):
                    // A HEALTHCHECK image turned healthy or unhealthy: its readiness changed.
                    requestPass()
                default:
                    break
                }
            case .disconnected(let reason, let retryIn):
                if connectedBefore {
                    logger.warning("Docker event stream lost (\(reason)); reconnecting in \(retryIn)")
                }
            }
        }
    }

    /// A dead container leaves the registry before anything else happens.
    private func withdrawAtOnce(_ containerID: String) async {
        prober?.forget(containerID)
        guard let registry, let keys = keysByContainer.withLock({ $0.removeValue(forKey: containerID) }) else { return }
        for key in keys {
            switch await registry.withdraw(key) {
            case .removed:
                logger.info("deregistered \(key): its container died")
            case .pending:
                logger.warning("\(key): its container died; etcd cannot be reached, so the key goes when etcd is back (or with the lease)")
            case .notAnnounced:
                break
            }
        }
    }

    /// Wakes the loop for periodic resyncs and expiring backoffs.
    private func tick() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(250))
            let now = Date()
            let due = pending.withLock { work in
                if let wakeAt = work.wakeAt, wakeAt <= now { return true }
                return now.timeIntervalSince(work.lastPass) >= configuration.resyncInterval.seconds
            }
            if due { wake.yield() }
        }
    }

    private func reconcileLoop(background: inout DiscardingTaskGroup) async {
        var pass = PassState(reconciler: Reconciler(policy: configuration.backoff))
        for await _ in wakeSignals {
            let reload = pending.withLock { work in
                defer {
                    work.reloadManifests = false
                    work.wakeAt = nil
                    work.lastPass = Date()
                }
                return work.reloadManifests
            }
            let jobs = await runPass(&pass, reloadManifests: reload)
            for job in jobs { background.addTask(operation: job) }
            MallocTuning.releaseFreeMemory()
        }
    }
}

