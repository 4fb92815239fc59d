import CVigilSys
import Glibc
import Synchronization
import VigilLoop

/// The thread of a worker that polls devices off the loop (Modbus ports, hwmon inputs): it runs
/// `poll`, which returns when the next device falls due (monotonic ns), sleeps until then, and
/// wakes at least every 50 ms to notice a stop.
final class PollingThread: @unchecked Sendable {
    private let stopFlag = Atomic<Bool>(false)
    private var thread: pthread_t?

    func start(_ poll: @escaping () -> Int64) {
        guard thread == nil else { return }
        if case .success(let handle) = startThread({ [self] in
            while !stopFlag.load(ordering: .acquiring) {
                let next = min(poll(), vigil_monotonic_ns() + 50_000_000)
                _ = vigil_sleep_until_monotonic_ns(max(next, vigil_monotonic_ns() + 1_000_000))
            }
        }) { thread = handle }
    }

    func stop() {
        stopFlag.store(true, ordering: .releasing)
        if let t = thread {
            pthread_join(t, nil)
            thread = nil
        }
    }
}
