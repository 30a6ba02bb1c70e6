import Etcd
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Every etcd gateway answer the client decodes, fed the same bytes, and the bytes as the lines of a watch
/// stream: decoding fails or yields values, and a watch never moves its resume point backwards.
enum EtcdFuzzing {
    static func check(_ input: Data) -> [String] {
        var broken: [String] = []
        _ = try? EtcdGatewayAnswers.range(input)
        _ = try? EtcdGatewayAnswers.txn(input)
        _ = try? EtcdGatewayAnswers.lease(input)
        _ = EtcdGatewayAnswers.failure(input)

        let lines = input.split(separator: UInt8(ascii: "\n")).map { Data($0) }
        for start in [nil, Int64(1), Int64.max] as [Int64?] {
            let replay = EtcdGatewayAnswers.watchStream(lines, fromRevision: start)
            if let start, let next = replay.nextRevision, next < start {
                broken.append("a watch from revision \(start) would resume at \(next)")
            }
            var delivered: Int64 = 0
            for case .events(let events, _) in replay.updates {
                for event in events { delivered = max(delivered, event.revision) }
            }
            if delivered > 0, let next = replay.nextRevision, next <= delivered, delivered < Int64.max {
                broken.append("a watch that delivered revision \(delivered) would resume at \(next) and see it again")
            }
        }
        return broken
    }
}
