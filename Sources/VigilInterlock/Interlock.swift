import VigilBase
import VigilFrames

/// What an output line means (the profile's `kind` of an `[[outputs]]` entry).
public enum OutputKind: String, Sendable, Equatable, CaseIterable, Codable {
    /// Energize-to-run: on only while every trip rule on it is healthy; off is the safe state.
    case permissive
    /// On while any warn rule (or fault with `on_fault = warn`) on it is in force (a lamp or horn).
    case warning
    /// Toggles every evaluation in which everything is healthy, for an external watchdog relay;
    /// a stuck level tells the relay to drop.
    case heartbeat
    /// An indicator blinking the node's state (``StatusLight``: armed, waiting for a reset,
    /// tripped, sensor fault, system fault, starting).
    case statusLED = "status_led"
    /// An indicator lit while any fault holds (a sensor fault or a system fault).
    case faultLED = "fault_led"
}

/// A local reset request: who asked, and for the control socket the caller.
public struct ResetRequest: Sendable, Equatable {
    public var source: ResetSource
    public var uid: UInt32?
    public var pid: Int32?
    public init(source: ResetSource, uid: UInt32? = nil, pid: Int32? = nil) {
        self.source = source
        self.uid = uid
        self.pid = pid
    }
    public static let button = ResetRequest(source: .button)
}

/// The local safety interlock: a pure, deterministic state machine. No I/O, no clock of its own,
/// no allocation after `init`: the loop feeds it samples and the time, and drives the outputs it
/// returns. Outputs are energize-to-run: a permissive is on only while everything it guards is
/// healthy, so any unknown or faulty input, and any system fault, turns it off.
public struct Interlock: Sendable {
    public let rules: [InterlockRule]
    public let outputKinds: [OutputKind]
    public private(set) var states: [RuleState]
    /// How each rule saw its input at the last evaluation (what a reset can clear depends on it).
    public private(set) var inputs: [InputClass]
    /// The level each output should be driven to after the last evaluation (true = energized).
    public private(set) var outputs: [Bool]
    /// System faults latch until a reset once they have cleared.
    public private(set) var systemFaults: SystemFault = []
    /// A system fault that has cleared but still holds the permissives off until a reset.
    public private(set) var systemFaultLatched = false
    /// What the last evaluation did with its reset request (nil when it had none).
    public private(set) var resetOutcome: ResetOutcome?
    public private(set) var lastEvaluation: MonotonicInstant?
    /// Events of the last evaluation (capacity reserved up front; refilled each call).
    public private(set) var events: [InterlockEvent]
    private var wasArmed = false
    /// Whether any output is a status or fault LED (worked out once, not per evaluation).
    private let hasIndicators: Bool

    /// Events one evaluation can produce at most: one per rule plus the interlock-wide ones.
    public var eventCapacity: Int { 2 * rules.count + 4 }

    /// - Precondition: every rule's `output` indexes `outputKinds` and its hysteresis closes
    ///   (the profile validator guarantees both).
    /// Whether start-up needs a local reset before the permissive comes on (restart prevention).
    public let manualStart: Bool

    public init(rules: [InterlockRule], outputs: [OutputKind], manualStart: Bool = true) {
        self.manualStart = manualStart
        precondition(rules.allSatisfy { $0.output >= 0 && $0.output < outputs.count && $0.hysteresisIsValid })
        self.rules = rules
        self.outputKinds = outputs
        hasIndicators = outputs.contains { if case .statusLED = $0 { return true }; if case .faultLED = $0 { return true }; return false }
        // Until a rule has seen a healthy input it holds the safe state.
        states = [RuleState](repeating: .starting, count: rules.count)
        inputs = [InputClass](repeating: .fault, count: rules.count)
        self.outputs = [Bool](repeating: false, count: outputs.count)
        events = []
        events.reserveCapacity(2 * rules.count + 4)
    }

    /// Whether any permissive-dropping condition is in force.
    public var isTripped: Bool {
        if !systemFaults.isEmpty || systemFaultLatched { return true }
        for i in 0..<rules.count where states[i].action(of: rules[i]) == .trip { return true }
        return false
    }

    /// Evaluates every rule against `samples` (indexed by channel) at `now` and recomputes the
    /// outputs. `reset` is a local reset request (the reset button or the CLI on the node): it
    /// clears latched rules whose condition has ended and is refused otherwise; either way it is
    /// one event that names its source. Real-time safe: no allocation, no locks, O(rules + outputs).
    public mutating func evaluate(samples: UnsafeBufferPointer<ChannelSample>, now: MonotonicInstant,
                                  clockSynchronised: Bool, systemFaults newSystemFaults: SystemFault, reset request: ResetRequest?) {
        let reset = request != nil
        events.removeAll(keepingCapacity: true)
        // A clock that runs backwards makes every age meaningless: treat all inputs as faulty.
        let clockWentBack = lastEvaluation.map { now < $0 } ?? false
        lastEvaluation = now
        var refused = false

        for i in 0..<rules.count {
            let rule = rules[i]
            let sample = rule.channel >= 0 && rule.channel < samples.count ? samples[rule.channel] : .missing
            var (input, reason) = InputClass.of(sample, for: rule, now: now, clockSynchronised: clockSynchronised)
            if clockWentBack { input = .fault; reason = .timeInFuture }
            let before = states[i]
            let after = before.next(input, fault: reason, sampleTime: sample.time, rule: rule, now: now, reset: reset, manualStart: manualStart)
            states[i] = after
            inputs[i] = input
            // A reset cannot clear a trip whose condition (or fault) is still present; a rule that
            // has not yet seen a healthy input is waiting, not refused.
            if reset, after.action(of: rule) == .trip, after != .starting { refused = true }
            if let kind = Self.eventKind(from: before, to: after, rule: rule, reset: reset) {
                let r: UInt8
                if case .faulted(let why) = after { r = why.rawValue } else { r = 0 }
                events.append(InterlockEvent(kind: kind, time: now, rule: i, channel: rule.channel,
                                             value: sample.value, limit: rule.limit, reason: r))
            }
        }

        // System faults: any drops everything; it latches until a reset after it has cleared.
        if !newSystemFaults.isEmpty {
            if newSystemFaults != systemFaults {
                events.append(InterlockEvent(kind: .systemFault, time: now, rule: -1, channel: -1, value: .nan, limit: .nan, reason: newSystemFaults.rawValue))
            }
            systemFaultLatched = true
        } else if systemFaultLatched && reset {
            systemFaultLatched = false
        }
        systemFaults = newSystemFaults
        if reset && !newSystemFaults.isEmpty { refused = true }
        if let request {
            // The request itself: who asked (value: the caller's uid, limit: its pid, for the
            // control socket), and whether it was refused.
            events.append(InterlockEvent(kind: refused ? .resetRefused : .reset, time: now, rule: -1, channel: -1,
                                         value: request.uid.map { Double($0) } ?? .nan, limit: request.pid.map { Double($0) } ?? .nan,
                                         reason: request.source.code))
        }

        // Outputs.
        let tripped = isTripped
        for o in 0..<outputKinds.count {
            switch outputKinds[o] {
            case .permissive:
                var on = systemFaults.isEmpty && !systemFaultLatched
                for i in 0..<rules.count where rules[i].output == o && states[i].action(of: rules[i]) == .trip { on = false }
                outputs[o] = on
            case .warning:
                var on = false
                for i in 0..<rules.count where rules[i].output == o && states[i].action(of: rules[i]) != nil { on = true }
                outputs[o] = on
            case .heartbeat:
                // Toggles while no permissive is held off; a stuck level tells the external relay
                // to drop. A warning (or a warn rule's fault) keeps it toggling: the relay stops
                // the machine only when vigil itself would.
                outputs[o] = tripped ? false : !outputs[o]
            case .statusLED, .faultLED:
                break   // after the loop: they show the state this evaluation ends in
            }
        }
        if hasIndicators {
            // Matched by pattern, not `==`: a String-backed enum's `==` compares raw values and
            // allocates, and this runs every cycle.
            let light = statusLight, fault = anyFault
            for o in 0..<outputKinds.count {
                switch outputKinds[o] {
                case .statusLED: outputs[o] = light.level(at: now)
                case .faultLED: outputs[o] = fault
                default: break
                }
            }
        }
        let armed = !tripped
        if reset {
            resetOutcome = refused ? .refused : (armed ? .armed : .notArmed)
        } else {
            resetOutcome = nil
        }
        if armed && !wasArmed {
            events.append(InterlockEvent(kind: .armed, time: now, rule: -1, channel: -1, value: .nan, limit: .nan, reason: 0))
        }
        wasArmed = armed
    }

    /// The event a rule's state change produces, if any.
    static func eventKind(from before: RuleState, to after: RuleState, rule: InterlockRule, reset: Bool) -> EventKind? {
        switch (before, after) {
        case (.faulted(let a), .faulted(let b)): return a == b ? nil : .fault
        case (_, .faulted): return .fault
        case (.starting, .starting), (.active, .active), (.latched, .latched), (.normal, .normal), (.debouncing, .debouncing):
            return nil
        case (_, .active): return rule.action == .trip ? .tripped : .warning
        case (.active, .latched), (.active, .normal), (.active, .debouncing): return .released
        case (.latched, .normal), (.faulted, .normal), (.starting, .normal): return reset ? .reset : .released
        case (.faulted, .latched), (.faulted, .debouncing), (.starting, .latched), (.starting, .debouncing): return .released
        case (_, .starting): return nil // unreachable: no transition enters `.starting`
        case (.normal, .debouncing), (.normal, .latched), (.debouncing, .normal), (.debouncing, .latched), (.latched, .debouncing):
            return nil
        }
    }
}
