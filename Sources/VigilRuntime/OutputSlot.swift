import VigilBase
import VigilDrivers
import VigilHAL

/// One interlock output in the node cycle: its line, and the monitoring contact that reads what
/// the line really switched, if the profile gives one (`feedback`, as a safety relay's auxiliary
/// contact). The cycle drives it every period and checks the contact against the level it last
/// commanded.
final class OutputSlot<Chip: GPIOChip> {
    let name: String
    let line: Chip.Output
    let feedback: Chip.Input?
    /// How long the feedback may disagree with the commanded level (the relay's switching time).
    let feedbackNanoseconds: Int64
    private var commanded: Bool?
    private var disagreeingSince: MonotonicInstant?

    init(name: String, line: Chip.Output, feedback: Chip.Input?, feedbackNanoseconds: Int64) {
        self.name = name
        self.line = line
        self.feedback = feedback
        self.feedbackNanoseconds = feedbackNanoseconds
    }

    /// Writes `on`; false when the write failed (the line's level is then unknown).
    func drive(_ on: Bool, at now: MonotonicInstant) -> Bool {
        if commanded != on {
            commanded = on
            disagreeingSince = nil // a switching relay gets its full feedback time
        }
        do { try line.write(on) } catch { return false }
        return true
    }

    /// Whether the feedback has disagreed with the commanded level (or could not be read) for
    /// longer than its bound. Always false without a feedback contact.
    func feedbackDisagrees(at now: MonotonicInstant) -> Bool {
        guard let feedback, let commanded else { return false }
        let level: Bool?
        do { level = try feedback.read() } catch { level = nil }
        if level == commanded {
            disagreeingSince = nil
            return false
        }
        let since = disagreeingSince ?? now
        disagreeingSince = since
        return now.nanoseconds(since: since) > feedbackNanoseconds
    }

    /// What the output really does: the feedback contact if there is one, else the line read back.
    func readBack() throws(HALError) -> Bool {
        if let feedback { return try feedback.read() }
        return try line.readBack()
    }
}

/// Who may reset the interlock and the reset button, as the node cycle applies them (`[reset]`).
/// A button press counts on its release, and only if it lasted between the profile's bounds: a
/// bounce is no reset, and a button shorted or held down never resets.
final class ResetPolicy<Input: DigitalInput> {
    let button: DebouncedInput<Input>?
    let allowsButton: Bool
    let allowsSocket: Bool
    let minimumPressNanoseconds: Int64
    let maximumPressNanoseconds: Int64
    private var pressedSince: MonotonicInstant?

    init(button: DebouncedInput<Input>?, allowsButton: Bool, allowsSocket: Bool, minimumPressNanoseconds: Int64, maximumPressNanoseconds: Int64) {
        self.button = button
        self.allowsButton = allowsButton
        self.allowsSocket = allowsSocket
        self.minimumPressNanoseconds = minimumPressNanoseconds
        self.maximumPressNanoseconds = maximumPressNanoseconds
    }

    /// Samples the button; true in the cycle a valid press is released.
    func button(at stamp: Timestamp) -> Bool {
        guard let button else { return false }
        let r = button.sample(at: stamp)
        let usable = r.quality.isDisjoint(with: .unusable)
        if usable && r.value == 1 {
            if pressedSince == nil { pressedSince = stamp.monotonic }
            return false
        }
        guard let since = pressedSince else { return false }
        pressedSince = nil
        // A fault on the line while pressed cancels the press.
        guard usable, allowsButton else { return false }
        let held = stamp.monotonic.nanoseconds(since: since)
        return held >= minimumPressNanoseconds && held <= maximumPressNanoseconds
    }
}
