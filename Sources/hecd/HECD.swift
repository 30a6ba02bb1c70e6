import Agent
import ArgumentParser

/// The `hecd` command line: one executable, one subcommand per job.
@main
struct HECD: AsyncParsableCommand {

    static let configuration = CommandConfiguration(
        commandName: "hecd",
        abstract: "Docker containers kept running, announced in etcd, and served through HAProxy or nginx.",
        version: HECDVersion.current,
        subcommands: [AgentCommand.self, ValidateCommand.self, StatusCommand.self, RenderCommand.self]
    )
}
