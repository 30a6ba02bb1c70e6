import Foundation
import Glibc
import Synchronization

/// Wakes the agent when a file in the manifest directory is written, renamed, or removed (inotify).
/// Runs on a thread of its own; `stop()` ends it within half a second.
final class ManifestWatcher: Sendable {
    private let descriptor: Int32
    private let stopped = StopFlag()

    /// Starts watching `directory`; `onChange` runs on the watcher's thread.
    init(directory: String, onChange: @escaping @Sendable () -> Void) throws(AgentError) {
        let descriptor = inotify_init1(Int32(IN_CLOEXEC))
        guard descriptor >= 0 else {
            throw AgentError("cannot watch \(directory): inotify_init1 failed (\(String(cString: strerror(errno))))")
        }
        let mask = UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE | IN_MODIFY)
        guard inotify_add_watch(descriptor, directory, mask) >= 0 else {
            close(descriptor)
            throw AgentError("cannot watch \(directory): \(String(cString: strerror(errno)))")
        }
        self.descriptor = descriptor
        let stopped = self.stopped
        let thread = Thread {
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            while !stopped.isSet {
                guard poll(&poller, 1, 500) > 0 else { continue }
                let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count > 0 { onChange() }
            }
            close(descriptor)
        }
        thread.name = "hecd-manifest-watch"
        thread.start()
    }

    func stop() { stopped.set() }
}

/// A flag one thread sets and another polls.
final class StopFlag: Sendable {
    private let state = Mutex(false)
    func set() { state.withLock { $0 = true } }
    var isSet: Bool { state.withLock { $0 } }
}

/// An agent failure with a message that says what to do.
public struct AgentError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
