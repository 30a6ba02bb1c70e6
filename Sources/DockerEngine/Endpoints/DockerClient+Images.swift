#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import HTTPTransport

extension DockerClient {
    /// Maps to `GET /images/{name}/json`; throws a 404 `DockerError` when the image is not here.
    public func inspectImage(_ name: String) async throws(DockerError) -> ImageDetails {
        try await sendDecoding(ImageDetails.self, HTTPRequest(.get, "/images/\(Self.percentEncode(name))/json"))
    }

    /// Pulls an image, reporting each progress line. Errors the engine reports inside its progress
    /// stream (HTTP 200 followed by `{"error": …}`) are thrown like any other.
    /// Maps to `POST /images/create?fromImage=REPO&tag=TAG`.
    public func pullImage(
        _ reference: String, progress: @Sendable (PullProgress) -> Void = { _ in }
    ) async throws(DockerError) {
        let image = ImageReference(reference)
        let path = "/v\(apiVersion)/images/create?fromImage=\(Self.percentEncode(image.repository))"
            + "&tag=\(Self.percentEncode(image.tag))"
        let request = HTTPRequest(.post, path)
        do {
            for try await event in http.stream(request) {
                guard case .line(let line) = event else { continue }
                guard let update = try? JSONDecoder().decode(PullProgress.self, from: line) else { continue }
                if let message = update.error {
                    throw DockerError.pull(image: reference, message: message)
                }
                progress(update)
            }
        } catch let error as DockerError {
            throw error
        } catch let error as HTTPTransportError {
            if case .status(let status, let body) = error.kind {
                throw .status(call: request.summary, status: status, message: Self.engineMessage(Data(body.utf8)))
            }
            throw .transport(error)
        } catch {
            throw .pull(image: reference, message: "\(error)")
        }
    }
}
