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
import Primitives

extension Agent {
    /// Creates and starts the containers, `parallelActions` at a time, after making sure each app's
    /// image is here. Returns the apps for which something failed, once per failure.
    func createAll(_ specs: [AppSpec]) async -> [String] {
        guard !specs.isEmpty else { return [] }
        var ports: [String: Int] = [:]
        var failed: [String] = []
        for spec in Dictionary(grouping: specs, by: \.name).values.compactMap(\.first) {
            do {
                ports[spec.name] = try await prepareImage(for: spec)
            } catch {
                logger.error("cannot create containers for \(spec.name): \(error)", metadata: ["app": "\(spec.name)"])
                failed.append(spec.name)
            }
        }
        let work = specs.compactMap { spec in ports[spec.name].map { (spec, $0) } }
        failed += await runBounded(work, limit: configuration.parallelActions) { spec, port in
            await self.create(spec, port: port) ? nil : spec.name
        }
        return failed
    }

    /// Runs `body` over `items`, at most `limit` at a time; returns the non-nil results.
    private func runBounded<Item: Sendable>(
        _ items: [Item], limit: Int, _ body: @escaping @Sendable (Item) async -> String?
    ) async -> [String] {
        await withTaskGroup(of: String?.self) { group in
            var results: [String] = []
            var next = items.makeIterator()
            for _ in 0..<max(1, limit) {
                guard let item = next.next() else { break }
                group.addTask { await body(item) }
            }
            while let result = await group.next() {
                if let result { results.append(result) }
                if let item = next.next() { group.addTask { await body(item) } }
            }
            return results
        }
    }

    /// Pulls the image when it is missing; returns the container port to publish.
    private func prepareImage(for spec: AppSpec) async throws -> Int {
        let image = try await inspectOrPull(spec)
        if let port = spec.port { return port }
        guard image.exposedPorts.count == 1, let only = image.exposedPorts.first else {
            let exposed = image.exposedPorts.isEmpty ? "no port" : "ports \(image.exposedPorts)"
            throw AgentError("image \(spec.image) exposes \(exposed): set `port:` in the manifest of \(spec.name)")
        }
        return only
    }

    /// The app's image, pulled first when the engine does not have it.
    private func inspectOrPull(_ spec: AppSpec) async throws(DockerError) -> ImageDetails {
        do {
            return try await engine.inspectImage(spec.image)
        } catch {
            guard error.isNotFound else { throw error }
        }
        logger.info("pulling image \(spec.image) for \(spec.name)", metadata: ["app": "\(spec.name)"])
        try await engine.pullImage(spec.image)
        return try await engine.inspectImage(spec.image)
    }

    /// Creates and starts one container; true on success.
    private func create(_ spec: AppSpec, port: Int) async -> Bool {
        var labels = spec.labels.merging(configuration.extraLabels) { _, extra in extra }
        labels[ManagedLabels.agent] = configuration.agentID
        labels[ManagedLabels.app] = spec.name
        labels[ManagedLabels.spec] = spec.specHash
        labels[ManagedLabels.port] = String(port)
        labels[ManagedLabels.prefix] = spec.register.prefix ?? AgentConfiguration.defaultPrefix(app: spec.name)
        if isClusterApp(spec) { labels[ManagedLabels.cluster] = "1" }
        if spec.register.ports.count > 1 {
            labels[ManagedLabels.registered] = ManagedLabels.registeredLabel(spec.register.ports, defaultPort: port)
        }
        let metadata: Logger.Metadata = ["app": "\(spec.name)"]
        for _ in 0..<3 {
            let name = "\(spec.name)-\(Self.randomSuffix())"
            let config = ContainerConfig.forApp(spec, port: port, labels: labels, hostname: String(name.prefix(63)))
            let id: String
            do {
                id = try await engine.createContainer(name: name, config: config)
            } catch {
                if error.isConflict { continue }  // the random name was taken: draw another
                var hint = ""
                if error.isNotFound, let network = spec.options.network {
                    hint = "; create the network first: docker network create \(network)"
                }
                logger.error("cannot create a container for \(spec.name): \(error)\(hint)", metadata: metadata)
                return false
            }
            do {
                try await engine.startContainer(id)
            } catch {
                logger.error("cannot start \(name) (app \(spec.name)): \(error); removing it", metadata: metadata)
                try? await engine.removeContainer(id, force: true)
                return false
            }
            let details = try? await engine.inspectContainer(id)
            let hostPort = details?.hostPort(for: port)?.hostPort
            logger.info(
                "created \(name) (app \(spec.name)), host port \(hostPort.map(String.init) ?? "unknown")",
                metadata: metadata)
            if let details { learned(Self.summary(of: details, image: spec.image)) }
            return true
        }
        logger.error("cannot find a free container name for \(spec.name)", metadata: metadata)
        return false
    }

    /// Keeps what a create learned (id, name, ports) for the registration that runs while the pass creates,
    /// so that it does not list the engine to find it.
    private func learned(_ container: ContainerSummary) {
        createdThisPass.withLock { $0.append(container) }
        registrationRefresh.signal()
    }

    /// A listed container as the engine would list a running one, from its inspect.
    static func summary(of details: ContainerDetails, image: String) -> ContainerSummary {
        var ports: [PublishedPort] = []
        for (key, bindings) in details.ports.sorted(by: { $0.key < $1.key }) {
            let parts = key.split(separator: "/")
            guard let containerPort = parts.first.flatMap({ Int($0) }) else { continue }
            let type = parts.count > 1 ? String(parts[1]) : "tcp"
            for binding in bindings {
                ports.append(PublishedPort(ip: binding.hostIP, privatePort: containerPort, publicPort: binding.hostPort, type: type))
            }
        }
        let status = details.state.health.map { "Up (\($0 == "starting" ? "health: starting" : $0))" } ?? ""
        return ContainerSummary(
            id: details.id, names: [details.name], image: image, state: details.state.status, status: status,
            labels: details.labels,
            created: Int((details.state.startedAt ?? Date()).timeIntervalSince1970), ports: ports)
    }

    /// Takes a live container out of service: withdraws its key, waits the drain period so that no new
    /// request reaches it, then stops and removes it.
    /// `keys` are the container's registry keys when it was registered (it then drains).
    func retire(_ container: ObservedContainer, reason: RetireReason, spec: AppSpec?, keys: [String]) async {
        let metadata: Logger.Metadata = ["app": "\(container.app)"]
        let timeout = spec?.stopTimeout ?? AppSpec.defaultStopTimeout
        if let registry, !keys.isEmpty {
            for key in keys { await registry.withdraw(key) }
            let drain = spec?.register.drainSeconds ?? configuration.defaultDrain
            logger.info("deregistered \(container.name) (app \(container.app)); stopping it in \(drain) s", metadata: metadata)
            try? await Task.sleep(for: .seconds(drain))
        }
        do {
            try await engine.stopContainer(container.id, timeout: timeout)
            try await engine.removeContainer(container.id, force: true)
            let why: String
            switch reason {
            case .scaleDown: why = "scaled down"
            case .outdated: why = "replaced by a container of the new spec"
            case .undeclared: why = "no manifest declares \(container.app) any more"
            }
            logger.info("stopped \(container.name) (app \(container.app)): \(why)", metadata: metadata)
        } catch where error.isGoingAway {
            logger.info("\(container.name) (app \(container.app)) was already going away", metadata: metadata)
        } catch where Task.isCancelled {
            // The agent is shutting down: the engine finishes the stop on its own.
            logger.info("left \(container.name) (app \(container.app)) stopping: the agent is shutting down", metadata: metadata)
        } catch {
            logger.error("cannot stop \(container.name) (app \(container.app)): \(error)", metadata: metadata)
        }
    }

    /// Removes a container that is no longer running, so that a fresh one can take its place.
    func remove(_ container: ObservedContainer, exitCode: Int?) async {
        let metadata: Logger.Metadata = ["app": "\(container.app)"]
        do {
            try await engine.removeContainer(container.id, force: true)
            let how = container.state == .created ? "never started" : "\(container.state.rawValue)"
                + (exitCode.map { " with code \($0)" } ?? "")
            logger.info("removed \(container.name) (app \(container.app)): \(how)", metadata: metadata)
        } catch {
            logger.error("cannot remove \(container.name) (app \(container.app)): \(error)", metadata: metadata)
        }
    }

    static func randomSuffix() -> String {
        let digits = String(UInt32.random(in: 0...0xFF_FFFF), radix: 16)
        return String(repeating: "0", count: 6 - digits.count) + digits
    }
}
