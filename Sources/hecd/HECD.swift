import Agent
import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import Render

/// The `hecd` command line: one executable, one subcommand per job.
@main
struct HECD: AsyncParsableCommand {

    static let configuration = CommandConfiguration(
        commandName: "hecd",
        abstract: "Docker containers kept running, announced in etcd, and served through HAProxy or nginx.",
        version: HECDVersion.current,
        subcommands: [
            AgentCommand.self, ValidateCommand.self, StatusCommand.self, RenderCommand.self, ApplyCommand.self,
            ScaleCommand.self, RemoveCommand.self, AppsCommand.self, RebalanceCommand.self, DrainCommand.self, UndrainCommand.self,
        ]
    )

    /// Reads confd's command line where one is given: `hecd render -onetime -node …`, or any arguments when
    /// the program is called `confd` (a link to hecd), are turned into `hecd render`'s options first.
    static func main() async {
        var arguments = Array(CommandLine.arguments.dropFirst())
        let invokedAsConfd = (CommandLine.arguments.first ?? "").split(separator: "/").last == "confd"
        if invokedAsConfd { arguments.insert("render", at: 0) }
        if arguments.first == "render" {
            let rest = Array(arguments.dropFirst())
            if rest.contains("-version") || rest.contains("--version") && invokedAsConfd {
                print("hecd \(HECDVersion.current) (confd's command line)")
                return
            }
            if invokedAsConfd || ConfdCommandLine.isConfdStyle(rest) {
                do {
                    let confd = try ConfdCommandLine.translate(rest, environment: ProcessInfo.processInfo.environment)
                    for (name, value) in confd.environment { setenv(name, value, 1) }
                    for note in confd.notes { StandardError.print("hecd render: note: \(note)") }
                    arguments = ["render"] + confd.arguments
                } catch {
                    StandardError.print("hecd render: \(error)")
                    Glibc.exit(2)
                }
            }
        }
        await main(arguments)
    }
}
