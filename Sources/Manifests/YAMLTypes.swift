import Yams

/// YAML 1.1's implicit types of plain scalars (`80` is an int, `yes` a bool, `~` null), decided the way the rules
/// of Yams' default resolver decide them, but without regular expressions: Yams' resolver runs
/// `NSRegularExpression`, which is ICU's regex engine and would bring ICU's code and data into the agent.
enum YAMLTypes {
    /// The tree with every untagged plain scalar tagged as Yams' default resolver would tag it. Compose with
    /// `Resolver.basic` (no rules) first: that resolver marks every untagged scalar a string.
    static func resolvingTags(_ node: Node, isKey: Bool = false) -> Node {
        switch node {
        case .scalar(var scalar):
            // Yams resolved the keys while it checked them for duplicates (with the basic resolver: `str`), so a
            // plain `str` key counts as untagged (`!!str 80:` as a key is read as a number).
            let untagged = scalar.tag.rawValue == Tag.Name.implicit.rawValue
                || (isKey && scalar.tag.rawValue == Tag.Name.str.rawValue)
            if untagged, scalar.style == .plain || scalar.style == .any {
                scalar.tag = Tag(resolve(scalar.string), .basic, .default)
            }
            return .scalar(scalar)
        case .mapping(let mapping):
            let pairs = mapping.map { (resolvingTags($0.key, isKey: true), resolvingTags($0.value)) }
            return .mapping(Node.Mapping(pairs, mapping.tag, mapping.style, mapping.mark, mapping.anchor))
        case .sequence(let sequence):
            return .sequence(
                Node.Sequence(sequence.map { resolvingTags($0) }, sequence.tag, sequence.style, sequence.mark, sequence.anchor))
        case .alias:
            return node
        }
    }

    /// The tag of an untagged plain scalar: bool, int, float, merge, null, timestamp, value or str, tried in the
    /// order of Yams' `Resolver.default`.
    static func resolve(_ text: String) -> Tag.Name {
        let bytes = Array(text.utf8)
        if isBool(text) { return .bool }
        if isInt(bytes[...]) { return .int }
        if isFloat(bytes[...]) { return .float }
        if text == "<<" { return .merge }
        if ["~", "null", "Null", "NULL", ""].contains(text) { return .null }
        if isTimestamp(bytes[...]) { return .timestamp }
        if text == "=" { return .value }
        return .str
    }

    private static func isBool(_ text: String) -> Bool {
        ["yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE",
         "on", "On", "ON", "off", "Off", "OFF"].contains(text)
    }

    // MARK: - The patterns, one function each

    private typealias Bytes = ArraySlice<UInt8>

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
    private static let underscore = UInt8(ascii: "_")

    /// Removes one leading `-` or `+`.
    private static func droppingSign(_ bytes: Bytes) -> Bytes {
        if let first = bytes.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") { return bytes.dropFirst() }
        return bytes
    }

    /// At least one byte, all of them in `allowed` or `_`.
    private static func isRun(_ bytes: Bytes, _ allowed: (UInt8) -> Bool) -> Bool {
        !bytes.isEmpty && bytes.allSatisfy { allowed($0) || $0 == underscore }
    }

    /// `[1-9][0-9_]*`
    private static func isDecimalWithoutLeadingZero(_ bytes: Bytes) -> Bool {
        guard let first = bytes.first, first >= UInt8(ascii: "1"), first <= UInt8(ascii: "9") else { return false }
        return bytes.dropFirst().allSatisfy { isDigit($0) || $0 == underscore }
    }

    /// `(?::[0-5]?[0-9])+`
    private static func isSexagesimalTail(_ bytes: Bytes) -> Bool {
        guard bytes.first == UInt8(ascii: ":") else { return false }
        let groups = bytes.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false).dropFirst()
        return !groups.isEmpty && groups.allSatisfy { group in
            switch group.count {
            case 1: return isDigit(group[group.startIndex])
            case 2: return group[group.startIndex] >= 0x30 && group[group.startIndex] <= 0x35
                && isDigit(group[group.startIndex + 1])
            default: return false
            }
        }
    }

    /// `[-+]?0b[0-1_]+ | [-+]?0o?[0-7_]+ | [-+]?(?:0|[1-9][0-9_]*) | [-+]?0x[0-9a-fA-F_]+
    /// | [-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+`
    private static func isInt(_ all: Bytes) -> Bool {
        let bytes = droppingSign(all)
        guard let first = bytes.first else { return false }
        if first == UInt8(ascii: "0") {
            let rest = bytes.dropFirst()
            if rest.isEmpty { return true }
            switch rest.first {
            case UInt8(ascii: "b"): return isRun(rest.dropFirst()) { $0 == 0x30 || $0 == 0x31 }
            case UInt8(ascii: "x"): return isRun(rest.dropFirst()) { isDigit($0) || (0x61...0x66).contains($0) || (0x41...0x46).contains($0) }
            case UInt8(ascii: "o"): return isRun(rest.dropFirst()) { $0 >= 0x30 && $0 <= 0x37 }
            default: return isRun(rest) { $0 >= 0x30 && $0 <= 0x37 }
            }
        }
        if isDecimalWithoutLeadingZero(bytes) { return true }
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")) else { return false }
        return isDecimalWithoutLeadingZero(bytes[..<colon]) && isSexagesimalTail(bytes[colon...])
    }

    /// `[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)? | \.[0-9_]+(?:[eE][-+][0-9]+)?
    /// | [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]* | [-+]?\.(?:inf|Inf|INF) | \.(?:nan|NaN|NAN)`
    private static func isFloat(_ all: Bytes) -> Bool {
        let text = String(decoding: all, as: UTF8.self)
        if [".nan", ".NaN", ".NAN"].contains(text) { return true }
        let bytes = droppingSign(all)
        if [".inf", ".Inf", ".INF"].contains(String(decoding: bytes, as: UTF8.self)) { return true }
        // `\.[0-9_]+(?:[eE][-+][0-9]+)?`, unsigned, exponent sign required.
        if all.first == UInt8(ascii: ".") {
            let (mantissa, exponent) = splitExponent(all.dropFirst())
            guard isRun(mantissa, isDigit) else { return false }
            guard let exponent else { return true }
            guard let sign = exponent.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") else { return false }
            let digits = exponent.dropFirst()
            return !digits.isEmpty && digits.allSatisfy(isDigit)
        }
        guard let first = bytes.first, isDigit(first) else { return false }
        // Sexagesimal: `[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*`
        if let colon = bytes.firstIndex(of: UInt8(ascii: ":")) {
            guard let dot = bytes.lastIndex(of: UInt8(ascii: ".")), dot > colon else { return false }
            return bytes[..<colon].allSatisfy { isDigit($0) || $0 == underscore }
                && isSexagesimalTail(bytes[colon..<dot])
                && bytes[(dot + 1)...].allSatisfy { isDigit($0) || $0 == underscore }
        }
        // `[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?`
        let (mantissa, exponent) = splitExponent(bytes)
        if let exponent {
            let digits = droppingSign(exponent)
            guard !digits.isEmpty, digits.allSatisfy(isDigit) else { return false }
        }
        let parts = mantissa.split(separator: UInt8(ascii: "."), maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, whole.allSatisfy({ isDigit($0) || $0 == underscore }) else { return false }
        return parts.count == 1 || parts[1].allSatisfy { isDigit($0) || $0 == underscore }
    }

    /// The part before the first `e`/`E` and the part after it (nil without one).
    private static func splitExponent(_ bytes: Bytes) -> (Bytes, Bytes?) {
        guard let e = bytes.firstIndex(where: { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }) else {
            return (bytes, nil)
        }
        return (bytes[..<e], bytes[(e + 1)...])
    }

    /// `[0-9]{4}-[0-9]{2}-[0-9]{2}` or `[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}
    /// (?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?`
    private static func isTimestamp(_ bytes: Bytes) -> Bool {
        var rest = bytes
        /// Takes `min...max` digits; false when there are fewer than `min`.
        func digits(_ min: Int, _ max: Int) -> Bool {
            let count = rest.prefix(max).prefix(while: isDigit).count
            guard count >= min else { return false }
            rest = rest.dropFirst(count)
            return true
        }
        func take(_ byte: Character) -> Bool {
            guard let first = rest.first, first == byte.asciiValue else { return false }
            rest = rest.dropFirst()
            return true
        }
        guard digits(4, 4), take("-") else { return false }
        let dateOnly = rest
        if dateOnly.count == 5, dateOnly.prefix(2).allSatisfy(isDigit), dateOnly[dateOnly.startIndex + 2] == 0x2D,
            dateOnly.suffix(2).allSatisfy(isDigit)
        {
            return true
        }
        guard digits(1, 2), take("-"), digits(1, 2) else { return false }
        if !(take("T") || take("t")) {
            let blanks = rest.prefix(while: { $0 == 0x20 || $0 == 0x09 }).count
            guard blanks > 0 else { return false }
            rest = rest.dropFirst(blanks)
        }
        guard digits(1, 2), take(":"), digits(2, 2), take(":"), digits(2, 2) else { return false }
        if take(".") { rest = rest.drop(while: isDigit) }
        rest = rest.drop { $0 == 0x20 || $0 == 0x09 }
        if rest.isEmpty { return true }
        if take("Z") { return rest.isEmpty }
        guard take("-") || take("+"), digits(1, 2) else { return false }
        if take(":") { guard digits(2, 2) else { return false } }
        return rest.isEmpty
    }
}
