import Glibc
import VigilBase
import VigilBoard
import VigilInterlock
import VigilLoop
import Synchronization
import VigilFrames

/// The proof test of one trip rule: a synthetic excursion on its channel (in place of the sensor,
/// before the interlock), the output's real level timed (read back from the chip, or its feedback
/// contact), then the sensor's value restored. The machine is not re-armed: the rule stays latched
/// until an ordinary local reset, so a condition that arose meanwhile (an e-stop opened during the
/// test) is seen by whoever resets. It runs on the caller's thread against a running loop.
public struct ProofTest<Board: NodeBoard> {
    /// What the test found.
    public enum Outcome: Sendable, Equatable {
        /// The output read back off `tripMilliseconds` after the excursion; `released` tells
        /// whether the rule's real input is back within its release level (the permissive then
        /// comes on after an ordinary reset); nil when the permissive was off to begin with.
        case passed(tripMilliseconds: Double, excursion: Double, released: Bool?)
        /// The output did not read back off within `withinMilliseconds` (`commandedOff`: the
        /// interlock did command it off, so the line or its driver failed).
        case failed(withinMilliseconds: Int64, commandedOff: Bool)
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
        var commandedOff = false
        let limitNs: Int64 = 5_000_000_000 + Int64(max(0, p.realtime.periodMicroseconds)) * 1000 * 100
        while SystemClock.monotonic().nanoseconds(since: t0) < limitNs {
            // Judged by what the line really does, not by what the loop commanded.
            if cycle.outputLevels.load(ordering: .acquiring) & bit == 0 && RuleStateCode(rawValue: cycle.ruleStates.read(ruleIndex)) == .active {
                commandedOff = true
                if (try? cycle.readBack(output: outputIndex)) == false {
                    tripMs = Double(SystemClock.monotonic().nanoseconds(since: t0)) / 1e6
                    break
                }
            }
            usleep(100)
        }
        cycle.testChannel.store(-1, ordering: .releasing)
        guard let trip = tripMs else { return .failed(withinMilliseconds: limitNs / 1_000_000, commandedOff: commandedOff) }
        // Restore: the sensor's next real value replaces the excursion (up to one update interval
        // plus a block) and the rule's condition ends; the latch stays until an ordinary reset.
        var released: Bool?
        if wasOn {
            released = false
            let wait = Int64(channel.updateIntervalMilliseconds + channel.maxAgeMilliseconds + 1000) * 1_000_000
            let t1 = SystemClock.monotonic()
            while SystemClock.monotonic().nanoseconds(since: t1) < wait {
                if RuleStateCode(rawValue: cycle.ruleStates.read(ruleIndex)) == .latched { released = true; break }
                usleep(5000)
            }
        }
        return .passed(tripMilliseconds: trip, excursion: excursion, released: released)
    }
}
