/// One command line for HAProxy's admin socket, built from tokens that cannot change its meaning.
///
/// HAProxy's CLI splits a line into commands at every unescaped `;`, reads quotes and backslashes, and starts a
/// comment at `#`; a newline ends the line. A token holding any of these, whitespace or a control character
/// could turn one command into two (`check-sni "x;set server …"`), so such a token is refused here, and the
/// change it belongs to goes through a reload (where `haproxy -c` and the template's checks apply) instead.
public struct AdminCommand: Sendable, Hashable, CustomStringConvertible {
    /// The words of the command, each safe (see `isSafe`).
    public let tokens: [String]

    /// Fails when a token is empty or holds a character that is not plain (see `isSafe`).
    public init(_ tokens: [String]) throws(AdminSocketError) {
        guard !tokens.isEmpty else { throw AdminSocketError(path: "", message: "an empty command") }
        for token in tokens where !Self.isSafe(token) {
            throw AdminSocketError(
                path: "", message: "refusing to send a command with the word \(Self.shown(token)): the admin socket "
                    + "would not read it as one word of one command")
        }
        self.tokens = tokens
    }

    /// Splits a command written by hand (`show servers state`) at single spaces and checks each word.
    public init(line: String) throws(AdminSocketError) {
        try self.init(line.split(separator: " ", omittingEmptySubsequences: false).map(String.init))
    }

    /// The line sent (without its newline).
    public var description: String { tokens.joined(separator: " ") }

    /// Whether a word can go to the admin socket as it is: printable ASCII without `;`, quotes, backslashes
    /// and `#`, and not empty.
    public static func isSafe(_ token: String) -> Bool {
        !token.isEmpty && token.utf8.allSatisfy { byte in
            byte > 0x20 && byte < 0x7F && byte != UInt8(ascii: ";") && byte != UInt8(ascii: "\"")
                && byte != UInt8(ascii: "'") && byte != UInt8(ascii: "\\") && byte != UInt8(ascii: "#")
        }
    }

    /// The first token of `tokens` that is not safe, if any.
    public static func firstUnsafe(_ tokens: [String]) -> String? {
        tokens.first { !isSafe($0) }
    }

    /// A token for a message: control characters escaped, cut after 60 characters.
    static func shown(_ token: String) -> String {
        var out = ""
        for scalar in token.unicodeScalars.prefix(60) {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F: out += "\\x" + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return "\"" + out + (token.unicodeScalars.count > 60 ? "…" : "") + "\""
    }
}
