import Testing
import VigilFrames
import VigilBase
@testable import VigilInterlock

/// The interlock explains itself: every combination a technician meets, with the state, whether
/// a trip condition is present, what a reset would do and the causes, written by hand.
@Suite struct SummaryTableTests {
    /// Rule 0 trips (faults trip), rule 1 warns (faults warn), rule 2 trips (faults trip).
    static let rules = [
        InterlockRule(name: "velocity-trip", channel: 0, comparison: .above, limit: 4.5, release: 4, action: .trip, output: 0, onFault: .trip, maxAgeNanoseconds: 1_000_000_000),
        InterlockRule(name: "velocity-warn", channel: 0, comparison: .above, limit: 2.8, release: 2.5, action: .warn, output: 1, onFault: .warn, maxAgeNanoseconds: 1_000_000_000),
        InterlockRule(name: "estop", channel: 1, comparison: .below, limit: 1, release: 1, action: .trip, output: 0, onFault: .trip, maxAgeNanoseconds: 1_000_000_000),
    ]
    typealias Cause = InterlockSummary.Reason.Cause

    struct Row: Sendable, CustomStringConvertible {
        var codes: [RuleStateCode]
        var inputs: [InputClass]? = nil
        var faults: SystemFault = []
        var latched = false
        var state: InterlockSummary.State
        var reset: InterlockSummary.ResetPrognosis
        var causes: [(Int?, Cause)]
        var description: String { "\(codes.map(\.name)) faults \(faults.names) latched \(latched)" }
    }

    static let rows: [Row] = [
        Row(codes: [.normal, .normal, .normal], state: .armed, reset: .nothing, causes: []),
        Row(codes: [.debouncing, .debouncing, .normal], state: .armed, reset: .nothing, causes: []),
        Row(codes: [.active, .active, .normal], state: .tripped, reset: .refused, causes: [(0, .conditionPresent), (1, .conditionPresent)]),
        Row(codes: [.latched, .normal, .normal], state: .waitingForReset, reset: .arms, causes: [(0, .latched), (nil, .restartPrevention)]),
        Row(codes: [.latched, .normal, .active], state: .tripped, reset: .refused, causes: [(0, .latched), (2, .conditionPresent)]),
        Row(codes: [.latched, .normal, .normal], inputs: [.band, .clear, .clear], state: .tripped, reset: .refused, causes: [(0, .notReleased)]),
        Row(codes: [.latched, .normal, .normal], inputs: [.clear, .clear, .clear], state: .waitingForReset, reset: .arms, causes: [(0, .latched), (nil, .restartPrevention)]),
        Row(codes: [.faulted(.stale), .normal, .normal], state: .tripped, reset: .refused, causes: [(0, .faulted(.stale))]),
        Row(codes: [.normal, .faulted(.communication), .normal], state: .armed, reset: .nothing, causes: [(1, .faulted(.communication))]),
        Row(codes: [.normal, .active, .normal], state: .armed, reset: .nothing, causes: [(1, .conditionPresent)]),
        Row(codes: [.starting, .starting, .starting], state: .starting, reset: .waitsForInputs, causes: [(nil, .waitingForFirstInput)]),
        Row(codes: [.latched, .starting, .latched], state: .waitingForReset, reset: .arms, causes: [(0, .latched), (2, .latched), (nil, .restartPrevention)]),
        Row(codes: [.latched, .normal, .starting], state: .starting, reset: .waitsForInputs, causes: [(0, .latched), (nil, .waitingForFirstInput)]),
        Row(codes: [.normal, .normal, .normal], faults: .deadlineBurst, state: .tripped, reset: .refused,
            causes: [(nil, .systemFault(.deadlineBurst, latched: false))]),
        Row(codes: [.normal, .normal, .normal], latched: true, state: .waitingForReset, reset: .arms,
            causes: [(nil, .systemFault([], latched: true)), (nil, .restartPrevention)]),
        Row(codes: [.latched, .normal, .normal], faults: .busErrorBurst, latched: true, state: .tripped, reset: .refused,
            causes: [(0, .latched), (nil, .systemFault(.busErrorBurst, latched: false))]),
    ]

    @Test(arguments: rows)
    func theSummaryOfEachCombination(row: Row) {
        let s = InterlockSummary(rules: Self.rules, codes: row.codes, inputs: row.inputs, systemFaults: row.faults, systemFaultLatched: row.latched)
        #expect(s.state == row.state, "\(row)")
        #expect(s.tripped == (row.state == .tripped), "\(row)")
        #expect(s.reset == row.reset, "\(row)")
        #expect(s.reasons.map(\.rule) == row.causes.map(\.0), "\(row): \(s.reasons)")
        #expect(s.reasons.map(\.cause) == row.causes.map(\.1), "\(row): \(s.reasons)")
    }

    /// The summary agrees with the interlock's own outputs: armed exactly when every permissive
    /// is on, over every state of every rule the interlock itself produces.
    @Test func armedMeansEveryPermissiveIsOnInTheInterlocksOwnEvaluations() {
        var interlock = Interlock(rules: Self.rules, outputs: [.permissive, .warning])
        var samples = [ChannelSample](repeating: .missing, count: 2)
        let script: [(Double, Double, Bool)] = [(1, 1, false), (1, 1, true), (5, 1, false), (4.2, 1, true), (3, 1, true), (1, 1, true),
                                                (1, 0, false), (1, 1, true), (3, 1, false), (1, 0, true), (1, 1, false), (1, 1, true)]
        var t: Int64 = 1_000_000_000
        for (velocity, estop, reset) in script {
            samples[0] = ChannelSample(value: velocity, quality: [], time: .init(nanoseconds: t))
            samples[1] = ChannelSample(value: estop, quality: [], time: .init(nanoseconds: t))
            samples.withUnsafeBufferPointer { interlock.evaluate(samples: $0, now: .init(nanoseconds: t), clockSynchronised: true, systemFaults: [], reset: reset ? ResetRequest(source: .socket) : nil) }
            let s = InterlockSummary(rules: Self.rules, codes: interlock.states.map(RuleStateCode.init), inputs: interlock.inputs, systemFaults: interlock.systemFaults,
                                     systemFaultLatched: interlock.systemFaultLatched)
            #expect((s.state == .armed) == interlock.outputs[0], "velocity \(velocity) estop \(estop) reset \(reset): \(s.state), permissive \(interlock.outputs[0])")
            if reset {
                // The outcome the loop publishes is the interlock's own: armed exactly when the
                // permissive is on after it, refused exactly when it reported a refused reset.
                let refusedEvent = interlock.events.contains { $0.kind == .resetRefused }
                #expect(interlock.resetOutcome == (interlock.outputs[0] ? .armed : (refusedEvent ? .refused : .notArmed)),
                        "velocity \(velocity) estop \(estop): \(interlock.states)")
                #expect((interlock.resetOutcome == .refused) == refusedEvent)
            } else {
                #expect(interlock.resetOutcome == nil)
            }
            t += 1_000_000
        }
    }
}
