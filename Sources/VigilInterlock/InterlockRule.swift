import VigilBase

/// What a rule does when its condition holds, or when its input is faulty (the profile's
/// `action` and `on_fault`).
public enum InterlockAction: String, Sendable, CaseIterable, Codable {
    /// Drop the permissive: the machine goes to its safe state.
    case trip
    /// Raise a warning (event, status, warning output); the machine keeps running.
    case warn
}

/// One limit on one channel, as the interlock evaluates it. Built from the board profile's
/// `[[rules]]` by the composition root; indices refer to the interlock's channel and output tables.
public struct InterlockRule: Sendable, Equatable {
    /// Which side of the limit trips (the profile's `above = …` or `below = …`).
    public enum Comparison: String, Sendable, Equatable, CaseIterable, Codable { case above, below }
    public enum Debounce: Sendable, Equatable {
        /// The condition must hold in this many consecutive new samples of the channel (1 =
        /// immediately): a sample the rule has already seen does not count again.
        case evaluations(Int)
        /// The condition must hold continuously for this long.
        case nanoseconds(Int64)
    }

    public var name: String
    public var channel: Int
    public var comparison: Comparison
    /// Crossing this (strictly: `> limit` above, `< limit` below) starts the condition.
    public var limit: Double
    /// The condition ends only once the value is back at or inside this level (hysteresis).
    public var release: Double
    public var debounce: Debounce
    public var action: InterlockAction
    /// Index into the interlock's outputs.
    public var output: Int
    /// The action taken while the input is faulty (stale, missing, out of range, unsynchronised).
    public var onFault: InterlockAction
    /// Whether a trip stays until a local reset once the condition has ended.
    public var latch: Bool
    /// Whether the wall clock must be synchronised for this rule's input to count as healthy.
    public var requiresClockSync: Bool
    /// The oldest a sample may be before it counts as stale.
    public var maxAgeNanoseconds: Int64

    public init(name: String, channel: Int, comparison: Comparison, limit: Double, release: Double,
                debounce: Debounce = .evaluations(1), action: InterlockAction, output: Int,
                onFault: InterlockAction = .trip, latch: Bool = true, requiresClockSync: Bool = false,
                maxAgeNanoseconds: Int64) {
        self.name = name; self.channel = channel; self.comparison = comparison
        self.limit = limit; self.release = release; self.debounce = debounce; self.action = action
        self.output = output; self.onFault = onFault; self.latch = latch
        self.requiresClockSync = requiresClockSync; self.maxAgeNanoseconds = maxAgeNanoseconds
    }

    /// Whether the hysteresis closes: the release level lies on the safe side of the limit.
    public var hysteresisIsValid: Bool {
        switch comparison {
        case .above: return release <= limit
        case .below: return release >= limit
        }
    }
}

/// The latest sample of one channel, as the loop hands it to the interlock.
public struct ChannelSample: Sendable, Equatable, BitwiseCopyable {
    public var value: Double
    public var quality: Quality
    /// When the value was measured (the loop's monotonic clock).
    public var time: MonotonicInstant
    public init(value: Double, quality: Quality, time: MonotonicInstant) {
        self.value = value; self.quality = quality; self.time = time
    }
    /// No sample yet: reads as a fault.
    public static let missing = ChannelSample(value: .nan, quality: .noValue, time: .zero)
}
