import VigilBase
import VigilFrames

/// TI TMP102 digital temperature sensor (datasheet SBOS397): 12 bits, 0.0625 °C/LSB, conversions
/// at 0.25, 1, 4 or 8 Hz, no ID register. The facts its driver (VigilDrivers/TMP102Driver.swift)
/// and its register model (VigilSimulation/TMP102Model.swift) share.
public enum TMP102: ThermometerPart {
    public static let typeName = "tmp102"
    public static let title = "TI TMP102"

    /// The pointer register's values (section 7.5.1, Table 7): each selects a 16-bit register
    /// sent MSB first.
    public enum Register {
        public static let temperature: UInt8 = 0
        public static let configuration: UInt8 = 1
        public static let lowLimit: UInt8 = 2
        public static let highLimit: UInt8 = 3
    }

    /// The configuration register (section 7.5.3, Table 10), as a 16-bit word: byte 1 is OS (15),
    /// R1:R0 (14:13, read-only 11), F1:F0, POL, TM, SD (8); byte 2 is CR1:CR0 (7:6), AL (5), EM (4).
    public static let resolutionBits: UInt16 = 0x6000
    public static let shutdownBit: UInt16 = 0x0100
    public static let conversionRateShift: UInt16 = 6
    public static let conversionRateMask: UInt16 = 0x00C0
    public static let extendedModeBit: UInt16 = 0x0010
    /// Power-up value: 4 Hz conversions, comparator mode, 12 bits (Table 10).
    public static let resetConfiguration: UInt16 = 0x60A0
    /// CR1:CR0 = 10: 4 Hz.
    public static let conversionRate4Hz: UInt16 = 0b10
    /// Conversion period by CR1:CR0 (Table 8): 00 4 s, 01 1 s, 10 250 ms, 11 125 ms.
    public static let conversionPeriodsNanoseconds: [Int64] = [4_000_000_000, 1_000_000_000, 250_000_000, 125_000_000]
    /// One LSB of the 12-bit temperature, °C (section 7.5.2).
    public static let celsiusPerLSB = 0.0625
    /// The range the part reports, °C (the converter's limits).
    public static let reportedRangeCelsius: ClosedRange<Double> = -55...150

    /// ADD0 to GND, V+, SDA, SCL: 0x48–0x4B (Table 4).
    public static let addresses: [UInt8] = [0x48, 0x49, 0x4A, 0x4B]
    /// No ID register: the configuration's read-only resolution bits R1:R0 = 11 (the first byte
    /// of the register) are what a scan can check, and other parts share them.
    public static let identity = PartIdentity(register: Register.configuration, registerName: "configuration", mask: 0x60, value: 0x60, isUnique: false)

    /// 8 conversions a second at most (CR1:CR0 = 11).
    public static let minimumPollMilliseconds = 125
    public static let defaultPollMilliseconds = 250
    public static let readBytes = 2
    public static let channels = [
        ChannelTemplate(suffix: "temperature", quantity: .temperature, unit: .degreesCelsius, resolution: 0.01, deadband: 0.2, range: .fixed(-40, 125)),
    ]
}
