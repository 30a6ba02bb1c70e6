#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import Primitives
import Templates

/// The log line for one resource's render: what happened to its destination, in the operator's words.
struct RenderLogLine {
    var level: Logger.Level
    var message: String

    /// The line for `outcome`, or nil when there is nothing to say (a template failure is logged where it
    /// happens). `.wouldChange`'s diff itself is printed by the caller.
    init?(_ outcome: SyncOutcome, resource: TemplateResource, destination: String, keyCount: Int, secrets: SecretRedactor) {
        let name = resource.name
        switch outcome {
        case .unchanged:
            self.init(level: .debug, message: "\(name): \(destination) is up to date (\(keyCount) keys)")
        case .wouldChange:
            self.init(level: .info, message: "\(name): \(destination) would change (--noop)")
        case .updated(let check, let reload, let runtimeFallback):
            var message = "\(name): updated \(destination) (\(keyCount) keys)"
            if let check { message += ", checked in \(Self.milliseconds(check.duration))" }
            if let reload { message += ", reloaded in \(Self.milliseconds(reload.duration))" }
            if let runtimeFallback { message += " (a reload, not the runtime API: \(runtimeFallback))" }
            self.init(level: .info, message: message)
        case .updatedAtRuntime(let check, let changes, let undeleted, let duration):
            var message = "\(name): updated \(destination) (\(keyCount) keys)"
            if let check { message += ", checked in \(Self.milliseconds(check.duration))" }
            message += changes.isEmpty
                ? ", no server changed: no reload"
                : ", HAProxy changed at run time in \(Self.milliseconds(duration)), no reload: "
                    + changes.map(\.description).joined(separator: " ")
            if !undeleted.isEmpty {
                message += "; in maintenance until their connections close: \(undeleted.map(\.description).joined(separator: ", "))"
            }
            self.init(level: .info, message: message)
        case .reloaded(let reload):
            self.init(level: .notice, message: "\(name): reload succeeded this time (\(Self.milliseconds(reload.duration)))")
        case .checkFailed(let result):
            self.init(level: .error, message: "\(name): check_cmd rejected the new \(destination), which stays as it is and nothing is reloaded: \(secrets.redact("\(result)"))")
        case .reloadFailed(let result):
            self.init(level: .error, message: "\(name): \(destination) is updated but reload_cmd failed (retried at the next change): \(secrets.redact("\(result)"))")
        case .writeFailed(let message):
            self.init(level: .error, message: "\(name): \(message)")
        case .renderFailed:
            return nil
        }
    }

    init(level: Logger.Level, message: String) {
        self.level = level
        self.message = message
    }

    /// `8.4 ms` below 10 ms, `37 ms` above.
    static func milliseconds(_ duration: Duration) -> String {
        let tenths = duration.wholeMicroseconds / 100
        return tenths < 100 ? "\(tenths / 10).\(tenths % 10) ms" : "\(tenths / 10) ms"
    }
}

/// Replaces the values a template marked `secret` by `(secret)` in text bound for logs or the terminal.
struct SecretRedactor {
    private let secrets: [String]

    init(_ secrets: Set<String>) {
        // As written and as `haproxyQuote` escapes them; longest first, so that a secret containing another is
        // replaced whole.
        let forms = secrets.flatMap { [$0, String(RegistryData.haproxyQuoted($0).dropFirst().dropLast())] }
        self.secrets = Set(forms).sorted { $0.utf8.count > $1.utf8.count }
    }

    func redact(_ text: String) -> String {
        secrets.reduce(text) { $0.replacing($1, with: "(secret)") }
    }
}
