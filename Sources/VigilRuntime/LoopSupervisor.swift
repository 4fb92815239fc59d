import CVigilSys
import Glibc
import Synchronization
import VigilBase
import VigilHAL
import VigilLoop

/// What the loop and its supervisor share: when the loop last completed a cycle, how many stalls
/// the supervisor has seen, and whether the outputs are forced to their safe level (a stop).
public final class CycleWatch: Sendable {
    /// Monotonic ns at the end of the loop's last completed cycle; 0 until its periodic phase (the
    /// warm-up and the real-time set-up are not supervised).
    public let lastCycleEnd = Atomic<Int64>(0)
    /// Stalls the supervisor has acted on.
    public let stalls = Atomic<Int>(0)
    /// Every output held at its safe level whatever the interlock says (set once a stop begins).
    public let forcedSafe = Atomic<Bool>(false)
    /// Test hook and supervisor proof test: the loop's next cycle blocks this long, ms.
    public let stallRequestMilliseconds = Atomic<Int>(0)

    public init() {}
}

/// Drops every output when the loop stops making progress. A loop can hang in an I2C transfer
/// (an adapter's timeout is typically a second), in a page fault, or in a bug; while it hangs it
/// evaluates nothing, so nothing it would do can be trusted. The supervisor is a thread of its
/// own, one SCHED_FIFO priority above the loop, holding its own references to the output lines:
/// it sleeps until the loop's last cycle end plus `max_stall_ms`, and if no cycle has completed
/// by then it drives every output to its safe (de-energized) level and counts a stall, which the
/// loop, once it runs again, turns into a latched `loop_stall` system fault.
public final class LoopSupervisor<Output: DigitalOutput>: @unchecked Sendable {
    public let outputs: [Output]
    public let watch: CycleWatch
    public let maxStallNanoseconds: Int64
    public let priority: Int?
    private let stopFlag = Atomic<Bool>(false)
    private var thread: pthread_t?
    /// Output writes the supervisor could not make.
    public let writeErrors = Atomic<Int>(0)
    /// Nanoseconds from the loop's last cycle end to the supervisor's safe state, at the last stall.
    public let lastStallReactionNanoseconds = Atomic<Int64>(0)
    /// Whether the kernel granted the supervisor's priority (nil until it asked).
    public private(set) var grantedPriority: Int?

    public init(outputs: [Output], watch: CycleWatch, maxStallNanoseconds: Int64, priority: Int?) {
        precondition(maxStallNanoseconds > 0)
        self.outputs = outputs
        self.watch = watch
        self.maxStallNanoseconds = maxStallNanoseconds
        self.priority = priority
    }

    deinit { stop() }

    public func start() throws(HALThreadError) {
        switch startThread({ self.run() }) {
        case .success(let t): thread = t
        case .failure(let e): throw e
        }
    }

    public func stop() {
        stopFlag.store(true, ordering: .releasing)
        if let t = thread {
            pthread_join(t, nil)
            thread = nil
        }
    }

    /// Drives every output to its safe level from the calling thread (the stop path, and a stall).
    public func driveSafeState() {
        for o in outputs {
            do { try o.write(false) } catch { writeErrors.add(1, ordering: .relaxed) }
        }
    }

    /// One decision at monotonic time `now`: when the loop has not completed a cycle for longer
    /// than the bound, the outputs go safe and the stall is counted (once per stall). Returns the
    /// time the next decision is due. Tests call it with their own times.
    public func check(now: Int64, seenCycleEnd: inout Int64, acted: inout Bool) -> Int64 {
        let last = watch.lastCycleEnd.load(ordering: .acquiring)
        if last == 0 { return now + maxStallNanoseconds } // not yet supervised
        if last != seenCycleEnd {
            seenCycleEnd = last
            acted = false
        }
        let due = last + maxStallNanoseconds
        if now < due { return due }
        if !acted {
            acted = true
            driveSafeState()
            lastStallReactionNanoseconds.store(vigil_monotonic_ns() - last, ordering: .relaxed)
            watch.stalls.add(1, ordering: .acquiringAndReleasing)
        }
        // Stalled: look again every bound until the loop moves (it then latches the fault).
        return now + maxStallNanoseconds
    }

    private func run() {
        if let p = priority {
            grantedPriority = vigil_set_current_thread_fifo(Int32(min(99, p))) == 0 ? min(99, p) : nil
        }
        var seen: Int64 = 0
        var acted = false
        while !stopFlag.load(ordering: .acquiring) {
            let next = check(now: vigil_monotonic_ns(), seenCycleEnd: &seen, acted: &acted)
            // Wake at the next decision, and at least every 100 ms to notice a stop.
            _ = vigil_sleep_until_monotonic_ns(min(next, vigil_monotonic_ns() + 100_000_000))
        }
    }
}
