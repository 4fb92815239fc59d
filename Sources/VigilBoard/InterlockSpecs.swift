import VigilBase
import VigilFrames
import VigilHAL
import VigilInterlock

/// A digital output the interlock drives.
public struct OutputSpec: Sendable, Equatable, Codable {
    public var name: String
    public var line: LineRef
    public var kind: OutputKind
    /// Electrically inverted (the line is driven low for "on").
    public var activeLow: Bool
    /// A monitoring input that reads what the output really did (a relay's auxiliary contact, as
    /// safety relays have): a disagreement longer than `feedbackMilliseconds` is a latched system
    /// fault.
    public var feedback: LineRef?
    /// The feedback contact reads low for "on".
    public var feedbackActiveLow: Bool
    /// How long the feedback may disagree with the output (the relay's switching time), ms.
    public var feedbackMilliseconds: Int

    public init(name: String, line: LineRef, kind: OutputKind, activeLow: Bool, feedback: LineRef? = nil, feedbackActiveLow: Bool = false,
                feedbackMilliseconds: Int = OutputSpec.defaultFeedbackMilliseconds) {
        self.name = name
        self.line = line
        self.kind = kind
        self.activeLow = activeLow
        self.feedback = feedback
        self.feedbackActiveLow = feedbackActiveLow
        self.feedbackMilliseconds = feedbackMilliseconds
    }

    /// A general-purpose relay switches within 10–20 ms; 50 ms leaves room for its bounce.
    public static let defaultFeedbackMilliseconds = 50

    enum CodingKeys: String, CodingKey {
        case name, line, kind, feedback
        case activeLow = "active_low", feedbackActiveLow = "feedback_active_low", feedbackMilliseconds = "feedback_ms"
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

/// Who may reset the interlock, and the reset button if there is one (`[reset]`).
public struct ResetSpec: Sendable, Equatable, Codable {
    /// The reset button's line (a key switch or push button wired to a GPIO), if any.
    public var line: LineRef?
    public var activeLow: Bool
    public var bias: LineBias
    /// Who may reset: the button, the control socket (`vigil interlock reset`), or both. Default:
    /// the button when there is one, else the socket.
    public var sources: [ResetSource]
    /// A press counts on its release, and only if it lasted this long at least (a bounce or a
    /// brush is not a reset) …
    public var minimumPressMilliseconds: Int
    /// … and at most this long (a button shorted or held down never resets).
    public var maximumPressMilliseconds: Int

    public init(line: LineRef?, activeLow: Bool = true, bias: LineBias = .pullUp, sources: [ResetSource]? = nil,
                minimumPressMilliseconds: Int = 50, maximumPressMilliseconds: Int = 5000) {
        self.line = line
        self.activeLow = activeLow
        self.bias = bias
        self.sources = sources ?? (line == nil ? [.socket] : [.button])
        self.minimumPressMilliseconds = minimumPressMilliseconds
        self.maximumPressMilliseconds = maximumPressMilliseconds
    }

    public func allows(_ source: ResetSource) -> Bool { sources.contains(source) }

    enum CodingKeys: String, CodingKey {
        case line, bias, sources
        case activeLow = "active_low", minimumPressMilliseconds = "min_press_ms", maximumPressMilliseconds = "max_press_ms"
    }
}
