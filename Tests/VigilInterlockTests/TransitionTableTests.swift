import Testing
import VigilBase
import VigilFrames
@testable import VigilInterlock

/// Every rule state × every input class × reset, written out by hand from the specification,
/// for a latching trip rule and for a non-latching warn rule.
@Suite struct TransitionTableTests {
    static let t0 = MonotonicInstant(nanoseconds: 1_000_000_000)
    static let now = MonotonicInstant(nanoseconds: 1_001_000_000)

    static let trip = InterlockRule(name: "trip", channel: 0, comparison: .above, limit: 4.5, release: 4.0,
                                    debounce: .evaluations(2), action: .trip, output: 0, onFault: .trip, latch: true,
                                    maxAgeNanoseconds: 1_000_000_000)
    static let warn = InterlockRule(name: "warn", channel: 0, comparison: .above, limit: 2.8, release: 2.5,
                                    debounce: .evaluations(1), action: .warn, output: 1, onFault: .warn, latch: false,
                                    maxAgeNanoseconds: 1_000_000_000)

    enum S: String, CaseIterable { case starting, normal, debouncing, active, latched, faulted }
    static func state(_ s: S) -> RuleState {
        switch s {
        case .starting: return .starting
        case .normal: return .normal
        case .debouncing: return .debouncing(count: 1, since: t0, lastSample: t0)
        case .active: return .active
        case .latched: return .latched
        case .faulted: return .faulted(.stale)
        }
    }

    /// (state, input, reset) → next, for the latching trip rule (debounce 2 evaluations, manual start).
    static let tripTable: [(S, InputClass, Bool, RuleState)] = [
        (.starting, .clear, false, .latched), (.starting, .clear, true, .normal),
        (.starting, .band, false, .latched), (.starting, .band, true, .latched),
        (.starting, .beyond, false, .starting), (.starting, .beyond, true, .starting),
        (.starting, .fault, false, .starting), (.starting, .fault, true, .starting),
        (.normal, .clear, false, .normal), (.normal, .clear, true, .normal),
        (.normal, .band, false, .normal), (.normal, .band, true, .normal),
        (.normal, .beyond, false, .debouncing(count: 1, since: now, lastSample: now)), (.normal, .beyond, true, .debouncing(count: 1, since: now, lastSample: now)),
        (.normal, .fault, false, .faulted(.communication)), (.normal, .fault, true, .faulted(.communication)),
        (.debouncing, .clear, false, .normal), (.debouncing, .clear, true, .normal),
        (.debouncing, .band, false, .normal), (.debouncing, .band, true, .normal),
        (.debouncing, .beyond, false, .active), (.debouncing, .beyond, true, .active),
        (.debouncing, .fault, false, .faulted(.communication)), (.debouncing, .fault, true, .faulted(.communication)),
        (.active, .clear, false, .latched), (.active, .clear, true, .latched),
        (.active, .band, false, .active), (.active, .band, true, .active),
        (.active, .beyond, false, .active), (.active, .beyond, true, .active),
        (.active, .fault, false, .faulted(.communication)), (.active, .fault, true, .faulted(.communication)),
        (.latched, .clear, false, .latched), (.latched, .clear, true, .normal),
        (.latched, .band, false, .latched), (.latched, .band, true, .latched),
        (.latched, .beyond, false, .active), (.latched, .beyond, true, .active),
        (.latched, .fault, false, .faulted(.communication)), (.latched, .fault, true, .faulted(.communication)),
        (.faulted, .clear, false, .latched), (.faulted, .clear, true, .normal),
        (.faulted, .band, false, .latched), (.faulted, .band, true, .latched),
        (.faulted, .beyond, false, .latched), (.faulted, .beyond, true, .latched),
        (.faulted, .fault, false, .faulted(.communication)), (.faulted, .fault, true, .faulted(.communication)),
    ]

    /// The same for the non-latching warn rule (debounce 1, faults warn).
    static let warnTable: [(S, InputClass, Bool, RuleState)] = [
        (.starting, .clear, false, .normal), (.starting, .clear, true, .normal),
        (.starting, .band, false, .normal), (.starting, .band, true, .normal),
        (.starting, .beyond, false, .active), (.starting, .beyond, true, .active),
        (.starting, .fault, false, .starting), (.starting, .fault, true, .starting),
        (.normal, .clear, false, .normal), (.normal, .clear, true, .normal),
        (.normal, .band, false, .normal), (.normal, .band, true, .normal),
        (.normal, .beyond, false, .active), (.normal, .beyond, true, .active),
        (.normal, .fault, false, .faulted(.communication)), (.normal, .fault, true, .faulted(.communication)),
        (.debouncing, .clear, false, .normal), (.debouncing, .clear, true, .normal),
        (.debouncing, .band, false, .normal), (.debouncing, .band, true, .normal),
        (.debouncing, .beyond, false, .active), (.debouncing, .beyond, true, .active),
        (.debouncing, .fault, false, .faulted(.communication)), (.debouncing, .fault, true, .faulted(.communication)),
        (.active, .clear, false, .normal), (.active, .clear, true, .normal),
        (.active, .band, false, .active), (.active, .band, true, .active),
        (.active, .beyond, false, .active), (.active, .beyond, true, .active),
        (.active, .fault, false, .faulted(.communication)), (.active, .fault, true, .faulted(.communication)),
        (.latched, .clear, false, .latched), (.latched, .clear, true, .normal),
        (.latched, .band, false, .latched), (.latched, .band, true, .latched),
        (.latched, .beyond, false, .active), (.latched, .beyond, true, .active),
        (.latched, .fault, false, .faulted(.communication)), (.latched, .fault, true, .faulted(.communication)),
        (.faulted, .clear, false, .normal), (.faulted, .clear, true, .normal),
        (.faulted, .band, false, .normal), (.faulted, .band, true, .normal),
        (.faulted, .beyond, false, .active), (.faulted, .beyond, true, .active),
        (.faulted, .fault, false, .faulted(.communication)), (.faulted, .fault, true, .faulted(.communication)),
    ]

    @Test func tablesCoverEveryStateInputAndReset() {
        for table in [Self.tripTable, Self.warnTable] {
            #expect(table.count == S.allCases.count * InputClass.allCases.count * 2)
            for s in S.allCases { for i in InputClass.allCases { for r in [false, true] {
                #expect(table.contains { $0.0 == s && $0.1 == i && $0.2 == r }, "\(s) \(i) \(r) missing")
            } } }
        }
    }

    @Test func latchingTripRuleFollowsItsTable() {
        for (s, input, reset, expected) in Self.tripTable {
            let next = Self.state(s).next(input, fault: input == .fault ? .communication : nil, sampleTime: Self.now, rule: Self.trip,
                                          now: Self.now, reset: reset, manualStart: true)
            #expect(next == expected, "trip: \(s) + \(input) reset=\(reset)")
        }
    }

    @Test func nonLatchingWarnRuleFollowsItsTable() {
        for (s, input, reset, expected) in Self.warnTable {
            let next = Self.state(s).next(input, fault: input == .fault ? .communication : nil, sampleTime: Self.now, rule: Self.warn,
                                          now: Self.now, reset: reset, manualStart: true)
            #expect(next == expected, "warn: \(s) + \(input) reset=\(reset)")
        }
    }

    @Test func everyStateThatIsNotHealthyPutsTheSafeActionInForce() {
        #expect(RuleState.starting.action(of: Self.trip) == .trip)
        #expect(RuleState.faulted(.stale).action(of: Self.trip) == .trip)
        #expect(RuleState.active.action(of: Self.trip) == .trip)
        #expect(RuleState.latched.action(of: Self.trip) == .trip)
        #expect(RuleState.normal.action(of: Self.trip) == nil)
        #expect(RuleState.debouncing(count: 1, since: Self.t0, lastSample: Self.t0).action(of: Self.trip) == nil)
    }

    @Test(arguments: [
        (ChannelSample(value: 1, quality: .noValue, time: now), FaultReason.missing),
        (ChannelSample(value: 1, quality: .commFault, time: now), .communication),
        (ChannelSample(value: 1, quality: .outOfRange, time: now), .outOfRange),
        (ChannelSample(value: .nan, quality: [], time: now), .outOfRange),
        (ChannelSample(value: .infinity, quality: [], time: now), .outOfRange),
        (ChannelSample(value: 1, quality: [], time: now.advanced(byNanoseconds: 1)), .timeInFuture),
        (ChannelSample(value: 1, quality: .stale, time: now), .stale),
        (ChannelSample(value: 1, quality: [], time: now.advanced(byNanoseconds: -1_000_000_001)), .stale),
    ])
    func everyKindOfBadSampleClassifiesAsAFault(sample: ChannelSample, reason: FaultReason) {
        let (c, r) = InputClass.of(sample, for: Self.trip, now: Self.now, clockSynchronised: true)
        #expect(c == .fault && r == reason)
    }

    @Test func limitsAreStrictAndReleaseIsInclusive() {
        func classify(_ v: Double, _ rule: InterlockRule) -> InputClass {
            InputClass.of(ChannelSample(value: v, quality: [], time: Self.now), for: rule, now: Self.now, clockSynchronised: true).0
        }
        #expect(classify(4.5, Self.trip) == .band)
        #expect(classify(4.5000001, Self.trip) == .beyond)
        #expect(classify(4.0, Self.trip) == .clear)
        #expect(classify(4.2, Self.trip) == .band)
        let below = InterlockRule(name: "estop", channel: 0, comparison: .below, limit: 1, release: 1, action: .trip, output: 0, maxAgeNanoseconds: 1_000_000_000)
        #expect(classify(0, below) == .beyond)
        #expect(classify(1, below) == .clear)
    }
}
