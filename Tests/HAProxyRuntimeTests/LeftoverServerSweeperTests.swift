import Foundation
import HAProxyRuntime
import Synchronization
import Testing

/// The sweeper's bookkeeping, with config files that open no admin socket (so nothing is sent anywhere).
@Suite struct LeftoverServerSweeperTests {
    private func configFile(_ text: String) throws -> String {
        let path = NSTemporaryDirectory() + "hecd-sweep-\(UUID().uuidString.prefix(8)).cfg"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func aServerBackInTheFileIsLeftToHAProxyAndTheOthersGo() async throws {
        let path = try configFile("backend web\n    server web-1 10.0.0.1:80\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let reported = Mutex<[ServerReference]>([])
        let sweeper = LeftoverServerSweeper { _, servers in reported.withLock { $0 += servers } }
        let back = ServerReference(backend: "web", server: "web-1")
        let gone = ServerReference(backend: "web", server: "web-2")
        sweeper.add([back, gone], configPath: path)
        #expect(sweeper.waiting(configPath: path) == [back, gone])

        await sweeper.sweep()
        #expect(sweeper.waiting(configPath: path).isEmpty)
        // No admin socket any more: web-2 has nothing left to wait for; web-1 was never deleted.
        #expect(reported.withLock { $0 } == [gone])
    }

    @Test func aReloadForgetsTheFilesServers() async throws {
        let sweeper = LeftoverServerSweeper()
        sweeper.add([ServerReference(backend: "web", server: "web-3")], configPath: "/etc/hecd/haproxy.cfg")
        sweeper.reloaded(configPath: "/etc/hecd/haproxy.cfg")
        #expect(sweeper.waiting(configPath: "/etc/hecd/haproxy.cfg").isEmpty)
    }

    @Test func aFileThatCannotBeReadKeepsItsServersWaiting() async {
        let sweeper = LeftoverServerSweeper()
        let server = ServerReference(backend: "web", server: "web-4")
        sweeper.add([server], configPath: "/nonexistent/haproxy.cfg")
        await sweeper.sweep()
        #expect(sweeper.waiting(configPath: "/nonexistent/haproxy.cfg") == [server])
    }
}
