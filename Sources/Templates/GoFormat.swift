#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Go's `fmt` printing of template values: `%v` for output, `Sprint`/`Sprintln`/`Sprintf` for the print functions.
enum GoFormat {
    /// `fmt.Sprint(value)`: what an action writes.
    static func value(_ value: TemplateValue) -> String {
        format(value, verb: "v", Spec())
    }

    /// `fmt.Sprint`: spaces between operands when neither side is a string.
    static func sprint(_ args: [TemplateValue]) -> String {
        var out = ""
        var previousIsString = false
        for (index, arg) in args.enumerated() {
            let isString: Bool
            if case .string = arg { isString = true } else { isString = false }
            if index > 0, !isString, !previousIsString { out += " " }
            out += value(arg)
            previousIsString = isString
        }
        return out
    }

    /// `fmt.Sprintln`: spaces between all operands and a final newline.
    static func sprintln(_ args: [TemplateValue]) -> String {
        args.map(value).joined(separator: " ") + "\n"
    }

    struct Spec {
        var minus = false
        var plus = false
        var sharp = false
        var space = false
        var zero = false
        var width: Int?
        var precision: Int?
    }

    /// `fmt.Sprintf` for the verbs templates use: %v %s %d %q %x %X %f %e %g %t %c %b %o %U %T %%.
    static func sprintf(_ format: String, _ args: [TemplateValue]) -> String {
        let scalars = Array(format.unicodeScalars)
        var out = ""
        var argIndex = 0
        var i = 0
        while i < scalars.count {
            let c = scalars[i]
            i += 1
            guard c == "%" else {
                out.unicodeScalars.append(c)
                continue
            }
            var spec = Spec()
            flags: while i < scalars.count {
                switch scalars[i] {
                case "-": spec.minus = true; spec.zero = false
                case "+": spec.plus = true
                case "#": spec.sharp = true
                case " ": spec.space = true
                case "0": spec.zero = !spec.minus
                default: break flags
                }
                i += 1
            }
            if i < scalars.count, scalars[i] == "*" {
                i += 1
                if let width = intFromArgument(args, &argIndex) {
                    spec.width = abs(width)
                    if width < 0 { spec.minus = true; spec.zero = false }
                } else {
                    out += "%!(BADWIDTH)"
                }
            } else {
                spec.width = readNumber(scalars, &i)
            }
            if i < scalars.count, scalars[i] == "." {
                i += 1
                if i < scalars.count, scalars[i] == "*" {
                    i += 1
                    if let precision = intFromArgument(args, &argIndex), precision >= 0 {
                        spec.precision = precision
                    } else {
                        out += "%!(BADPREC)"
                    }
                } else {
                    spec.precision = readNumber(scalars, &i) ?? 0
                }
            }
            guard i < scalars.count else {
                out += "%!(NOVERB)"
                break
            }
            let verb = scalars[i]
            i += 1
            if verb == "%" {
                out += "%"
                continue
            }
            guard argIndex < args.count else {
                out += "%!\(verb)(MISSING)"
                continue
            }
            let arg = args[argIndex]
            argIndex += 1
            if verb == "T" {
                out += pad(arg.goTypeName, spec)
            } else {
                out += self.format(arg, verb: verb, spec)
            }
        }
        if argIndex < args.count {
            let extra = args[argIndex...].map { arg -> String in
                if case .null = arg { return "<nil>" }
                return "\(arg.goTypeName)=\(value(arg))"
            }
            out += "%!(EXTRA " + extra.joined(separator: ", ") + ")"
        }
        return out
    }

    /// Go's limit on widths and precisions (fmt's `tooLarge`): beyond ±1e6 they are refused.
    static let maxWidth = 1_000_000

    /// Go's `parsenum`: a literal width or precision. A number that grows past `maxWidth` is refused and the
    /// rest of the format consumed, as Go does (it then prints `%!(NOVERB)`).
    private static func readNumber(_ scalars: [Unicode.Scalar], _ i: inout Int) -> Int? {
        var number: Int?
        while i < scalars.count, isDigit(scalars[i]) {
            if let value = number, value > maxWidth {
                i = scalars.count
                return nil
            }
            number = (number ?? 0) * 10 + Int(scalars[i].value - 0x30)
            i += 1
        }
        return number
    }

    /// Go's `intFromArg`: the int argument for a `*` width or precision, nil (BADWIDTH/BADPREC) when it is
    /// not an int or is larger than `maxWidth` in magnitude. Consumes the argument when there is one.
    private static func intFromArgument(_ args: [TemplateValue], _ argIndex: inout Int) -> Int? {
        guard argIndex < args.count else { return nil }
        defer { argIndex += 1 }
        guard case .int(let value) = args[argIndex], value >= -maxWidth, value <= maxWidth else { return nil }
        return value
    }

    // MARK: One operand

    static func format(_ value: TemplateValue, verb: Unicode.Scalar, _ spec: Spec) -> String {
        switch value {
        case .string(let s):
            switch verb {
            case "v", "s": return pad(truncate(s, spec.precision), spec)
            case "q": return pad(GoQuote.quote(truncate(s, spec.precision)), spec)
            case "x", "X": return pad(hexBytes(s, upper: verb == "X", spec), spec)
            default: return badVerb(verb, value)
            }
        case .int(let i):
            switch verb {
            case "v", "d": return integer(i, radix: 10, upper: false, verb: verb, spec)
            case "b": return integer(i, radix: 2, upper: false, verb: verb, spec)
            case "o", "O": return integer(i, radix: 8, upper: false, verb: verb, spec)
            case "x", "X": return integer(i, radix: 16, upper: verb == "X", verb: verb, spec)
            case "c": return pad(Unicode.Scalar(UInt32(truncatingIfNeeded: i)).map { String($0) } ?? "\u{FFFD}", spec)
            case "q": return pad(GoQuote.quoteRune(Unicode.Scalar(UInt32(truncatingIfNeeded: i)) ?? "\u{FFFD}"), spec)
            case "U":
                var hex = String(UInt32(truncatingIfNeeded: i), radix: 16, uppercase: true)
                while hex.count < 4 { hex = "0" + hex }
                return pad("U+" + hex, spec)
            default: return badVerb(verb, value)
            }
        case .double(let d):
            switch verb {
            case "v", "g", "G", "e", "E", "f", "F": return float(d, verb: verb, spec)
            default: return badVerb(verb, value)
            }
        case .bool(let b):
            switch verb {
            case "v", "t": return pad(b ? "true" : "false", spec)
            default: return badVerb(verb, value)
            }
        case .list(let items):
            return "[" + items.map { format($0, verb: verb, spec) }.joined(separator: " ") + "]"
        case .map(let map):
            let entries = TemplateValue.sortedKeys(map).map { key in
                format(.string(key), verb: verb, spec) + ":" + format(map[key] ?? .null, verb: verb, spec)
            }
            return "map[" + entries.joined(separator: " ") + "]"
        case .kv(let key, let value):
            let keyText = (spec.plus ? "Key:" : "") + format(.string(key), verb: verb, spec)
            let valueText = (spec.plus ? "Value:" : "") + format(.string(value), verb: verb, spec)
            return "{" + keyText + " " + valueText + "}"
        case .time(let date, let zone):
            let text = GoTime.string(date, zone)
            switch verb {
            case "v", "s": return pad(text, spec)
            case "q": return pad(GoQuote.quote(text), spec)
            default: return badVerb(verb, value)
            }
        case .null:
            return verb == "v" ? pad("<nil>", spec) : "%!\(verb)(<nil>)"
        }
    }

    private static func badVerb(_ verb: Unicode.Scalar, _ value: TemplateValue) -> String {
        "%!\(verb)(\(value.goTypeName)=\(self.value(value)))"
    }

    private static func truncate(_ s: String, _ precision: Int?) -> String {
        guard let precision else { return s }
        return String(String.UnicodeScalarView(s.unicodeScalars.prefix(precision)))
    }

    private static func hexBytes(_ s: String, upper: Bool, _ spec: Spec) -> String {
        var bytes = Array(s.utf8)
        if let precision = spec.precision { bytes = Array(bytes.prefix(precision)) }
        let digits = upper ? Array("0123456789ABCDEF") : Array("0123456789abcdef")
        var parts: [String] = []
        for byte in bytes {
            var part = ""
            if spec.sharp, spec.space || parts.isEmpty { part += upper ? "0X" : "0x" }
            part.append(digits[Int(byte >> 4)])
            part.append(digits[Int(byte & 0x0F)])
            parts.append(part)
        }
        return parts.joined(separator: spec.space ? " " : "")
    }

    private static func integer(_ i: Int, radix: Int, upper: Bool, verb: Unicode.Scalar, _ spec: Spec) -> String {
        var digits = String(i.magnitude, radix: radix, uppercase: upper)
        if let precision = spec.precision {
            if precision == 0, i == 0 { digits = "" }
            while digits.count < precision { digits = "0" + digits }
        }
        var prefix = ""
        if verb == "O" {
            prefix = "0o"
        } else if spec.sharp {
            switch radix {
            case 16: prefix = upper ? "0X" : "0x"
            case 8 where !digits.hasPrefix("0"): prefix = "0"
            case 2: prefix = "0b"
            default: break
            }
        }
        let sign = i < 0 ? "-" : spec.plus ? "+" : spec.space ? " " : ""
        if spec.zero, spec.precision == nil, let width = spec.width {
            let length = sign.count + prefix.count + digits.count
            if width > length { digits = String(repeating: "0", count: width - length) + digits }
            return sign + prefix + digits
        }
        return pad(sign + prefix + digits, spec)
    }

    private static func float(_ d: Double, verb: Unicode.Scalar, _ spec: Spec) -> String {
        if d.isNaN {
            return pad(spec.plus ? "+NaN" : spec.space ? " NaN" : "NaN", spec, zeroAllowed: false)
        }
        if d.isInfinite {
            let text = d < 0 ? "-Inf" : spec.plus ? "+Inf" : spec.space ? " Inf" : "+Inf"
            return pad(text, spec, zeroAllowed: false)
        }
        var body: String
        let magnitude = abs(d)
        switch verb {
        case "v", "g", "G":
            if let precision = spec.precision {
                body = cFormat("%.\(precision)\(verb == "G" ? "G" : "g")", magnitude)
            } else {
                body = shortest(magnitude)
                if verb == "G" { body = body.uppercased() }
            }
        case "e", "E":
            body = cFormat("%.\(spec.precision ?? 6)\(verb)", magnitude)
        default:
            body = cFormat("%.\(spec.precision ?? 6)f", magnitude)
        }
        let sign = d.sign == .minus ? "-" : spec.plus ? "+" : spec.space ? " " : ""
        if spec.zero, !spec.minus, let width = spec.width, width > sign.count + body.count {
            return sign + String(repeating: "0", count: width - sign.count - body.count) + body
        }
        return pad(sign + body, spec)
    }

    /// Go's `strconv.FormatFloat(d, 'g', -1, 64)`: shortest digits, exponent form below 1e-4 and from 1e6
    /// (`fmt.Println(1e6)` prints `1e+06`).
    static func shortest(_ d: Double) -> String {
        let (digits, decimalPoint) = shortestDigits(d)
        if digits.isEmpty { return "0" }
        let exponent = decimalPoint - 1
        if exponent < -4 || exponent >= 6 {
            var out = String(digits[0])
            if digits.count > 1 { out += "." + String(digits[1...]) }
            out += exponent < 0 ? "e-" : "e+"
            let e = abs(exponent)
            out += e < 10 ? "0\(e)" : "\(e)"
            return out
        }
        if decimalPoint <= 0 {
            return "0." + String(repeating: "0", count: -decimalPoint) + String(digits)
        }
        if decimalPoint >= digits.count {
            return String(digits) + String(repeating: "0", count: decimalPoint - digits.count)
        }
        return String(digits[..<decimalPoint]) + "." + String(digits[decimalPoint...])
    }

    /// Shortest round-trip decimal digits (no leading/trailing zeros) and the decimal point position:
    /// value = 0.d1d2… × 10^decimalPoint.
    private static func shortestDigits(_ d: Double) -> ([Character], Int) {
        let text = abs(d).description
        let parts = text.split(separator: "e", maxSplits: 1)
        let mantissa = parts.first.map(String.init) ?? "0"
        let exponent = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
        let pieces = mantissa.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let integerPart = pieces.first.map(String.init) ?? ""
        let fractionPart = pieces.count > 1 ? String(pieces[1]) : ""
        var digits = Array(integerPart + fractionPart)
        var decimalPoint = integerPart.count + exponent
        while let first = digits.first, first == "0" {
            digits.removeFirst()
            decimalPoint -= 1
        }
        while let last = digits.last, last == "0" { digits.removeLast() }
        if digits.isEmpty { return ([], 0) }
        return (digits, decimalPoint)
    }

    static func pad(_ s: String, _ spec: Spec, zeroAllowed: Bool = true) -> String {
        guard let width = spec.width else { return s }
        let count = s.unicodeScalars.count
        guard width > count else { return s }
        let padding = width - count
        if spec.minus { return s + String(repeating: " ", count: padding) }
        if spec.zero, zeroAllowed { return String(repeating: "0", count: padding) + s }
        return String(repeating: " ", count: padding) + s
    }
}
