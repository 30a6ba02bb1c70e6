import Foundation
import Testing
import TestSupport

/// `hecd apply --watch` against a real etcd: edits land, and a file an editor leaves empty or deletes for a
/// moment mid-save removes nothing from the cluster; a file that stays deleted removes its app.
@Suite struct ApplyWatchIntegrationTests {
    func manifest(_ name: String, replicas: Int) -> String {
        "name: \(name)\nimage: hecd-demo:1\nreplicas: \(replicas)\nport: 80\n"
    }

    @Test func savesLandAndAMomentarilyEmptyOrDeletedFileRemovesNothing() async throws {
        try await withEtcd { etcd in
            let directory = NSTemporaryDirectory() + "hecd-apply-watch-\(UUID().uuidString.prefix(8))"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let web = directory + "/web.yaml"
            let api = directory + "/api.yaml"
            try manifest("web", replicas: 2).write(toFile: web, atomically: true, encoding: .utf8)
            try manifest("api", replicas: 1).write(toFile: api, atomically: true, encoding: .utf8)
            let log = directory + "/apply.log"
            let apply = try ChildProcess(
                AgentProcess.binary, ["apply", "--watch", directory, "--etcd", etcd.clientURL], standardOutput: log, standardError: log)
            defer { apply.killGroup() }
            func stored(_ app: String) async -> String {
                ((try? await etcd.etcdctl(["get", "/hecd/apps/\(app)", "--print-value-only"])) ?? "")
                    .trimmingCharacters(in: .whitespacesAndNewlines)
            }
            func output() -> String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

            let bothStored = await eventually(within: 10) {
                let (web, api) = (await stored("web"), await stored("api"))
                return web.contains("replicas: 2") && !api.isEmpty
            }
            #expect(bothStored, "\(output())")
            // An editor truncates the file before it writes the new text.
            try "".write(toFile: web, atomically: false, encoding: .utf8)
            try await Task.sleep(for: .seconds(1))
            #expect(await stored("web").contains("replicas: 2"), "web removed while its file was empty for a moment\n\(output())")
            try manifest("web", replicas: 5).write(toFile: web, atomically: false, encoding: .utf8)
            #expect(await eventually(within: 5) { await stored("web").contains("replicas: 5") }, "\(output())")
            // An editor deletes the file and writes it again.
            try FileManager.default.removeItem(atPath: api)
            try await Task.sleep(for: .milliseconds(800))
            #expect(!(await stored("api")).isEmpty, "api removed while its file was gone for a moment\n\(output())")
            try manifest("api", replicas: 3).write(toFile: api, atomically: true, encoding: .utf8)
            #expect(await eventually(within: 5) { await stored("api").contains("replicas: 3") }, "\(output())")
            // Deleted for good: removed once the grace period is over.
            try FileManager.default.removeItem(atPath: api)
            #expect(await eventually(within: 10) { (await stored("api")).isEmpty }, "\(output())")
            #expect(await stored("web").contains("replicas: 5"))
            #expect(apply.isRunning, "hecd apply --watch ended\n\(output())")
        }
    }
}
