import TestSupport

extension StubHTTPServer.Request {
    /// The watch's `create_request` object, as etcd's gateway reads it.
    var createRequest: [String: Any]? { json?["create_request"] as? [String: Any] }
}
