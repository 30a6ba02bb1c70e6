/// The live hosts by id, in id order.
struct HostTable {
    private var byID: [String: HostInfo] = [:]
    /// Host ids, sorted.
    private(set) var ids: [String] = []

    init(_ hosts: [HostInfo]) {
        for host in hosts where byID[host.id] == nil {
            byID[host.id] = host
        }
        ids = byID.keys.sorted()
    }

    subscript(id: String) -> HostInfo? { byID[id] }

    var all: [HostInfo] { ids.compactMap { byID[$0] } }
}

/// Slots per host over all apps: the tie-break that keeps hosts evenly loaded.
struct HostLoad {
    private var slots: [String: Int] = [:]

    init(_ assignments: [SlotAssignment] = []) {
        for assignment in assignments {
            slots[assignment.host, default: 0] += 1
        }
    }

    subscript(host: String) -> Int { slots[host] ?? 0 }

    mutating func add(_ host: String) { slots[host, default: 0] += 1 }

    mutating func remove(_ host: String) { slots[host, default: 0] -= 1 }
}

/// One app's slots while a decision is being made, with the counts the spread rules read.
struct AppSlots {
    let app: AppPlacement
    let hosts: HostTable
    /// Slot number → host.
    private(set) var hostOfSlot: [Int: String] = [:]
    private var perHost: [String: Int] = [:]
    /// Slots per value of `app.spreadLabel` ("" for hosts without it).
    private var perGroup: [String: Int] = [:]

    init(app: AppPlacement, hosts: HostTable) {
        self.app = app
        self.hosts = hosts
    }

    var count: Int { hostOfSlot.count }

    func slots(on host: String) -> Int { perHost[host] ?? 0 }

    func hasRoom(on host: String) -> Bool {
        app.maxPerHost.map { slots(on: host) < $0 } ?? true
    }

    /// The spread group of `host`: its value of the spread label, "" without it (or without a spread label).
    func group(of host: String) -> String {
        guard let label = app.spreadLabel else {
            return ""
        }
        return hosts[host]?.labels[label] ?? ""
    }

    func slots(inGroup group: String) -> Int { perGroup[group] ?? 0 }

    mutating func add(slot: Int, host: String) {
        hostOfSlot[slot] = host
        perHost[host, default: 0] += 1
        perGroup[group(of: host), default: 0] += 1
    }

    mutating func remove(slot: Int) {
        guard let host = hostOfSlot.removeValue(forKey: slot) else {
            return
        }
        perHost[host, default: 0] -= 1
        perGroup[group(of: host), default: 0] -= 1
    }

    /// The host among `candidates` that a new slot goes to: the spread group with the fewest slots of the app
    /// (then the lowest load per host, then the group's value), then within it the host with the fewest slots of
    /// the app, then the fewest slots overall, then the lowest id.
    func choose(among candidates: [String], load: HostLoad) -> String? {
        guard !candidates.isEmpty else {
            return nil
        }
        var pool = candidates
        if app.spreadLabel != nil {
            let groups = Dictionary(grouping: candidates, by: group(of:))
            let best = groups.min { lhs, rhs in
                let (lhsSlots, rhsSlots) = (slots(inGroup: lhs.key), slots(inGroup: rhs.key))
                if lhsSlots != rhsSlots {
                    return lhsSlots < rhsSlots
                }
                // Load per host, compared without division: lhsLoad / lhsHosts < rhsLoad / rhsHosts.
                let lhsLoad = lhs.value.reduce(0) { $0 + load[$1] }
                let rhsLoad = rhs.value.reduce(0) { $0 + load[$1] }
                if lhsLoad * rhs.value.count != rhsLoad * lhs.value.count {
                    return lhsLoad * rhs.value.count < rhsLoad * lhs.value.count
                }
                return lhs.key < rhs.key
            }
            pool = best?.value ?? candidates
        }
        return pool.min { lhs, rhs in
            (slots(on: lhs), load[lhs], lhs) < (slots(on: rhs), load[rhs], rhs)
        }
    }
}
