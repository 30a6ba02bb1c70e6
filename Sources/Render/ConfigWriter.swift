#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Glibc
import HAProxyRuntime

/// How the writer treats destinations and commands.
public struct WriteSettings: Sendable, Hashable {
    /// Put in front of every `dest` (like `DESTDIR`): `--dest-root /tmp/x` writes `/etc/hecd/haproxy.cfg` to
    /// `/tmp/x/etc/hecd/haproxy.cfg`. Missing folders below it are created.
    public var destinationRoot: String?
    /// Show what would change (a unified diff) and change nothing.
    public var noop: Bool
    /// Write files without running `check_cmd` or `reload_cmd` (confd's `-sync-only`).
    public var syncOnly: Bool
    /// Bounds each `check_cmd` and `reload_cmd`.
    public var commandTimeout: Duration
    /// Added to this process's environment for `check_cmd` and `reload_cmd`.
    public var commandEnvironment: [String: String]
    /// confd's `-keep-stage-file`: a staged file that `check_cmd` refused stays next to `dest` for a look.
    public var keepStageFile = false

    public init(
        destinationRoot: String? = nil, noop: Bool = false, syncOnly: Bool = false,
        commandTimeout: Duration = .seconds(60), commandEnvironment: [String: String] = [:]
    ) {
        self.destinationRoot = destinationRoot
        self.noop = noop
        self.syncOnly = syncOnly
        self.commandTimeout = commandTimeout
        self.commandEnvironment = commandEnvironment
    }
}

/// What one sync of a resource did.
public enum SyncOutcome: Sendable, Hashable {
    /// The destination already holds exactly this content, mode and owner: nothing ran.
    case unchanged
    /// `--noop`: the destination would change like this; nothing was written or run.
    case wouldChange(diff: String)
    /// The new file passed its check and is in place; `reload` is the reload command's result (nil: none ran).
    /// `runtimeFallback` says why HAProxy's runtime API could not make the change (`haproxy_runtime_api`).
    case updated(check: CommandResult?, reload: CommandResult?, runtimeFallback: String? = nil)
    /// The new file passed its check and is in place, and HAProxy's runtime API brought the running proxy to it
    /// (`haproxy_runtime_api`): no reload. `undeleted` servers are in maintenance, to be deleted once their last
    /// connection is gone.
    case updatedAtRuntime(check: CommandResult?, changes: [ServerChange], undeleted: [ServerReference], duration: Duration)
    /// The content was already in place, and the reload that failed last time has now been run again.
    case reloaded(CommandResult)
    /// `check_cmd` refused the staged file: the destination and the running service are untouched.
    case checkFailed(CommandResult)
    /// The new file is in place but `reload_cmd` failed; it runs again on the next change.
    case reloadFailed(CommandResult)
    /// The file could not be staged or moved into place; the destination is untouched.
    case writeFailed(String)
    /// The template failed (e.g. `getv` of a missing key): nothing was written or run.
    case renderFailed(String)

    /// Whether the resource ended in a bad state (for `--onetime`'s exit status).
    public var isFailure: Bool {
        switch self {
        case .unchanged, .wouldChange, .updated, .updatedAtRuntime, .reloaded: false
        case .checkFailed, .reloadFailed, .writeFailed, .renderFailed: true
        }
    }

    /// Whether the reload command still has to run (it failed, or never ran since a write).
    public var needsReload: Bool {
        if case .reloadFailed = self { true } else { false }
    }
}

/// confd's sync, step by step: compare with the destination, stage the new content in the destination's folder
/// (`.NAME.hecd-XXXXXX`) with the requested mode and owner, run `check_cmd` on the staged file, rename it into
/// place (atomic on one file system), then hand over to the `ReloadStrategy` chosen for the resource
/// (`reload_cmd`, or HAProxy's runtime API). A failed check removes the stage and leaves the destination alone.
public struct ConfigWriter: Sendable {
    public var settings: WriteSettings
    public var runner: ShellCommandRunner

    public init(settings: WriteSettings = WriteSettings(), runner: ShellCommandRunner = ShellCommandRunner()) {
        self.settings = settings
        self.runner = runner
    }

    private var reloader: Reloader { Reloader(settings: settings, runner: runner) }

    /// Brings `resource`'s destination to `content`. With `retryReload`, runs `reload_cmd` even when the
    /// content is already in place (the previous reload failed).
    /// With `holdsSecrets` (the template passed a value through `secret`), a resource without `mode` gets a
    /// file only its owner can read (0600).
    public func sync(
        _ resource: TemplateResource, content: String, retryReload: Bool = false, holdsSecrets: Bool = false
    ) async -> SyncOutcome {
        let destination = resource.destinationPath(root: settings.destinationRoot)
        let bytes = Array(content.utf8)
        let current = FileState.read(destination)
        let wanted = FileAttributes(
            mode: resource.mode ?? (holdsSecrets ? 0o600 : current?.attributes.mode ?? 0o644),
            uid: resource.uid ?? current?.attributes.uid ?? geteuid(),
            gid: resource.gid ?? current?.attributes.gid ?? getegid())

        if let current, current.bytes == bytes, current.attributes == wanted {
            guard retryReload, !settings.noop, !settings.syncOnly, let reload = resource.reloadCommand else {
                return .unchanged
            }
            return await reloader.retry(reload)
        }

        if settings.noop {
            var diff = await TextDiff.unified(
                old: current.map { String(decoding: $0.bytes, as: UTF8.self) }, new: content, path: destination,
                runner: runner)
            if let current, current.attributes != wanted {
                diff += "mode/owner of \(destination): \(current.attributes) → \(wanted)\n"
            }
            return .wouldChange(diff: diff)
        }

        let folder = PathText.parent(destination)
        if !FileManager.default.fileExists(atPath: folder) {
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            } catch {
                return .writeFailed("cannot create \(folder) for \(destination): \(error)")
            }
        }
        let stage: String
        switch Self.stage(bytes, in: folder, name: PathText.lastComponent(destination), attributes: wanted) {
        case .success(let path): stage = path
        case .failure(let message): return .writeFailed(message)
        }

        var check: CommandResult?
        if !settings.syncOnly, let command = resource.checkCommand {
            let result = await runner.run(
                Self.substituteSource(command, stage), timeout: settings.commandTimeout,
                environment: settings.commandEnvironment)
            guard result.succeeded else {
                if !settings.keepStageFile { unlink(stage) }
                return .checkFailed(result)
            }
            check = result
        }

        if rename(stage, destination) != 0 {
            let reason = errno
            unlink(stage)
            // A destination that is a mount point of its own (a file bind-mounted into a container) cannot be
            // replaced: it is written in place instead, as confd does.
            guard reason == EBUSY || reason == EXDEV else {
                return .writeFailed("cannot move \(stage) to \(destination): \(String(cString: strerror(reason)))")
            }
            if let message = Self.overwrite(destination, with: bytes, attributes: wanted) { return .writeFailed(message) }
        }
        Self.syncFolder(folder)

        let strategy = ReloadStrategy.choose(for: resource, settings: settings, reloadFailedBefore: retryReload)
        let previous = current.map { String(decoding: $0.bytes, as: UTF8.self) }
        return await reloader.reload(strategy, from: previous, to: content, check: check)
    }

    /// `{{.src}}` (spaces allowed inside the braces) → the staged file, quoted for the shell when needed.
    static func substituteSource(_ command: String, _ path: String) -> String {
        command.replacing(#/\{\{-?\s*\.src\s*-?\}\}/#, with: ShellQuote.quote(path))
    }

    private enum Staging { case success(String), failure(String) }

    /// Writes the stage file next to the destination with the wanted mode and owner, flushed to disk.
    private static func stage(_ bytes: [UInt8], in folder: String, name: String, attributes: FileAttributes) -> Staging {
        var template = Array((folder + "/." + name + ".hecd-XXXXXX").utf8CString)
        let fd = mkstemp(&template)
        guard fd >= 0 else {
            return .failure("cannot create a staged file in \(folder): \(String(cString: strerror(errno)))")
        }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        let path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        func fail(_ what: String) -> Staging {
            let message = "\(what) \(path): \(String(cString: strerror(errno)))"
            close(fd)
            unlink(path)
            return .failure(message)
        }
        guard writeAll(fd, bytes) else { return fail("cannot write") }
        if attributes.uid != geteuid() || attributes.gid != getegid() {
            guard fchown(fd, attributes.uid, attributes.gid) == 0 else {
                return fail("cannot give owner \(attributes.uid):\(attributes.gid) to")
            }
        }
        // After fchown, which may clear set-id bits.
        guard fchmod(fd, mode_t(attributes.mode)) == 0 else { return fail("cannot set mode on") }
        guard fsync(fd) == 0 else { return fail("cannot flush") }
        close(fd)
        return .success(path)
    }

    /// Writes the destination in place (not atomic); returns a message when that fails.
    private static func overwrite(_ destination: String, with bytes: [UInt8], attributes: FileAttributes) -> String? {
        let fd = open(destination, O_WRONLY | O_TRUNC | O_CLOEXEC)
        guard fd >= 0 else { return "cannot write \(destination) in place: \(String(cString: strerror(errno)))" }
        defer { close(fd) }
        guard writeAll(fd, bytes) else { return "cannot write \(destination) in place: \(String(cString: strerror(errno)))" }
        _ = fchown(fd, attributes.uid, attributes.gid)
        _ = fchmod(fd, mode_t(attributes.mode))
        _ = fsync(fd)
        return nil
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += written
        }
        return true
    }

    /// Makes the rename durable.
    private static func syncFolder(_ folder: String) {
        let fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }
}

/// Mode bits and owner of a file.
struct FileAttributes: Sendable, Hashable, CustomStringConvertible {
    var mode: UInt32
    var uid: UInt32
    var gid: UInt32

    /// `0644 0:0`, as `%04o %d:%d` prints it.
    var description: String {
        let octal = String(mode, radix: 8)
        return String(repeating: "0", count: max(0, 4 - octal.count)) + octal + " \(uid):\(gid)"
    }
}

/// A destination as it is now.
struct FileState {
    var bytes: [UInt8]
    var attributes: FileAttributes

    /// nil when the file does not exist (or cannot be read: it is then replaced).
    static func read(_ path: String) -> FileState? {
        var info = stat()
        guard stat(path, &info) == 0, let data = FileManager.default.contents(atPath: path) else { return nil }
        return FileState(
            bytes: Array(data),
            attributes: FileAttributes(mode: UInt32(info.st_mode) & 0o7777, uid: info.st_uid, gid: info.st_gid))
    }
}
