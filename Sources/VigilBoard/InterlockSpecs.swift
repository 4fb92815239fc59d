import VigilBase
import VigilHAL
import VigilInterlock

/// A digital output the interlock drives.
public struct OutputSpec: Sendable, Equatable, Codable {
    public var name: String
    public var line: LineRef
    public var kind: OutputKind
    /// Electrically inverted (the line is driven low for "on").
    public var activeLow: Bool

    enum CodingKeys: String, CodingKey {
        case name, line, kind
        case activeLow = "active_low"
    }
}

/// One interlock rule: a channel compared with a limit, with hysteresis and debounce.
public struct RuleSpec: Sendable, Equatable, Codable {
    public var name: String
    /// Full channel name.
    public var channel: String
    public var comparison: InterlockRule.Comparison
    /// The level that trips (or warns), in `unit`.
    public var limit: Double
    /// The level the value must return past before the condition clears, in `unit`.
    public var release: Double
    public var unit: PhysicalUnit
    public var debounce: Debounce
    public var action: InterlockAction
    /// The output this rule acts on: a permissive for `trip`, optionally a warning output for `warn`.
    public var output: String?
    /// What a fault on the channel (stale, no answer, out of range, bus error burst, missed deadlines,
    /// unsynced clock where required) does.
    public var onFault: InterlockAction
    /// A tripped rule stays tripped until a local reset (trip rules always latch unless set false).
    public var latch: Bool
    /// The rule's inputs are only trusted while the wall clock is synchronised.
    public var requiresClockSync: Bool

    public enum Debounce: Sendable, Equatable, Codable {
        /// This many consecutive evaluations beyond the limit.
        case count(Int)
        /// Beyond the limit for at least this long, ms.
        case milliseconds(Int)
    }

    enum CodingKeys: String, CodingKey {
        case name, channel, comparison, limit, release, unit, debounce, action, output, latch
        case onFault = "on_fault", requiresClockSync = "requires_clock_sync"
    }
}

/// A local reset input (a key switch or push button wired to a GPIO).
public struct ResetInputSpec: Sendable, Equatable, Codable {
    public var line: LineRef
    public var activeLow: Bool
    public var bias: LineBias

    enum CodingKeys: String, CodingKey {
        case line, bias
        case activeLow = "active_low"
    }
}
