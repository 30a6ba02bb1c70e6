#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import HTTPTransport

extension EtcdClient {
    /// Exchanges a user name and password for a token, sent raw as the `Authorization` header of later
    /// requests. Returns "" when etcd has authentication disabled (requests then go without a token).
    /// Maps to `POST /v3/auth/authenticate {"name": …, "password": …}`.
    func authenticate(_ credentials: EtcdCredentials) async throws(EtcdError) -> String {
        let call = "POST /v3/auth/authenticate"
        let body = Self.jsonBody(AuthenticateRequest(name: credentials.user, password: credentials.password))
        let response = try await send("/v3/auth/authenticate", body, token: nil)
        guard response.isSuccess else {
            let error = GatewayError(response.body)
            let message = error?.message ?? response.bodyText
            if message.contains("authentication is not enabled") { return "" }
            if message.contains("authentication failed") || message.contains("invalid user") {
                throw .authentication(user: credentials.user, message: message)
            }
            throw Self.statusError(call: call, response: response)
        }
        let decoded = try Self.decode(AuthenticateResponse.self, response.body, call: call)
        guard let token = decoded.token, !token.isEmpty else {
            throw .decoding(call: call, body: response.bodyText, reason: "the answer carries no token")
        }
        return token
    }
}
