import Etcd
import Foundation
import Render
import Testing

/// confd's env and file backends as key sources.
@Suite struct LocalKeySourceTests {
    @Test func environmentVariablesAreKeysAsConfdNamesThem() async throws {
        let source = LocalKeySource(.environment(["APP_SERVERS_WEB1": "10.0.0.1:80", "APP_SERVERS_WEB2": "10.0.0.2:80", "HOME": "/root"]))
        let range = try await source.readKeys(prefix: "/app/servers", revision: nil)
        #expect(range.kvs.map(\.key) == ["/app/servers/web1", "/app/servers/web2"])
        #expect(range.kvs.map(\.value) == ["10.0.0.1:80", "10.0.0.2:80"])
    }

    @Test func yamlAndJSONFilesAreFlattenedAndWatched() async throws {
        let folder = NSTemporaryDirectory() + "hecd-files-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try "app:\n  servers:\n    web1: 10.0.0.1:80\n  list: [a, b]\n  on: true\n  port: 8080\n  none: null\n".write(toFile: folder + "/a.yaml", atomically: true, encoding: .utf8)
        try #"{"db": {"host": "10.0.0.9", "ratio": 0.5}}"#.write(toFile: folder + "/b.json", atomically: true, encoding: .utf8)
        let source = LocalKeySource(.files([folder], filter: "*"), pollInterval: .milliseconds(50))
        #expect(try source.snapshot() == [
            "/app/servers/web1": "10.0.0.1:80", "/app/list/0": "a", "/app/list/1": "b", "/app/on": "true",
            "/app/port": "8080", "/db/host": "10.0.0.9", "/db/ratio": "0.5",
        ])
        let updates = source.watchKeys(prefix: "/app/servers", fromRevision: 2)
        var iterator = updates.makeAsyncIterator()
        guard case .connected? = await iterator.next() else {
            Issue.record("no connected update")
            return
        }
        try "app:\n  servers:\n    web2: 10.0.0.2:80\n".write(toFile: folder + "/a.yaml", atomically: true, encoding: .utf8)
        guard case .events(let events, _)? = await iterator.next() else {
            Issue.record("no events after the file changed")
            return
        }
        #expect(Set(events.map { "\($0.kind.rawValue) \($0.kv.key)" }) == ["PUT /app/servers/web2", "DELETE /app/servers/web1"])
    }

    @Test func aMissingOrBrokenFileIsAnError() throws {
        #expect(throws: LocalKeySourceError.self) { try LocalKeySource(.files(["/nonexistent.yaml"], filter: "*")).snapshot() }
    }
}
