/// The quality of one reading or one computed metric, as a set of independent flags.
///
/// An empty set means *good*. Flags accumulate: a value can be both stale and out of range.
/// The raw bits are part of the frame format (see `docs/frame-format.md`): never renumber them.
public struct Quality: OptionSet, Sendable, Hashable, Codable, BitwiseCopyable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// The value is older than its channel's maximum age.
    public static let stale = Quality(rawValue: 1 << 0)
    /// The sensor did not answer, answered garbage, or the bus failed.
    public static let commFault = Quality(rawValue: 1 << 1)
    /// The value lies outside the channel's physical range.
    public static let outOfRange = Quality(rawValue: 1 << 2)
    /// At least one raw sample of the block hit the converter's full scale.
    public static let clipped = Quality(rawValue: 1 << 3)
    /// The wall clock was not synchronised when the value was taken.
    public static let clockUnsynced = Quality(rawValue: 1 << 4)
    /// The block was shorter than the analysis needs, or the signal was below the converter's
    /// resolution (all zero): the metric is computed but not meaningful.
    public static let underRange = Quality(rawValue: 1 << 5)
    /// The value was never read since start-up.
    public static let noValue = Quality(rawValue: 1 << 6)

    /// No flag set.
    public static let good: Quality = []

    /// Every bit defined by this version; the others are reserved and must be zero on the wire.
    public static let defined = Quality(rawValue: 0x7F)

    /// True when no flag is set.
    public var isGood: Bool { isEmpty }

    /// Flags that make a value unusable for a safety decision (as opposed to merely annotated).
    public static let unusable: Quality = [.stale, .commFault, .outOfRange, .noValue]

    /// Short names of the set flags, in bit order (`["stale", "comm_fault"]`).
    public var names: [String] {
        var result: [String] = []
        let table: [(Quality, String)] = [
            (.stale, "stale"), (.commFault, "comm_fault"), (.outOfRange, "out_of_range"),
            (.clipped, "clipped"), (.clockUnsynced, "clock_unsynced"), (.underRange, "under_range"),
            (.noValue, "no_value"),
        ]
        for (flag, name) in table where contains(flag) { result.append(name) }
        return result
    }

    /// `"good"` or the flag names joined with `+`.
    public var summary: String { isGood ? "good" : names.joined(separator: "+") }
}
