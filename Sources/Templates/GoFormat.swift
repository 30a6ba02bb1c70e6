#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Go's `fmt` printing of template values: `%v` for output, `Sprint`/`Sprintln`/`Sprintf` for the print
/// functions. A port of Go 1.19's fmt/print.go (`doPrintf`, `printArg`, `printValue`, `badVerb`) and
/// fmt/format.go (`fmtInteger`, `fmtFloat`, `fmtQ`, `fmtSbx`, `pad`, …) for the kinds templates see.
enum GoFormat {
    /// `fmt.Sprint(value)`: what an action writes.
    static func value(_ value: TemplateValue) -> String {
        // The common cases of an action, without a printer: a string prints as it is, an int in decimal.
        switch value {
        case .string(let text): return text
        case .int(let number): return String(number)
        default: break
        }
        var printer = Printer()
        printer.printArg(value, "v")
        return printer.text
    }

    /// `fmt.Sprint`: spaces between operands when neither side is a string.
    static func sprint(_ args: [TemplateValue]) -> String {
        var printer = Printer()
        var previousIsString = false
        for (index, arg) in args.enumerated() {
            let isString: Bool
            if case .string = arg { isString = true } else { isString = false }
            if index > 0, !isString, !previousIsString { printer.write(" ") }
            printer.printArg(arg, "v")
            previousIsString = isString
        }
        return printer.text
    }

    /// `fmt.Sprintln`: spaces between all operands and a final newline.
    static func sprintln(_ args: [TemplateValue]) -> String {
        var printer = Printer()
        for (index, arg) in args.enumerated() {
            if index > 0 { printer.write(" ") }
            printer.printArg(arg, "v")
        }
        printer.write("\n")
        return printer.text
    }

    /// `fmt.Sprintf`; nil when the text grows past `limit` bytes (each verb's width can reach 1e6, so a short
    /// format can ask for gigabytes).
    static func sprintf(_ format: String, _ args: [TemplateValue], limit: Int = .max) -> String? {
        var printer = Printer()
        printer.limit = limit
        printer.doPrintf(Array(format.utf8), args)
        return printer.buffer.count > limit ? nil : printer.text
    }

    /// Go's limit on widths and precisions (fmt's `tooLarge`): beyond ±1e6 they are refused.
    static let maxWidth = 1_000_000

    /// Go's `strconv.FormatFloat(d, 'g', -1, 64)`: shortest digits, exponent form below 1e-4 and from 1e6
    /// (`fmt.Println(1e6)` prints `1e+06`).
    static func shortest(_ d: Double) -> String {
        String(decoding: GoFloat.format(d, verb: UInt8(ascii: "g"), precision: -1), as: UTF8.self)
    }
}

/// fmt's flags (`fmtFlags`), width and precision.
private struct FormatFlags {
    var widPresent = false
    var precPresent = false
    var minus = false
    var plus = false
    var sharp = false
    var space = false
    var zero = false
    var plusV = false
    var sharpV = false
    var wid = 0
    var prec = 0
}

/// fmt's `pp` and `fmt` together: a buffer of bytes, the flags of the verb being printed, and the argument.
private struct Printer {
    var buffer: [UInt8] = []
    var flags = FormatFlags()
    /// The argument being printed, for `badVerb`; nil for an invalid value inside a container.
    var argument: TemplateValue?
    var reordered = false
    var goodArgNum = true
    /// Set while a bad verb's argument is printed: Go calls no String method then.
    var erroring = false
    /// `doPrintf` stops once the text is longer than this.
    var limit = Int.max

    var text: String { String(decoding: buffer, as: UTF8.self) }

    mutating func write(_ s: String) { buffer.append(contentsOf: s.utf8) }
    mutating func write(_ bytes: [UInt8]) { buffer.append(contentsOf: bytes) }
    mutating func write(byte: UInt8) { buffer.append(byte) }

    // MARK: print.go

    mutating func doPrintf(_ format: [UInt8], _ a: [TemplateValue]) {
        let end = format.count
        var argNum = 0
        var afterIndex = false
        reordered = false
        var i = 0
        formatLoop: while i < end, buffer.count <= limit {
            goodArgNum = true
            let lasti = i
            while i < end, format[i] != UInt8(ascii: "%") { i += 1 }
            if i > lasti { buffer.append(contentsOf: format[lasti..<i]) }
            if i >= end { break }
            i += 1
            flags = FormatFlags()
            simpleFormat: while i < end {
                let c = format[i]
                switch c {
                case UInt8(ascii: "#"): flags.sharp = true
                case UInt8(ascii: "0"): flags.zero = !flags.minus
                case UInt8(ascii: "+"): flags.plus = true
                case UInt8(ascii: "-"):
                    flags.minus = true
                    flags.zero = false
                case UInt8(ascii: " "): flags.space = true
                default:
                    if c >= UInt8(ascii: "a"), c <= UInt8(ascii: "z"), argNum < a.count {
                        if c == UInt8(ascii: "v") {
                            flags.sharpV = flags.sharp
                            flags.sharp = false
                            flags.plusV = flags.plus
                            flags.plus = false
                        }
                        printArg(a[argNum], Unicode.Scalar(c))
                        argNum += 1
                        i += 1
                        continue formatLoop
                    }
                    break simpleFormat
                }
                i += 1
            }

            (argNum, i, afterIndex) = argNumber(argNum, format, i, a.count)

            if i < end, format[i] == UInt8(ascii: "*") {
                i += 1
                (flags.wid, flags.widPresent, argNum) = intFromArg(a, argNum)
                if !flags.widPresent { write("%!(BADWIDTH)") }
                if flags.wid < 0 {
                    flags.wid = -flags.wid
                    flags.minus = true
                    flags.zero = false
                }
                afterIndex = false
            } else {
                (flags.wid, flags.widPresent, i) = parsenum(format, i, end)
                if afterIndex, flags.widPresent { goodArgNum = false }
            }

            if i + 1 < end, format[i] == UInt8(ascii: ".") {
                i += 1
                if afterIndex { goodArgNum = false }
                (argNum, i, afterIndex) = argNumber(argNum, format, i, a.count)
                if i < end, format[i] == UInt8(ascii: "*") {
                    i += 1
                    (flags.prec, flags.precPresent, argNum) = intFromArg(a, argNum)
                    if flags.prec < 0 {
                        flags.prec = 0
                        flags.precPresent = false
                    }
                    if !flags.precPresent { write("%!(BADPREC)") }
                    afterIndex = false
                } else {
                    (flags.prec, flags.precPresent, i) = parsenum(format, i, end)
                    if !flags.precPresent {
                        flags.prec = 0
                        flags.precPresent = true
                    }
                }
            }

            if !afterIndex { (argNum, i, afterIndex) = argNumber(argNum, format, i, a.count) }

            if i >= end {
                write("%!(NOVERB)")
                break
            }

            var verb = Unicode.Scalar(format[i])
            var size = 1
            if format[i] >= 0x80 {
                (verb, size) = decodeRune(format, i)
            }
            i += size

            if verb == "%" {
                write(byte: UInt8(ascii: "%"))
            } else if !goodArgNum {
                write("%!")
                writeRune(verb)
                write("(BADINDEX)")
            } else if argNum >= a.count {
                write("%!")
                writeRune(verb)
                write("(MISSING)")
            } else {
                if verb == "v" {
                    flags.sharpV = flags.sharp
                    flags.sharp = false
                    flags.plusV = flags.plus
                    flags.plus = false
                }
                printArg(a[argNum], verb)
                argNum += 1
            }
        }

        if !reordered, argNum < a.count {
            flags = FormatFlags()
            write("%!(EXTRA ")
            for (index, arg) in a[argNum...].enumerated() {
                if index > 0 { write(", ") }
                if case .null = arg {
                    write("<nil>")
                } else {
                    write(arg.goTypeName)
                    write(byte: UInt8(ascii: "="))
                    printArg(arg, "v")
                }
            }
            write(byte: UInt8(ascii: ")"))
        }
    }

    private func decodeRune(_ bytes: [UInt8], _ i: Int) -> (Unicode.Scalar, Int) {
        var iterator = bytes[i...].makeIterator()
        var decoder = UTF8()
        switch decoder.decode(&iterator) {
        case .scalarValue(let scalar): return (scalar, String(scalar).utf8.count)
        default: return ("\u{FFFD}", 1)
        }
    }

    private mutating func writeRune(_ scalar: Unicode.Scalar) {
        buffer.append(contentsOf: String(scalar).utf8)
    }

    /// Go's `parsenum`: a literal width or precision; a number past ±1e6 is refused (`tooLarge`).
    private func parsenum(_ s: [UInt8], _ start: Int, _ end: Int) -> (Int, Bool, Int) {
        if start >= end { return (0, false, end) }
        var num = 0
        var isnum = false
        var newi = start
        while newi < end, s[newi] >= UInt8(ascii: "0"), s[newi] <= UInt8(ascii: "9") {
            if num > GoFormat.maxWidth || num < -GoFormat.maxWidth { return (0, false, end) }
            num = num * 10 + Int(s[newi] - UInt8(ascii: "0"))
            isnum = true
            newi += 1
        }
        return (num, isnum, newi)
    }

    private mutating func argNumber(_ argNum: Int, _ format: [UInt8], _ i: Int, _ numArgs: Int) -> (Int, Int, Bool) {
        if format.count <= i || format[i] != UInt8(ascii: "[") { return (argNum, i, false) }
        reordered = true
        let (index, wid, ok) = parseArgNumber(Array(format[i...]))
        if ok, index >= 0, index < numArgs { return (index, i + wid, true) }
        goodArgNum = false
        return (argNum, i + wid, ok)
    }

    private func parseArgNumber(_ format: [UInt8]) -> (Int, Int, Bool) {
        if format.count < 3 { return (0, 1, false) }
        for i in 1..<format.count where format[i] == UInt8(ascii: "]") {
            let (width, ok, newi) = parsenum(format, 1, i)
            if !ok || newi != i { return (0, i + 1, false) }
            return (width - 1, i + 1, true)
        }
        return (0, 1, false)
    }

    private func intFromArg(_ a: [TemplateValue], _ argNum: Int) -> (Int, Bool, Int) {
        guard argNum < a.count else { return (0, false, argNum) }
        // Any int kind counts, a named one (time.Month) too.
        let number: Int
        switch a[argNum] {
        case .int(let value): number = value
        case .namedInt(let value, _, _): number = value
        default: return (0, false, argNum + 1)
        }
        guard number >= -GoFormat.maxWidth, number <= GoFormat.maxWidth else { return (0, false, argNum + 1) }
        return (number, true, argNum + 1)
    }

    /// `printArg` at depth 0.
    mutating func printArg(_ arg: TemplateValue, _ verb: Unicode.Scalar) {
        argument = arg
        if case .null = arg {
            switch verb {
            case "T", "v": padString("<nil>")
            default: badVerb(verb)
            }
            return
        }
        switch verb {
        case "T":
            fmtS(arg.goTypeName)
            return
        case "p":
            fmtPointer(verb)
            return
        default:
            break
        }
        printValue(arg, verb, depth: 0)
    }

    /// `printValue`; inside a slice or map an element of `[]interface {}` or `map[string]interface {}` is an
    /// interface, whose nil prints `<nil>` whatever the verb.
    mutating func printValue(_ value: TemplateValue, _ verb: Unicode.Scalar, depth: Int) {
        if depth > 0 { argument = value }
        switch value {
        case .bool(let b):
            switch verb {
            case "t", "v": padString(b ? "true" : "false")
            default: badVerb(verb)
            }
        case .int(let i):
            fmtIntegerVerb(UInt64(bitPattern: Int64(i)), signed: true, verb)
        case .double(let d):
            switch verb {
            case "v": fmtFloat(d, verb: UInt8(ascii: "g"), prec: -1)
            case "b", "g", "G", "x", "X": fmtFloat(d, verb: UInt8(verb.value), prec: -1)
            case "f", "e", "E": fmtFloat(d, verb: UInt8(verb.value), prec: 6)
            case "F": fmtFloat(d, verb: UInt8(ascii: "f"), prec: 6)
            default: badVerb(verb)
            }
        case .string(let s):
            fmtString(s, verb)
        case .time(let date, let zone):
            // time.Time is a Stringer: v, s, x, X and q print its String() (unless badVerb is printing).
            switch verb {
            case "v", "s", "x", "X", "q": fmtString(GoTime.string(date, zone), verb)
            default: badVerb(verb)
            }
        case .namedInt(let number, _, let name):
            // A Stringer too, but an int to every other verb, to %#v and while a bad verb is reported.
            let stringVerb = verb == "v" || verb == "s" || verb == "x" || verb == "X" || verb == "q"
            if let name, stringVerb, !flags.sharpV, !erroring {
                fmtString(name, verb)
            } else if verb == "v", flags.sharpV, name == nil {
                // An unsigned int under %#v: Go's fmt0x64 (0xc3).
                let saved = flags.sharp
                flags.sharp = true
                fmtInteger(UInt64(number), base: 16, signed: false, verb: "v", digits: lowerDigits)
                flags.sharp = saved
            } else {
                fmtIntegerVerb(UInt64(bitPattern: Int64(number)), signed: true, verb)
            }
        case .list(let items, let kind, let isNil):
            if flags.sharpV {
                write(kind.goTypeName)
                if isNil {
                    write("(nil)")
                    return
                }
                write(byte: UInt8(ascii: "{"))
                for (index, item) in items.enumerated() {
                    if index > 0 { write(", ") }
                    printElement(item, verb, depth: depth + 1, interface: kind == .interfaces)
                }
                write(byte: UInt8(ascii: "}"))
            } else {
                write(byte: UInt8(ascii: "["))
                for (index, item) in items.enumerated() {
                    if index > 0 { write(byte: UInt8(ascii: " ")) }
                    printElement(item, verb, depth: depth + 1, interface: kind == .interfaces)
                }
                write(byte: UInt8(ascii: "]"))
            }
        case .map(let map, let isNil):
            if flags.sharpV {
                write("map[string]interface {}")
                if isNil {
                    write("(nil)")
                    return
                }
                write("{")
            } else {
                write("map[")
            }
            for (index, key) in TemplateValue.sortedKeys(map).enumerated() {
                if index > 0 {
                    if flags.sharpV { write(", ") } else { write(byte: UInt8(ascii: " ")) }
                }
                printValue(.string(key), verb, depth: depth + 1)
                write(byte: UInt8(ascii: ":"))
                printElement(map[key] ?? .null, verb, depth: depth + 1, interface: true)
            }
            write(byte: UInt8(ascii: flags.sharpV ? "}" : "]"))
        case .kv(let key, let kvValue):
            if flags.sharpV { write("memkv.KVPair") }
            write(byte: UInt8(ascii: "{"))
            if flags.plusV || flags.sharpV { write("Key:") }
            printValue(.string(key), verb, depth: depth + 1)
            write(flags.sharpV ? ", " : " ")
            if flags.plusV || flags.sharpV { write("Value:") }
            printValue(.string(kvValue), verb, depth: depth + 1)
            write(byte: UInt8(ascii: "}"))
        case .null:
            // An invalid value inside a container (printValue's reflect.Invalid at depth > 0).
            switch verb {
            case "v": write("<nil>")
            default: badVerb(verb)
            }
        }
    }

    /// An element of a slice or a map value: an `interface {}` element that is nil prints `<nil>` (or
    /// `interface {}(nil)` with `%#v`) whatever the verb.
    private mutating func printElement(_ value: TemplateValue, _ verb: Unicode.Scalar, depth: Int, interface: Bool) {
        if interface, case .null = value {
            write(flags.sharpV ? "interface {}(nil)" : "<nil>")
            return
        }
        printValue(value, verb, depth: depth)
    }

    private mutating func fmtPointer(_ verb: Unicode.Scalar) {
        // Slices and maps have addresses in Go, which a template cannot rely on; every other kind is a bad verb.
        badVerb(verb)
    }

    private mutating func badVerb(_ verb: Unicode.Scalar) {
        write("%!")
        writeRune(verb)
        write(byte: UInt8(ascii: "("))
        if let current = argument, current != .null {
            write(current.goTypeName)
            write(byte: UInt8(ascii: "="))
            printArgErroring(current)
            argument = current
        } else {
            write("<nil>")
        }
        write(byte: UInt8(ascii: ")"))
    }

    /// `printArg(arg, 'v')` while erroring: the flags as they are (no plusV/sharpV switch), no Stringer.
    private mutating func printArgErroring(_ arg: TemplateValue) {
        erroring = true
        defer { erroring = false }
        if case .time(let date, let zone) = arg {
            // Go prints time.Time's fields here (its String method is not called while erroring); hecd
            // prints the time as text.
            fmtS(GoTime.string(date, zone))
            return
        }
        printValue(arg, "v", depth: 0)
    }

    private mutating func fmtIntegerVerb(_ v: UInt64, signed: Bool, _ verb: Unicode.Scalar) {
        switch verb {
        case "v", "d": fmtInteger(v, base: 10, signed: signed, verb: verb, digits: lowerDigits)
        case "b": fmtInteger(v, base: 2, signed: signed, verb: verb, digits: lowerDigits)
        case "o", "O": fmtInteger(v, base: 8, signed: signed, verb: verb, digits: lowerDigits)
        case "x": fmtInteger(v, base: 16, signed: signed, verb: verb, digits: lowerDigits)
        case "X": fmtInteger(v, base: 16, signed: signed, verb: verb, digits: upperDigits)
        case "c": fmtC(v)
        case "q": fmtQc(v)
        case "U": fmtUnicode(v)
        default: badVerb(verb)
        }
    }

    private mutating func fmtString(_ s: String, _ verb: Unicode.Scalar) {
        switch verb {
        case "v": if flags.sharpV { fmtQ(s) } else { fmtS(s) }
        case "s": fmtS(s)
        case "x": fmtSx(Array(s.utf8), digits: lowerDigits)
        case "X": fmtSx(Array(s.utf8), digits: upperDigits)
        case "q": fmtQ(s)
        default: badVerb(verb)
        }
    }

    // MARK: format.go

    private let lowerDigits = Array("0123456789abcdefx".utf8)
    private let upperDigits = Array("0123456789ABCDEFX".utf8)

    private mutating func writePadding(_ n: Int) {
        guard n > 0 else { return }
        buffer.append(contentsOf: repeatElement(flags.zero ? UInt8(ascii: "0") : UInt8(ascii: " "), count: n))
    }

    private func runeCount(_ bytes: [UInt8]) -> Int {
        bytes.reduce(0) { $0 + ($1 & 0xC0 == 0x80 ? 0 : 1) }
    }

    private mutating func pad(_ b: [UInt8]) {
        if !flags.widPresent || flags.wid == 0 {
            write(b)
            return
        }
        let width = flags.wid - runeCount(b)
        if !flags.minus {
            writePadding(width)
            write(b)
        } else {
            write(b)
            writePadding(width)
        }
    }

    private mutating func padString(_ s: String) { pad(Array(s.utf8)) }

    private mutating func fmtUnicode(_ value: UInt64) {
        var u = value
        var prec = 4
        if flags.precPresent, flags.prec > 4 { prec = flags.prec }
        var out: [UInt8] = []
        if flags.sharp, u <= 0x10FFFF, let scalar = Unicode.Scalar(UInt32(u)), GoQuote.isPrintable(scalar) {
            out = Array(" '\(scalar)'".utf8)
        }
        var digits: [UInt8] = []
        while u >= 16 {
            digits.append(upperDigits[Int(u & 0xF)])
            prec -= 1
            u >>= 4
        }
        digits.append(upperDigits[Int(u)])
        prec -= 1
        while prec > 0 {
            digits.append(UInt8(ascii: "0"))
            prec -= 1
        }
        let saved = flags.zero
        flags.zero = false
        pad(Array("U+".utf8) + digits.reversed() + out)
        flags.zero = saved
    }

    private mutating func fmtInteger(_ value: UInt64, base: UInt64, signed: Bool, verb: Unicode.Scalar, digits: [UInt8]) {
        let negative = signed && Int64(bitPattern: value) < 0
        var u = negative ? 0 &- value : value
        var prec = 0
        if flags.precPresent {
            prec = flags.prec
            if prec == 0, u == 0 {
                let saved = flags.zero
                flags.zero = false
                writePadding(flags.wid)
                flags.zero = saved
                return
            }
        } else if flags.zero, flags.widPresent {
            prec = flags.wid
            if negative || flags.plus || flags.space { prec -= 1 }
        }
        var out: [UInt8] = []  // reversed
        while u >= base {
            out.append(digits[Int(u % base)])
            u /= base
        }
        out.append(digits[Int(u)])
        while prec > out.count { out.append(UInt8(ascii: "0")) }
        if flags.sharp {
            switch base {
            case 2: out += [UInt8(ascii: "b"), UInt8(ascii: "0")]
            case 8: if out.last != UInt8(ascii: "0") { out.append(UInt8(ascii: "0")) }
            case 16: out += [digits[16], UInt8(ascii: "0")]
            default: break
            }
        }
        if verb == "O" { out += [UInt8(ascii: "o"), UInt8(ascii: "0")] }
        if negative {
            out.append(UInt8(ascii: "-"))
        } else if flags.plus {
            out.append(UInt8(ascii: "+"))
        } else if flags.space {
            out.append(UInt8(ascii: " "))
        }
        let saved = flags.zero
        flags.zero = false
        pad(out.reversed())
        flags.zero = saved
    }

    private func truncateString(_ s: String) -> String {
        guard flags.precPresent else { return s }
        return String(String.UnicodeScalarView(s.unicodeScalars.prefix(flags.prec)))
    }

    private mutating func fmtS(_ s: String) { padString(truncateString(s)) }

    private mutating func fmtSx(_ bytes: [UInt8], digits: [UInt8]) {
        var length = bytes.count
        if flags.precPresent, flags.prec < length { length = flags.prec }
        var width = 2 * length
        if width > 0 {
            if flags.space {
                if flags.sharp { width *= 2 }
                width += length - 1
            } else if flags.sharp {
                width += 2
            }
        } else {
            if flags.widPresent { writePadding(flags.wid) }
            return
        }
        if flags.widPresent, flags.wid > width, !flags.minus { writePadding(flags.wid - width) }
        if flags.sharp { buffer += [UInt8(ascii: "0"), digits[16]] }
        for i in 0..<length {
            if flags.space, i > 0 {
                buffer.append(UInt8(ascii: " "))
                if flags.sharp { buffer += [UInt8(ascii: "0"), digits[16]] }
            }
            let c = bytes[i]
            buffer += [digits[Int(c >> 4)], digits[Int(c & 0xF)]]
        }
        if flags.widPresent, flags.wid > width, flags.minus { writePadding(flags.wid - width) }
    }

    private mutating func fmtQ(_ value: String) {
        let s = truncateString(value)
        if flags.sharp, GoQuote.canBackquote(s) {
            padString("`" + s + "`")
            return
        }
        padString(GoQuote.quote(s, asciiOnly: flags.plus))
    }

    private func rune(_ c: UInt64) -> Unicode.Scalar {
        guard c <= 0x10FFFF, let scalar = Unicode.Scalar(UInt32(c)) else { return "\u{FFFD}" }
        return scalar
    }

    private mutating func fmtC(_ c: UInt64) { padString(String(rune(c))) }

    private mutating func fmtQc(_ c: UInt64) { padString(GoQuote.quoteRune(rune(c), asciiOnly: flags.plus)) }

    private mutating func fmtFloat(_ v: Double, verb: UInt8, prec defaultPrecision: Int) {
        let prec = flags.precPresent ? flags.prec : defaultPrecision
        var num = [UInt8(ascii: "+")] + GoFloat.format(v, verb: verb, precision: prec)
        if num[1] == UInt8(ascii: "-") || num[1] == UInt8(ascii: "+") {
            num.removeFirst()
        }
        if flags.space, num[0] == UInt8(ascii: "+"), !flags.plus { num[0] = UInt8(ascii: " ") }
        if num[1] == UInt8(ascii: "I") || num[1] == UInt8(ascii: "N") {
            let saved = flags.zero
            flags.zero = false
            if num[1] == UInt8(ascii: "N"), !flags.space, !flags.plus { num.removeFirst() }
            pad(num)
            flags.zero = saved
            return
        }
        if flags.sharp, verb != UInt8(ascii: "b") {
            var digits = 0
            switch verb {
            case UInt8(ascii: "v"), UInt8(ascii: "g"), UInt8(ascii: "G"), UInt8(ascii: "x"):
                digits = prec
                if digits == -1 { digits = 6 }
            default: break
            }
            var tail: [UInt8] = []
            var hasDecimalPoint = false
            var sawNonzeroDigit = false
            var i = 1
            scan: while i < num.count {
                switch num[i] {
                case UInt8(ascii: "."):
                    hasDecimalPoint = true
                case UInt8(ascii: "p"), UInt8(ascii: "P"):
                    tail = Array(num[i...])
                    num = Array(num[..<i])
                    break scan
                case UInt8(ascii: "e"), UInt8(ascii: "E"):
                    // An exponent, except in hex, where e is a digit.
                    if verb != UInt8(ascii: "x"), verb != UInt8(ascii: "X") {
                        tail = Array(num[i...])
                        num = Array(num[..<i])
                        break scan
                    }
                    if sawNonzeroDigit || num[i] != UInt8(ascii: "0") { sawNonzeroDigit = true }
                    if sawNonzeroDigit { digits -= 1 }
                default:
                    if num[i] != UInt8(ascii: "0") { sawNonzeroDigit = true }
                    if sawNonzeroDigit { digits -= 1 }
                }
                i += 1
            }
            if !hasDecimalPoint {
                if num.count == 2, num[1] == UInt8(ascii: "0") { digits -= 1 }
                num.append(UInt8(ascii: "."))
            }
            while digits > 0 {
                num.append(UInt8(ascii: "0"))
                digits -= 1
            }
            num += tail
        }
        if flags.plus || num[0] != UInt8(ascii: "+") {
            if flags.zero, flags.widPresent, flags.wid > num.count {
                buffer.append(num[0])
                writePadding(flags.wid - num.count)
                write(Array(num[1...]))
                return
            }
            pad(num)
            return
        }
        pad(Array(num[1...]))
    }
}

/// strconv's `AppendFloat(dst, f, verb, prec, 64)` for the verbs fmt uses: `e E f g G` (C's printf when a
/// precision is given, the shortest round-trip digits otherwise), `b` and `x X` (Go's own forms).
enum GoFloat {
    static func format(_ v: Double, verb: UInt8, precision prec: Int) -> [UInt8] {
        if v.isNaN { return Array("NaN".utf8) }
        if v.isInfinite { return Array((v < 0 ? "-Inf" : "+Inf").utf8) }
        switch verb {
        case UInt8(ascii: "b"): return binary(v)
        case UInt8(ascii: "x"), UInt8(ascii: "X"): return hex(v, prec: prec, upper: verb == UInt8(ascii: "X"))
        default: break
        }
        let negative = v.sign == .minus
        let magnitude = abs(v)
        var body: String
        if prec < 0 {
            let (digits, point) = shortestDigits(magnitude)
            switch verb {
            case UInt8(ascii: "e"), UInt8(ascii: "E"):
                body = exponentForm(digits, point, fractionDigits: max(digits.count - 1, 0), e: verb)
            case UInt8(ascii: "f"):
                body = fixedForm(digits, point, fractionDigits: max(digits.count - point, 0))
            default:
                let exponent = digits.isEmpty ? 0 : point - 1
                if exponent < -4 || exponent >= 6 {
                    body = exponentForm(digits, point, fractionDigits: max(digits.count - 1, 0), e: verb == UInt8(ascii: "G") ? UInt8(ascii: "E") : UInt8(ascii: "e"))
                } else {
                    body = fixedForm(digits, point, fractionDigits: max(digits.count - point, 0))
                }
            }
        } else {
            let c: String
            switch verb {
            case UInt8(ascii: "e"): c = "e"
            case UInt8(ascii: "E"): c = "E"
            case UInt8(ascii: "f"): c = "f"
            case UInt8(ascii: "G"): c = "G"
            default: c = "g"
            }
            body = cFormat("%.\(prec)\(c)", magnitude)
        }
        return Array(((negative ? "-" : "") + body).utf8)
    }

    /// Shortest round-trip decimal digits (no leading or trailing zeros) and the decimal point position:
    /// value = 0.d1d2… × 10^point.
    static func shortestDigits(_ d: Double) -> ([UInt8], Int) {
        let text = abs(d).description
        let parts = text.split(separator: "e", maxSplits: 1)
        let mantissa = parts.first.map(String.init) ?? "0"
        let exponent = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
        let pieces = mantissa.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let integerPart = pieces.first.map(String.init) ?? ""
        let fractionPart = pieces.count > 1 ? String(pieces[1]) : ""
        var digits = Array((integerPart + fractionPart).utf8)
        var point = integerPart.count + exponent
        while let first = digits.first, first == UInt8(ascii: "0") {
            digits.removeFirst()
            point -= 1
        }
        while let last = digits.last, last == UInt8(ascii: "0") { digits.removeLast() }
        if digits.isEmpty { return ([], 1) }
        return (digits, point)
    }

    private static func exponentForm(_ digits: [UInt8], _ point: Int, fractionDigits: Int, e: UInt8) -> String {
        var out = [digits.first ?? UInt8(ascii: "0")]
        if fractionDigits > 0 {
            out.append(UInt8(ascii: "."))
            for i in 1...fractionDigits { out.append(i < digits.count ? digits[i] : UInt8(ascii: "0")) }
        }
        let exponent = digits.isEmpty ? 0 : point - 1
        out.append(e)
        out.append(exponent < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
        let magnitude = abs(exponent)
        if magnitude < 10 { out.append(UInt8(ascii: "0")) }
        out += Array(String(magnitude).utf8)
        return String(decoding: out, as: UTF8.self)
    }

    private static func fixedForm(_ digits: [UInt8], _ point: Int, fractionDigits: Int) -> String {
        var out: [UInt8] = []
        if point > 0 {
            for i in 0..<point { out.append(i < digits.count ? digits[i] : UInt8(ascii: "0")) }
        } else {
            out.append(UInt8(ascii: "0"))
        }
        if fractionDigits > 0 {
            out.append(UInt8(ascii: "."))
            for i in 0..<fractionDigits {
                let index = point + i
                out.append(index >= 0 && index < digits.count ? digits[index] : UInt8(ascii: "0"))
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// strconv's `%b`: `-ddddp±ddd`, the mantissa and binary exponent.
    private static func binary(_ v: Double) -> [UInt8] {
        let bits = v.bitPattern
        var exp = Int((bits >> 52) & 0x7FF)
        var mant = bits & ((1 << 52) - 1)
        if exp == 0 { exp += 1 } else { mant |= 1 << 52 }
        exp += -1023 - 52
        var out = v.sign == .minus ? "-" : ""
        out += String(mant) + "p" + (exp >= 0 ? "+" : "") + String(exp)
        return Array(out.utf8)
    }

    /// strconv's `%x`: `-0x1.yyyyp±dd`, rounded to `prec` hex digits when `prec` is 0 to 14.
    private static func hex(_ v: Double, prec: Int, upper: Bool) -> [UInt8] {
        let bits = v.bitPattern
        var exp = Int((bits >> 52) & 0x7FF)
        var mant = bits & ((1 << 52) - 1)
        if exp == 0 { exp += 1 } else { mant |= 1 << 52 }
        exp += -1023
        if mant == 0 { exp = 0 }
        mant <<= 60 - 52
        while mant != 0, mant & (1 << 60) == 0 {
            mant <<= 1
            exp -= 1
        }
        if prec >= 0, prec < 15 {
            let shift = UInt64(prec * 4)
            let extra = (mant << shift) & ((1 << 60) - 1)
            mant >>= 60 - shift
            if extra | (mant & 1) > 1 << 59 { mant += 1 }
            mant <<= 60 - shift
            if mant & (1 << 61) != 0 {
                mant >>= 1
                exp += 1
            }
        }
        let digits = Array((upper ? "0123456789ABCDEF" : "0123456789abcdef").utf8)
        var out: [UInt8] = []
        if v.sign == .minus { out.append(UInt8(ascii: "-")) }
        out += [UInt8(ascii: "0"), upper ? UInt8(ascii: "X") : UInt8(ascii: "x"), UInt8(ascii: "0") + UInt8((mant >> 60) & 1)]
        mant <<= 4
        if prec < 0, mant != 0 {
            out.append(UInt8(ascii: "."))
            while mant != 0 {
                out.append(digits[Int((mant >> 60) & 15)])
                mant <<= 4
            }
        } else if prec > 0 {
            out.append(UInt8(ascii: "."))
            for _ in 0..<prec {
                out.append(digits[Int((mant >> 60) & 15)])
                mant <<= 4
            }
        }
        out.append(upper ? UInt8(ascii: "P") : UInt8(ascii: "p"))
        out.append(exp < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
        let magnitude = abs(exp)
        if magnitude < 10 { out.append(UInt8(ascii: "0")) }
        out += Array(String(magnitude).utf8)
        return out
    }
}
