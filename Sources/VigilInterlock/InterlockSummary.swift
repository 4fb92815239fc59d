import VigilFrames

/// What the interlock's state means for the machine, as a technician asks it: may it run; if not,
/// why; and what would a reset do. Pure: computed from what the loop publishes (each rule's
/// ``RuleStateCode``, the system faults and whether one is still latched), with the same rules the
/// interlock's outputs follow, so `vigil status` never re-derives them.
public struct InterlockSummary: Sendable, Equatable {
    public enum State: String, Sendable, Equatable {
        /// A rule has not yet seen a healthy input since start-up.
        case starting
        /// Every permissive is on: the machine may run.
        case armed
        /// A trip condition (or system fault) is present now; a reset would be refused.
        case tripped
        /// Only latched trips (or restart prevention) hold a permissive off: a reset arms.
        case waitingForReset = "waiting_for_reset"
    }

    /// One thing holding a permissive off or raising a warning.
    public struct Reason: Sendable, Equatable {
        public enum Cause: Sendable, Equatable {
            /// The rule's condition holds now (or its value is inside the hysteresis band).
            case conditionPresent
            /// A latching trip whose condition has ended: a reset clears it.
            case latched
            /// A latching trip whose value is back inside the limit but not yet at its release
            /// level (the hysteresis band): a reset is refused until it is.
            case notReleased
            /// The rule's input is unusable.
            case faulted(FaultReason)
            /// Faults of the node itself, present now or latched until a reset.
            case systemFault(SystemFault, latched: Bool)
            /// Every rule has been healthy, but the permissive waits for a local reset after start-up.
            case restartPrevention
            /// Some rule has not yet seen a healthy input.
            case waitingForFirstInput
        }
        /// The rule's index, or nil for the node-wide causes.
        public var rule: Int?
        public var cause: Cause
        /// What the cause puts in force.
        public var action: InterlockAction
    }

    /// What a local reset would do now.
    public enum ResetPrognosis: String, Sendable, Equatable {
        /// Clear the latches and energize every permissive.
        case arms
        /// Nothing: a trip condition or system fault is present (the reset would be refused).
        case refused
        /// Clear latches, but a rule still waits for its first healthy input.
        case waitsForInputs = "waits_for_inputs"
        /// Nothing to do: the machine is armed.
        case nothing
    }

    public var state: State
    /// A trip condition or system fault is present now.
    public var tripped: Bool
    public var reasons: [Reason]
    public var reset: ResetPrognosis

    /// The summary of `rules` in the states `codes` (one per rule), how each saw its input
    /// (`inputs`, when known), the system faults present now and whether a cleared one still
    /// waits for a reset.
    public init(rules: [InterlockRule], codes: [RuleStateCode], inputs: [InputClass]? = nil, systemFaults: SystemFault, systemFaultLatched: Bool) {
        var reasons: [Reason] = []
        var tripped = false
        var starting = false
        var held = false
        for (i, rule) in rules.enumerated() {
            let code = i < codes.count ? codes[i] : .starting
            guard let action = code.action(of: rule) else { continue }
            if action == .trip { held = true }
            switch code {
            case .starting:
                // Only a rule that holds a permissive off while it waits keeps the machine from arming.
                if action == .trip { starting = true }
            case .latched:
                if let inputs, i < inputs.count, inputs[i] != .clear {
                    tripped = true
                    reasons.append(Reason(rule: i, cause: .notReleased, action: action))
                } else {
                    reasons.append(Reason(rule: i, cause: .latched, action: action))
                }
            case .faulted(let why):
                if action == .trip { tripped = true }
                reasons.append(Reason(rule: i, cause: .faulted(why), action: action))
            case .active:
                if action == .trip { tripped = true }
                reasons.append(Reason(rule: i, cause: .conditionPresent, action: action))
            case .normal, .debouncing:
                break
            }
        }
        if !systemFaults.isEmpty || systemFaultLatched {
            held = true
            if !systemFaults.isEmpty { tripped = true }
            reasons.append(Reason(rule: nil, cause: .systemFault(systemFaults, latched: systemFaults.isEmpty), action: .trip))
        }
        let state: State
        if tripped {
            state = .tripped
        } else if !held {
            state = .armed
        } else if starting {
            state = .starting
            reasons.append(Reason(rule: nil, cause: .waitingForFirstInput, action: .trip))
        } else {
            state = .waitingForReset
            reasons.append(Reason(rule: nil, cause: .restartPrevention, action: .trip))
        }
        self.state = state
        self.tripped = tripped
        self.reasons = reasons
        switch state {
        case .tripped: reset = .refused
        case .armed: reset = .nothing
        case .starting: reset = .waitsForInputs
        case .waitingForReset: reset = .arms
        }
    }
}

/// What the loop did with a reset request, as it publishes it: the outcome is the interlock's
/// own, taken in the cycle that handled the request.
public enum ResetOutcome: UInt8, Sendable, Equatable {
    /// Every permissive is on after the reset.
    case armed = 1
    /// A trip condition or system fault is present: nothing was cleared for it.
    case refused = 2
    /// Latches cleared, but a permissive is still off (a rule waits for its first healthy input).
    case notArmed = 3
    /// The profile does not let this source reset (`[reset] sources`): nothing was cleared.
    case sourceNotAllowed = 4

    public var name: String {
        switch self {
        case .armed: return "armed"
        case .refused: return "refused"
        case .notArmed: return "not_armed"
        case .sourceNotAllowed: return "source_not_allowed"
        }
    }
}
