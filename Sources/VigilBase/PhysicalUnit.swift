/// The physical dimension a unit measures. Values can only be compared or converted within one
/// dimension; a rule limit in `°C` on a channel in `mm/s` is a profile error, not a conversion.
public enum PhysicalDimension: String, Sendable, Codable, CaseIterable {
    case acceleration
    case velocity
    case displacement
    case temperature
    case frequency
    case pressure
    case current
    case voltage
    case dimensionless
    case state
    case duration
}

/// A unit of measure that vigil knows how to convert.
///
/// Every channel carries one of these; board profiles spell them as in the `symbol` column
/// (`"mm/s"`, `"in/s"`, `"g"`, `"m/s2"`, `"degC"`, ...). Conversion is `base = value * scale + offset`
/// where the base unit is the first one listed for each dimension.
public enum PhysicalUnit: String, Sendable, Codable, CaseIterable {
    // acceleration (base: g, the unit accelerometers report)
    case g = "g"
    case metersPerSecondSquared = "m/s2"
    case milliG = "mg"
    // velocity (base: mm/s, the unit of ISO 10816/20816)
    case millimetersPerSecond = "mm/s"
    case inchesPerSecond = "in/s"
    case metersPerSecond = "m/s"
    // displacement (base: µm)
    case micrometers = "um"
    case mils = "mil"
    // temperature (base: °C)
    case degreesCelsius = "degC"
    case degreesFahrenheit = "degF"
    case kelvin = "K"
    // frequency (base: Hz)
    case hertz = "Hz"
    case revolutionsPerMinute = "rpm"
    case cyclesPerMinute = "cpm"
    // pressure (base: bar)
    case bar = "bar"
    case kilopascal = "kPa"
    case psi = "psi"
    // electrical
    case ampere = "A"
    case milliampere = "mA"
    case volt = "V"
    case millivolt = "mV"
    // dimensionless (base: ratio)
    case ratio = "ratio"
    case percent = "%"
    case decibel = "dB"
    // discrete states and counts
    case state = "state"
    case count = "count"
    // durations (base: µs)
    case microseconds = "us"
    case milliseconds = "ms"
    case seconds = "s"

    /// The dimension this unit measures.
    public var dimension: PhysicalDimension {
        switch self {
        case .g, .metersPerSecondSquared, .milliG: return .acceleration
        case .millimetersPerSecond, .inchesPerSecond, .metersPerSecond: return .velocity
        case .micrometers, .mils: return .displacement
        case .degreesCelsius, .degreesFahrenheit, .kelvin: return .temperature
        case .hertz, .revolutionsPerMinute, .cyclesPerMinute: return .frequency
        case .bar, .kilopascal, .psi: return .pressure
        case .ampere, .milliampere: return .current
        case .volt, .millivolt: return .voltage
        case .ratio, .percent, .decibel: return .dimensionless
        case .state, .count: return .state
        case .microseconds, .milliseconds, .seconds: return .duration
        }
    }

    /// Standard gravity in m/s², the conversion ISO 80000-3 fixes for `g`.
    public static let standardGravity = 9.80665

    /// `(scale, offset)` such that `valueInBase = value * scale + offset`.
    var toBase: (scale: Double, offset: Double) {
        switch self {
        case .g: return (1, 0)
        case .metersPerSecondSquared: return (1 / Self.standardGravity, 0)
        case .milliG: return (0.001, 0)
        case .millimetersPerSecond: return (1, 0)
        case .inchesPerSecond: return (25.4, 0)
        case .metersPerSecond: return (1000, 0)
        case .micrometers: return (1, 0)
        case .mils: return (25.4, 0)
        case .degreesCelsius: return (1, 0)
        case .degreesFahrenheit: return (5.0 / 9.0, -32.0 * 5.0 / 9.0)
        case .kelvin: return (1, -273.15)
        case .hertz: return (1, 0)
        case .revolutionsPerMinute, .cyclesPerMinute: return (1.0 / 60.0, 0)
        case .bar: return (1, 0)
        case .kilopascal: return (0.01, 0)
        case .psi: return (0.0689475729, 0)
        case .ampere: return (1, 0)
        case .milliampere: return (0.001, 0)
        case .volt: return (1, 0)
        case .millivolt: return (0.001, 0)
        case .ratio: return (1, 0)
        case .percent: return (0.01, 0)
        case .decibel: return (1, 0)
        case .state, .count: return (1, 0)
        case .microseconds: return (1, 0)
        case .milliseconds: return (1000, 0)
        case .seconds: return (1_000_000, 0)
        }
    }

    /// Whether `value` in this unit can be expressed in `other` (same dimension; decibels only
    /// convert to themselves because they are logarithmic).
    public func isConvertible(to other: PhysicalUnit) -> Bool {
        if self == other { return true }
        if self == .decibel || other == .decibel { return false }
        return dimension == other.dimension
    }

    /// Converts `value` from this unit to `other`. Returns `nil` when the dimensions differ.
    public func convert(_ value: Double, to other: PhysicalUnit) -> Double? {
        guard isConvertible(to: other) else { return nil }
        if self == other { return value }
        let from = toBase, to = other.toBase
        let base = value * from.scale + from.offset
        return (base - to.offset) / to.scale
    }

    /// The profile spellings accepted for each unit, beyond `rawValue` (ASCII first: profiles are
    /// typed on site keyboards).
    static let aliases: [String: PhysicalUnit] = [
        "m/s^2": .metersPerSecondSquared, "m/s²": .metersPerSecondSquared,
        "°C": .degreesCelsius, "C": .degreesCelsius, "°F": .degreesFahrenheit, "F": .degreesFahrenheit,
        "µm": .micrometers, "μm": .micrometers, "µs": .microseconds, "RPM": .revolutionsPerMinute,
        "hz": .hertz, "CPM": .cyclesPerMinute,
    ]

    /// Parses a unit as written in a profile (`"mm/s"`, `"degC"`, `"°C"`, ...).
    public init?(symbol: String) {
        if let unit = PhysicalUnit(rawValue: symbol) { self = unit; return }
        if let unit = Self.aliases[symbol] { self = unit; return }
        return nil
    }

    /// A short human spelling for tables and charts.
    public var display: String {
        switch self {
        case .degreesCelsius: return "°C"
        case .degreesFahrenheit: return "°F"
        case .metersPerSecondSquared: return "m/s²"
        case .micrometers: return "µm"
        case .microseconds: return "µs"
        default: return rawValue
        }
    }
}
