import VigilBase
import VigilHAL

/// A digital input (e-stop feedback, door switch, machine running) whose level counts only after
/// it has held for its debounce time: contact bounce and short spikes never reach the interlock.
///
/// Each direction has its own debounce. For an input a rule acts on, the change towards the rule's
/// side counts at once (or after a short `debounce_trip_ms`) and only the return to healthy waits
/// the full debounce: a contact chattering faster than the debounce must read as open, not hold
/// "closed" because no level ever lasted long enough.
///
/// Until the first level has held for its debounce time there is no value (`.noValue`), so a
/// rule on the input holds its safe state through start-up.
public final class DebouncedInput<Input: DigitalInput> {
    public let input: Input
    /// How long a change to the active (1) level must hold before it counts.
    public let debounceTowardsActiveNanoseconds: Int64
    /// How long a change to the inactive (0) level must hold before it counts.
    public let debounceTowardsInactiveNanoseconds: Int64
    private var candidate: Bool?
    private var candidateSince = MonotonicInstant.zero
    private var stable: Bool?

    /// The same debounce both ways.
    public convenience init(input: Input, debounceNanoseconds: Int64) {
        self.init(input: input, towardsActive: debounceNanoseconds, towardsInactive: debounceNanoseconds)
    }

    public init(input: Input, towardsActive: Int64, towardsInactive: Int64) {
        self.input = input
        debounceTowardsActiveNanoseconds = towardsActive
        debounceTowardsInactiveNanoseconds = towardsInactive
    }

    /// Samples the line at `time` and returns the debounced level (1 or 0), or a fault.
    public func sample(at time: Timestamp) -> Reading {
        let level: Bool
        do { level = try input.read() } catch { return .failed(error, at: time) }
        let now = time.monotonic
        if level != candidate {
            candidate = level
            candidateSince = now
        }
        let needed = level ? debounceTowardsActiveNanoseconds : debounceTowardsInactiveNanoseconds
        if now.nanoseconds(since: candidateSince) >= needed { stable = level }
        guard let value = stable else {
            return Reading(value: .nan, quality: .noValue, time: time)
        }
        return Reading(value: value ? 1 : 0, quality: Reading.clockQuality(time), time: time)
    }
}
