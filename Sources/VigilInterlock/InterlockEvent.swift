import VigilBase

/// A change the interlock reports: kept locally and sent upward as an event frame.
public struct InterlockEvent: Sendable, Equatable, BitwiseCopyable {
    public enum Kind: UInt8, Sendable, CaseIterable, BitwiseCopyable {
        /// Every permissive is on: the machine may run.
        case armed = 1
        /// A warn rule became active.
        case warning = 2
        /// A trip rule (or a fault with `on_fault = trip`) dropped its permissive.
        case tripped = 3
        /// A rule's condition ended (a latching trip then waits for reset).
        case released = 4
        /// A local reset cleared a latched rule.
        case reset = 5
        /// A reset was asked for while a condition was still present.
        case resetRefused = 6
        /// A rule's input became unusable.
        case fault = 7
        /// A system-level fault (missed deadlines, bus errors, watchdog) forced the safe state.
        case systemFault = 8
    }
    public var kind: Kind
    public var time: MonotonicInstant
    /// The rule, or −1 for interlock-wide events.
    public var rule: Int
    /// The rule's channel, or −1.
    public var channel: Int
    public var value: Double
    public var limit: Double
    /// For `.fault`: the ``FaultReason`` raw value; for `.systemFault`: the ``SystemFault`` bits.
    public var reason: UInt8

    public init(kind: Kind, time: MonotonicInstant, rule: Int, channel: Int, value: Double, limit: Double, reason: UInt8) {
        self.kind = kind
        self.time = time
        self.rule = rule
        self.channel = channel
        self.value = value
        self.limit = limit
        self.reason = reason
    }
}

/// Faults of the node itself, not of one input; any of them drops every permissive.
public struct SystemFault: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// Too many missed loop deadlines in the configured window.
    public static let deadlineBurst = SystemFault(rawValue: 1 << 0)
    /// Too many bus errors in the configured window.
    public static let busErrorBurst = SystemFault(rawValue: 1 << 1)
    /// The hardware watchdog could not be fed or opened.
    public static let watchdog = SystemFault(rawValue: 1 << 2)
}
