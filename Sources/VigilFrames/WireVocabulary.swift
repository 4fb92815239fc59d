/// The enumerations whose numbers frames carry (docs/frame-format.md). The codec owns them: the
/// interlock, the channel catalog and every renderer use these types, so a number means one thing
/// everywhere. Decoders keep the raw byte (a newer minor version may add values) and name it with
/// these when they can.

/// What happened, in an event frame (§4.4) and in the node's local event log.
public enum EventKind: UInt8, Sendable, CaseIterable, BitwiseCopyable {
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

    /// The name `vigil frame decode` and `vigil status` print.
    public var name: String {
        switch self {
        case .armed: return "armed"
        case .warning: return "warning"
        case .tripped: return "tripped"
        case .released: return "released"
        case .reset: return "reset"
        case .resetRefused: return "reset_refused"
        case .fault: return "fault"
        case .systemFault: return "system_fault"
        }
    }

    /// The name of a kind byte as it arrived (`kind_N` for one this version does not know).
    public static func name(ofRaw raw: UInt8) -> String { EventKind(rawValue: raw)?.name ?? "kind_\(raw)" }
}

/// Why a rule's input is not usable: the reason byte of a `fault` event.
public enum FaultReason: UInt8, Sendable, Equatable, CaseIterable, BitwiseCopyable {
    /// No sample was ever received, or the sensor reports no value.
    case missing = 1
    /// The newest sample is older than the channel's maximum age.
    case stale = 2
    /// The sensor stopped answering (bus error, timeout, CRC).
    case communication = 3
    /// The value is outside the sensor's physical range, or not a number.
    case outOfRange = 4
    /// The rule needs a synchronised wall clock and it is not.
    case clockUnsynchronised = 5
    /// The sample is timestamped after "now": the clock stepped backwards or the sample is corrupt.
    case timeInFuture = 6

    public var name: String {
        switch self {
        case .missing: return "missing"
        case .stale: return "stale"
        case .communication: return "communication"
        case .outOfRange: return "out_of_range"
        case .clockUnsynchronised: return "clock_unsynchronised"
        case .timeInFuture: return "time_in_future"
        }
    }
}

/// Faults of the node itself, not of one input; any of them drops every permissive. The reason
/// byte of a `system_fault` event carries these bits.
public struct SystemFault: OptionSet, Sendable, Hashable, BitwiseCopyable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// Too many missed loop deadlines in the configured window.
    public static let deadlineBurst = SystemFault(rawValue: 1 << 0)
    /// Too many bus errors in the configured window.
    public static let busErrorBurst = SystemFault(rawValue: 1 << 1)
    /// The hardware watchdog could not be fed or opened.
    public static let watchdog = SystemFault(rawValue: 1 << 2)
    /// The loop did not complete a cycle within the profile's `max_stall_ms`: the supervisor drove
    /// every output to its safe level.
    public static let loopStall = SystemFault(rawValue: 1 << 3)
    /// An output could not be driven, or its feedback input disagreed with it for longer than
    /// its `feedback_ms`.
    public static let outputFault = SystemFault(rawValue: 1 << 4)

    /// Every bit with its name, in bit order.
    public static let named: [(SystemFault, String)] = [
        (.deadlineBurst, "deadline_burst"), (.busErrorBurst, "bus_error_burst"), (.watchdog, "watchdog"),
        (.loopStall, "loop_stall"), (.outputFault, "output_fault"),
    ]

    /// The names of the set bits, in bit order.
    public var names: [String] { Self.named.filter { contains($0.0) }.map(\.1) }
}

/// Who asked for a local reset: the profile's `[reset] sources` spellings, and (as ``code``) the
/// reason byte of the interlock-wide `reset` and `reset_refused` events, whose value carries the
/// caller's uid and whose limit its pid, for the control socket.
public enum ResetSource: String, Sendable, CaseIterable, Codable {
    /// The reset button wired to the board, pressed and released.
    case button
    /// `vigil interlock reset` through the node's control socket.
    case socket

    /// The event's reason byte.
    public var code: UInt8 {
        switch self {
        case .button: return 1
        case .socket: return 2
        }
    }

    public init?(code: UInt8) {
        guard let s = Self.allCases.first(where: { $0.code == code }) else { return nil }
        self = s
    }
}

/// What a channel measures: the quantity byte of a birth frame's channel table (§4.1).
public enum ChannelQuantity: UInt8, Sendable, Codable, CaseIterable {
    case accelerationRMS = 1
    case accelerationPeak = 2
    case crestFactor = 3
    case kurtosis = 4
    case velocityRMS = 5
    case highFrequencyAccelerationRMS = 6
    case isoZone = 7
    case bandEnergies = 8
    case temperature = 9
    case modbusValue = 10
    case digitalState = 11
    case shaftSpeed = 12
    case interlockState = 13
    case loopLatenessP99 = 14
    case loopOverruns = 15
    /// A 4–20 mA loop's current, mA.
    case loopCurrent = 16
    /// The process value a 4–20 mA loop carries, in the profile's unit (pressure, flow, level …).
    case processValue = 17
}
