import VigilBase

/// What a `status_led` output shows (README, "Status light"): one blink code per state of the
/// node, worst first, so a technician without a laptop can tell armed from waiting for a reset
/// from tripped. Driven by the loop from the interlock's own state, so it keeps showing the
/// truth while the uplink is down; a dead or hung agent leaves it off (the supervisor and
/// `vigil safe-state` drive every output to its safe level, off).
public enum StatusLight: UInt8, Sendable, Equatable, CaseIterable {
    /// Every permissive is on: steady on.
    case armed
    /// A reset would arm the machine (only latched trips or restart prevention hold it): slow
    /// blink, 1 Hz, half on.
    case waitingForReset
    /// A trip condition is present now: fast blink, 4 Hz.
    case tripped
    /// An input of a rule is unusable (a sensor fault): double flash every 1.5 s.
    case sensorFault
    /// A system fault (deadlines, bus errors, watchdog, loop stall, output fault) is present or
    /// latched: triple flash every 2 s.
    case systemFault
    /// No rule has seen a healthy input yet: a short flash every 2 s.
    case starting

    /// The period, ms, and whether the LED is on at `phase` ms into it. No allocation: the loop
    /// calls this every cycle.
    public var period: Int64 {
        switch self {
        case .armed, .waitingForReset: return 1000
        case .tripped: return 250
        case .sensorFault: return 1500
        case .systemFault, .starting: return 2000
        }
    }

    public func isOn(atPhase p: Int64) -> Bool {
        switch self {
        case .armed: return true
        case .waitingForReset: return p < 500
        case .tripped: return p < 125
        case .sensorFault: return p < 150 || (p >= 300 && p < 450)
        case .systemFault: return p < 150 || (p >= 300 && p < 450) || (p >= 600 && p < 750)
        case .starting: return p < 50
        }
    }

    /// The LED's level at `now` (the phase is the monotonic clock's, so every status LED of a
    /// node blinks in step).
    public func level(at now: MonotonicInstant) -> Bool {
        isOn(atPhase: (now.nanoseconds / 1_000_000) % period)
    }

    /// The name `vigil status` shows.
    public var name: String {
        switch self {
        case .armed: return "armed"
        case .waitingForReset: return "waiting_for_reset"
        case .tripped: return "tripped"
        case .sensorFault: return "sensor_fault"
        case .systemFault: return "system_fault"
        case .starting: return "starting"
        }
    }
}

extension Interlock {
    /// The status light's state after the last evaluation, worst first: system fault, sensor
    /// fault, trip condition present, waiting for a reset, starting, armed.
    public var statusLight: StatusLight {
        if !systemFaults.isEmpty || systemFaultLatched { return .systemFault }
        var starting = false, present = false
        for i in 0..<rules.count {
            switch states[i] {
            case .faulted: return .sensorFault
            case .starting: starting = true
            case .active where rules[i].action == .trip: present = true
            default: break
            }
        }
        if present { return .tripped }
        if starting { return .starting }
        return isTripped ? .waitingForReset : .armed
    }

    /// Whether any fault holds: a sensor fault of a rule's input or a system fault (present or latched).
    public var anyFault: Bool {
        if !systemFaults.isEmpty || systemFaultLatched { return true }
        for i in 0..<rules.count { if case .faulted = states[i] { return true } }
        return false
    }
}
