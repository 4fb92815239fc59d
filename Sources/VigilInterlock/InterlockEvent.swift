import VigilBase
import VigilFrames

/// A change the interlock reports: kept locally and sent upward as an event frame.
public struct InterlockEvent: Sendable, Equatable, BitwiseCopyable {
    public var kind: EventKind
    public var time: MonotonicInstant
    /// The rule, or −1 for interlock-wide events.
    public var rule: Int
    /// The rule's channel, or −1.
    public var channel: Int
    public var value: Double
    public var limit: Double
    /// For `.fault`: the ``FaultReason`` raw value; for `.systemFault`: the ``SystemFault`` bits.
    public var reason: UInt8

    public init(kind: EventKind, time: MonotonicInstant, rule: Int, channel: Int, value: Double, limit: Double, reason: UInt8) {
        self.kind = kind
        self.time = time
        self.rule = rule
        self.channel = channel
        self.value = value
        self.limit = limit
        self.reason = reason
    }
}
