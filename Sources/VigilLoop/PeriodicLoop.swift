import CVigilSys
import Glibc
import Synchronization
import VigilBase

/// Timing and privileges of a periodic loop.
public struct LoopConfiguration: Sendable, Equatable {
    public var periodNanoseconds: Int64
    /// `SCHED_FIFO` priority (1…99); nil keeps the default scheduler.
    public var priority: Int?
    public var cpu: Int?
    public var lockMemory: Bool
    /// Cycles run back to back before the first deadline, to fault in code, stack and data.
    public var warmUpCycles: Int
    /// This many missed deadlines within `overrunWindowNanoseconds` is a deadline burst (a fault).
    public var overrunBurst: Int
    public var overrunWindowNanoseconds: Int64

    public init(periodNanoseconds: Int64, priority: Int? = nil, cpu: Int? = nil, lockMemory: Bool = false,
                warmUpCycles: Int = 100, overrunBurst: Int = 20, overrunWindowNanoseconds: Int64 = 1_000_000_000) {
        self.periodNanoseconds = periodNanoseconds
        self.priority = priority
        self.cpu = cpu
        self.lockMemory = lockMemory
        self.warmUpCycles = warmUpCycles
        self.overrunBurst = overrunBurst
        self.overrunWindowNanoseconds = overrunWindowNanoseconds
    }
}

/// What one cycle is told about its timing.
public struct CycleTiming: Sendable {
    /// The deadline this cycle was scheduled for.
    public var deadline: MonotonicInstant
    /// When the thread actually woke.
    public var wake: MonotonicInstant
    /// Cycles since the first deadline (missed ones included).
    public var index: Int64
    /// A warm-up cycle: run the body, but it is not on a deadline.
    public var isWarmUp: Bool
    /// Whether missed deadlines currently form a burst.
    public var deadlineBurst: Bool
    /// Whether the previous cycle finished before this cycle's deadline.
    public var previousMetDeadline: Bool
    /// The loop's own figures as last published (once a second), nil before the first: the node
    /// reports them as its `loop.*` channels.
    public var figures: LoopFigures?

    public init(deadline: MonotonicInstant, wake: MonotonicInstant, index: Int64, isWarmUp: Bool, deadlineBurst: Bool,
                previousMetDeadline: Bool, figures: LoopFigures? = nil) {
        self.figures = figures
        self.deadline = deadline
        self.wake = wake
        self.index = index
        self.isWarmUp = isWarmUp
        self.deadlineBurst = deadlineBurst
        self.previousMetDeadline = previousMetDeadline
    }
}

/// What the loop got from the kernel when it asked for real-time treatment.
public struct RealtimeGrant: Sendable, Equatable {
    public var memoryLocked: Bool
    public var fifoPriority: Int?
    public var pinnedCPU: Int?
    /// One line per request the kernel refused (no CAP_SYS_NICE, RLIMIT_MEMLOCK …).
    public var refusals: [String]
}

/// The loop's figures, as published once per second.
public struct LoopStatistics: Sendable, Equatable, BitwiseCopyable {
    public var cycles: Int64 = 0
    /// Deadlines missed (periods skipped).
    public var overruns: Int64 = 0
    public var latenessP50Microseconds: Int32 = 0
    public var latenessP99Microseconds: Int32 = 0
    public var latenessMaxMicroseconds: Int32 = 0
    public var executionP50Microseconds: Int32 = 0
    public var executionP99Microseconds: Int32 = 0
    public var executionMaxMicroseconds: Int32 = 0
    public var deadlineBurst: Bool = false
    public init() {}
}

/// The work done each period. Called on the loop's thread only.
/// The loop's timing figures a cycle is told: lateness p99 since start and overruns so far.
public struct LoopFigures: Sendable, Equatable {
    public var latenessP99Microseconds: Int32
    public var overruns: Int64
    public init(latenessP99Microseconds: Int32, overruns: Int64) {
        self.latenessP99Microseconds = latenessP99Microseconds
        self.overruns = overruns
    }
}

public protocol LoopBody: AnyObject {
    func cycle(_ timing: CycleTiming)
}

/// A periodic loop on its own pthread with absolute deadlines (`clock_nanosleep(CLOCK_MONOTONIC,
/// TIMER_ABSTIME)`): the next deadline is the previous one plus the period, so wake-up jitter
/// never accumulates; periods that are missed entirely are skipped and counted.
///
/// Start-up runs warm-up cycles, then asks for `mlockall`, CPU affinity and `SCHED_FIFO`; what the
/// kernel refuses is reported once in `grant` and the loop runs anyway.
public final class PeriodicLoop<Body: LoopBody>: @unchecked Sendable {
    public let configuration: LoopConfiguration
    public let body: Body
    /// Statistics, published once per second of cycles (and at stop).
    public let statistics = Mailbox(LoopStatistics())
    private let stopRequested = Atomic<Bool>(false)
    private let started = Atomic<Bool>(false)
    private var thread: pthread_t?
    private var lateness = LatenessHistogram()
    private var execution = LatenessHistogram()
    /// Times of the last `overrunBurst` overruns (a ring), for burst detection.
    private var overrunTimes: [Int64]
    private var overrunCursor = 0
    private var grantValue: RealtimeGrant?
    private let grantReady = Atomic<Bool>(false)

    public init(configuration: LoopConfiguration, body: Body) {
        precondition(configuration.periodNanoseconds > 0)
        self.configuration = configuration
        self.body = body
        overrunTimes = Array(repeating: .min, count: max(1, configuration.overrunBurst))
    }

    deinit { stop() }

    /// What the kernel granted; nil until the loop thread has asked.
    public var grant: RealtimeGrant? { grantReady.load(ordering: .acquiring) ? grantValue : nil }

    /// Starts the loop thread. Returns once the thread exists (warm-up runs on it).
    public func start() throws(HALThreadError) {
        precondition(!started.load(ordering: .relaxed), "a loop starts once")
        started.store(true, ordering: .relaxed)
        switch startThread({ self.run() }) {
        case .success(let handle): thread = handle
        case .failure(let error): throw error
        }
    }

    /// Asks the loop to finish its current cycle and waits for the thread to end.
    public func stop() {
        stopRequested.store(true, ordering: .releasing)
        if let t = thread {
            pthread_join(t, nil)
            thread = nil
        }
    }

    /// Asks the loop to finish and waits at most `nanoseconds` for it. False: the loop is hung
    /// (in a driver call, say); its thread is left behind, detached, for the process's exit.
    public func stop(waitingAtMostNanoseconds nanoseconds: Int64) -> Bool {
        stopRequested.store(true, ordering: .releasing)
        guard let t = thread else { return true }
        let deadline = vigil_monotonic_ns() + nanoseconds
        while !finished.load(ordering: .acquiring) && vigil_monotonic_ns() < deadline { usleep(1000) }
        guard finished.load(ordering: .acquiring) else {
            pthread_detach(t)
            thread = nil
            return false
        }
        pthread_join(t, nil)
        thread = nil
        return true
    }
    private let finished = Atomic<Bool>(false)

    public var isStopping: Bool { stopRequested.load(ordering: .acquiring) }

    private func requestRealtime() {
        var g = RealtimeGrant(memoryLocked: false, fifoPriority: nil, pinnedCPU: nil, refusals: [])
        if configuration.lockMemory {
            if vigil_lock_all_memory() == 0 { g.memoryLocked = true } else { g.refusals.append("mlockall refused (errno \(errno)): memory may be paged out; raise RLIMIT_MEMLOCK (LimitMEMLOCK=infinity, ulimit -l)") }
        }
        if let cpu = configuration.cpu {
            if vigil_pin_current_thread(Int32(cpu)) == 0 { g.pinnedCPU = cpu } else { g.refusals.append("CPU affinity to \(cpu) refused (errno \(errno))") }
        }
        if let priority = configuration.priority {
            let status = vigil_set_current_thread_fifo(Int32(priority))
            if status == 0 { g.fifoPriority = priority } else { g.refusals.append("SCHED_FIFO \(priority) refused (error \(status)): running with the default scheduler; raise RLIMIT_RTPRIO (LimitRTPRIO= in the unit, ulimit -r) or grant CAP_SYS_NICE") }
        }
        grantValue = g
        grantReady.store(true, ordering: .releasing)
    }

    private func run() {
        let period = configuration.periodNanoseconds
        // Warm-up: every code path of the body once, before any deadline counts.
        var now = vigil_monotonic_ns()
        for i in 0..<configuration.warmUpCycles where !isStopping {
            let t = MonotonicInstant(nanoseconds: now)
            body.cycle(CycleTiming(deadline: t, wake: t, index: Int64(i), isWarmUp: true, deadlineBurst: false, previousMetDeadline: true))
            now = vigil_monotonic_ns()
        }
        requestRealtime()

        var deadline = vigil_monotonic_ns() + period
        var index: Int64 = 0
        var stats = LoopStatistics()
        var metDeadline = true
        var nextPublish = deadline + 1_000_000_000
        var figures: LoopFigures?
        while !isStopping {
            _ = vigil_sleep_until_monotonic_ns(deadline)
            let wake = vigil_monotonic_ns()
            lateness.record(microseconds: Int((wake - deadline) / 1000))
            let burst = inBurst(at: wake)
            body.cycle(CycleTiming(deadline: MonotonicInstant(nanoseconds: deadline), wake: MonotonicInstant(nanoseconds: wake),
                                   index: index, isWarmUp: false, deadlineBurst: burst, previousMetDeadline: metDeadline, figures: figures))
            let end = vigil_monotonic_ns()
            execution.record(microseconds: Int((end - wake) / 1000))
            stats.cycles += 1
            index += 1
            deadline += period
            metDeadline = end <= deadline
            if !metDeadline {
                // Skip every period that has already passed; each is an overrun.
                let missed = (end - deadline) / period + 1
                stats.overruns += missed
                for _ in 0..<min(missed, Int64(overrunTimes.count)) { noteOverrun(at: end) }
                deadline += missed * period
                index += missed
            }
            if end >= nextPublish {
                publish(&stats, burst: inBurst(at: end))
                figures = LoopFigures(latenessP99Microseconds: stats.latenessP99Microseconds, overruns: stats.overruns)
                nextPublish = end + 1_000_000_000
            }
        }
        publish(&stats, burst: false)
        finished.store(true, ordering: .releasing)
    }

    private func noteOverrun(at t: Int64) {
        overrunTimes[overrunCursor] = t
        overrunCursor = (overrunCursor + 1) % overrunTimes.count
    }

    /// A burst: the oldest of the last `overrunBurst` overruns lies within the window.
    private func inBurst(at t: Int64) -> Bool {
        let oldest = overrunTimes[overrunCursor]
        return oldest != .min && t - oldest <= configuration.overrunWindowNanoseconds
    }

    private func publish(_ stats: inout LoopStatistics, burst: Bool) {
        stats.latenessP50Microseconds = Int32(clamping: lateness.percentile(0.5))
        stats.latenessP99Microseconds = Int32(clamping: lateness.percentile(0.99))
        stats.latenessMaxMicroseconds = Int32(clamping: lateness.maximumMicroseconds)
        stats.executionP50Microseconds = Int32(clamping: execution.percentile(0.5))
        stats.executionP99Microseconds = Int32(clamping: execution.percentile(0.99))
        stats.executionMaxMicroseconds = Int32(clamping: execution.maximumMicroseconds)
        stats.deadlineBurst = burst
        statistics.publish(stats)
    }
}

