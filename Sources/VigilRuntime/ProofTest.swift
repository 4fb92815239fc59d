import Glibc
import VigilBase
import VigilBoard
import VigilInterlock
import VigilLoop
import Synchronization
import VigilFrames

/// The proof test of one trip rule: a synthetic excursion on its channel (in place of the sensor,
/// before the interlock), the output change timed, then the real value restored and the
/// interlock reset. It runs on the caller's thread against a running loop, in real time.
public struct ProofTest<Board: NodeBoard> {
    /// What the test found.
    public enum Outcome: Sendable, Equatable {
        /// The output dropped `tripMilliseconds` after the excursion; `restored` tells whether the
        /// permissive came back (nil when it was off to begin with).
        case passed(tripMilliseconds: Double, excursion: Double, restored: Bool?)
        /// The output did not drop within `withinMilliseconds`.
        case failed(withinMilliseconds: Int64)
        /// Not run: the reason is for the technician (exit status 2 for a bad request, 5 refused).
        case notRun(status: Int32, reason: String)
    }

    public let cycle: NodeCycle<Board>
    public let loaded: LoadedProfile

    public init(cycle: NodeCycle<Board>, loaded: LoadedProfile) {
        self.cycle = cycle
        self.loaded = loaded
    }

    /// The rule's output, if the rule exists.
    public func output(of ruleName: String) -> OutputSpec? {
        let p = loaded.profile
        guard let rule = p.rules.first(where: { $0.name == ruleName }) else { return nil }
        return p.outputs.first { $0.name == (rule.output ?? "") } ?? p.outputs.first { $0.kind == .permissive }
    }

    /// Runs the test on `ruleName`; `confirmed` is the technician's acknowledgement that the
    /// machine will stop.
    public func run(rule ruleName: String, confirmed: Bool) -> Outcome {
        let p = loaded.profile
        guard let ruleIndex = p.rules.firstIndex(where: { $0.name == ruleName }) else {
            return .notRun(status: 2, reason: "no rule \(ruleName); rules: \(p.rules.map(\.name).joined(separator: ", "))")
        }
        let rule = p.rules[ruleIndex]
        guard rule.action == .trip else { return .notRun(status: 2, reason: "rule \(ruleName) warns; the proof test exercises trip rules") }
        guard confirmed else {
            return .notRun(status: 5, reason: "refused: the proof test trips \(rule.output ?? "the permissive") and stops the machine; run it with --confirm when a stop is acceptable")
        }
        if let shaft = loaded.channels.channels.first(where: { $0.quantity == .shaftSpeed }) {
            let s = cycle.latest.read(shaft.id - 1)
            if s.quality.isDisjoint(with: .unusable) && s.value >= 30 {
                return .notRun(status: 5, reason: "refused: the machine is turning (\(shaft.name) = \(Int(s.value)) rpm); stop it first, the proof test is for a machine at standstill")
            }
        }
        guard let channel = loaded.channels[rule.channel] else { return .notRun(status: 1, reason: "rule \(ruleName) has no channel") }
        guard let outputIndex = p.outputs.firstIndex(where: { $0.name == (rule.output ?? "") }) ?? p.outputs.firstIndex(where: { $0.kind == .permissive }) else {
            return .notRun(status: 1, reason: "rule \(ruleName) has no output")
        }
        let bit = UInt64(1) << UInt64(outputIndex)
        let wasOn = cycle.outputLevels.load(ordering: .acquiring) & bit != 0
        // Beyond the limit by 20 % of the limit's own size (or ten resolution steps).
        let limit = rule.unit.convert(rule.limit, to: channel.unit) ?? rule.limit
        let excursion = rule.comparison == .above ? limit + max(abs(limit) * 0.2, channel.resolution * 10) : limit - max(abs(limit) * 0.2, channel.resolution * 10)
        let t0 = SystemClock.monotonic()
        cycle.testValueBits.store(excursion.bitPattern, ordering: .releasing)
        cycle.testChannel.store(channel.id - 1, ordering: .releasing)
        var tripMs: Double?
        let limitNs: Int64 = 5_000_000_000 + Int64(max(0, p.realtime.periodMicroseconds)) * 1000 * 100
        while SystemClock.monotonic().nanoseconds(since: t0) < limitNs {
            if cycle.outputLevels.load(ordering: .acquiring) & bit == 0 && RuleStateCode(rawValue: cycle.ruleStates.read(ruleIndex)) == .active {
                tripMs = Double(SystemClock.monotonic().nanoseconds(since: t0)) / 1e6
                break
            }
            usleep(100)
        }
        cycle.testChannel.store(-1, ordering: .releasing)
        guard let trip = tripMs else { return .failed(withinMilliseconds: limitNs / 1_000_000) }
        // Restore: the sensor's next real value replaces the excursion (up to one update interval
        // plus a block), the rule's condition ends, and a local reset re-arms a healthy machine.
        var restored: Bool?
        if wasOn {
            restored = false
            let wait = Int64(channel.updateIntervalMilliseconds + channel.maxAgeMilliseconds + 1000) * 1_000_000
            let t1 = SystemClock.monotonic()
            while SystemClock.monotonic().nanoseconds(since: t1) < wait {
                if RuleStateCode(rawValue: cycle.ruleStates.read(ruleIndex)) == .latched { break }
                usleep(5000)
            }
            // A reset is refused while any condition holds the permissive off (the excursion's
            // value until the sensor's next update, a deadline burst on a loaded node): ask again
            // every 10 periods for up to 3 s.
            let t2 = SystemClock.monotonic()
            while SystemClock.monotonic().nanoseconds(since: t2) < 3_000_000_000 {
                cycle.requestReset()
                usleep(UInt32(max(1000, p.realtime.periodMicroseconds)) * 10)
                if cycle.outputLevels.load(ordering: .acquiring) & bit != 0 { restored = true; break }
            }
        }
        return .passed(tripMilliseconds: trip, excursion: excursion, restored: restored)
    }
}
