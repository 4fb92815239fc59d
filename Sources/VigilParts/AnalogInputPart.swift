import VigilBase
import VigilFrames

/// An I2C ADC that reads a 4–20 mA current loop as the voltage across a shunt resistor.
public protocol AnalogInputPart: I2CPart {
    /// The full-scale input ranges (± V) its gain amplifier offers, as the profile's `range_v`.
    static var fullScaleVolts: [Double] { get }
    /// The data rates it converts at, samples per second (`data_rate_sps`).
    static var dataRatesSPS: [Int] { get }
    /// The inputs it can convert: single-ended to ground and differential pairs (`input`).
    static var inputs: [String] { get }
    /// Bits of a conversion result (two's complement).
    static var resolutionBits: Int { get }
    /// Bytes one result read moves (the bus-time budget).
    static var readBytes: Int { get }
    /// The highest voltage a single-ended input may carry without harm at 3.3 V supply, V
    /// (the absolute maximum rating: VDD + 0.3 V).
    static var maximumInputVolts: Double { get }
}

extension AnalogInputPart {
    public static var kind: PartKind { .analogInput }
}

/// A 4–20 mA current loop as NAMUR NE 43 defines its signal levels: 3.8 to 20.5 mA carries a
/// measurement (4 mA = the range's low end, 20 mA its high end, a little beyond either side a
/// transmitter saturating); at most 3.6 mA or at least 21 mA is a failure signal (a broken loop,
/// a transmitter reporting its own fault). Between the two: not a measurement, not yet a failure.
public enum CurrentLoop {
    public static let zeroMilliamps = 4.0
    public static let spanMilliamps = 16.0
    /// NE 43's measuring range, mA.
    public static let measuringRange: ClosedRange<Double> = 3.8...20.5
    /// At or below this, a failure signal (or no current at all: the loop is open), mA.
    public static let failureBelowMilliamps = 3.6
    /// At or above this, a failure signal (or a short), mA.
    public static let failureAboveMilliamps = 21.0

    /// What a loop current means.
    public enum Signal: Equatable, Sendable {
        /// Inside the measuring range.
        case measurement
        /// Outside the measuring range but short of a failure signal.
        case outOfRange
        /// A failure signal: the value means nothing.
        case failure
    }

    public static func classify(milliamps: Double) -> Signal {
        if !milliamps.isFinite || milliamps <= failureBelowMilliamps || milliamps >= failureAboveMilliamps { return .failure }
        return measuringRange.contains(milliamps) ? .measurement : .outOfRange
    }

    /// The process value `milliamps` stands for, on a transmitter ranged `low` (4 mA) to `high` (20 mA).
    public static func value(milliamps: Double, low: Double, high: Double) -> Double {
        low + (milliamps - zeroMilliamps) / spanMilliamps * (high - low)
    }

    /// The loop-current channel every current-loop sensor has (`SENSOR.current`).
    public static let currentChannel = ChannelTemplate(suffix: "current", quantity: .loopCurrent, unit: .milliampere,
                                                       resolution: 0.001, deadband: 0.05, range: .fixed(0, 25))
    /// The suffix of the process-value channel (`SENSOR.value`), in the profile's unit.
    public static let valueSuffix = "value"
}
