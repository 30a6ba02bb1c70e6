import HAProxyRuntime

/// How the running service learns of a file that has just been renamed into place: chosen after the rename,
/// from the resource and from whether the last reload failed.
enum ReloadStrategy: Sendable, Equatable {
    /// `--sync-only`: nothing runs.
    case none
    /// `reload_cmd` (nil: the resource has none).
    case command(String?)
    /// HAProxy's runtime API when only servers changed, else `reload_cmd` (`haproxy_runtime_api = true`).
    case runtimeAPI(fallback: String?)

    static func choose(for resource: TemplateResource, settings: WriteSettings, reloadFailedBefore: Bool) -> ReloadStrategy {
        guard !settings.syncOnly else { return .none }
        // After a failed reload HAProxy does not run the previous file: only a reload can catch up.
        if resource.haproxyRuntimeAPI, !reloadFailedBefore { return .runtimeAPI(fallback: resource.reloadCommand) }
        return .command(resource.reloadCommand)
    }
}

/// Carries out a `ReloadStrategy` for a file now in place.
struct Reloader: Sendable {
    var settings: WriteSettings
    var runner: ShellCommandRunner

    /// Reloads after `previous` (the file the service ran, nil when there was none) became `content`.
    func reload(
        _ strategy: ReloadStrategy, from previous: String?, to content: String, check: CommandResult?
    ) async -> SyncOutcome {
        var runtimeFallback: String?
        let command: String?
        switch strategy {
        case .none:
            return .updated(check: check, reload: nil)
        case .command(let reloadCommand):
            command = reloadCommand
        case .runtimeAPI(let fallback):
            switch await Self.updateAtRuntime(from: previous, to: content) {
            case .success(let changes, let undeleted, let duration):
                return .updatedAtRuntime(check: check, changes: changes, undeleted: undeleted, duration: duration)
            case .failure(let reason):
                runtimeFallback = reason
                command = fallback
            }
        }
        guard let command else { return .updated(check: check, reload: nil, runtimeFallback: runtimeFallback) }
        let result = await runCommand(command)
        return result.succeeded ? .updated(check: check, reload: result, runtimeFallback: runtimeFallback) : .reloadFailed(result)
    }

    /// Runs `reload_cmd` again for a file already in place whose last reload failed.
    func retry(_ command: String) async -> SyncOutcome {
        let result = await runCommand(command)
        return result.succeeded ? .reloaded(result) : .reloadFailed(result)
    }

    private func runCommand(_ command: String) async -> CommandResult {
        await runner.run(command, timeout: settings.commandTimeout, environment: settings.commandEnvironment)
    }

    private enum RuntimeUpdate {
        case success([ServerChange], undeleted: [ServerReference], Duration)
        case failure(String)
    }

    /// Brings the running HAProxy from `previous` (the file it runs) to `content` through the admin socket
    /// that `content` opens, when only servers differ; otherwise says why a reload is needed.
    private static func updateAtRuntime(from previous: String?, to content: String) async -> RuntimeUpdate {
        guard let previous else { return .failure("there was no file before") }
        let new = HAProxyConfig(content)
        guard let path = new.adminSocketPath else {
            return .failure("the config opens no admin socket (stats socket PATH level admin in global)")
        }
        switch ServerChangePlan.between(HAProxyConfig(previous), new) {
        case .reload(let reason):
            return .failure(reason)
        case .runtime(let changes):
            let start = ContinuousClock.now
            let updater = RuntimeUpdater(socket: HAProxyAdminSocket(path: path))
            let report = await updater.socket.run { _ in updater.apply(changes) }
            if let failure = report.failure { return .failure(failure) }
            return .success(changes, undeleted: report.undeleted, ContinuousClock.now - start)
        }
    }
}
