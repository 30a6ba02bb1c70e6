/// When to render after changes, as pure logic over instants the caller supplies (a real clock in the renderer,
/// made-up instants in tests).
///
/// The first change after a quiet spell (no render in the `debounce` before it) is due at once: a lone change,
/// the usual case, reaches the proxy without waiting. Changes that come within `debounce` of a render are
/// batched: due `debounce` after the last change of the burst, so that 50 replicas registering one after
/// another give two renders (the first change at once, the rest together), but never later than `maxWait`
/// after the first change not yet rendered, so that a steady stream of changes cannot put it off for ever.
public struct DebounceScheduler<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    public let debounce: Duration
    public let maxWait: Duration
    /// The first and last change not yet rendered.
    public private(set) var firstPending: Instant?
    public private(set) var lastPending: Instant?
    /// When the last render was taken.
    public private(set) var lastRender: Instant?
    /// Whether the pending changes began after a quiet spell, so are due at once.
    private var leading = false

    public init(debounce: Duration, maxWait: Duration) {
        self.debounce = max(.zero, debounce)
        self.maxWait = max(self.debounce, maxWait)
    }

    /// Whether changes are waiting for a render.
    public var hasPending: Bool { firstPending != nil }

    /// A change happened at `now`.
    public mutating func changed(at now: Instant) {
        if firstPending == nil {
            firstPending = now
            leading = lastRender.map { $0.duration(to: now) >= debounce } ?? true
        }
        lastPending = now
    }

    /// When the pending changes are to be rendered; nil when none are pending.
    public var deadline: Instant? {
        guard let firstPending, let lastPending else { return nil }
        if leading { return firstPending }
        let quiet = lastPending.advanced(by: debounce)
        let cap = firstPending.advanced(by: maxWait)
        return quiet < cap ? quiet : cap
    }

    /// True (and the pending changes are taken) when a render is due at `now`. Changes recorded after this
    /// call start a new window.
    public mutating func takeDue(at now: Instant) -> Bool {
        guard let deadline, now >= deadline else { return false }
        firstPending = nil
        lastPending = nil
        leading = false
        lastRender = now
        return true
    }
}
