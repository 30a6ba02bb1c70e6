#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import HTTPTransport

extension DockerClient {
    /// Every container (running or not) that carries all of `labels` ("key=value" or "key").
    /// Maps to `GET /containers/json?all=true&filters={"label":[…]}`.
    public func listContainers(labels: [String]) async throws(DockerError) -> [ContainerSummary] {
        let query = labels.isEmpty ? "" : "&" + Self.filtersQuery(["label": labels])
        return try await sendDecoding([ContainerSummary].self, HTTPRequest(.get, "/containers/json?all=true" + query))
    }

    /// Creates a container and returns its id. Maps to `POST /containers/create?name=NAME`.
    public func createContainer(name: String, config: ContainerConfig) async throws(DockerError) -> String {
        struct Created: Decodable { let Id: String }
        let request = HTTPRequest.json(
            .post, "/containers/create?name=" + Self.percentEncode(name), body: Self.jsonBody(config))
        return try await sendDecoding(Created.self, request).Id
    }

    /// Starts a container; starting a running one is not an error. Maps to `POST /containers/{id}/start`.
    public func startContainer(_ id: String) async throws(DockerError) {
        _ = try await send(HTTPRequest(.post, "/containers/\(id)/start"), accept: [304])
    }

    /// Stops a container: SIGTERM, then SIGKILL after `timeout` seconds; stopping a stopped one is not an
    /// error. Maps to `POST /containers/{id}/stop?t=SECONDS`.
    public func stopContainer(_ id: String, timeout: Int) async throws(DockerError) {
        let request = HTTPRequest(.post, "/containers/\(id)/stop?t=\(timeout)", timeout: .seconds(timeout + 30))
        _ = try await send(request, accept: [304])
    }

    /// Removes a container and its anonymous volumes; `force` kills it first if it runs.
    /// A container that is already gone is not an error. Maps to `DELETE /containers/{id}?v=true`.
    public func removeContainer(_ id: String, force: Bool = false) async throws(DockerError) {
        _ = try await send(HTTPRequest(.delete, "/containers/\(id)?v=true&force=\(force)"), accept: [404])
    }

    /// Maps to `GET /containers/{id}/json`.
    public func inspectContainer(_ id: String) async throws(DockerError) -> ContainerDetails {
        try await sendDecoding(ContainerDetails.self, HTTPRequest(.get, "/containers/\(id)/json"))
    }

    /// Sends a signal, e.g. "KILL". Maps to `POST /containers/{id}/kill?signal=SIG`.
    public func killContainer(_ id: String, signal: String = "KILL") async throws(DockerError) {
        _ = try await send(HTTPRequest(.post, "/containers/\(id)/kill?signal=\(signal)"))
    }
}
