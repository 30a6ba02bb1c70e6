import HTTPTransport

extension DockerClient {
    /// True when the engine answers. Maps to `GET /_ping`.
    public func ping() async throws(DockerError) {
        _ = try await send(HTTPRequest(.get, "/_ping", timeout: .seconds(5)), versioned: false)
    }
}
