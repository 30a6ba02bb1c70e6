/// Go's `path` package: Base, Dir, Clean and Match (the glob syntax of confd's `gets`/`getvs`).
enum GoPath {
    /// `path.Base`: the last element, trailing slashes removed; "" → ".", all slashes → "/".
    static func base(_ path: String) -> String {
        if path.isEmpty { return "." }
        // By bytes, as Go: a slash followed by a combining mark is still a slash (a Character would not be).
        let bytes = path.utf8
        var end = bytes.endIndex
        while end > bytes.startIndex, bytes[bytes.index(before: end)] == UInt8(ascii: "/") { end = bytes.index(before: end) }
        if end == bytes.startIndex { return "/" }
        var start = end
        while start > bytes.startIndex, bytes[bytes.index(before: start)] != UInt8(ascii: "/") { start = bytes.index(before: start) }
        return String(path.unicodeScalars[start..<end])
    }

    /// `path.Dir`: everything but the last element, cleaned.
    static func dir(_ path: String) -> String {
        guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return clean("") }
        return clean(String(path.unicodeScalars[...slash]))
    }

    /// `path.Clean`: lexical normalisation of `.`, `..` and repeated slashes.
    /// Whether `path` is absolute and already what `clean` makes of it: no empty, `.` or `..` part and no
    /// trailing `/` (the root aside). A byte scan, for the keys of a store, which usually are.
    static func isCleanAbsolute(_ path: String) -> Bool {
        let bytes = path.utf8
        guard bytes.first == UInt8(ascii: "/") else { return false }
        if bytes.count == 1 { return true }
        guard bytes.last != UInt8(ascii: "/") else { return false }
        var partLength = 0
        var dots = 0
        for byte in bytes.dropFirst() {
            if byte == UInt8(ascii: "/") {
                if partLength == 0 || partLength == dots && dots <= 2 { return false }
                partLength = 0
                dots = 0
            } else {
                partLength += 1
                if byte == UInt8(ascii: ".") { dots += 1 }
            }
        }
        return !(partLength == dots && dots <= 2)
    }

    static func clean(_ path: String) -> String {
        if path.isEmpty { return "." }
        let rooted = path.hasPrefix("/")
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch part {
            case ".":
                continue
            case "..":
                if let last = parts.last, last != ".." {
                    parts.removeLast()
                } else if !rooted {
                    parts.append(part)
                }
            default:
                parts.append(part)
            }
        }
        let joined = parts.joined(separator: "/")
        if rooted { return "/" + joined }
        return joined.isEmpty ? "." : joined
    }

    struct BadPattern: Error {}

    /// `path.Match`: `*` (no slash), `?`, `[a-z]`, `[^…]`, `\` escapes. Throws on a malformed pattern.
    static func match(_ pattern: String, _ name: String) throws(BadPattern) -> Bool {
        var pattern = Array(pattern.unicodeScalars)[...]
        var name = Array(name.unicodeScalars)[...]
        patternLoop: while !pattern.isEmpty {
            let (star, chunk, rest) = scanChunk(pattern)
            pattern = rest
            if star, chunk.isEmpty {
                return !name.contains("/")
            }
            let (t, ok) = try matchChunk(chunk, name)
            if ok, t.isEmpty || !pattern.isEmpty {
                name = t
                continue
            }
            if star {
                var i = name.startIndex
                while i < name.endIndex, name[i] != "/" {
                    let (t, ok) = try matchChunk(chunk, name[(i + 1)...])
                    if ok {
                        if pattern.isEmpty, !t.isEmpty {
                            i += 1
                            continue
                        }
                        name = t
                        continue patternLoop
                    }
                    i += 1
                }
            }
            while !pattern.isEmpty {
                let (_, chunk, rest) = scanChunk(pattern)
                pattern = rest
                _ = try matchChunk(chunk, [][...])
            }
            return false
        }
        return name.isEmpty
    }

    /// The literal text before the first glob metacharacter: every match starts with it.
    static func literalPrefix(_ pattern: String) -> String {
        var prefix = String.UnicodeScalarView()
        for scalar in pattern.unicodeScalars {
            if scalar == "*" || scalar == "?" || scalar == "[" || scalar == "\\" { break }
            prefix.append(scalar)
        }
        return String(prefix)
    }

    private typealias Scalars = ArraySlice<Unicode.Scalar>

    private static func scanChunk(_ pattern: Scalars) -> (Bool, Scalars, Scalars) {
        var pattern = pattern
        var star = false
        while pattern.first == "*" {
            pattern = pattern.dropFirst()
            star = true
        }
        var inRange = false
        var i = pattern.startIndex
        scan: while i < pattern.endIndex {
            switch pattern[i] {
            case "\\":
                if i + 1 < pattern.endIndex { i += 1 }
            case "[":
                inRange = true
            case "]":
                inRange = false
            case "*":
                if !inRange { break scan }
            default:
                break
            }
            i += 1
        }
        return (star, pattern[..<i], pattern[i...])
    }

    private static func matchChunk(_ chunk: Scalars, _ s: Scalars) throws(BadPattern) -> (Scalars, Bool) {
        var chunk = chunk
        var s = s
        var failed = false
        while let c = chunk.first {
            if !failed, s.isEmpty { failed = true }
            switch c {
            case "[":
                var r: Unicode.Scalar = "\0"
                if !failed, let first = s.first {
                    r = first
                    s = s.dropFirst()
                }
                chunk = chunk.dropFirst()
                var negated = false
                if chunk.first == "^" {
                    negated = true
                    chunk = chunk.dropFirst()
                }
                var matched = false
                var ranges = 0
                while true {
                    if chunk.first == "]", ranges > 0 {
                        chunk = chunk.dropFirst()
                        break
                    }
                    let lo = try escaped(&chunk)
                    var hi = lo
                    if chunk.first == "-" {
                        chunk = chunk.dropFirst()
                        hi = try escaped(&chunk)
                    }
                    if lo <= r, r <= hi { matched = true }
                    ranges += 1
                }
                if matched == negated { failed = true }
            case "?":
                if !failed {
                    if s.first == "/" { failed = true }
                    s = s.dropFirst()
                }
                chunk = chunk.dropFirst()
            case "\\":
                chunk = chunk.dropFirst()
                guard let literal = chunk.first else { throw BadPattern() }
                if !failed {
                    if s.first != literal { failed = true }
                    s = s.dropFirst()
                }
                chunk = chunk.dropFirst()
            default:
                if !failed {
                    if s.first != c { failed = true }
                    s = s.dropFirst()
                }
                chunk = chunk.dropFirst()
            }
        }
        return failed ? ([][...], false) : (s, true)
    }

    /// One (possibly escaped) character of a class; a class must not end here.
    private static func escaped(_ chunk: inout Scalars) throws(BadPattern) -> Unicode.Scalar {
        guard let first = chunk.first, first != "-", first != "]" else { throw BadPattern() }
        if first == "\\" {
            chunk = chunk.dropFirst()
            guard !chunk.isEmpty else { throw BadPattern() }
        }
        guard let r = chunk.first else { throw BadPattern() }
        chunk = chunk.dropFirst()
        if chunk.isEmpty { throw BadPattern() }
        return r
    }
}
