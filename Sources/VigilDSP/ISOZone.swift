import VigilBase

/// ISO 10816-3 / 20816-3 evaluation zones of broadband velocity RMS.
public enum ISOZone: Int, Sendable, Comparable, CaseIterable {
    /// Newly commissioned machines.
    case a = 0
    /// Acceptable for unrestricted long-term operation.
    case b = 1
    /// Unsatisfactory for long-term continuous operation.
    case c = 2
    /// Severe enough to cause damage.
    case d = 3

    public static func < (l: ISOZone, r: ISOZone) -> Bool { l.rawValue < r.rawValue }
    public var letter: String { ["A", "B", "C", "D"][rawValue] }
}

/// The velocity RMS boundaries between zones, mm/s. A value exactly on a boundary belongs to the
/// upper zone (the standard's boundaries are the lowest values of the next zone).
public struct ISOZoneBoundaries: Sendable, Equatable {
    public var ab: Double
    public var bc: Double
    public var cd: Double

    /// - Throws: ``DSPError/invalidConfiguration(_:)`` unless 0 < ab < bc < cd.
    public init(ab: Double, bc: Double, cd: Double) throws(DSPError) {
        guard ab > 0, ab < bc, bc < cd else {
            throw .invalidConfiguration("ISO zone boundaries must rise: A/B \(ab) < B/C \(bc) < C/D \(cd) mm/s")
        }
        self.ab = ab; self.bc = bc; self.cd = cd
    }

    /// Machine group in ISO 10816-3: 1 = large (300 kW – 50 MW), 2 = medium (15 – 300 kW).
    public enum MachineGroup: Int, Sendable, CaseIterable, Codable { case large = 1, medium = 2 }
    public enum Foundation: String, Sendable, CaseIterable, Codable { case rigid, flexible }

    /// ISO 10816-3 Table A.1 / A.2 (ISO 20816-3:2022 keeps these values for these classes).
    public static func iso10816_3(group: MachineGroup, foundation: Foundation) -> ISOZoneBoundaries {
        switch (group, foundation) {
        case (.large, .rigid): return try! ISOZoneBoundaries(ab: 2.3, bc: 4.5, cd: 7.1)
        case (.large, .flexible): return try! ISOZoneBoundaries(ab: 3.5, bc: 7.1, cd: 11.0)
        case (.medium, .rigid): return try! ISOZoneBoundaries(ab: 1.4, bc: 2.8, cd: 4.5)
        case (.medium, .flexible): return try! ISOZoneBoundaries(ab: 2.3, bc: 4.5, cd: 7.1)
        }
    }

    /// The zone of a velocity RMS in mm/s. A NaN (which the analyzer never produces) reads as D.
    public func zone(velocityRMS v: Double) -> ISOZone {
        if !(v < cd) { return .d }
        if v >= bc { return .c }
        if v >= ab { return .b }
        return .a
    }
}
