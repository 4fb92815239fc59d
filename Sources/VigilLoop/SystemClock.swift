import CVigilSys
import Glibc
import VigilBase

/// The system's clocks: `CLOCK_MONOTONIC`, `CLOCK_REALTIME` and whether the wall clock is
/// synchronised.
public enum SystemClock {
    /// The kernel's view (`adjtimex` with no modes: read-only, allowed without CAP_SYS_TIME); where
    /// a sandbox denies that call (systemd's `ProtectClock=` filters it out), systemd-timesyncd's
    /// flag file, which it creates once it has synchronised the clock.
    public static func syncState() -> ClockSyncState {
        syncState(kernel: vigil_clock_sync_state(), timesyncFlagExists: { access(timesyncFlag, F_OK) == 0 })
    }

    /// Where systemd-timesyncd says it has synchronised the clock.
    public static let timesyncFlag = "/run/systemd/timesync/synchronized"

    /// The decision of ``syncState()``: `kernel` is adjtimex's answer (2 synchronised, 1 not, −1
    /// the call failed).
    public static func syncState(kernel: Int32, timesyncFlagExists: () -> Bool) -> ClockSyncState {
        switch kernel {
        case 2: return .synchronized
        case 1: return .unsynchronized
        default: return timesyncFlagExists() ? .synchronized : .unknown
        }
    }

    public static func monotonic() -> MonotonicInstant { MonotonicInstant(nanoseconds: vigil_monotonic_ns()) }

    public static func wallClock() -> WallClockTime { WallClockTime(microsecondsSinceEpoch: vigil_realtime_ns() / 1000) }

    /// Both clocks and the sync state, read back to back.
    public static func timestamp() -> Timestamp {
        Timestamp(monotonic: monotonic(), wallClock: wallClock(), clockSync: syncState())
    }
}
