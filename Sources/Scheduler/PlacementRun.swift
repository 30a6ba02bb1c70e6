/// Why a slot of `current` is where it is, from the point of view of its app.
private enum Standing: Int, Comparable {
    /// Live, schedulable, admitted host, not passed over: it stays (unless above max_per_host or the count).
    case kept = 0
    /// On a host held back for the failover delay: it stays as it is (unless above the count).
    case heldBack = 1
    /// On a host passed over for the app: it stays only when no other host can take it.
    case passedOver = 2
    /// Dead, unschedulable or no longer admitted host: it moves.
    case displaced = 3

    static func < (lhs: Standing, rhs: Standing) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A slot number that needs a host, and where it was (if anywhere).
private struct SlotToPlace {
    var slot: Int
    /// Its host in `current` when that host is passed over for the app: it may stay there as a last resort.
    var passedOverHost: String?
}

/// One `place` call's working state.
struct PlacementRun {
    let input: SchedulerInput
    let hosts: HostTable
    /// The apps, one per name, sorted by name.
    let apps: [AppPlacement]
    /// `input.current` by key (the first of a key given twice).
    let current: [SlotKey: SlotAssignment]
    var load = HostLoad()

    init(_ input: SchedulerInput) {
        self.input = input
        hosts = HostTable(input.hosts)
        var byName: [String: AppPlacement] = [:]
        for app in input.apps where byName[app.name] == nil {
            byName[app.name] = app
        }
        apps = byName.keys.sorted().compactMap { byName[$0] }
        var current: [SlotKey: SlotAssignment] = [:]
        for assignment in input.current where current[assignment.key] == nil {
            current[assignment.key] = assignment
        }
        self.current = current
    }

    mutating func decide() -> SchedulerDecision {
        let currentByApp = Dictionary(grouping: current.values, by: \.app)
        var states: [AppSlots] = []
        var pending: [[SlotToPlace]] = []
        var retained: [SlotAssignment] = []
        // First every app's kept slots, so that the load tie-break sees all of them before anything is placed.
        for app in apps {
            let (state, toPlace, retiring) = keep(app, from: (currentByApp[app.name] ?? []).sorted { $0.key < $1.key })
            for host in state.hostOfSlot.values {
                load.add(host)
            }
            states.append(state)
            pending.append(toPlace)
            retained += retiring
        }
        var assignments = retained
        var unplaceable: [String: String] = [:]
        for (index, app) in apps.enumerated() {
            var state = states[index]
            var missing = 0
            let open = hosts.ids.filter { id in
                hosts[id].map { $0.schedulable && app.admits($0) } == true && input.takesNewSlots(id)
            }
            for slot in pending[index] {
                if let host = chooseHost(for: slot, among: open, state: state) {
                    state.add(slot: slot.slot, host: host)
                    load.add(host)
                } else {
                    missing += 1
                }
            }
            if missing > 0 {
                unplaceable[app.name] = "\(missing) of \(max(app.replicas, 0)) replicas: \(reason(app))"
            }
            // Roll one slot at a time: a kept slot of an earlier hash keeps it while another slot's step is in
            // flight; otherwise the lowest such slot takes the app's hash. New and moved slots take it at once
            // (their host has no container of an earlier spec to keep). A held-back host's slots keep theirs.
            var stepTaken = input.rolling.contains(app.name)
            for (slot, host) in state.hostOfSlot.sorted(by: { $0.key < $1.key }) {
                var hash = app.specHash
                if let existing = current[SlotKey(host: host, app: app.name, slot: slot)], existing.specHash != app.specHash {
                    if input.heldBack.contains(host) || stepTaken {
                        hash = existing.specHash
                    } else {
                        stepTaken = true
                    }
                }
                assignments.append(SlotAssignment(app: app.name, slot: slot, host: host, specHash: hash))
            }
        }
        return Self.diff(assignments.sorted { $0.key < $1.key }, against: current, unplaceable: unplaceable)
    }

    /// The slots of `app` that stay, the slot numbers that need a host, and the retiring slots left as they are.
    private func keep(_ app: AppPlacement, from assignments: [SlotAssignment]) -> (AppSlots, [SlotToPlace], [SlotAssignment]) {
        let passedOver = input.passedOver[app.name] ?? []
        var retiring: [SlotAssignment] = []
        var candidates: [(assignment: SlotAssignment, standing: Standing)] = []
        for assignment in assignments {
            let host = hosts[assignment.host]
            if input.retiring.contains(assignment.key) {
                // Kept on a live host, once per slot number (the lowest host id; the array is sorted by slot, host).
                let alive = host != nil || input.heldBack.contains(assignment.host)
                if alive, !retiring.contains(where: { $0.slot == assignment.slot }) {
                    retiring.append(assignment)
                }
                continue
            }
            let standing: Standing
            if input.heldBack.contains(assignment.host) {
                standing = .heldBack
            } else if let host, host.schedulable, app.admits(host) {
                standing = passedOver.contains(host.id) ? .passedOver : .kept
            } else {
                standing = .displaced
            }
            candidates.append((assignment, standing))
        }
        let retiringSlots = Set(retiring.map(\.slot))
        // One copy per slot number: the best standing, then the lowest host id (the array is sorted by slot, host).
        var bySlot: [Int: (assignment: SlotAssignment, standing: Standing)] = [:]
        for candidate in candidates where !retiringSlots.contains(candidate.assignment.slot) {
            let slot = candidate.assignment.slot
            if let chosen = bySlot[slot], chosen.standing <= candidate.standing {
                continue
            }
            bySlot[slot] = candidate
        }

        var state = AppSlots(app: app, hosts: hosts)
        var leaving: [SlotToPlace] = []
        for slot in bySlot.keys.sorted() {
            guard let (assignment, standing) = bySlot[slot] else {
                continue
            }
            switch standing {
            case .kept where state.hasRoom(on: assignment.host), .heldBack:
                state.add(slot: slot, host: assignment.host)
            case .passedOver:
                leaving.append(SlotToPlace(slot: slot, passedOverHost: assignment.host))
            case .kept, .displaced:
                leaving.append(SlotToPlace(slot: slot))
            }
        }

        let replicas = max(app.replicas, 0)
        trim(&state, to: replicas)
        var toPlace = Array(leaving.prefix(max(replicas - state.count, 0)))
        var used = Set(state.hostOfSlot.keys).union(retiringSlots).union(toPlace.map(\.slot))
        var next = 0
        while state.count + toPlace.count < replicas {
            while used.contains(next) {
                next += 1
            }
            toPlace.append(SlotToPlace(slot: next))
            used.insert(next)
        }
        // Slots on passed-over hosts first: when nothing else can take them they stay where they are, and a new
        // slot placed before them must not take their room (the next pass would swap them back).
        let order = toPlace.sorted { ($0.passedOverHost == nil ? 1 : 0, $0.slot) < ($1.passedOverHost == nil ? 1 : 0, $1.slot) }
        return (state, order, retiring)
    }

    /// A scale-down: removes kept slots one at a time until `replicas` remain, each time the highest-numbered slot
    /// of the host that ranks first by: on a draining or held-back host, then (with a spread label) in the group with the most
    /// slots of the app, then holding the most, then holding the highest number. So the spread stays even, and among
    /// equals the highest numbers go first.
    private func trim(_ state: inout AppSlots, to replicas: Int) {
        var slotsByHost: [String: [Int]] = [:]
        for (slot, host) in state.hostOfSlot {
            slotsByHost[host, default: []].append(slot)
        }
        for host in slotsByHost.keys {
            slotsByHost[host]?.sort()
        }
        func rank(_ host: String, _ slots: [Int]) -> (Int, Int, Int, Int) {
            (
                input.takesNewSlots(host) ? 0 : 1, state.slots(inGroup: state.group(of: host)), state.slots(on: host),
                slots.last ?? -1
            )
        }
        while state.count > replicas,
            let (host, slots) = slotsByHost.max(by: { rank($0.key, $0.value) < rank($1.key, $1.value) }),
            let slot = slots.last
        {
            state.remove(slot: slot)
            slotsByHost[host] = slots.count > 1 ? Array(slots.dropLast()) : nil
        }
    }

    /// Where `slot` goes: a host of `open` (live, schedulable, admitted, not draining or held back) with room that is not
    /// passed over; else the passed-over host it is on; else another passed-over host. Nil when none has room.
    private func chooseHost(for slot: SlotToPlace, among open: [String], state: AppSlots) -> String? {
        let passedOver = input.passedOver[state.app.name] ?? []
        let open = open.filter(state.hasRoom(on:))
        let preferred = passedOver.isEmpty ? open : open.filter { !passedOver.contains($0) }
        if let host = state.choose(among: preferred, load: load) {
            return host
        }
        if let host = slot.passedOverHost, state.hasRoom(on: host), hosts[host] != nil {
            return host
        }
        return state.choose(among: open, load: load)
    }

    /// Why `app` has fewer slots than replicas.
    private func reason(_ app: AppPlacement) -> String {
        let live = hosts.all
        guard !live.isEmpty else {
            return "no live host"
        }
        let matching = live.filter(app.admits)
        if matching.isEmpty {
            if live.allSatisfy({ app.refusingHosts.contains($0.id) }) {
                return "every live host's agent refuses it by its policy (see its --allow-* flags)"
            }
            if let unmatched = app.constraints.first(where: { constraint in !live.contains(where: constraint.admits) }) {
                return "no live host matches \(unmatched)"
            }
            return "no live host matches \(app.constraints.map(\.description).joined(separator: " and "))"
        }
        let schedulable = matching.filter(\.schedulable)
        if schedulable.isEmpty {
            return app.constraints.isEmpty
                ? "every live host is drained"
                : "every live host that matches \(app.constraints.map(\.description).joined(separator: " and ")) is drained"
        }
        let open = schedulable.filter { input.takesNewSlots($0.id) }
        if open.isEmpty {
            return "every eligible host is being drained"
        }
        let hostsText = open.count == 1 ? "1 eligible host" : "\(open.count) eligible hosts"
        if let cap = app.maxPerHost {
            return "max_per_host \(cap) on \(hostsText)"
        }
        return "no room on \(hostsText)"
    }

    /// The decision, with the puts and deletes that turn `current` into `assignments`.
    private static func diff(
        _ assignments: [SlotAssignment], against current: [SlotKey: SlotAssignment], unplaceable: [String: String]
    ) -> SchedulerDecision {
        let desiredKeys = Set(assignments.map(\.key))
        let puts = assignments.filter { current[$0.key] != $0 }
        let deletes = current.values.filter { !desiredKeys.contains($0.key) }.sorted { $0.key < $1.key }
        return SchedulerDecision(assignments: assignments, unplaceable: unplaceable, puts: puts, deletes: deletes)
    }
}
