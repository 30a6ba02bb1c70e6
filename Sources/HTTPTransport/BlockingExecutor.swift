import Foundation
import Synchronization

/// A fixed set of threads of its own that run blocking calls, so that libcurl never blocks
/// Swift's cooperative thread pool. The threads end when the executor is released.
final class BlockingExecutor: Sendable {
    /// What the worker threads share; they hold it, not the executor, so the executor can be released.
    private final class Queue: Sendable {
        let jobs = Mutex<[@Sendable () -> Void]>([])
        let available = DispatchSemaphore(value: 0)
        let stopping = Atomic<Bool>(false)
    }

    private let queue = Queue()
    private let threadCount: Int

    init(threads: Int, name: String) {
        threadCount = max(1, threads)
        for index in 0..<threadCount {
            let thread = Thread { [queue] in
                while true {
                    queue.available.wait()
                    if let job = queue.jobs.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) {
                        job()
                    } else if queue.stopping.load(ordering: .relaxed) {
                        return
                    }
                }
            }
            thread.name = "\(name)-\(index)"
            thread.start()
        }
    }

    deinit {
        queue.stopping.store(true, ordering: .relaxed)
        for _ in 0..<threadCount { queue.available.signal() }
    }

    /// Runs `body` on one of the executor's threads and resumes the caller with its result.
    func run<Value: Sendable>(_ body: @escaping @Sendable () throws -> Value) async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            queue.jobs.withLock { $0.append { continuation.resume(with: Result { try body() }) } }
            queue.available.signal()
        }
    }

    /// Runs a long blocking call (a stream) on a thread of its own for as long as it lasts.
    static func detach(name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread(block: body)
        thread.name = name
        thread.start()
    }
}
