/// "Did you mean …?": the known name that a misspelled one most likely stands for.
public enum Suggestion {
    /// The candidate `word` most likely stands for, or nil when none is close enough. In order: the same name
    /// in another case or with other separators (`Stop-Timeout` → `stop_timeout`), a synonym (`cmd` →
    /// `command`, from `synonyms`, keyed by normalised word), the closest spelling within a few edits
    /// (`imgae` → `image`), and a longer spelling of a two-part name (`reload_command` → `reload_cmd`).
    public static func closest(to word: String, among candidates: [String], synonyms: [String: String] = [:]) -> String? {
        let normalisedWord = normalise(word)
        if let exact = candidates.first(where: { normalise($0) == normalisedWord }) { return exact }
        if let target = synonyms[normalisedWord], candidates.contains(target) { return target }
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let distance = editDistance(normalisedWord, normalise(candidate))
            if distance <= allowedEdits(for: candidate), distance < (best?.distance ?? Int.max) {
                best = (candidate, distance)
            }
        }
        if let best { return best.candidate }
        return candidates.first { candidate in
            let parts = candidate.split(separator: "_")
            guard parts.count > 1, let head = parts.first else { return false }
            return word.lowercased().hasPrefix(head.lowercased())
        }
    }

    /// At most two edits, and fewer for short names (`port` allows one): short names are close to everything.
    static func allowedEdits(for candidate: String) -> Int {
        min(2, max(1, candidate.count / 3))
    }

    private static func normalise(_ name: String) -> String {
        String(name.lowercased().filter { $0 != "_" && $0 != "-" && $0 != " " })
    }

    /// Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours.
    public static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var table = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { table[i][0] = i }
        for j in 0...b.count { table[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                var value = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    value = min(value, table[i - 2][j - 2] + 1)
                }
                table[i][j] = value
            }
        }
        return table[a.count][b.count]
    }
}
