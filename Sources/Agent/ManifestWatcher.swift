#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
@preconcurrency import Dispatch
import Glibc

/// Wakes the agent when a file in the manifest directory is written, renamed, or removed (inotify).
/// A Dispatch read source on the inotify descriptor: no thread of its own. `stop()` closes it.
final class ManifestWatcher: Sendable {
    private let source: any DispatchSourceRead

    /// Starts watching `directory`; `onChange` runs on a Dispatch queue of the watcher's.
    init(directory: String, onChange: @escaping @Sendable () -> Void) throws(AgentError) {
        let descriptor = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        guard descriptor >= 0 else {
            throw AgentError("cannot watch \(directory): inotify_init1 failed (\(String(cString: strerror(errno))))")
        }
        let mask = UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE | IN_MODIFY)
        guard inotify_add_watch(descriptor, directory, mask) >= 0 else {
            close(descriptor)
            throw AgentError("cannot watch \(directory): \(String(cString: strerror(errno)))")
        }
        let source = DispatchSource.makeReadSource(
            fileDescriptor: descriptor, queue: DispatchQueue(label: "hecd-manifest-watch"))
        source.setEventHandler {
            // Drains what is queued; the source fires again while events remain.
            var buffer = [UInt8](repeating: 0, count: 4096)
            var changed = false
            while buffer.withUnsafeMutableBytes({ read(descriptor, $0.baseAddress, $0.count) }) > 0 { changed = true }
            if changed { onChange() }
        }
        source.setCancelHandler { close(descriptor) }
        source.resume()
        self.source = source
    }

    func stop() { source.cancel() }
}

/// An agent failure with a message that says what to do.
public struct AgentError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
