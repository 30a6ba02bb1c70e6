import Foundation
import Manifests
import Reconciler

/// A fixed moment all tests count from.
let t0 = Date(timeIntervalSince1970: 1_700_000_000)

func at(_ seconds: TimeInterval) -> Date {
    t0.addingTimeInterval(seconds)
}

func webSpec(replicas: Int, image: String = "demo-web:1") -> AppSpec {
    AppSpec(name: "web", image: image, replicas: replicas)
}

/// A container of `app`; `created` is seconds after `t0`. Running containers started when they were created.
func container(
    _ name: String,
    app: String = "web",
    hash: String,
    state: ContainerState = .running,
    created: TimeInterval = 0,
    started: TimeInterval? = nil,
    finished: TimeInterval? = nil,
    ready: Bool? = nil
) -> ObservedContainer {
    ObservedContainer(
        id: "id-\(name)",
        name: name,
        app: app,
        specHash: hash,
        state: state,
        createdAt: at(created),
        startedAt: (started ?? (state == .created ? nil : created)).map(at),
        finishedAt: finished.map(at),
        ready: ready ?? (state == .running)
    )
}

extension Plan {
    var createCount: Int {
        actions.filter { if case .create = $0 { true } else { false } }.count
    }

    /// Names of retired containers with their reasons, in plan order.
    var retired: [String: RetireReason] {
        var result: [String: RetireReason] = [:]
        for case .retire(let container, let reason) in actions {
            result[container.name] = reason
        }
        return result
    }

    var retiredNames: [String] {
        actions.compactMap { if case .retire(let container, _) = $0 { container.name } else { nil } }
    }

    var removedNames: [String] {
        actions.compactMap { if case .remove(let container) = $0 { container.name } else { nil } }
    }
}

/// A toy Docker: carries out plans on a list of containers. Created containers start running but not ready;
/// `becomeReady()` then marks them ready, as a passing health check would.
struct FakeDocker {
    var containers: [ObservedContainer]
    var now: Date
    private var serial = 0

    init(_ containers: [ObservedContainer], now: Date) {
        self.containers = containers
        self.now = now
    }

    var readyCount: Int {
        containers.filter { $0.state == .running && $0.ready }.count
    }

    mutating func apply(_ plan: Plan) {
        for action in plan.actions {
            switch action {
            case .create(let spec):
                serial += 1
                containers.append(
                    ObservedContainer(
                        id: "new-\(serial)", name: "\(spec.name)-new-\(serial)", app: spec.name,
                        specHash: spec.specHash, state: .running, createdAt: now, startedAt: now, ready: false
                    )
                )
            case .retire(let container, _), .remove(let container):
                containers.removeAll { $0.id == container.id }
            }
        }
    }

    mutating func becomeReady() {
        for index in containers.indices where containers[index].state == .running {
            containers[index].ready = true
        }
    }

    mutating func advance(_ seconds: TimeInterval) {
        now = now.addingTimeInterval(seconds)
    }
}
