/// "Did you mean …?" for field names that are likely typos of a known one.
enum FieldSuggestions {
    /// Words people write for a field under another name (normalised: lowercase, no `_`/`-`).
    private static let synonyms: [String: String] = [
        "environment": "env", "environ": "env", "envs": "env", "variables": "env",
        "cmd": "command", "args": "command", "arguments": "command",
        "ports": "port", "containerport": "port",
        "count": "replicas", "scale": "replicas", "instances": "replicas", "replicacount": "replicas",
        "healthcheck": "health", "readiness": "health", "check": "health",
        "registration": "register", "registry": "register",
        "label": "labels", "tags": "labels",
        "timeout": "stop_timeout", "stopgraceperiod": "stop_timeout", "graceperiod": "stop_timeout",
        "appname": "name", "app": "name",
        "img": "image",
        "path": "http", "url": "http", "httpget": "http",
        "key": "prefix", "keyprefix": "prefix", "pathprefix": "prefix",
        "drainseconds": "drain", "draintime": "drain", "delay": "drain",
    ]

    /// The known field `key` most likely stands for, if any.
    static func suggestion(for key: String, among known: [String]) -> String? {
        let normalisedKey = normalise(key)
        if let exact = known.first(where: { normalise($0) == normalisedKey }) { return exact }
        if let target = synonyms[normalisedKey], known.contains(target) { return target }
        var best: (field: String, distance: Int)?
        for field in known {
            let distance = editDistance(normalisedKey, normalise(field))
            let allowed = min(2, max(1, field.count / 3))
            if distance <= allowed, distance < (best?.distance ?? Int.max) {
                best = (field, distance)
            }
        }
        return best?.field
    }

    private static func normalise(_ name: String) -> String {
        String(name.lowercased().filter { $0 != "_" && $0 != "-" && $0 != " " })
    }

    /// Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours.
    static func editDistance(_ a: String, _ b: String) -> Int {
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
