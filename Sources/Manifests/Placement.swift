import Primitives

/// Cluster mode: where an app's replicas may run (`placement:` in a manifest applied with `hecd apply`).
/// Host-local manifests (`hecd agent --manifests`) ignore it.
public struct Placement: Sendable, Hashable {
    /// The most replicas of the app on one host.
    public var maxPerHost: Int?
    /// Host label conditions, all of which a host must meet (`zone == a`, `disk != hdd`).
    public var constraints: [PlacementConstraint]
    /// A host label whose values the replicas spread over evenly first (`zone`).
    public var spread: String?
    /// What a host cut off from etcd does with the app's containers: keep them running (the default; their
    /// keys expire with the host's lease) or stop them.
    public var onPartition: PartitionAction

    public enum PartitionAction: String, Sendable, Hashable {
        case keep, stop
    }

    public init(
        maxPerHost: Int? = nil, constraints: [PlacementConstraint] = [], spread: String? = nil,
        onPartition: PartitionAction = .keep
    ) {
        self.maxPerHost = maxPerHost
        self.constraints = constraints
        self.spread = spread
        self.onPartition = onPartition
    }
}

/// A manifest's `placement.constraints` entry on host labels: `zone == a`, `disk != hdd`.
public struct PlacementConstraint: Sendable, Hashable, CustomStringConvertible {
    public enum Operator: String, Sendable, Hashable {
        case equal = "=="
        case notEqual = "!="
    }

    public var label: String
    public var op: Operator
    public var value: String

    public init(label: String, op: Operator, value: String) {
        self.label = label
        self.op = op
        self.value = value
    }

    /// `zone == a` as written in a manifest; spaces around the operator are optional.
    public static func parse(_ text: String) -> Result<PlacementConstraint, PlacementConstraintError> {
        let trimmed = text.trimmingWhitespace()
        guard !trimmed.isEmpty else {
            return .failure(PlacementConstraintError(text: text, reason: "is empty; expected LABEL == VALUE or LABEL != VALUE"))
        }
        let operators: [Operator] = [.equal, .notEqual]
        let found = operators.compactMap { op in trimmed.firstRange(of: op.rawValue).map { (op, $0) } }
        guard let (op, range) = found.min(by: { $0.1.lowerBound < $1.1.lowerBound }) else {
            let hint = trimmed.contains("=") ? "; `=` is not an operator, write `==`" : ""
            return .failure(PlacementConstraintError(
                text: text, reason: "has no operator; expected LABEL == VALUE or LABEL != VALUE\(hint)"
            ))
        }
        let label = trimmed[..<range.lowerBound].trimmingWhitespace()
        let value = trimmed[range.upperBound...].trimmingWhitespace()
        guard !label.isEmpty else {
            return .failure(PlacementConstraintError(text: text, reason: "has no label before `\(op.rawValue)`"))
        }
        guard !value.isEmpty else {
            return .failure(PlacementConstraintError(text: text, reason: "has no value after `\(op.rawValue)`"))
        }
        for (part, name) in [(label, "label"), (value, "value")] {
            if part.contains(where: { $0 == "=" || $0 == "!" }) {
                return .failure(PlacementConstraintError(
                    text: text, reason: "\(name) `\(part)` contains `=` or `!`; one operator per constraint"
                ))
            }
            if part.contains(where: { $0.isWhitespace }) {
                return .failure(PlacementConstraintError(text: text, reason: "\(name) `\(part)` contains a space"))
            }
        }
        return .success(PlacementConstraint(label: label, op: op, value: value))
    }

    /// Whether a host with these labels may run the app. `!=` admits a host without the label; `==` does not.
    public func admits(labels: [String: String]) -> Bool {
        switch op {
        case .equal: labels[label] == value
        case .notEqual: labels[label] != value
        }
    }

    public var description: String { "\(label) \(op.rawValue) \(value)" }
}

/// Why a constraint's text was refused; `description` quotes the text and says what to write instead.
public struct PlacementConstraintError: Error, Sendable, Hashable, CustomStringConvertible {
    public var text: String
    public var reason: String

    public init(text: String, reason: String) {
        self.text = text
        self.reason = reason
    }

    public var description: String { "constraint `\(text)` \(reason)" }
}

