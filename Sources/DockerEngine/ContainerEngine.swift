/// What the agent needs of a container engine: the port that `DockerClient` (the real engine) and
/// `InMemoryEngine` (tests and benchmarks, in the `EngineTesting` target) both implement.
///
/// Errors are `DockerError`s whichever engine answers, so that callers handle one error model.
public protocol ContainerEngine: Sendable {
    /// Where the engine is, for log lines (`unix:///var/run/docker.sock`).
    var location: String { get }

    /// Every container (running or not) that carries all of `labels` ("key=value" or "key").
    func listContainers(labels: [String]) async throws(DockerError) -> [ContainerSummary]
    func inspectContainer(_ id: String) async throws(DockerError) -> ContainerDetails
    /// Creates a container and returns its id; it is not started.
    func createContainer(name: String, config: ContainerConfig) async throws(DockerError) -> String
    /// Starting a running container is not an error.
    func startContainer(_ id: String) async throws(DockerError)
    /// SIGTERM, then SIGKILL after `timeout` seconds; stopping a stopped container is not an error.
    func stopContainer(_ id: String, timeout: Int) async throws(DockerError)
    /// A container that is already gone is not an error.
    func removeContainer(_ id: String, force: Bool) async throws(DockerError)
    /// Container events for containers carrying all of `labels`, reconnected for as long as the consumer
    /// listens: `.connected` after every (re)connection, when anything may have been missed.
    func followEvents(labels: [String], maximumBackoff: Duration) -> AsyncStream<EventStreamUpdate>
    /// Throws a 404 `DockerError` when the engine does not have the image.
    func inspectImage(_ name: String) async throws(DockerError) -> ImageDetails
    func pullImage(_ reference: String, progress: @Sendable (PullProgress) -> Void) async throws(DockerError)
}

extension ContainerEngine {
    public func followEvents(labels: [String]) -> AsyncStream<EventStreamUpdate> {
        followEvents(labels: labels, maximumBackoff: .seconds(5))
    }

    public func pullImage(_ reference: String) async throws(DockerError) {
        try await pullImage(reference, progress: { _ in })
    }
}

extension DockerClient: ContainerEngine {
    public var location: String { host.description }
}
