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
    /// stream (HTTP 200 followed by `{"error": …}`) are thrown like any other; a registry that refuses for
    /// lack of credentials gives `.pullUnauthorized`, which says what to do.
    ///
    /// With `registryAuth`, the credentials for the image's registry (found as Docker finds it) are read from
    /// that file at each pull and sent as `X-Registry-Auth`, as the docker CLI does.
    /// Maps to `POST /images/create?fromImage=REPO&tag=TAG`.
    public func pullImage(
        _ reference: String, progress: @Sendable (PullProgress) -> Void = { _ in }
    ) async throws(DockerError) {
        let image = ImageReference(reference)
        let path = "/v\(apiVersion)/images/create?fromImage=\(Self.percentEncode(image.repository))"
            + "&tag=\(Self.percentEncode(image.tag))"
        let lookup = credentialLookup(for: image)
        var request = HTTPRequest(.post, path)
        if let credential = lookup.credential { request.headers["X-Registry-Auth"] = credential.header }
        do {
            for try await event in http.stream(request) {
                guard case .line(let line) = event else { continue }
                guard let update = try? JSONDecoder().decode(PullProgress.self, from: line) else { continue }
                if let message = update.error {
                    throw Self.pullError(reference, image: image, message: message, lookup: lookup)
                }
                progress(update)
            }
        } catch let error as DockerError {
            throw error
        } catch let error as HTTPTransportError {
            if case .status(let status, let body) = error.kind {
                let message = Self.engineMessage(Data(body.utf8))
                if Self.isAuthorizationRefusal(message) {
                    throw Self.pullError(reference, image: image, message: message, lookup: lookup)
                }
                throw .status(call: request.summary, status: status, message: message)
            }
            throw .transport(error)
        } catch {
            throw .pull(image: reference, message: "\(error)")
        }
    }

    /// What a pull found in the credentials file for an image's registry.
    struct CredentialLookup {
        /// The file looked in; nil without `registryAuth`.
        var path: String?
        var credential: RegistryCredential?
        /// The file read, when there is one.
        var credentials: RegistryCredentials?
        /// Why the file could not be used, when it could not.
        var failure: RegistryCredentialsError?
    }

    /// The credentials for the image's registry from `registryAuth`, read now.
    func credentialLookup(for image: ImageReference) -> CredentialLookup {
        guard let registryAuth else { return CredentialLookup() }
        do {
            let credentials = try registryAuth.load()
            return CredentialLookup(
                path: registryAuth.path, credential: credentials?.credential(for: image.credentialsKey),
                credentials: credentials)
        } catch {
            return CredentialLookup(path: registryAuth.path, failure: error)
        }
    }

    /// A pull error: `.pullUnauthorized` with advice when the registry asked for credentials, else `.pull`.
    static func pullError(
        _ reference: String, image: ImageReference, message: String, lookup: CredentialLookup
    ) -> DockerError {
        guard isAuthorizationRefusal(message) else { return .pull(image: reference, message: message) }
        return .pullUnauthorized(
            image: reference, registry: image.registry, message: message,
            advice: pullAdvice(registry: image.registry, lookup: lookup))
    }

    /// What the operator should do about a refused pull, given what the credentials file held.
    static func pullAdvice(registry: String, lookup: CredentialLookup) -> String {
        let login = registry == ImageReference.dockerHubDomain ? "docker login" : "docker login \(registry)"
        if let credentials = lookup.credentials, lookup.credential != nil {
            return "the credentials for \(registry) in \(credentials.source) were sent and refused: "
                + "run `\(login)` again (or correct that file)"
        }
        let why: String
        if let failure = lookup.failure {
            why = "\(failure)"
        } else if let credentials = lookup.credentials, credentials.isDelegated(registry) {
            why = "\(credentials.source) keeps them in a credential store or helper, which hecd does not run"
        } else if let credentials = lookup.credentials {
            why = "\(credentials.source) has no entry for \(registry) in \"auths\""
        } else if let path = lookup.path {
            why = "\(path) does not exist"
        } else {
            why = "this client reads no credentials file"
        }
        return "no credentials for \(registry) were sent (\(why)): run `\(login)` as the agent's user (without "
            + "--registry-auth, the agent reads the file it writes, $DOCKER_CONFIG/config.json or ~/.docker/config.json, "
            + "at each pull), or pass --registry-auth FILE with \(registry) in its \"auths\""
    }

    /// Whether the engine's message means the registry wants credentials (none, or not these).
    static func isAuthorizationRefusal(_ message: String) -> Bool {
        let text = message.lowercased()
        return ["no basic auth credentials", "unauthorized", "authentication required", "access denied",
                "requested access to the resource is denied", "may require 'docker login'", "incorrect username or password"]
            .contains { text.contains($0) }
    }
}
