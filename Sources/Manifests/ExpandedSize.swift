import Yams

/// The size of a manifest as the agent would use it, with every YAML alias expanded: `*s` repeats the whole
/// value anchored as `&s`, so 100 KB aliased 300 times is 30 MB in a 100 KB file. Counted with a stop at the
/// limit, so that a billion-laughs document costs no more than the limit to measure.
enum ExpandedSize {
    /// Where the expanded document first grows past the limit.
    struct Overflow {
        /// The field path of the entry that crosses the limit, e.g. `env.B9` (nil at the top level).
        var field: String?
        var mark: Mark?
    }

    /// nil when the document, expanded, is at most `limit` bytes (scalars' UTF-8 bytes, plus one per node).
    static func overflow(of root: Node, limit: Int) -> Overflow? {
        var total = 0
        return walk(root, field: nil, mark: root.mark, total: &total, limit: limit)
    }

    private static func walk(_ node: Node, field: String?, mark: Mark?, total: inout Int, limit: Int) -> Overflow? {
        total += 1
        switch node {
        case .scalar(let scalar):
            total += scalar.string.utf8.count
        case .alias:
            break
        case .sequence(let sequence):
            for (index, item) in sequence.enumerated() {
                let itemField = "\(field ?? "")[\(index)]"
                if let overflow = walk(item, field: itemField, mark: item.mark ?? mark, total: &total, limit: limit) {
                    return overflow
                }
            }
        case .mapping(let mapping):
            for (key, value) in mapping {
                let name = key.scalar?.string ?? "?"
                let entryField = field.map { "\($0).\(name)" } ?? name
                if let overflow = walk(key, field: entryField, mark: key.mark ?? mark, total: &total, limit: limit)
                    ?? walk(value, field: entryField, mark: key.mark ?? mark, total: &total, limit: limit)
                {
                    return overflow
                }
            }
        }
        return total > limit ? Overflow(field: field, mark: mark) : nil
    }
}
