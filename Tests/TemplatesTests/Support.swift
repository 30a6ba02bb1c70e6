import Foundation
import Templates
import Testing

/// The seed article's keys.
let articleStore = MemoryStore([
    "/app/servers/backstabbing_rosalind": "192.168.1.22:49156",
    "/app/servers/cocky_morse": "192.168.1.22:49158",
    "/app/servers/goofy_goldstine": "192.168.1.22:49160",
    "/app/servers/prickly_blackwell": "192.168.1.22:49162",
])

/// Data passed as dot in the language tests.
let sampleData: TemplateValue = [
    "name": "web",
    "port": 8080,
    "ratio": 0.5,
    "tags": ["a", "b"],
    "nums": [1, 2, 3, 4, 5],
    "m": ["b": 2, "a": 1],
    "zm": ["z": "Z", "a": "A", "m": "M"],
    "empty": [],
    "emptyMap": [:],
    "nested": ["inner": ["x": "deep"]],
    "nothing": .null,
]

/// 2024-03-05 07:08:09.125 UTC, a Tuesday.
let fixedNow = Date(timeIntervalSince1970: 1_709_622_489.125)
let utc = TimeZone(identifier: "UTC") ?? TimeZone(secondsFromGMT: 0) ?? .current
let sampleEnvironment = ["HECD_TEST_VAR": "from-env", "EMPTY_VAR": ""]

/// One golden case: template text, expected output; the store and data default to the samples above.
struct Case: Sendable, CustomTestStringConvertible {
    var template: String
    var expected: String
    var store: MemoryStore = articleStore
    var data: TemplateValue = sampleData

    init(_ template: String, _ expected: String, store: MemoryStore = articleStore, data: TemplateValue = sampleData) {
        self.template = template
        self.expected = expected
        self.store = store
        self.data = data
    }

    var testDescription: String { template.replacingOccurrences(of: "\n", with: "⏎") }
}

/// One error case: template text and the full error description expected (`t:line:column: message`).
struct ErrorCase: Sendable, CustomTestStringConvertible {
    var template: String
    var expected: String

    init(_ template: String, _ expected: String) {
        self.template = template
        self.expected = expected
    }

    var testDescription: String { template.replacingOccurrences(of: "\n", with: "⏎") }
}

func render(
    _ text: String, store: MemoryStore = articleStore, data: TemplateValue = sampleData, name: String = "t"
) throws(TemplateError) -> String {
    let template = try Template(name: name, text: text)
    return try template.render(store: store, data: data, environment: sampleEnvironment, now: fixedNow, timeZone: utc)
}

func check(_ golden: Case, sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        let output = try render(golden.template, store: golden.store, data: golden.data)
        #expect(output == golden.expected, sourceLocation: sourceLocation)
    } catch {
        Issue.record("\(golden.template) failed: \(error)", sourceLocation: sourceLocation)
    }
}

func fixture(_ name: String) throws -> String {
    guard let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures") else {
        throw CocoaError(.fileNoSuchFile)
    }
    return try String(contentsOf: url, encoding: .utf8)
}
