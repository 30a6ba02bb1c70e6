import HAProxyRuntime
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// An HAProxy config read, printed and read again is the same config; compared with itself it needs no change;
/// and the runtime plan from one config to another (the input split at its first NUL byte) turns the first
/// file's servers into the second's: what is added is new, what is removed is gone, what moves stays.
enum HAProxyFuzzing {
    static func check(_ input: Data) -> [String] {
        var broken: [String] = []
        let parts = input.split(separator: 0, maxSplits: 1, omittingEmptySubsequences: false)
        let old = HAProxyConfig(text(of: parts[0]))
        let new = parts.count > 1 ? HAProxyConfig(text(of: parts[1])) : old
        for config in [old, new] {
            let printed = printed(config)
            let again = HAProxyConfig(printed)
            if again != config {
                broken.append("printed and read again, the config changes:\n\(printed)")
            }
            _ = config.adminSocketPath
            if case .runtime(let changes) = ServerChangePlan.between(config, config), !changes.isEmpty {
                broken.append("a config compared with itself needs \(changes)")
            }
        }
        if case .runtime(let changes) = ServerChangePlan.between(old, new) {
            broken += planProblems(changes, old: old, new: new)
        }
        return broken
    }

    /// The config as text: each section's header and lines, tokens separated by one space.
    static func printed(_ config: HAProxyConfig) -> String {
        var lines: [String] = []
        for section in config.sections {
            if !section.keyword.isEmpty { lines.append(([section.keyword] + (section.name.map { [$0] } ?? [])).joined(separator: " ")) }
            lines += section.lines.map { $0.joined(separator: " ") }
        }
        return lines.joined(separator: "\n")
    }

    /// Whether applying `changes` to the old config's servers gives the new config's.
    static func planProblems(_ changes: [ServerChange], old: HAProxyConfig, new: HAProxyConfig) -> [String] {
        func servers(_ config: HAProxyConfig) -> [String: [String: String]] {
            var byBackend: [String: [String: String]] = [:]
            for section in config.sections where section.holdsServers {
                guard let name = section.name else { continue }
                for server in section.servers { byBackend[name, default: [:]][server.name] = server.address }
            }
            return byBackend
        }
        var state = servers(old)
        var broken: [String] = []
        for change in changes {
            switch change {
            case .add(let backend, let server):
                if state[backend]?[server.name] != nil { broken.append("\(change): the server is there already") }
                state[backend, default: [:]][server.name] = server.address
            case .move(let backend, let server, _, _):
                if state[backend]?[server] == nil { broken.append("\(change): no such server to move") }
                state[backend]?[server] = new.sections.first { $0.name == backend && $0.holdsServers }?
                    .servers.first { $0.name == server }?.address
            case .remove(let backend, let server):
                if state[backend]?[server] == nil { broken.append("\(change): no such server to remove") }
                state[backend]?[server] = nil
            }
        }
        let expected = servers(new)
        let keys = Set(state.keys).union(expected.keys)
        for backend in keys where (state[backend] ?? [:]) != (expected[backend] ?? [:]) {
            broken.append("after the plan \(changes), \(backend) has \(state[backend] ?? [:]), not \(expected[backend] ?? [:])")
        }
        return broken
    }
}
