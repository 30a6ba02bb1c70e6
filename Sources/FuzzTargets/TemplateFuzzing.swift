import Templates
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A template either fails to parse with an error inside its text, or renders within the renderer's budget, or
/// stops with an error inside its text; and its time and memory stay in proportion to that budget (libFuzzer's
/// 1 s timeout and memory limit are what check it). The budget is a fifth of the default steps with an output
/// budget of 8 MB rather than 64 MB: the default budgets allow about a gigabyte of copying and scanning, a
/// second or more in the fuzzer's instrumented build, which the timeout would report every time.
/// DNS and the file system are stubbed out: a render of the fuzzer's must not leave the process.
enum TemplateFuzzing {
    static let name = "fuzz.cfg.tmpl"
    static let limits = RenderLimits(maxOutputBytes: 8 << 20, maxSteps: RenderLimits.defaultMaxSteps / 5)

    /// A registry as the seed layout has it, plus values that exercise the JSON and validation functions.
    static let store = MemoryStore([
        "/app/servers/web-1": "10.0.0.1:80",
        "/app/servers/web-2": "10.0.0.2:80",
        "/app/servers/bad": "10.0.0.3:80\nlisten evil",
        "/app/web/config": #"{"port": 80, "hosts": ["a", "b"], "tls": true}"#,
        "/app/web/list": #"[1, "two", 3.5, null]"#,
        "/hecd/haproxy/stats-auth": "admin:secret",
        "/hecd/agents/host-1": #"{"host":"host-1","address":"10.0.0.1"}"#,
    ])

    static let environment = ["HOSTNAME": "fuzz-host", "EMPTY": ""]
    static let now = Date(timeIntervalSince1970: 1_764_633_600.5)
    static let timeZone = TimeZone(secondsFromGMT: 3600) ?? .hostOffset
    static let data = TemplateValue.map([
        "Name": .string("web"), "Port": .int(80), "Ratio": .double(0.5), "Up": .bool(true),
        "Servers": .list([.string("10.0.0.1:80"), .string("10.0.0.2:80")], kind: .strings),
        "Pair": .kv(key: "/app/servers/web-1", value: "10.0.0.1:80"),
    ])

    /// confd's DNS and file functions, answered without a lookup.
    static let offline: [String: TemplateFunction] = [
        "lookupIP": { _ in .list([.string("10.0.0.1"), .string("::1")], kind: .strings) },
        "lookupIPV4": { _ in .list([.string("10.0.0.1")], kind: .strings) },
        "lookupIPV6": { _ in .list([.string("::1")], kind: .strings) },
        "lookupSRV": { _ in .list([], kind: .srvRecords) },
        "fileExists": { _ in .bool(false) },
    ]

    static func check(_ input: Data) -> [String] {
        let text = text(of: input)
        let lines = lineCount(of: text)
        var broken: [String] = []
        func located(_ error: TemplateError, _ stage: String) {
            if error.templateName != name { broken.append("\(stage) error names \(error.templateName), not \(name)") }
            if !(1...lines).contains(error.line) || error.column < 1 {
                broken.append("\(stage) error outside the text (\(lines) lines): \(error)")
            }
        }
        let template: Template
        do {
            template = try Template(name: name, text: text, functions: offline)
        } catch {
            located(error, "a parse")
            return broken
        }
        if !template.definedTemplates.contains(name) { broken.append("the template does not define itself") }
        do {
            let result = try template.execute(
                store: store, data: data, environment: environment, now: now, timeZone: timeZone, limits: limits)
            if result.text.utf8.count > limits.maxOutputBytes {
                broken.append("a render of \(result.text.utf8.count) bytes, over the budget of \(limits.maxOutputBytes)")
            }
        } catch {
            located(error, "an execution")
        }
        return broken
    }
}
