import VigilFrames

/// A rule's state as one byte, for readers on other threads (the loop publishes one per rule):
/// 0…4 as below, 16 + reason for faulted. The debounce's progress is not part of it.
public enum RuleStateCode: RawRepresentable, Sendable, Equatable {
    case starting, normal, debouncing, active, latched
    case faulted(FaultReason)

    public init(_ state: RuleState) {
        switch state {
        case .starting: self = .starting
        case .normal: self = .normal
        case .debouncing: self = .debouncing
        case .active: self = .active
        case .latched: self = .latched
        case .faulted(let r): self = .faulted(r)
        }
    }

    public init?(rawValue: UInt8) {
        switch rawValue {
        case 0: self = .starting
        case 1: self = .normal
        case 2: self = .debouncing
        case 3: self = .active
        case 4: self = .latched
        default:
            guard rawValue >= 16, let r = FaultReason(rawValue: rawValue - 16) else { return nil }
            self = .faulted(r)
        }
    }

    public var rawValue: UInt8 {
        switch self {
        case .starting: return 0
        case .normal: return 1
        case .debouncing: return 2
        case .active: return 3
        case .latched: return 4
        case .faulted(let r): return 16 + r.rawValue
        }
    }

    /// `starting`, `normal`, …, `faulted:stale`.
    public var name: String {
        switch self {
        case .starting: return "starting"
        case .normal: return "normal"
        case .debouncing: return "debouncing"
        case .active: return "active"
        case .latched: return "latched"
        case .faulted(let r): return "faulted:\(r.name)"
        }
    }

    /// The action this state puts in force on `rule`: none while normal or debouncing, the rule's
    /// own when its condition holds or is latched, its fault action while faulted; while starting
    /// a trip rule trips (its permissive stays off until it has seen a healthy input).
    public func action(of rule: InterlockRule) -> InterlockAction? {
        switch self {
        case .normal, .debouncing: return nil
        case .active, .latched: return rule.action
        case .faulted: return rule.onFault
        case .starting: return rule.action == .trip ? .trip : rule.onFault
        }
    }
}
