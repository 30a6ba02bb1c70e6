#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension TimeZone {
    /// The host's zone as C's `localtime` sees it now (`TZ`, else /etc/localtime), as a fixed offset. Without
    /// FoundationInternationalization (ICU), which the release build no longer links, `TimeZone.current` is GMT
    /// whatever the host says; this keeps confd's `datetime` in local time. An offset, not a named zone: a date
    /// on the other side of a daylight-saving change is shown with today's offset.
    public static var hostOffset: TimeZone {
        var now = time(nil)
        var parts = tm()
        guard localtime_r(&now, &parts) != nil else { return .current }
        return TimeZone(secondsFromGMT: Int(parts.tm_gmtoff)) ?? .current
    }
}
