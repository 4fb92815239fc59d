import VigilBase
import VigilHAL

/// A digital input (e-stop feedback, door switch, machine running) whose level counts only after
/// it has held for the debounce time: contact bounce and short spikes never reach the interlock.
///
/// Until the first level has held for the debounce time there is no value (`.noValue`), so a
/// rule on the input holds its safe state through start-up.
public final class DebouncedInput<Input: DigitalInput> {
    public let input: Input
    public let debounceNanoseconds: Int64
    private var candidate: Bool?
    private var candidateSince = MonotonicInstant.zero
    private var stable: Bool?

    public init(input: Input, debounceNanoseconds: Int64) {
        self.input = input
        self.debounceNanoseconds = debounceNanoseconds
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
        if now.nanoseconds(since: candidateSince) >= debounceNanoseconds { stable = level }
        guard let value = stable else {
            return Reading(value: .nan, quality: .noValue, time: time)
        }
        return Reading(value: value ? 1 : 0, quality: Reading.clockQuality(time), time: time)
    }
}
