import DockerEngine
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Every Docker Engine answer the client decodes, fed the same bytes: `GET /containers/json`,
/// `GET /containers/{id}/json`, an `/events` line, `GET /images/{name}/json`, a `/images/create` progress line,
/// and `~/.docker/config.json`. Decoding either fails or yields values the agent can use as they are.
enum DockerFuzzing {
    static func check(_ input: Data) -> [String] {
        var broken: [String] = []
        let decoder = JSONDecoder()
        if let containers = try? decoder.decode([ContainerSummary].self, from: input) {
            for container in containers {
                _ = (container.name, container.health)
                if let health = container.health, !["healthy", "unhealthy", "starting"].contains(health) {
                    broken.append("a health status \(health) the agent does not know")
                }
            }
        }
        if let details = try? decoder.decode(ContainerDetails.self, from: input) {
            for port in [80, 8080, 0, -1] {
                if let binding = details.hostPort(for: port), binding.hostPort == nil {
                    broken.append("a published port without a host port: \(binding)")
                }
            }
            if let started = details.state.startedAt, !started.timeIntervalSince1970.isFinite {
                broken.append("a start time that is not a number")
            }
        }
        _ = try? decoder.decode(DockerEvent.self, from: input)
        _ = try? decoder.decode(ImageDetails.self, from: input)
        _ = try? decoder.decode(PullProgress.self, from: input)
        if let credentials = try? RegistryCredentials(json: input, source: "fuzz/config.json") {
            for registry in ["docker.io", "registry.example.com:5000", "localhost"] {
                _ = credentials.credential(for: registry)
                _ = credentials.isDelegated(registry)
            }
        }
        return broken
    }
}
