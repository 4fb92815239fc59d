import VigilBase
import VigilFrames

/// Where one rule stands. The interlock's outputs are a function of these states.
public enum RuleState: Sendable, Equatable {
    /// No healthy input seen since start-up: held in the safe state like a fault.
    case starting
    /// The condition does not hold.
    case normal
    /// The condition holds but has not yet held long enough: seen in `count` samples (each with
    /// a newer timestamp, the last at `lastSample`) since `since`.
    case debouncing(count: Int, since: MonotonicInstant, lastSample: MonotonicInstant)
    /// The condition holds (or is inside the hysteresis band after holding): action in force.
    case active
    /// A latching trip whose condition has ended: in force until a local reset.
    case latched
    /// The input is faulty; the rule's `onFault` action is in force. Trips from a fault latch.
    case faulted(FaultReason)

    /// The action this state puts in force, if any. A trip rule holds its permissive off until
    /// it has seen a healthy input, whatever its fault action.
    public func action(of rule: InterlockRule) -> InterlockAction? { RuleStateCode(self).action(of: rule) }
}

/// How an evaluation sees one rule's input: the classes of the transition table.
public enum InputClass: UInt8, Sendable, Equatable, CaseIterable {
    /// Healthy and at or inside the release level.
    case clear = 0
    /// Healthy, past the release level but not past the limit (the hysteresis band).
    case band = 1
    /// Healthy and past the limit.
    case beyond = 2
    /// Unusable (see ``FaultReason``).
    case fault = 3

    /// Classifies `sample` for `rule` at `now`.
    public static func of(_ sample: ChannelSample, for rule: InterlockRule, now: MonotonicInstant, clockSynchronised: Bool) -> (InputClass, FaultReason?) {
        if sample.quality.contains(.noValue) { return (.fault, .missing) }
        if sample.quality.contains(.commFault) { return (.fault, .communication) }
        if sample.quality.contains(.outOfRange) || !sample.value.isFinite { return (.fault, .outOfRange) }
        if sample.time > now { return (.fault, .timeInFuture) }
        if sample.quality.contains(.stale) || now.nanoseconds(since: sample.time) > rule.maxAgeNanoseconds { return (.fault, .stale) }
        if rule.requiresClockSync && !clockSynchronised { return (.fault, .clockUnsynchronised) }
        let v = sample.value
        switch rule.comparison {
        case .above:
            if v > rule.limit { return (.beyond, nil) }
            return (v > rule.release ? .band : .clear, nil)
        case .below:
            if v < rule.limit { return (.beyond, nil) }
            return (v < rule.release ? .band : .clear, nil)
        }
    }
}

extension RuleState {
    /// The pure transition function of one rule: the next state given the input class, the time and
    /// whether a local reset is requested. Exhaustive over states and classes; every fault leads to
    /// `.faulted`, whose action is the rule's `onFault`.
    ///
    /// `manualStart`: whether a rule leaving `.starting` with its input healthy waits for a reset
    /// (restart prevention) or arms by itself.
    /// `sampleTime` is the input sample's own timestamp: a count debounce counts samples, not
    /// evaluations, so on a channel updated once a second `debounce = 2` lasts two seconds.
    public func next(_ input: InputClass, fault: FaultReason?, sampleTime: MonotonicInstant, rule: InterlockRule, now: MonotonicInstant,
                     reset: Bool, manualStart: Bool) -> RuleState {
        let latches = rule.latch && rule.action == .trip
        switch (self, input) {
        case (.starting, .fault):
            return .starting
        case (_, .fault):
            return .faulted(fault ?? .missing)

        case (.starting, .beyond):
            return Self.debounced(count: 1, since: now, lastSample: sampleTime, rule: rule, now: now) == .active ? .active : .starting
        case (.starting, .band), (.starting, .clear):
            if manualStart && rule.onFault == .trip { return input == .clear && reset ? .normal : .latched }
            return .normal

        case (.normal, .clear), (.normal, .band):
            return .normal
        case (.normal, .beyond):
            return Self.debounced(count: 1, since: now, lastSample: sampleTime, rule: rule, now: now)

        case (.debouncing, .clear), (.debouncing, .band):
            return .normal // the excursion did not last
        case (.debouncing(let count, let since, let last), .beyond):
            let fresh = sampleTime > last
            return Self.debounced(count: fresh ? count + 1 : count, since: since, lastSample: fresh ? sampleTime : last, rule: rule, now: now)

        case (.active, .beyond), (.active, .band):
            return .active // hysteresis: hold until the release level
        case (.active, .clear):
            return latches ? .latched : .normal

        case (.latched, .beyond):
            return .active
        case (.latched, .band):
            return .latched // reset refused: the condition is not yet released
        case (.latched, .clear):
            return reset ? .normal : .latched

        case (.faulted, .beyond):
            let debouncing = Self.debounced(count: 1, since: now, lastSample: sampleTime, rule: rule, now: now)
            if debouncing == .active { return .active }
            return faultLatches(rule) ? .latched : debouncing
        case (.faulted, .band), (.faulted, .clear):
            if faultLatches(rule) { return input == .clear && reset ? .normal : .latched }
            return .normal
        }
    }

    /// A fault that dropped the permissive stays dropped until a local reset, and a fault never
    /// clears a latching trip: a trip rule's fault returns to the latch whatever its fault action.
    private func faultLatches(_ rule: InterlockRule) -> Bool { rule.latch && (rule.onFault == .trip || rule.action == .trip) }

    private static func debounced(count: Int, since: MonotonicInstant, lastSample: MonotonicInstant, rule: InterlockRule, now: MonotonicInstant) -> RuleState {
        switch rule.debounce {
        case .evaluations(let needed):
            return count >= needed ? .active : .debouncing(count: count, since: since, lastSample: lastSample)
        case .nanoseconds(let needed):
            return now.nanoseconds(since: since) >= needed ? .active : .debouncing(count: count, since: since, lastSample: lastSample)
        }
    }
}
