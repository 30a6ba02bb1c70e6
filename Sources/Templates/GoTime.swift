#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Go's `time.Time` as templates see it through confd's `datetime`: `String()`, `Format(layout)` with Go's
/// reference-time layouts, and a few accessor methods.
enum GoTime {
    private static let monthNames = [
        "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
        "November", "December",
    ]
    private static let dayNames = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]

    /// `Time.String()` without the monotonic clock reading: `2006-01-02 15:04:05.999999999 -0700 MST`.
    static func string(_ date: Date, _ zone: TimeZone) -> String {
        format(date, zone, layout: "2006-01-02 15:04:05.999999999 -0700 MST")
    }

    /// Methods callable as `{{datetime.Format "2006-01-02"}}`; nil for an unknown method.
    static func method(
        _ name: String, _ date: Date, _ zone: TimeZone, _ args: [TemplateValue], localZone: TimeZone,
        environment: [String: String] = [:]
    ) throws(FunctionError) -> TemplateValue? {
        let fields = Fields(date, zone)
        func noArgs(_ value: TemplateValue) throws(FunctionError) -> TemplateValue {
            guard args.isEmpty else { throw FunctionError("wrong number of args for \(name): want 0 got \(args.count)") }
            return value
        }
        switch name {
        case "Format":
            guard args.count == 1 else { throw FunctionError("wrong number of args for Format: want 1 got \(args.count)") }
            guard case .string(let layout) = args[0] else {
                throw FunctionError("wrong type for value; expected string; got \(args[0].goTypeName)")
            }
            return .string(format(date, zone, layout: layout))
        case "String": return try noArgs(.string(string(date, zone)))
        case "Unix": return try noArgs(.int(Int(date.timeIntervalSince1970.rounded(.down))))
        case "UnixMilli": return try noArgs(.int(Int((date.timeIntervalSince1970 * 1e3).rounded(.down))))
        case "UnixNano": return try noArgs(.int(Int((date.timeIntervalSince1970 * 1e9).rounded(.down))))
        case "UTC": return try noArgs(.time(date, utc))
        case "Local": return try noArgs(.time(date, localZone))
        case "Year": return try noArgs(.int(fields.year))
        case "Month": return try noArgs(.namedInt(fields.month, typeName: "time.Month", name: monthNames[fields.month - 1]))
        case "Day": return try noArgs(.int(fields.day))
        case "Hour": return try noArgs(.int(fields.hour))
        case "Minute": return try noArgs(.int(fields.minute))
        case "Second": return try noArgs(.int(fields.second))
        case "Nanosecond": return try noArgs(.int(fields.nanosecond))
        case "YearDay": return try noArgs(.int(fields.yearDay))
        case "Weekday": return try noArgs(.namedInt(fields.weekday, typeName: "time.Weekday", name: dayNames[fields.weekday]))
        // confd's datetime is time.Now(), whose Location prints "Local"; after .UTC it is "UTC".
        case "Location": return try noArgs(.string(locationName(zone, localZone: localZone, environment: environment)))
        default: return nil
        }
    }

    /// The zone of `.UTC`: named "UTC", unlike the host's fixed offset (`TimeZone.hostOffset`, "GMT").
    static let utc = TimeZone(identifier: "UTC") ?? TimeZone(secondsFromGMT: 0) ?? TimeZone.current

    /// What Go's `Location().String()` prints. confd's `datetime` is `time.Now()`, in `time.Local`, whose name
    /// Go takes from `TZ`: "Local" when it is unset, "UTC" when it is empty or "UTC", else `TZ` itself (without
    /// a leading ':'; "Local" for /etc/localtime). A time moved to UTC (`.UTC`) is "UTC".
    static func locationName(_ zone: TimeZone, localZone: TimeZone, environment: [String: String]) -> String {
        if zone.identifier == "UTC" { return "UTC" }
        guard zone == localZone else { return zone.secondsFromGMT() == 0 ? "UTC" : zone.identifier }
        guard var tz = environment["TZ"] else { return "Local" }
        if tz.hasPrefix(":") { tz.removeFirst() }
        if tz.isEmpty || tz == "UTC" { return "UTC" }
        return tz == "/etc/localtime" ? "Local" : tz
    }

    private struct Fields {
        var year = 1, month = 1, day = 1, hour = 0, minute = 0, second = 0, nanosecond = 0
        var weekday = 0, yearDay = 1, offset = 0
        var abbreviation = ""

        init(_ date: Date, _ zone: TimeZone) {
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = zone
            let interval = date.timeIntervalSince1970
            let whole = interval.rounded(.down)
            var nanos = Int(((interval - whole) * 1e9).rounded())
            var instant = Date(timeIntervalSince1970: whole)
            if nanos >= 1_000_000_000 {
                nanos -= 1_000_000_000
                instant = Date(timeIntervalSince1970: whole + 1)
            }
            let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: instant)
            year = c.year ?? 1
            month = c.month ?? 1
            day = c.day ?? 1
            hour = c.hour ?? 0
            minute = c.minute ?? 0
            second = c.second ?? 0
            weekday = ((c.weekday ?? 1) - 1) % 7
            yearDay = calendar.ordinality(of: .day, in: .year, for: instant) ?? 1
            nanosecond = nanos
            offset = zone.secondsFromGMT(for: instant)
            if offset == 0, ["UTC", "GMT", "Etc/UTC", "Etc/GMT", "Universal", "Zulu"].contains(zone.identifier)
                || zone.identifier.hasPrefix("GMT")
            {
                abbreviation = "UTC"
            } else if let name = zone.abbreviation(for: instant), !name.hasPrefix("GMT"), !name.hasPrefix("UTC") {
                abbreviation = name
            }
        }
    }

    private enum Chunk {
        case longMonth, month, numMonth, zeroMonth, longWeekDay, weekDay
        case day, underDay, zeroDay, underYearDay, zeroYearDay
        case hour, hour12, zeroHour12, minute, zeroMinute, second, zeroSecond
        case longYear, year, upperPM, lowerPM, zoneName
        /// Numeric zone; `iso` prints Z for UTC.
        case zone(iso: Bool, colon: Bool, seconds: Bool, short: Bool)
        case fraction(separator: Character, digits: Int, trimZeros: Bool)
    }

    /// Go's `Time.Format`.
    static func format(_ date: Date, _ zone: TimeZone, layout: String) -> String {
        let f = Fields(date, zone)
        var out = ""
        var rest = Substring(layout)
        while !rest.isEmpty {
            guard let (prefix, chunk, suffix) = nextChunk(rest) else {
                out += rest
                break
            }
            out += prefix
            rest = suffix
            switch chunk {
            case .year: out += padded(f.year % 100, 2)
            case .longYear: out += padded(f.year, 4)
            case .month: out += String(monthNames[f.month - 1].prefix(3))
            case .longMonth: out += monthNames[f.month - 1]
            case .numMonth: out += String(f.month)
            case .zeroMonth: out += padded(f.month, 2)
            case .weekDay: out += String(dayNames[f.weekday].prefix(3))
            case .longWeekDay: out += dayNames[f.weekday]
            case .day: out += String(f.day)
            case .underDay: out += (f.day < 10 ? " " : "") + String(f.day)
            case .zeroDay: out += padded(f.day, 2)
            case .underYearDay: out += String(repeating: " ", count: max(0, 3 - String(f.yearDay).count)) + String(f.yearDay)
            case .zeroYearDay: out += padded(f.yearDay, 3)
            case .hour: out += padded(f.hour, 2)
            case .hour12: out += String(f.hour % 12 == 0 ? 12 : f.hour % 12)
            case .zeroHour12: out += padded(f.hour % 12 == 0 ? 12 : f.hour % 12, 2)
            case .minute: out += String(f.minute)
            case .zeroMinute: out += padded(f.minute, 2)
            case .second: out += String(f.second)
            case .zeroSecond: out += padded(f.second, 2)
            case .upperPM: out += f.hour >= 12 ? "PM" : "AM"
            case .lowerPM: out += f.hour >= 12 ? "pm" : "am"
            case .zoneName:
                if !f.abbreviation.isEmpty {
                    out += f.abbreviation
                } else {
                    let minutes = f.offset / 60
                    out += (minutes < 0 ? "-" : "+") + padded(abs(minutes) / 60, 2) + padded(abs(minutes) % 60, 2)
                }
            case .zone(let iso, let colon, let seconds, let short):
                if iso, f.offset == 0 {
                    out += "Z"
                    break
                }
                let total = abs(f.offset)
                out += f.offset < 0 ? "-" : "+"
                out += padded(total / 3600, 2)
                if !short {
                    out += (colon ? ":" : "") + padded(total / 60 % 60, 2)
                }
                if seconds {
                    out += (colon ? ":" : "") + padded(total % 60, 2)
                }
            case .fraction(let separator, let digits, let trimZeros):
                var text = String(padded(f.nanosecond, 9).prefix(digits))
                if trimZeros {
                    while text.hasSuffix("0") { text.removeLast() }
                    if text.isEmpty { break }
                }
                out += String(separator) + text
            }
        }
        return out
    }

    private static func padded(_ value: Int, _ width: Int) -> String {
        let text = String(abs(value))
        return (value < 0 ? "-" : "") + String(repeating: "0", count: max(0, width - text.count)) + text
    }

    /// Go's nextStdChunk: the text before the first layout element, the element, and the rest.
    private static func nextChunk(_ layout: Substring) -> (Substring, Chunk, Substring)? {
        let chars = Array(layout)
        func has(_ text: String, at i: Int) -> Bool {
            let t = Array(text)
            return i + t.count <= chars.count && Array(chars[i..<(i + t.count)]) == t
        }
        func split(_ i: Int, _ length: Int, _ chunk: Chunk) -> (Substring, Chunk, Substring) {
            (Substring(String(chars[..<i])), chunk, Substring(String(chars[(i + length)...])))
        }
        func startsWithLower(_ i: Int) -> Bool {
            i < chars.count && chars[i].isLowercase && chars[i].isASCII
        }
        var i = 0
        while i < chars.count {
            switch chars[i] {
            case "J":
                if has("January", at: i) { return split(i, 7, .longMonth) }
                if has("Jan", at: i), !startsWithLower(i + 3) { return split(i, 3, .month) }
            case "M":
                if has("Monday", at: i) { return split(i, 6, .longWeekDay) }
                if has("Mon", at: i), !startsWithLower(i + 3) { return split(i, 3, .weekDay) }
                if has("MST", at: i) { return split(i, 3, .zoneName) }
            case "0":
                if i + 1 < chars.count, let digit = chars[i + 1].wholeNumberValue, (1...6).contains(digit), chars[i + 1].isASCII {
                    let chunks: [Chunk] = [.zeroMonth, .zeroDay, .zeroHour12, .zeroMinute, .zeroSecond, .year]
                    return split(i, 2, chunks[digit - 1])
                }
                if has("002", at: i) { return split(i, 3, .zeroYearDay) }
            case "1":
                if has("15", at: i) { return split(i, 2, .hour) }
                return split(i, 1, .numMonth)
            case "2":
                if has("2006", at: i) { return split(i, 4, .longYear) }
                return split(i, 1, .day)
            case "_":
                if has("_2", at: i) {
                    if has("_2006", at: i) { return (Substring(String(chars[...i])), .longYear, Substring(String(chars[(i + 5)...]))) }
                    return split(i, 2, .underDay)
                }
                if has("__2", at: i) { return split(i, 3, .underYearDay) }
            case "3": return split(i, 1, .hour12)
            case "4": return split(i, 1, .minute)
            case "5": return split(i, 1, .second)
            case "P":
                if has("PM", at: i) { return split(i, 2, .upperPM) }
            case "p":
                if has("pm", at: i) { return split(i, 2, .lowerPM) }
            case "-":
                if has("-070000", at: i) { return split(i, 7, .zone(iso: false, colon: false, seconds: true, short: false)) }
                if has("-07:00:00", at: i) { return split(i, 9, .zone(iso: false, colon: true, seconds: true, short: false)) }
                if has("-0700", at: i) { return split(i, 5, .zone(iso: false, colon: false, seconds: false, short: false)) }
                if has("-07:00", at: i) { return split(i, 6, .zone(iso: false, colon: true, seconds: false, short: false)) }
                if has("-07", at: i) { return split(i, 3, .zone(iso: false, colon: false, seconds: false, short: true)) }
            case "Z":
                if has("Z070000", at: i) { return split(i, 7, .zone(iso: true, colon: false, seconds: true, short: false)) }
                if has("Z07:00:00", at: i) { return split(i, 9, .zone(iso: true, colon: true, seconds: true, short: false)) }
                if has("Z0700", at: i) { return split(i, 5, .zone(iso: true, colon: false, seconds: false, short: false)) }
                if has("Z07:00", at: i) { return split(i, 6, .zone(iso: true, colon: true, seconds: false, short: false)) }
                if has("Z07", at: i) { return split(i, 3, .zone(iso: true, colon: false, seconds: false, short: true)) }
            case ".", ",":
                if i + 1 < chars.count, chars[i + 1] == "0" || chars[i + 1] == "9" {
                    let digit = chars[i + 1]
                    var j = i + 1
                    while j < chars.count, chars[j] == digit { j += 1 }
                    if !(j < chars.count && chars[j].isASCII && chars[j].isNumber) {
                        return split(i, j - i, .fraction(separator: chars[i], digits: min(j - i - 1, 9), trimZeros: digit == "9"))
                    }
                }
            default:
                break
            }
            i += 1
        }
        return nil
    }
}
