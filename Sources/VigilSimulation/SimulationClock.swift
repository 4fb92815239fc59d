import CVigilSys
import VigilBase

/// The time simulated devices live in: either the system's monotonic clock (the agent on the
/// simulator board) or a manual clock that tests advance, so a device model's timing (FIFO fill
/// rate, conversion period, bus transfer time) is exercised deterministically.
public final class SimulationClock: @unchecked Sendable {
    private let followsSystem: Bool
    private var manualNanoseconds: Int64

    /// A clock that tests move with `advance(byNanoseconds:)`.
    public static func manual(start: MonotonicInstant = MonotonicInstant(nanoseconds: 1_000_000_000)) -> SimulationClock {
        SimulationClock(followsSystem: false, start: start.nanoseconds)
    }

    /// The system's `CLOCK_MONOTONIC`.
    public static func system() -> SimulationClock {
        SimulationClock(followsSystem: true, start: 0)
    }

    private init(followsSystem: Bool, start: Int64) {
        self.followsSystem = followsSystem
        manualNanoseconds = start
    }

    public var isManual: Bool { !followsSystem }

    public var now: MonotonicInstant {
        MonotonicInstant(nanoseconds: followsSystem ? vigil_monotonic_ns() : manualNanoseconds)
    }

    /// Moves a manual clock forward; no effect on the system clock.
    public func advance(byNanoseconds delta: Int64) {
        precondition(delta >= 0, "a monotonic clock does not go back")
        if !followsSystem { manualNanoseconds += delta }
    }

    /// Lets `nanoseconds` pass as a device would take them (a slow reply, a bus transfer): a manual
    /// clock advances by exactly that; the system clock sleeps, but only for 1 ms or more (a
    /// Modbus frame, a slow reply): a sleep of a few hundred µs would overshoot by more than it
    /// lasts, so single I2C transfers are accounted on the manual clock only.
    public func elapse(nanoseconds: Int64) {
        guard nanoseconds > 0 else { return }
        if followsSystem {
            guard nanoseconds >= 1_000_000 else { return }
            _ = vigil_sleep_until_monotonic_ns(vigil_monotonic_ns() + nanoseconds)
        } else {
            manualNanoseconds += nanoseconds
        }
    }
}
