import VigilBase
import VigilFrames

/// A 3-axis accelerometer with a FIFO, as vigil runs it: drained every loop period, its samples
/// analysed in blocks per axis. Every accelerometer produces the same channels per axis
/// (``VibrationMetric``): the analysis, not the part, decides them.
public protocol AccelerometerPart: I2CPart {
    /// Output data rates the driver programs, Hz, lowest first.
    static var outputDataRatesHz: [Double] { get }
    /// The rate a profile gets when it names none.
    static var defaultSampleRateHz: Double { get }
    /// Full-scale ranges, ± g.
    static var rangesG: [Int] { get }
    static var defaultRangeG: Int { get }
    /// Samples the FIFO holds (one sample = X, Y and Z).
    static var fifoDepth: Int { get }
    /// The most entries one drain can find waiting: the FIFO plus any sample the part holds
    /// beyond it (one part holds a 33rd sample at its output).
    static var maximumWaitingSamples: Int { get }
    /// Bytes one sample read moves (one SMBus I2C-block read per FIFO entry).
    static var sampleReadBytes: Int { get }
    /// Bytes of each status read one drain makes before its samples (one read per entry).
    static var drainStatusReadBytes: [Int] { get }
    /// The slowest I2C clock the datasheet allows for `sampleRateHz`, or nil where it does not
    /// allow that rate on I2C at all.
    static func minimumI2CClockHz(sampleRateHz: Double) -> Int?
    /// The converter's noise density, g/√Hz (the datasheet's typical figure): with the step of
    /// one count it decides whether a quiet machine can read the same sample for long.
    static var noiseDensityGPerRootHz: Double { get }
    /// The electromechanical self-test: what the driver sets, and the output change the datasheet
    /// allows per axis (g, x/y/z), over the supply range the boards use (2.5–3.3 V).
    static var selfTestLimitsG: [ClosedRange<Double>] { get }
}

extension AccelerometerPart {
    public static var kind: PartKind { .accelerometer }

    /// Default: no datasheet limit beyond the bus-time budget.
    public static func minimumI2CClockHz(sampleRateHz: Double) -> Int? { 0 }

    /// Bit times one drain of `samples` samples holds the bus (see ``I2CBusTime``).
    public static func drainBits(samples: Double) -> Double {
        var bits = Double(I2CBusTime.blockReadBits(count: sampleReadBytes)) * samples
        for status in drainStatusReadBytes { bits += Double(I2CBusTime.blockReadBits(count: status)) }
        return bits
    }
}

/// What the analysis computes from each block of one accelerometer axis: one channel each, named
/// `SENSOR.AXIS.SUFFIX`, in this order (the order of the channel catalog and of frames).
public enum VibrationMetric: Int, Sendable, CaseIterable {
    case accelerationRMS
    case accelerationPeak
    case crestFactor
    case kurtosis
    case velocityRMS
    case highFrequencyAccelerationRMS
    case isoZone
    /// The band energies: a spectrum frame carries the bands, data frames their total RMS.
    case bandEnergies

    public var channel: ChannelTemplate {
        switch self {
        case .accelerationRMS:
            return ChannelTemplate(suffix: "accel_rms", quantity: .accelerationRMS, unit: .g, resolution: 0.001, deadband: 0.01, range: .zeroToFullScale)
        case .accelerationPeak:
            return ChannelTemplate(suffix: "accel_peak", quantity: .accelerationPeak, unit: .g, resolution: 0.001, deadband: 0.02, range: .zeroToFullScale)
        case .crestFactor:
            return ChannelTemplate(suffix: "crest_factor", quantity: .crestFactor, unit: .ratio, resolution: 0.01, deadband: 0.1, range: .fixed(0, 1000))
        case .kurtosis:
            return ChannelTemplate(suffix: "kurtosis", quantity: .kurtosis, unit: .ratio, resolution: 0.01, deadband: 0.1, range: .fixed(0, 100_000))
        case .velocityRMS:
            return ChannelTemplate(suffix: "velocity_rms", quantity: .velocityRMS, unit: .millimetersPerSecond, resolution: 0.01, deadband: 0.1, range: .fixed(0, 10_000))
        case .highFrequencyAccelerationRMS:
            return ChannelTemplate(suffix: "hf_accel_rms", quantity: .highFrequencyAccelerationRMS, unit: .g, resolution: 0.001, deadband: 0.01, range: .zeroToFullScale)
        case .isoZone:
            return ChannelTemplate(suffix: "iso_zone", quantity: .isoZone, unit: .state, resolution: 1, deadband: 0, range: .fixed(0, 3))
        case .bandEnergies:
            return ChannelTemplate(suffix: "bands", quantity: .bandEnergies, unit: .g, resolution: 0.0001, deadband: 0, range: .zeroToFullScale)
        }
    }
}

/// One accelerometer axis.
public enum AccelerometerAxis: String, Sendable, CaseIterable, Codable, Comparable {
    case x, y, z
    /// 0, 1, 2: the order samples come in.
    public var index: Int {
        switch self {
        case .x: return 0
        case .y: return 1
        case .z: return 2
        }
    }
    public static func < (a: AccelerometerAxis, b: AccelerometerAxis) -> Bool { a.index < b.index }
}
