import CCurl
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One libcurl multi handle and the one thread that drives every transfer of the process on it.
///
/// Transfers in flight cost no thread each: a stop that takes its container's whole stop timeout, a pull or
/// an event stream sits on the multi handle next to lists, creates and keepalives, and none waits for
/// another. Other threads only queue commands (start, cancel) and wake the loop with `curl_multi_wakeup`;
/// everything else, callbacks included, runs on the loop's thread. Idle connections stay in the multi
/// handle's cache for reuse by the next transfer to the same place.
final class CurlEventLoop: @unchecked Sendable {
    static let shared = CurlEventLoop()

    /// Idle connections kept for reuse, over all endpoints.
    private static let cachedConnections = 32

    private enum Command {
        case start(CurlTransfer)
        case cancel(CurlTransfer)
    }

    private let multi: UnsafeMutableRawPointer
    private let inbox = Mutex<[Command]>([])
    /// Transfers on the multi handle, by easy handle. Only the loop's thread touches it.
    private var active: [UnsafeMutableRawPointer: CurlTransfer] = [:]

    private init() {
        _ = curlGlobalInit
        guard let multi = curl_multi_init() else {
            // Only fails when memory is exhausted, at the first request of the process.
            fatalError("curl_multi_init failed: out of memory")
        }
        self.multi = multi
        hecd_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, Self.cachedConnections)
        startThread()
    }

    /// Puts a configured transfer on the loop; its `onDone` runs on the loop's thread when it ends.
    func start(_ transfer: CurlTransfer) { post(.start(transfer)) }

    /// Takes a transfer off the loop if it is still running (see `CurlTransfer.cancel`).
    func cancel(_ transfer: CurlTransfer) { post(.cancel(transfer)) }

    /// How many transfers are in flight (for tests and diagnostics); read on any thread, approximate.
    var transfersInFlight: Int { inFlight.load(ordering: .relaxed) }
    private let inFlight = Atomic<Int>(0)

    private func post(_ command: Command) {
        inbox.withLock { $0.append(command) }
        curl_multi_wakeup(multi)
    }

    private func startThread() {
        final class Body {
            let loop: CurlEventLoop
            init(_ loop: CurlEventLoop) { self.loop = loop }
        }
        let context = Unmanaged.passRetained(Body(self)).toOpaque()
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        // OpenSSL's handshakes are the deepest calls made here; 512 KiB is ample.
        pthread_attr_setstacksize(&attributes, 512 * 1024)
        var thread = pthread_t()
        let created = pthread_create(&thread, &attributes, { raw in
            guard let raw else { return nil }
            nameCurrentThread("hecd-curl")
            Unmanaged<Body>.fromOpaque(raw).takeRetainedValue().loop.run()
        }, context)
        guard created == 0 else { fatalError("cannot start the HTTP event thread: pthread_create returned \(created)") }
        pthread_detach(thread)
    }

    private func run() -> Never {
        var running: Int32 = 0
        while true {
            for command in inbox.withLock({ commands in defer { commands.removeAll() }; return commands }) {
                switch command {
                case .start(let transfer): add(transfer)
                case .cancel(let transfer): remove(transfer)
                }
            }
            curl_multi_perform(multi, &running)
            collectFinished()
            // Sleeps until a socket is ready, libcurl's next timeout, or a wakeup from `post`.
            curl_multi_poll(multi, nil, 0, 60_000, nil)
        }
    }

    private func add(_ transfer: CurlTransfer) {
        if transfer.isCancelled {
            transfer.complete(.cancelled)
            return
        }
        let code = curl_multi_add_handle(multi, transfer.handle.raw)
        guard code == CURLM_OK else {
            transfer.complete(.refused("curl_multi_add_handle failed: " + String(cString: curl_multi_strerror(code))))
            return
        }
        active[transfer.handle.raw] = transfer
        inFlight.store(active.count, ordering: .relaxed)
    }

    private func remove(_ transfer: CurlTransfer) {
        // The handle may already serve another transfer: only the very same one is removed.
        guard let current = active[transfer.handle.raw], current === transfer else { return }
        active[transfer.handle.raw] = nil
        inFlight.store(active.count, ordering: .relaxed)
        curl_multi_remove_handle(multi, transfer.handle.raw)
        transfer.complete(.cancelled)
    }

    private func collectFinished() {
        var queued: Int32 = 0
        while let message = curl_multi_info_read(multi, &queued) {
            guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle else { continue }
            // Read before removing the handle: the message does not outlive it.
            let result = hecd_message_result(message)
            guard let transfer = active.removeValue(forKey: easy) else { continue }
            inFlight.store(active.count, ordering: .relaxed)
            curl_multi_remove_handle(multi, easy)
            transfer.complete(.finished(result))
        }
    }
}

/// Names the calling thread (as `top -H` and `/proc/PID/task/*/comm` show it); best effort.
private func nameCurrentThread(_ name: String) {
    let file = open("/proc/thread-self/comm", O_WRONLY)
    guard file >= 0 else { return }
    defer { close(file) }
    _ = name.withCString { write(file, $0, strlen($0)) }
}
