/// A point on the monotonic clock (`CLOCK_MONOTONIC`), in nanoseconds since an arbitrary origin
/// (boot on Linux). Never goes backwards; unaffected by wall-clock steps.
public struct MonotonicInstant: Sendable, Hashable, Comparable, Codable, BitwiseCopyable {
    public var nanoseconds: Int64
    @inlinable public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    public static let zero = MonotonicInstant(nanoseconds: 0)

    @inlinable public static func < (a: MonotonicInstant, b: MonotonicInstant) -> Bool {
        a.nanoseconds < b.nanoseconds
    }
    /// `self` advanced by `nanoseconds`, saturating rather than overflowing.
    @inlinable public func advanced(byNanoseconds delta: Int64) -> MonotonicInstant {
        let (sum, overflow) = nanoseconds.addingReportingOverflow(delta)
        return MonotonicInstant(nanoseconds: overflow ? (delta > 0 ? .max : .min) : sum)
    }
    /// Nanoseconds from `earlier` to `self` (negative when `earlier` is later).
    @inlinable public func nanoseconds(since earlier: MonotonicInstant) -> Int64 {
        let (d, overflow) = nanoseconds.subtractingReportingOverflow(earlier.nanoseconds)
        return overflow ? (earlier.nanoseconds > nanoseconds ? .min : .max) : d
    }
}

/// A wall-clock time (`CLOCK_REALTIME`) in microseconds since the Unix epoch, UTC.
/// Can step backwards or forwards when the clock is set; never use it to measure intervals.
public struct WallClockTime: Sendable, Hashable, Comparable, Codable, BitwiseCopyable {
    public var microsecondsSinceEpoch: Int64
    @inlinable public init(microsecondsSinceEpoch: Int64) { self.microsecondsSinceEpoch = microsecondsSinceEpoch }
    public static let epoch = WallClockTime(microsecondsSinceEpoch: 0)
    @inlinable public static func < (a: WallClockTime, b: WallClockTime) -> Bool {
        a.microsecondsSinceEpoch < b.microsecondsSinceEpoch
    }
}

/// Whether the system clock is disciplined by NTP/PTP, as the kernel reports it (`adjtimex`).
/// The raw values are part of the frame format.
public enum ClockSyncState: UInt8, Sendable, Codable, CaseIterable, BitwiseCopyable {
    /// Not known (no kernel query made yet, or a simulated clock without a sync model).
    case unknown = 0
    /// The kernel says the clock is unsynchronised (`STA_UNSYNC` / `TIME_ERROR`).
    case unsynchronized = 1
    /// The kernel says the clock is synchronised.
    case synchronized = 2

    public var name: String {
        switch self {
        case .unknown: return "unknown"
        case .unsynchronized: return "unsynchronized"
        case .synchronized: return "synchronized"
        }
    }
}

/// Both clocks read at one moment, plus the sync state of the wall clock.
public struct Timestamp: Sendable, Hashable, Codable, BitwiseCopyable {
    public var monotonic: MonotonicInstant
    public var wallClock: WallClockTime
    public var clockSync: ClockSyncState
    @inlinable public init(monotonic: MonotonicInstant, wallClock: WallClockTime, clockSync: ClockSyncState) {
        self.monotonic = monotonic
        self.wallClock = wallClock
        self.clockSync = clockSync
    }
    public static let zero = Timestamp(monotonic: .zero, wallClock: .epoch, clockSync: .unknown)
}
