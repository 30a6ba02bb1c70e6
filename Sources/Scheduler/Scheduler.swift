/// Decides which host runs each replica of each cluster app, as numbered slots `/hecd/assign/<host>/<app>/<slot>`.
/// Pure and deterministic: an input in, a decision out (the same input gives the same decision, whatever the order
/// of its arrays); the caller reads etcd, writes the decision's puts and deletes, and owns every timer.
///
/// The rules, in the order `place` applies them to each app:
/// 1. **Keep.** A slot stays where it is when its host is live, schedulable, admitted by the app's constraints and
///    not passed over for the app, and holds no more than `maxPerHost` of the app's slots (the lowest numbers stay).
///    Healthy slots are never rebalanced; only `moveOne` and `rebalanceOne` move them, start-first, when asked.
/// 2. **Move.** Every other slot moves at once, keeping its number: slots on dead, unschedulable or no longer
///    admitted hosts, slots above `maxPerHost`, and slots on a host passed over for the app (those stay only when no
///    other host can take them). One (app, slot) on several hosts keeps one copy: the one on a host it may stay on
///    (a kept one, then a held-back one, then a passed-over one), then the lowest host id.
/// 3. **Count.** Kept slots beyond `replicas` are removed (see `PlacementRun.trim`); slots that must move are
///    dropped before kept ones; missing slots take the lowest free numbers. Numbers are identities, not positions:
///    after a scale-down or a move an app may hold, say, slots 0, 1, 2 and 4 with `replicas: 4`, and they are not
///    renumbered (renumbering would restart containers).
/// 4. **Place.** Each slot to place (those on passed-over hosts first, then by number) goes to the host with the
///    fewest slots of the app, then the fewest slots overall, then the lowest id, among the live, schedulable,
///    admitted hosts that are not draining, not passed over and below `maxPerHost`; with `spreadLabel`, first to the
///    label value (hosts without the label are the value "") with the fewest slots of the app, then the lowest load
///    per host, then the value. Passed-over hosts take a slot only when no other host can; a slot that was on one
///    stays there in that case.
/// Slots on a host in `heldBack` (failover delay) stay exactly as they are, and the host takes nothing new.
/// 5. **Roll.** Every slot placed or kept carries the app's current spec hash; the agents roll containers one at a
///    time per host.
///
/// `README.md` next to this file has the same rules with the caller's side of start-first moves.
public enum Scheduler {
    /// A start-first move: write `add`, wait until its slot is registered, then delete `retire`.
    public typealias SlotMove = (add: SlotAssignment, retire: SlotAssignment)

    /// The complete desired `/hecd/assign` for `input`, and the writes from `input.current` to it.
    public static func place(_ input: SchedulerInput) -> SchedulerDecision {
        var run = PlacementRun(input)
        return run.decide()
    }

    /// One start-first move of `app`'s highest-numbered slot on `host` (for `hecd drain HOST` and
    /// `hecd rebalance APP`): `add` is a new slot number on another host that can take it (by the same choice as
    /// `place`, counting as if `retire` were gone; never a passed-over, draining or held-back host). The caller writes `add`,
    /// puts `retire.key` in `SchedulerInput.retiring`, and deletes `retire` once `add`'s container is registered.
    ///
    /// Nil when the app is unknown, `place(input)` leaves it no slot on `host`, another move of the app is still in
    /// flight (a slot of it in `input.retiring`), or no other host can take the slot. The slot to retire is read from
    /// `place(input)`, so a slot `place` would move anyway (host dead or ineligible) is not offered.
    ///
    /// While the move is in flight, `place` keeps both slots. Should `add`'s host die meanwhile, `place` moves the
    /// new slot on (same number): wait for the slot number to be registered, not for a host.
    public static func moveOne(app name: String, off host: String, input: SchedulerInput) -> SlotMove? {
        move(app: name, off: host, input: input, decision: place(input))
    }

    /// For `hecd rebalance APP`: one start-first move (as `moveOne` makes it) that evens `app` out: off the host
    /// with the most slots (with a spread label: in the group with the most) to a host with at least two fewer
    /// (with a spread label: to a group with at least two fewer, else to a host of the same group with two fewer).
    /// Nil when no such move exists (the spread is even as far as hosts can take slots) or a move is in flight.
    /// Call again after each move has finished; healthy slots are never rebalanced otherwise.
    public static func rebalanceOne(app name: String, input: SchedulerInput) -> SlotMove? {
        let decision = place(input)
        guard let app = input.apps.first(where: { $0.name == name }) else {
            return nil
        }
        var state = AppSlots(app: app, hosts: HostTable(input.hosts))
        for assignment in decision.assignments where assignment.app == name && !input.retiring.contains(assignment.key) {
            state.add(slot: assignment.slot, host: assignment.host)
        }
        let sources = Set(state.hostOfSlot.values).sorted { lhs, rhs in
            let lhsRank = (state.slots(inGroup: state.group(of: lhs)), state.slots(on: lhs))
            let rhsRank = (state.slots(inGroup: state.group(of: rhs)), state.slots(on: rhs))
            return lhsRank != rhsRank ? lhsRank > rhsRank : lhs < rhs
        }
        for source in sources {
            let group = state.group(of: source)
            let (groupSlots, hostSlots) = (state.slots(inGroup: group), state.slots(on: source))
            // To a group with two fewer slots; else to a host of the same group with two fewer.
            if app.spreadLabel != nil, let found = move(app: name, off: source, input: input, decision: decision, to: { host in
                state.group(of: host) != group && state.slots(inGroup: state.group(of: host)) <= groupSlots - 2
            }) {
                return found
            }
            if let found = move(app: name, off: source, input: input, decision: decision, to: { host in
                state.group(of: host) == group && state.slots(on: host) <= hostSlots - 2
            }) {
                return found
            }
        }
        return nil
    }

    /// `moveOne` against a decision already made, to a host for which `allowed` holds.
    private static func move(
        app name: String, off host: String, input: SchedulerInput, decision: SchedulerDecision,
        to allowed: (String) -> Bool = { _ in true }
    ) -> SlotMove? {
        guard let app = input.apps.first(where: { $0.name == name }) else {
            return nil
        }
        let ofApp = decision.assignments.filter { $0.app == name }
        let settled = ofApp.filter { !input.retiring.contains($0.key) }
        guard settled.count == ofApp.count,
            let retire = settled.filter({ $0.host == host }).max(by: { $0.slot < $1.slot })
        else {
            return nil
        }
        let hosts = HostTable(input.hosts)
        let load = HostLoad(decision.assignments.filter { !input.retiring.contains($0.key) })
        var state = AppSlots(app: app, hosts: hosts)
        for assignment in settled where assignment != retire {
            state.add(slot: assignment.slot, host: assignment.host)
        }
        let passedOver = input.passedOver[name] ?? []
        let candidates = hosts.ids.filter { id in
            guard id != host, let info = hosts[id] else {
                return false
            }
            return info.schedulable && app.admits(info) && input.takesNewSlots(id) && !passedOver.contains(id)
                && state.hasRoom(on: id) && allowed(id)
        }
        guard let target = state.choose(among: candidates, load: load) else {
            return nil
        }
        let used = Set(ofApp.map(\.slot))
        let slot = (0...).first { !used.contains($0) } ?? ofApp.count
        return (SlotAssignment(app: name, slot: slot, host: target, specHash: app.specHash), retire)
    }
}
