import Synchronization

/// What one render may spend: a runaway template (a recursion that doubles a string, a huge `printf` width)
/// ends with an error naming the template and line instead of eating the machine.
public struct RenderLimits: Sendable, Hashable {
    /// The default output budget: 64 MB.
    public static let defaultMaxOutputBytes = 64 << 20
    /// The default step budget: a million steps, about 0.4 s of work in a release build; a config with 10,000
    /// servers takes about 100,000.
    public static let defaultMaxSteps = 1_000_000

    /// The most bytes a render may write; no single value a function returns may be larger either.
    public var maxOutputBytes: Int
    /// The most steps a render may take: each action, text, function call, loop iteration and `{{template}}`
    /// call is a step, a function that returns a list spends one step per element, and strings cost by their
    /// size: one step per `argumentBytesPerStep` bytes a function is given and per `resultBytesPerStep` bytes
    /// it returns (so a million steps copy at most about half a gigabyte).
    public var maxSteps: Int

    /// A function's string arguments spend one step per this many bytes, before it runs.
    public static let argumentBytesPerStep = 1024
    /// A function's string result spends one step per this many bytes.
    public static let resultBytesPerStep = 512

    public init(maxOutputBytes: Int = RenderLimits.defaultMaxOutputBytes, maxSteps: Int = RenderLimits.defaultMaxSteps) {
        self.maxOutputBytes = maxOutputBytes
        self.maxSteps = maxSteps
    }
}

/// A registry entry a template left out of its output, and why (see `validServers`, `validNames`, `reject`).
public struct RejectedEntry: Sendable, Hashable, CustomStringConvertible {
    /// The key as the template sees it, e.g. `/app/servers/web-1`.
    public var key: String
    /// The value (or the name) that was refused, as stored.
    public var value: String
    /// Why, in a few words.
    public var reason: String

    public init(key: String, value: String, reason: String) {
        self.key = key
        self.value = value
        self.reason = reason
    }

    /// `key /app/servers/x = "10.0.0.1:80\nlisten evil…": the value is not host:port (…)`: the value
    /// escaped (control characters shown as `\n`, `\x01`) and cut to 80 characters.
    public var description: String {
        "key \(RegistryData.escapedForLog(key, limit: 120)) = \(RegistryData.escapedForLog(value, limit: 80)): \(reason)"
    }
}

/// What a render produced: the text, the registry entries it refused, and the values it was told are secret.
public struct RenderResult: Sendable {
    public var text: String
    /// In the order the template refused them, each once.
    public var rejections: [RejectedEntry]
    /// Values passed through `secret`: they must not appear in logs.
    public var secrets: Set<String>
}

/// Collects what functions report during one render (rejections, secrets). A render runs on one thread; the
/// lock only makes the type Sendable.
final class RenderFindings: Sendable {
    private struct State {
        var rejections: [RejectedEntry] = []
        var seen: Set<RejectedEntry> = []
        var secrets: Set<String> = []
    }

    private let state = Mutex(State())

    func reject(_ entry: RejectedEntry) {
        state.withLock { state in
            if state.seen.insert(entry).inserted { state.rejections.append(entry) }
        }
    }

    func secret(_ value: String) {
        guard !value.isEmpty else { return }
        state.withLock { _ = $0.secrets.insert(value) }
    }

    var rejections: [RejectedEntry] { state.withLock { $0.rejections } }
    var secrets: Set<String> { state.withLock { $0.secrets } }
}

/// What one render has spent of its `RenderLimits`, shared by the executor and the functions that build large
/// values (`split`, `seq`, `json`, `replace`, `join`, `printf`), so that a value past the budget is refused before
/// it is built rather than after: a 64 MB string split into characters would take gigabytes first.
final class RenderBudget {
    let limits: RenderLimits
    private(set) var steps = 0

    init(_ limits: RenderLimits) { self.limits = limits }

    /// Spends `count` steps; false once the render has taken more than `limits.maxSteps`.
    func spend(_ count: Int) -> Bool {
        let (total, overflow) = steps.addingReportingOverflow(max(0, count))
        steps = overflow ? Int.max : total
        return steps <= limits.maxSteps
    }

    /// Spends a step for each of the `count` values a function is about to build, or refuses to build them.
    func build(_ count: Int, _ what: String) throws(FunctionError) {
        guard spend(count) else {
            throw FunctionError("building \(count) more \(what) goes past the render's max_steps budget (\(limits.maxSteps) steps)")
        }
    }

    /// Refuses a result of `bytes` before it is built when it would not fit the max_output budget.
    func fit(_ bytes: Int) throws(FunctionError) {
        guard bytes <= limits.maxOutputBytes else { throw tooLarge(bytes) }
    }

    /// The error for a result past the max_output budget, of `bytes` when they are known.
    func tooLarge(_ bytes: Int? = nil) -> FunctionError {
        let size = bytes.map { "of \($0) bytes " } ?? ""
        return FunctionError("its result \(size)would be larger than the render's max_output budget (\(limits.maxOutputBytes) bytes); not built")
    }
}
