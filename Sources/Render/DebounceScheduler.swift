/// When to render after changes, as pure logic over instants the caller supplies (a real clock in the renderer,
/// made-up instants in tests).
///
/// A render is due `debounce` after the last change of a burst, so that 50 replicas registering one after
/// another give one render; but never later than `maxWait` after the first change not yet rendered, so that a
/// steady stream of changes (each arriving within `debounce` of the last) cannot put it off for ever.
public struct DebounceScheduler<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    public let debounce: Duration
    public let maxWait: Duration
    /// The first and last change not yet rendered.
    public private(set) var firstPending: Instant?
    public private(set) var lastPending: Instant?

    public init(debounce: Duration, maxWait: Duration) {
        self.debounce = max(.zero, debounce)
        self.maxWait = max(self.debounce, maxWait)
    }

    /// Whether changes are waiting for a render.
    public var hasPending: Bool { firstPending != nil }

    /// A change happened at `now`.
    public mutating func changed(at now: Instant) {
        if firstPending == nil { firstPending = now }
        lastPending = now
    }

    /// When the pending changes are to be rendered; nil when none are pending.
    public var deadline: Instant? {
        guard let firstPending, let lastPending else { return nil }
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
        return true
    }
}
