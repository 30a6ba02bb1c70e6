import DockerEngine
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A container engine in memory, for tests and benchmarks of the agent without dockerd: containers, images and
/// events behave as Docker's do for what the agent uses, with latencies and failures to order.
///
/// A running container is a real listening socket on loopback (its published port), so that readiness probes
/// and clients can connect to it; it is closed when the container stops. Nothing is ever answered on it.
public final class InMemoryEngine: ContainerEngine, Sendable {
    /// What the engine is asked to do, as recorded in `calls`.
    public enum Call: String, Sendable, Hashable {
        case list, inspect, create, start, stop, remove, inspectImage, pull
    }

    /// One recorded call: what, on which container (id, or name for a create) and when it returned.
    public struct CallRecord: Sendable, Hashable {
        public let call: Call
        public let target: String
        public let at: ContinuousClock.Instant
    }

    /// Latencies and failures, changeable while the engine runs (`engine.behaviour.withLock { … }`).
    public struct Behaviour: Sendable {
        /// How long each kind of call takes before it answers.
        public var latency: [Call: Duration] = [:]
        /// How long a container's process takes to exit on SIGTERM; a stop waits this long, at most its
        /// timeout (then SIGKILL). `.seconds(3600)` is an app that ignores SIGTERM.
        public var exitAfterSIGTERM: Duration = .zero
        /// The next this many creates fail with a 500.
        public var failingCreates = 0
        /// The next this many starts fail with a 500 (the container stays created).
        public var failingStarts = 0
        /// After a crash, lists go on saying "running" for this long (dockerd does, for a moment).
        public var staleListAfterDie: Duration = .zero
        /// Address the ports are published on: "0.0.0.0" (Docker's default), or one address (`dockerd --ip`).
        public var publishAddress = "0.0.0.0"
        /// Images that a pull cannot find.
        public var unpullable: Set<String> = []

        public init() {}
    }

    let behaviour = Mutex(Behaviour())

    /// Changes latencies and failures, also while the engine runs.
    public func configure(_ change: (inout Behaviour) -> Void) {
        behaviour.withLock { change(&$0) }
    }
    public var location: String { "memory://engine" }
    private let clock = ContinuousClock()
    private let state = Mutex(State())

    private struct Record {
        let id: String
        let name: String
        let config: ContainerConfig
        let created: Int
        var status = "created"
        var exitCode = 0
        var startedAt: Date?
        var finishedAt: Date?
        /// Container port → its listening socket and host port, while running.
        var listeners: [Int: (socket: Int32, port: Int)] = [:]
        var diedAt: ContinuousClock.Instant?
        var publishAddress = "0.0.0.0"
    }

    private struct Subscriber {
        let labels: [String]
        let continuation: AsyncStream<EventStreamUpdate>.Continuation
    }

    private struct State {
        var containers: [String: Record] = [:]
        var images: [String: ImageDetails] = [:]
        var subscribers: [Int: Subscriber] = [:]
        var nextSubscriber = 0
        var nextID = 0
        var eventsDown = false
        var calls: [CallRecord] = []
    }

    /// - Parameter images: images the engine has, with the ports they EXPOSE.
    public init(images: [String: [Int]] = [:]) {
        state.withLock { state in
            for (name, ports) in images {
                state.images[Self.normalized(name)] = ImageDetails(id: "sha256:" + name, exposedPorts: ports)
            }
        }
    }

    deinit {
        state.withLock { state in
            for record in state.containers.values { Self.closeListeners(record) }
            for subscriber in state.subscribers.values { subscriber.continuation.finish() }
        }
    }

    // MARK: What tests look at and do

    /// Every call answered so far, in order.
    public var calls: [CallRecord] { state.withLock { $0.calls } }

    /// How many calls of a kind were answered.
    public func count(_ call: Call) -> Int { state.withLock { $0.calls.filter { $0.call == call }.count } }

    /// The containers as `docker ps -a` would list them (names, states, labels), without any latency.
    public var containers: [ContainerSummary] {
        state.withLock { state in state.containers.values.map { Self.summary($0, listedState: $0.status) } }
            .sorted { $0.created == $1.created ? $0.name < $1.name : $0.created < $1.created }
    }

    public func running(app: String) -> [ContainerSummary] {
        containers.filter { $0.state == "running" && $0.labels["io.hecd.app"] == app }
    }

    /// The container's process dies (a crash, an OOM kill, `docker kill`): a `die` event with `exitCode`.
    public func crash(_ id: String, exitCode: Int = 137) {
        let event: DockerEvent? = state.withLock { state in
            guard var record = state.containers[id], record.status == "running" else { return nil }
            Self.closeListeners(record)
            record.listeners = [:]
            record.status = "exited"
            record.exitCode = exitCode
            record.finishedAt = Date()
            record.diedAt = clock.now
            state.containers[id] = record
            return Self.event("die", record, extra: ["exitCode": "\(exitCode)"])
        }
        if let event { emit(event) }
    }

    /// The event stream drops (dockerd restarting): subscribers see `.disconnected`, and every event until
    /// `restoreEventStream()` is lost.
    public func dropEventStream() {
        let subscribers = state.withLock { state in
            state.eventsDown = true
            return Array(state.subscribers.values)
        }
        for subscriber in subscribers {
            subscriber.continuation.yield(.disconnected(reason: "the engine closed the event stream", retryIn: .zero))
        }
    }

    /// The event stream is back: subscribers see `.connected` and should re-list.
    public func restoreEventStream() {
        let subscribers = state.withLock { state in
            state.eventsDown = false
            return Array(state.subscribers.values)
        }
        for subscriber in subscribers { subscriber.continuation.yield(.connected) }
    }

    // MARK: ContainerEngine

    public func listContainers(labels: [String]) async throws(DockerError) -> [ContainerSummary] {
        await wait(.list)
        let lag = behaviour.withLock { $0.staleListAfterDie }
        let now = clock.now
        return state.withLock { state in
            record(.list, "", in: &state)
            return state.containers.values
                .filter { Self.matches($0.config.labels, labels) }
                .map { Self.summary($0, listedState: Self.listedState($0, now: now, lag: lag)) }
        }
    }

    public func inspectContainer(_ id: String) async throws(DockerError) -> ContainerDetails {
        await wait(.inspect)
        let details: ContainerDetails? = state.withLock { state in
            record(.inspect, id, in: &state)
            return state.containers[id].map(Self.details)
        }
        guard let details else { throw Self.notFound("GET /containers/\(id)/json", id) }
        return details
    }

    public func createContainer(name: String, config: ContainerConfig) async throws(DockerError) -> String {
        await wait(.create)
        let call = "POST /containers/create?name=\(name)"
        let result: Result<Record, DockerError> = state.withLock { state in
            record(.create, name, in: &state)
            if behaviour.withLock({ behaviour in
                guard behaviour.failingCreates > 0 else { return false }
                behaviour.failingCreates -= 1
                return true
            }) {
                return .failure(.status(call: call, status: 500, message: "injected create failure"))
            }
            guard state.images[Self.normalized(config.image)] != nil else {
                return .failure(.status(call: call, status: 404, message: "No such image: \(config.image)"))
            }
            if state.containers.values.contains(where: { $0.name == name }) {
                return .failure(.status(call: call, status: 409, message: "Conflict. The container name \"/\(name)\" is already in use"))
            }
            state.nextID += 1
            let id = String(format64: UInt64(state.nextID))
            let created = Record(id: id, name: name, config: config, created: Int(Date().timeIntervalSince1970))
            state.containers[id] = created
            return .success(created)
        }
        let created = try result.get()
        emit(Self.event("create", created))
        return created.id
    }

    public func startContainer(_ id: String) async throws(DockerError) {
        await wait(.start)
        let call = "POST /containers/\(id)/start"
        let result: Result<DockerEvent?, DockerError> = state.withLock { state in
            record(.start, id, in: &state)
            guard var container = state.containers[id] else { return .failure(Self.notFound(call, id)) }
            if container.status == "running" { return .success(nil) }
            if behaviour.withLock({ behaviour in
                guard behaviour.failingStarts > 0 else { return false }
                behaviour.failingStarts -= 1
                return true
            }) {
                return .failure(.status(call: call, status: 500, message: "injected start failure"))
            }
            let address = behaviour.withLock { $0.publishAddress }
            let ports = Self.containerPorts(container.config, image: state.images[Self.normalized(container.config.image)])
            var listeners: [Int: (socket: Int32, port: Int)] = [:]
            for port in ports {
                guard let listener = Self.listen(on: address) else {
                    for opened in listeners.values { close(opened.socket) }
                    return .failure(.status(call: call, status: 500, message: "cannot publish port \(port) on \(address)"))
                }
                listeners[port] = listener
            }
            container.listeners = listeners
            container.publishAddress = address
            container.status = "running"
            container.exitCode = 0
            container.startedAt = Date()
            container.diedAt = nil
            state.containers[id] = container
            return .success(Self.event("start", container))
        }
        if let event = try result.get() { emit(event) }
    }

    public func stopContainer(_ id: String, timeout: Int) async throws(DockerError) {
        let call = "POST /containers/\(id)/stop"
        guard let running = state.withLock({ $0.containers[id] }) else { throw Self.notFound(call, id) }
        if running.status == "running" {
            let grace = behaviour.withLock { $0.exitAfterSIGTERM }
            try? await clock.sleep(for: min(grace, .seconds(timeout)))
        }
        await wait(.stop)
        let events: [DockerEvent] = state.withLock { state in
            record(.stop, id, in: &state)
            guard var container = state.containers[id], container.status == "running" else { return [] }
            Self.closeListeners(container)
            container.listeners = [:]
            container.status = "exited"
            container.exitCode = running.status == "running" && behaviour.withLock({ $0.exitAfterSIGTERM }) > .seconds(timeout) ? 137 : 0
            container.finishedAt = Date()
            state.containers[id] = container
            return [Self.event("die", container, extra: ["exitCode": "\(container.exitCode)"]), Self.event("stop", container)]
        }
        for event in events { emit(event) }
    }

    public func removeContainer(_ id: String, force: Bool) async throws(DockerError) {
        await wait(.remove)
        let call = "DELETE /containers/\(id)"
        let result: Result<[DockerEvent], DockerError> = state.withLock { state in
            record(.remove, id, in: &state)
            guard let container = state.containers[id] else { return .success([]) }
            if container.status == "running" && !force {
                return .failure(.status(call: call, status: 409, message: "You cannot remove a running container \(id). Stop the container before attempting removal or force remove"))
            }
            Self.closeListeners(container)
            state.containers[id] = nil
            var events: [DockerEvent] = []
            if container.status == "running" {
                events.append(Self.event("die", container, extra: ["exitCode": "137"]))
            }
            events.append(Self.event("destroy", container))
            return .success(events)
        }
        for event in try result.get() { emit(event) }
    }

    public func followEvents(labels: [String], maximumBackoff: Duration) -> AsyncStream<EventStreamUpdate> {
        let (stream, continuation) = AsyncStream<EventStreamUpdate>.makeStream()
        let (key, down) = state.withLock { state in
            state.nextSubscriber += 1
            state.subscribers[state.nextSubscriber] = Subscriber(labels: labels, continuation: continuation)
            return (state.nextSubscriber, state.eventsDown)
        }
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { _ = $0.subscribers.removeValue(forKey: key) }
        }
        if !down { continuation.yield(.connected) }
        return stream
    }

    public func inspectImage(_ name: String) async throws(DockerError) -> ImageDetails {
        await wait(.inspectImage)
        let image = state.withLock { state in
            record(.inspectImage, name, in: &state)
            return state.images[Self.normalized(name)]
        }
        guard let image else {
            throw .status(call: "GET /images/\(name)/json", status: 404, message: "No such image: \(name)")
        }
        return image
    }

    public func pullImage(_ reference: String, progress: @Sendable (PullProgress) -> Void) async throws(DockerError) {
        await wait(.pull)
        let found = state.withLock { state in
            record(.pull, reference, in: &state)
            guard !behaviour.withLock({ $0.unpullable.contains(reference) }) else { return false }
            let key = Self.normalized(reference)
            if state.images[key] == nil { state.images[key] = ImageDetails(id: "sha256:" + key, exposedPorts: []) }
            return true
        }
        guard found else { throw .pull(image: reference, message: "manifest for \(reference) not found") }
    }

    // MARK: Plumbing

    private func wait(_ call: Call) async {
        guard let latency = behaviour.withLock({ $0.latency[call] }), latency > .zero else { return }
        try? await clock.sleep(for: latency)
    }

    private func record(_ call: Call, _ target: String, in state: inout State) {
        state.calls.append(CallRecord(call: call, target: target, at: clock.now))
    }

    private func emit(_ event: DockerEvent) {
        let (subscribers, down) = state.withLock { state in
            (Array(state.subscribers.values), state.eventsDown)
        }
        guard !down else { return }
        for subscriber in subscribers where Self.matches(event.attributes, subscriber.labels) {
            subscriber.continuation.yield(.event(event))
        }
    }

    private static func event(_ action: String, _ record: Record, extra: [String: String] = [:]) -> DockerEvent {
        var attributes = record.config.labels
        attributes["name"] = record.name
        attributes["image"] = record.config.image
        for (key, value) in extra { attributes[key] = value }
        return DockerEvent(action: action, containerID: record.id, attributes: attributes,
                           timeNano: Int64(Date().timeIntervalSince1970 * 1e9))
    }

    /// Docker's label filter: every "key=value" (or bare "key") must match.
    private static func matches(_ labels: [String: String], _ filters: [String]) -> Bool {
        filters.allSatisfy { filter in
            let parts = filter.split(separator: "=", maxSplits: 1).map(String.init)
            guard let key = parts.first else { return true }
            return parts.count == 1 ? labels[key] != nil : labels[key] == parts[1]
        }
    }

    private static func containerPorts(_ config: ContainerConfig, image: ImageDetails?) -> [Int] {
        // Like `-P`: the image's EXPOSE ports and the configured ones.
        Array(Set(config.exposedPorts).union(image?.exposedPorts ?? [])).sorted()
    }

    private static func listedState(_ record: Record, now: ContinuousClock.Instant, lag: Duration) -> String {
        if let diedAt = record.diedAt, now - diedAt < lag { return "running" }
        return record.status
    }

    private static func summary(_ record: Record, listedState: String) -> ContainerSummary {
        var ports: [PublishedPort] = []
        for (containerPort, listener) in record.listeners.sorted(by: { $0.key < $1.key }) {
            ports.append(PublishedPort(ip: record.publishAddress, privatePort: containerPort, publicPort: listener.port))
        }
        return ContainerSummary(
            id: record.id, names: [record.name], image: record.config.image, state: listedState,
            status: listedState == "running" ? "Up" : "Exited (\(record.exitCode))", labels: record.config.labels,
            created: record.created, ports: ports)
    }

    private static func details(_ record: Record) -> ContainerDetails {
        var ports: [String: [ContainerDetails.HostBinding]] = [:]
        for (containerPort, listener) in record.listeners {
            ports["\(containerPort)/tcp"] = [ContainerDetails.HostBinding(hostIP: record.publishAddress, hostPort: listener.port)]
        }
        return ContainerDetails(
            id: record.id, name: record.name,
            state: .init(status: record.status, running: record.status == "running", exitCode: record.exitCode,
                         startedAt: record.startedAt, finishedAt: record.finishedAt),
            labels: record.config.labels, ports: ports)
    }

    private static func notFound(_ call: String, _ id: String) -> DockerError {
        .status(call: call, status: 404, message: "No such container: \(id)")
    }

    /// "demo" and "demo:latest" are one image, as for Docker.
    private static func normalized(_ image: String) -> String {
        let lastPart = image.split(separator: "/").last ?? Substring(image)
        return lastPart.contains(":") ? image : image + ":latest"
    }

    private static func closeListeners(_ record: Record) {
        for listener in record.listeners.values { close(listener.socket) }
    }

    /// A listening socket on `address` ("0.0.0.0" and "::" publish on loopback here) and its port.
    private static func listen(on address: String) -> (socket: Int32, port: Int)? {
        let isIPv6 = address.contains(":")
        let bindAddress = address == "0.0.0.0" ? "127.0.0.1" : address == "::" ? "::1" : address
        let fd = socket(isIPv6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var port = 0
        let listening: Bool
        if isIPv6 {
            var socketAddress = sockaddr_in6()
            socketAddress.sin6_family = sa_family_t(AF_INET6)
            guard inet_pton(AF_INET6, bindAddress, &socketAddress.sin6_addr) == 1 else { close(fd); return nil }
            listening = withUnsafeMutablePointer(to: &socketAddress) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                    var length = socklen_t(MemoryLayout<sockaddr_in6>.size)
                    guard bind(fd, raw, length) == 0, Glibc.listen(fd, 16) == 0, getsockname(fd, raw, &length) == 0
                    else { return false }
                    return true
                }
            }
            port = Int(UInt16(bigEndian: socketAddress.sin6_port))
        } else {
            var socketAddress = sockaddr_in()
            socketAddress.sin_family = sa_family_t(AF_INET)
            guard inet_pton(AF_INET, bindAddress, &socketAddress.sin_addr) == 1 else { close(fd); return nil }
            listening = withUnsafeMutablePointer(to: &socketAddress) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
                    guard bind(fd, raw, length) == 0, Glibc.listen(fd, 16) == 0, getsockname(fd, raw, &length) == 0
                    else { return false }
                    return true
                }
            }
            port = Int(UInt16(bigEndian: socketAddress.sin_port))
        }
        guard listening else {
            close(fd)
            return nil
        }
        return (fd, port)
    }
}

extension String {
    /// A 64-character hex id, like Docker's container ids.
    fileprivate init(format64 value: UInt64) {
        let hex = String(value, radix: 16)
        self = String(repeating: "0", count: 64 - hex.count) + hex
    }
}
