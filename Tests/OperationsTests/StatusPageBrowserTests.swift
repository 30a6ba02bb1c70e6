import Foundation
@testable import Operations
import TestSupport
import Testing

/// Headless Chromium (Debian's package) loads the status page: its DOM shows each app with its counts. A
/// screenshot at a phone's width is attached to the test's output.
@Suite("StatusPageBrowser", .serialized)
struct StatusPageBrowserTests {
    static let chromium = ProcessInfo.processInfo.environment["CHROMIUM_BINARY"] ?? "/usr/bin/chromium"

    @Test(
        "Chromium's DOM of the status page has a row per app with desired, running, ready and registered",
        .enabled(if: FileManager.default.isExecutableFile(atPath: chromium),
                 "needs Debian's chromium package (HECD_TEST_BROWSER=1 Deploy/test.sh installs it)"))
    func chromiumShowsEachApp() async throws {
        try await withObservedAgent { agent in
            try agent.write("web", replicas: 3)
            try agent.write("api", replicas: 1)
            agent.start()
            let settled = await eventually(within: 10) {
                let body = await agent.get("/")?.body ?? ""
                return body.components(separatedBy: "<td class=\"registered\">").count == 3
                    && body.contains("<td class=\"registered\">3</td>") && body.contains("<td class=\"registered\">1</td>")
            }
            #expect(settled)
            let profile = NSTemporaryDirectory() + "hecd-chromium-\(UUID().uuidString.prefix(8))"
            defer { try? FileManager.default.removeItem(atPath: profile) }
            let common = [
                "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
                "--user-data-dir=\(profile)", "--window-size=412,780",
            ]
            let url = "http://\(agent.address)/"
            let dom = try await runProgram(Self.chromium, common + ["--dump-dom", url])
            #expect(dom.status == 0, "\(dom.output)")
            for (app, count) in [("web", "3"), ("api", "1")] {
                let row = try #require(Self.row(app, in: dom.output), "no row for \(app) in the DOM: \(dom.output)")
                for state in ["desired", "running", "ready", "registered"] {
                    #expect(row.contains("<td class=\"\(state)\">\(count)</td>"), "\(app) \(state) in \(row)")
                }
                #expect(row.contains("<td>none</td>"), "\(app) has no problem: \(row)")
            }
            #expect(dom.output.contains("Ready."))
            let screenshot = profile + "/status.png"
            let shot = try await runProgram(Self.chromium, common + ["--screenshot=\(screenshot)", url])
            let png = try Data(contentsOf: URL(fileURLWithPath: screenshot))
            #expect(shot.status == 0 && png.starts(with: [0x89, 0x50, 0x4E, 0x47]), "\(shot.output)")
            Attachment.record(png, named: "hecd-status-page.png")
        }
    }

    /// The `<tr id="app-NAME">…</tr>` of the DOM.
    static func row(_ app: String, in dom: String) -> String? {
        guard let start = dom.range(of: "id=\"app-\(app)\"") else { return nil }
        guard let end = dom.range(of: "</tr>", range: start.upperBound..<dom.endIndex) else { return nil }
        return String(dom[start.lowerBound..<end.upperBound])
    }
}
