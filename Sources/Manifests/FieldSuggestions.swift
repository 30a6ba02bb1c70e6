import Primitives

/// "Did you mean …?" for manifest fields: the shared algorithm with the words people write for them.
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
        Suggestion.closest(to: key, among: known, synonyms: synonyms)
    }
}
