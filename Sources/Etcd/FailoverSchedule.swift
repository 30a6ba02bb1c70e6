/// When one etcd request sends its next attempt, and to which endpoint: the decisions of `EtcdClient.send`,
/// without I/O.
///
/// The first attempt goes to `order[0]`. An attempt that fails (refused, or an answer that says "try another
/// member") is followed at once by one to the next endpoint in `order`, until every endpoint has had one in
/// this round. An attempt that is merely unanswered after `hedgeDelay` (a hung member, or a follower whose
/// proposal went to a dead leader) is not abandoned: the next endpoint gets the same request beside it, and the
/// first usable answer wins. Rounds go on, wrapping around `order`, until the deadline; after a round in which
/// every attempt failed (no member can serve now, e.g. quorum lost), the pause before the next grows up to
/// `maximumPause`, so a long outage costs a few requests a second, not a busy loop. While every endpoint may
/// still hold an unanswered attempt, a round lasts at least three hedge delays, so copies do not pile up on a
/// lone hung member. A round in which every endpoint refused the connection ends the request at once:
/// nothing runs there.
struct FailoverSchedule {
    typealias Instant = ContinuousClock.Instant

    /// What to do after an event.
    enum Step: Equatable {
        /// Send an attempt to this endpoint now.
        case send(endpoint: Int)
        /// Nothing until `wakeUp` (or until an attempt ends).
        case wait
        /// The deadline has passed: fail the request.
        case giveUp
    }

    let order: [Int]
    let hedgeDelay: Duration
    let maximumPause: Duration
    let deadline: Instant
    /// Attempts sent, all rounds together.
    private(set) var sent = 0
    /// Attempts sent and not ended yet.
    private(set) var inFlight = 0
    private var sentInRound = 0
    private var failedInRound = 0
    private var refusedInRound = 0
    private var failedRounds = 0
    private var lastSent: Instant
    private var roundStart: Instant
    /// The shortest round while every endpoint may still hold an unanswered attempt: three hedge delays, what
    /// a round over three members takes anyway, so a lone hung member gets a copy of the request every 750 ms,
    /// not every 250 ms.
    private var minimumRound: Duration { hedgeDelay * 3 }

    init(order: [Int], hedgeDelay: Duration, maximumPause: Duration, now: Instant, deadline: Instant) {
        self.order = order
        self.hedgeDelay = hedgeDelay
        self.maximumPause = max(hedgeDelay, maximumPause)
        self.deadline = deadline
        self.lastSent = now
        self.roundStart = now
    }

    /// When to call `timerFired` next: a hedge delay after the last attempt within a round; the pause between
    /// rounds once every endpoint has had one; never later than the deadline.
    var wakeUp: Instant {
        if sentInRound < order.count { return min(lastSent + hedgeDelay, deadline) }
        var next = lastSent + pause
        if inFlight >= order.count { next = max(next, roundStart + minimumRound) }
        return min(next, deadline)
    }

    /// The first attempt.
    mutating func start(now: Instant) -> Step {
        guard !order.isEmpty, now < deadline else { return .giveUp }
        return send(now: now)
    }

    /// An attempt ended without a usable answer; `refused` when nothing listens there (connection refused).
    /// A round in which every endpoint refused ends the request: no etcd runs there to wait for.
    mutating func attemptFailed(now: Instant, refused: Bool = false) -> Step {
        inFlight -= 1
        failedInRound += 1
        if refused { refusedInRound += 1 }
        guard now < deadline else { return .giveUp }
        if sentInRound < order.count { return send(now: now) }
        guard inFlight == 0, failedInRound >= sentInRound else { return .wait }
        if refusedInRound >= sentInRound { return .giveUp }
        failedRounds += 1
        return .wait
    }

    /// `wakeUp` has come.
    mutating func timerFired(now: Instant) -> Step {
        guard now < deadline else { return .giveUp }
        guard now >= wakeUp else { return .wait }
        if sentInRound >= order.count {
            sentInRound = 0
            failedInRound = 0
            refusedInRound = 0
        }
        return send(now: now)
    }

    /// The pause between rounds: the hedge delay, doubled after each further round in which every attempt
    /// failed (the first such round may be an election just ending: it is retried soon).
    private var pause: Duration {
        var pause = hedgeDelay
        for _ in 0..<max(0, failedRounds - 1) where pause < maximumPause { pause = pause * 2 }
        return min(pause, maximumPause)
    }

    private mutating func send(now: Instant) -> Step {
        let endpoint = order[sent % order.count]
        if sentInRound == 0 { roundStart = now }
        sent += 1
        sentInRound += 1
        inFlight += 1
        lastSent = now
        return .send(endpoint: endpoint)
    }
}
