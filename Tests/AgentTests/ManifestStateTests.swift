@testable import Agent
import Foundation
import Manifests
import Reconciler
import Testing
import Primitives

/// What the agent believes the manifests declare as files are edited, broken, removed and put back.
@Suite struct ManifestStateTests {
    func file(_ path: String, _ text: String) -> ManifestFile {
        ManifestLoader.parse(text, path: path)
    }

    func web(replicas: Int) -> String {
        "name: web\nimage: hecd-demo:1\nreplicas: \(replicas)\nport: 80\n"
    }

    let start = Date(timeIntervalSince1970: 1_000_000)

    @Test func aBrokenEditKeepsTheLastValidVersionAndIsReportedOncePerChange() {
        var state = ManifestState()
        #expect(state.update(with: [file("/m/web.yaml", web(replicas: 3))], now: start).isEmpty)
        let broken = file("/m/web.yaml", "name: web\nimage: hecd-demo:1\nreplicas: three\n")
        let problems = state.update(with: [broken], now: start)
        #expect(problems.count == 1)
        #expect(problems.first?.description.contains("/m/web.yaml:3") == true)
        #expect(problems.first?.description.contains("replicas") == true)
        #expect(state.desired.apps.map(\.replicas) == [3])
        #expect(state.desired.untouchable.isEmpty)
        // The same broken file read again: nothing new to report.
        #expect(state.update(with: [broken], now: start).isEmpty)
        // Fixed with a new count: taken at once.
        #expect(state.update(with: [file("/m/web.yaml", web(replicas: 5))], now: start).isEmpty)
        #expect(state.desired.apps.map(\.replicas) == [5])
    }

    @Test func anInPlaceSaveCaughtEmptyIsNotReportedUnlessItStaysEmpty() {
        var state = ManifestState(emptyGrace: 1)
        _ = state.update(with: [file("/m/web.yaml", web(replicas: 3))], now: start)
        // `cat > web.yaml`: read between the truncate and the write.
        #expect(state.update(with: [file("/m/web.yaml", "")], now: start).isEmpty)
        #expect(state.nextEmptyCheck == start.addingTimeInterval(1))
        #expect(state.desired.apps.map(\.replicas) == [3], "the app is held as it was meanwhile")
        #expect(state.update(with: [file("/m/web.yaml", web(replicas: 4))], now: start.addingTimeInterval(0.1)).isEmpty)
        #expect(state.nextEmptyCheck == nil)
        #expect(state.desired.apps.map(\.replicas) == [4])

        // Emptied for real: reported once the grace is over, once, and not rechecked after that.
        #expect(state.update(with: [file("/m/web.yaml", "# nothing\n")], now: start.addingTimeInterval(5)).isEmpty)
        let problems = state.update(with: [file("/m/web.yaml", "# nothing\n")], now: start.addingTimeInterval(6.5))
        #expect(problems.count == 1)
        #expect(problems.first?.message.contains("the file is empty") == true)
        #expect(state.nextEmptyCheck == nil)
        #expect(state.update(with: [file("/m/web.yaml", "# nothing\n")], now: start.addingTimeInterval(8)).isEmpty)
        #expect(state.desired.apps.map(\.replicas) == [4])
        // A file that was never valid is reported at once.
        #expect(state.update(with: [file("/m/web.yaml", "# nothing\n"), file("/m/api.yaml", "")], now: start.addingTimeInterval(9)).count == 1)
    }

    @Test func aVanishedFileDropsItsAppOnlyAfterTheGrace() {
        var state = ManifestState(removalGrace: 2)
        _ = state.update(with: [file("/m/web.yaml", web(replicas: 3))], now: start)
        _ = state.update(with: [], now: start)
        #expect(state.nextRemoval == start.addingTimeInterval(2))
        #expect(state.dropVanished(now: start.addingTimeInterval(1.9)).isEmpty)
        #expect(state.desired.apps.map(\.name) == ["web"])

        // An editor writes it back within the grace: nothing is dropped.
        _ = state.update(with: [file("/m/web.yaml", web(replicas: 3))], now: start.addingTimeInterval(1))
        #expect(state.nextRemoval == nil)
        #expect(state.dropVanished(now: start.addingTimeInterval(5)).isEmpty)

        // Gone for good.
        _ = state.update(with: [], now: start.addingTimeInterval(10))
        #expect(state.dropVanished(now: start.addingTimeInterval(12)) == ["web"])
        #expect(state.desired.apps.isEmpty)
    }

    @Test func aBrokenNewFileLeavesItsAppUntouchedOrAllUndeclaredApps() {
        var state = ManifestState()
        _ = state.update(with: [file("/m/api.yaml", "name: api\nimage: hecd-demo:1\nreplicas: -1\n")], now: start)
        #expect(state.desired.apps.isEmpty)
        #expect(state.desired.untouchable == ["api"])
        #expect(!state.desired.keepUndeclared)

        // A file whose app name cannot be told: containers of no declared app are kept.
        _ = state.update(with: [file("/m/what.yaml", "[not a mapping")], now: start)
        #expect(state.desired.keepUndeclared)
    }

    @Test func twoFilesNamingOneAppTheFirstWins() {
        var state = ManifestState()
        _ = state.update(with: [file("/m/a.yaml", web(replicas: 2)), file("/m/b.yaml", web(replicas: 7))], now: start)
        #expect(state.desired.apps.map(\.replicas) == [2])
    }
}
