import VigilJSON
import VigilHAL

/// One request on the control socket: a JSON object on one line. Documented in docs/control-socket.md.
public struct ControlRequest: Codable, Sendable {
    public var command: String
    public var channel: String?
    public var rule: String?
    public var line: String?
    public var value: Int?
    public var confirm: Bool?
    public init(command: String, channel: String? = nil, rule: String? = nil, line: String? = nil, value: Int? = nil, confirm: Bool? = nil) {
        self.command = command
        self.channel = channel
        self.rule = rule
        self.line = line
        self.value = value
        self.confirm = confirm
    }
}

/// The answer: `exit` is the CLI's exit status (0 ok, 2 bad input, 5 refused, 1 failure).
public struct ControlResponse<Result: Codable & Sendable>: Codable, Sendable {
    public var exit: Int32
    public var error: String?
    public var result: Result?
    public init(exit: Int32, error: String?, result: Result?) {
        self.exit = exit
        self.error = error
        self.result = result
    }
}

/// What `vigil status` prints.
public struct StatusReport: Codable, Sendable {
    /// 2 since channels carry `display` and `resolution` (absent, i.e. 1, before); every field of
    /// format 1 is unchanged.
    public var statusFormat: Int?
    public var board: String
    public var node: String
    public var profile: String
    public var profileSHA256: String
    public var pid: Int32
    public var uptimeSeconds: Double
    public var clockSync: String
    public var interlock: InterlockStatus
    public var channels: [ChannelStatus]
    public var loop: LoopStatus
    public var safety: SafetyStatus
    public var uplink: UplinkStatus
    public var recentEvents: [EventRecord]
}

/// What keeps the machine safe when vigil itself fails, and how it has fared.
public struct SafetyStatus: Codable, Sendable {
    /// The hardware watchdog device, if the profile has one, and failed keep-alives since start.
    public var watchdog: String?
    public var watchdogErrors: Int
    /// The supervisor's bound, the stalls it acted on, and its last reaction time.
    public var maxStallMilliseconds: Int
    public var stalls: Int
    public var lastStallReactionMilliseconds: Double?
    /// Output writes that failed and feedback disagreements past their bound, since start.
    public var outputWriteErrors: Int
    public var feedbackFaults: Int
    /// Who may reset the interlock (`button`, `socket`).
    public var resetSources: [String]
    /// I2C sensors that are down (failed to start or lost) and retried with back-off.
    public var sensorsDown: [SensorDown]
}

public struct SensorDown: Codable, Sendable {
    public var name: String
    public var error: String
}

public struct InterlockStatus: Codable, Sendable {
    /// `armed` (every permissive on), `tripped` (a trip condition is present now),
    /// `waiting_for_reset` (only latched trips or restart prevention), or `starting`.
    public var state: String
    /// A trip condition (or system fault) is present now; a reset would be refused.
    public var tripped: Bool
    /// One line per reason the permissive is off or a warning is active.
    public var why: [String]
    public var rules: [RuleStatus]
    public var outputs: [OutputStatus]
    public var systemFaults: [String]
}

public struct RuleStatus: Codable, Sendable {
    public var name: String
    public var channel: String
    public var action: String
    public var comparison: String
    public var limit: Double
    public var release: Double
    public var unit: String
    public var state: String
    public var value: Double?
}

public struct OutputStatus: Codable, Sendable {
    public var name: String
    public var kind: String
    public var line: String
    public var on: Bool
}

public struct ChannelStatus: Codable, Sendable {
    public var name: String
    public var value: Double?
    public var unit: String
    public var quality: String
    /// Milliseconds since the value was taken (nil: never).
    public var ageMilliseconds: Int64?
    /// Status format 2: the value as a technician reads it (`B` for an ISO zone, `closed`,
    /// `1.364` to the channel's resolution), and that resolution.
    public var display: String?
    public var resolution: Double?
}

public struct LoopStatus: Codable, Sendable {
    public var periodMicroseconds: Int
    public var cycles: Int64
    public var overruns: Int64
    public var latenessP50Microseconds: Int
    public var latenessP99Microseconds: Int
    public var latenessMaxMicroseconds: Int
    public var executionP99Microseconds: Int
    public var scheduler: String
    public var memoryLocked: Bool
    public var refusals: [String]
}

/// What `vigil spectrum CHANNEL` prints.
public struct SpectrumReport: Codable, Sendable {
    public var channel: String
    public var quality: String
    public var ageMilliseconds: Int64?
    public var bandsIn: String
    public var bandStart: Double
    public var bandWidth: Double
    public var bandRMSG: [Double]
    public var peaks: [PeakReport]
    public var isoZone: String
    public var velocityRMS: Double
    public var blocks: Int
}

public struct PeakReport: Codable, Sendable {
    public var frequencyHz: Double
    public var amplitudeG: Double
}

/// What `vigil interlock reset` and `vigil interlock test` print.
public struct InterlockActionReport: Codable, Sendable {
    public var action: String
    public var done: Bool
    public var detail: String
    /// Proof test: from the injected excursion to the line reading off, ms (the supervisor test:
    /// from the loop's last cycle to the supervisor's safe state).
    public var tripMilliseconds: Double?
    public var output: String?
    /// Proof test: the rule's real input is back within its release level; the rule stays latched
    /// until an ordinary reset (the test never re-arms the machine).
    public var released: Bool?

    public init(action: String, done: Bool, detail: String, tripMilliseconds: Double? = nil, output: String? = nil, released: Bool? = nil) {
        self.action = action
        self.done = done
        self.detail = detail
        self.tripMilliseconds = tripMilliseconds
        self.output = output
        self.released = released
    }
}

/// One GPIO line as `vigil gpio info` shows it.
public struct GPIOLineReport: Codable, Sendable {
    public var chip: String
    public var offset: Int
    public var name: String
    public var consumer: String?
    public var direction: String
    public var activeLow: Bool
    public var bias: String
    public var value: Int?
    /// The interlock or a sensor of the running agent holds this line.
    public var ownedByAgent: Bool

    /// The kernel's `info` of a line on `chip`, with its level where known.
    public init(chip: String, info: GPIOLineInfo, value: Int?, ownedByAgent: Bool) {
        self.chip = chip
        offset = info.offset
        name = info.name
        consumer = info.consumer
        direction = info.direction.rawValue
        activeLow = info.activeLow
        bias = info.bias.rawValue
        self.value = value
        self.ownedByAgent = ownedByAgent
    }
}

enum ControlJSON {
    static func encode<T: Encodable>(_ value: T) -> String {
        guard let text = try? JSON.encode(value) else { return "{\"exit\":1,\"error\":\"cannot encode the answer\"}" }
        return text
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try JSON.decode(type, from: text)
    }
}
