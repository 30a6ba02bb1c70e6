/// An HAProxy configuration file read just far enough to tell which servers each backend has: sections with
/// their lines as tokens, comments and blank lines left out. Not a validator (`haproxy -c` is); it only has to
/// agree with HAProxy on where sections start and which lines are `server` lines.
public struct HAProxyConfig: Sendable, Hashable {
    /// One section: `global`, `defaults`, `frontend web`, `backend app-web`, `listen stats`, …
    public struct Section: Sendable, Hashable {
        public var keyword: String
        /// The section's name (nil for `global` and unnamed `defaults`).
        public var name: String?
        /// Every line of the section but its header, as tokens, in order.
        public var lines: [[String]]

        /// Whether the section can hold servers that the runtime API can add and remove.
        public var holdsServers: Bool { keyword == "backend" || keyword == "listen" }

        /// The `server NAME ADDRESS [PARAMETERS…]` lines, in order.
        public var servers: [Server] {
            guard holdsServers else { return [] }
            return lines.compactMap(Server.init(tokens:))
        }

        /// Every line that is not a `server` line (all lines for sections that hold no servers).
        public var otherLines: [[String]] {
            guard holdsServers else { return lines }
            return lines.filter { Server(tokens: $0) == nil }
        }
    }

    /// A `server` line of a backend.
    public struct Server: Sendable, Hashable {
        public var name: String
        /// As written: `10.0.0.7:32768`, `[::1]:8080`, `app.example.com:80`.
        public var address: String
        /// Everything after the address: `check inter 2s fall 2 rise 1`.
        public var parameters: [String]

        init?(tokens: [String]) {
            guard tokens.count >= 3, tokens[0] == "server" else { return nil }
            name = tokens[1]
            address = tokens[2]
            parameters = Array(tokens.dropFirst(3))
        }

        /// The server line as the runtime API's `add server` takes it after `BACKEND/NAME`.
        public var arguments: String { ([address] + parameters).joined(separator: " ") }
    }

    /// Keywords that start a section (HAProxy recognises them whatever the indentation).
    static let sectionKeywords: Set<String> = [
        "global", "defaults", "frontend", "backend", "listen", "peers", "resolvers", "userlist", "mailers",
        "program", "http-errors", "ring", "cache", "fcgi-app", "dynamic-update",
    ]

    public var sections: [Section]

    public init(_ text: String) {
        var sections: [Section] = []
        // As HAProxy reads it: lines end at LF only, and words are split on bytes, not on Swift's characters
        // (a combining mark after a tab is a word of its own to HAProxy, not part of the tab).
        for line in text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false) {
            let tokens = Self.tokens(of: line)
            guard let first = tokens.first else { continue }
            if Self.sectionKeywords.contains(first) {
                sections.append(Section(keyword: first, name: tokens.count > 1 ? tokens[1] : nil, lines: []))
            } else if sections.isEmpty {
                // Lines before any section: HAProxy refuses them; keep them so that a change is still seen.
                sections.append(Section(keyword: "", name: nil, lines: [tokens]))
            } else {
                sections[sections.count - 1].lines.append(tokens)
            }
        }
        self.sections = sections
    }

    /// The admin socket the config opens: the path of the first `stats socket` line of `global` that is a Unix
    /// socket with `level admin` (nil when there is none).
    public var adminSocketPath: String? {
        for section in sections where section.keyword == "global" {
            for line in section.lines where line.count >= 3 && line[0] == "stats" && line[1] == "socket" {
                let parameters = line.dropFirst(3)
                guard let level = parameters.firstIndex(of: "level"), level + 1 < line.count,
                      line[level + 1] == "admin"
                else { continue }
                var address = line[2]
                if address.hasPrefix("unix@") { address.removeFirst("unix@".count) }
                if address.hasPrefix("/") { return address }
            }
        }
        return nil
    }

    /// Whether any `defaults` section sets `default-server`, whose settings servers added at run time do not get.
    var defaultsSetDefaultServer: Bool {
        sections.contains { $0.keyword == "defaults" && $0.lines.contains { $0.first == "default-server" } }
    }

    /// Splits a line into words as HAProxy does for comparison purposes: whitespace (C's `isspace`: space, tab,
    /// CR, VT, FF) separates, `#` outside quotes starts a comment, quotes and backslash escapes keep their text
    /// together.
    static func tokens(of line: Substring.UnicodeScalarView) -> [String] {
        var tokens: [String] = []
        var current = String.UnicodeScalarView()
        var inToken = false
        var quote: Unicode.Scalar?
        var escaped = false
        func finish() {
            tokens.append(String(current))
            current = String.UnicodeScalarView()
        }
        for character in line {
            if escaped {
                current.append(character)
                escaped = false
                continue
            }
            if character == "\\" {
                current.append(character)
                escaped = true
                inToken = true
                continue
            }
            if let open = quote {
                current.append(character)
                if character == open { quote = nil }
                continue
            }
            if character == "\"" || character == "'" {
                current.append(character)
                quote = character
                inToken = true
            } else if character == "#" {
                break
            } else if " \t\r\u{0B}\u{0C}".unicodeScalars.contains(character) {
                if inToken {
                    finish()
                    inToken = false
                }
            } else {
                current.append(character)
                inToken = true
            }
        }
        if inToken { finish() }
        return tokens
    }
}
