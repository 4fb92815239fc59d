import CVigilSys
import VigilBase

/// The system's clocks: `CLOCK_MONOTONIC`, `CLOCK_REALTIME` and the kernel's view of whether the
/// wall clock is synchronised (`adjtimex`, read-only).
public enum SystemClock {
    public static func syncState() -> ClockSyncState {
        switch vigil_clock_sync_state() {
        case 2: return .synchronized
        case 1: return .unsynchronized
        default: return .unknown
        }
    }

    public static func monotonic() -> MonotonicInstant { MonotonicInstant(nanoseconds: vigil_monotonic_ns()) }

    public static func wallClock() -> WallClockTime { WallClockTime(microsecondsSinceEpoch: vigil_realtime_ns() / 1000) }

    /// Both clocks and the sync state, read back to back.
    public static func timestamp() -> Timestamp {
        Timestamp(monotonic: monotonic(), wallClock: wallClock(), clockSync: syncState())
    }
}
