@testable import DockerEngine
import Foundation
import Testing

/// Docker's RFC 3339 timestamps, read without Foundation's ICU-backed date formatter.
@Suite struct DockerTimeTests {
    @Test func nanosecondsOffsetsAndNever() throws {
        let utc = try #require(DockerTime.parse("2026-11-24T21:35:27.123456789Z"))
        #expect(abs(utc.timeIntervalSince1970 - 1_795_556_127.123456789) < 1e-6)
        let offset = try #require(DockerTime.parse("2026-11-24T22:35:27+01:00"))
        #expect(offset.timeIntervalSince1970 == 1_795_556_127)
        let leapDay = try #require(DockerTime.parse("2024-02-29T00:00:00Z"))
        #expect(leapDay.timeIntervalSince1970 == 1_709_164_800)
        #expect(DockerTime.parse("1970-01-01T00:00:00Z")?.timeIntervalSince1970 == 0)
        // Docker's "never" (a container not yet started or finished).
        #expect(DockerTime.parse("0001-01-01T00:00:00Z") == nil)
        #expect(DockerTime.parse(nil) == nil)
    }

    @Test func malformedTimesAreNotDates() {
        for text in ["", "2026-11-24", "2026-11-24T21:35:27", "2026-13-01T00:00:00Z", "2026-11-24T21:35:27+0100",
                     "2026-11-24T21:35:27Zjunk", "2026-11-24 21:35:27Z"] {
            #expect(DockerTime.parse(text) == nil, "\(text)")
        }
    }
}
