#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import FuzzTargets

/// The target this process fuzzes, from `HECD_FUZZ_TARGET` (read once: libFuzzer calls in for every input).
private let selectedTarget: FuzzTarget = {
    let name = getenv("HECD_FUZZ_TARGET").map { String(cString: $0) } ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
        let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
        let message = "hecd-fuzz: set HECD_FUZZ_TARGET to one of: \(names)\n"
        _ = message.withCString { write(2, $0, strlen($0)) }
        exit(2)
    }
    return target
}()

/// libFuzzer's entry point: one input through the selected target; a broken invariant is a crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let input = start.map { Data(bytes: $0, count: count) } ?? Data()
    let broken = selectedTarget.check(input)
    if !broken.isEmpty {
        fatalError("hecd-fuzz \(selectedTarget.rawValue): invariant broken:\n" + broken.joined(separator: "\n"))
    }
    return 0
}
