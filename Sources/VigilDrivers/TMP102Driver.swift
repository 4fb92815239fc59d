import VigilBase
import VigilHAL
import VigilParts

/// Driver for the TI TMP102 (datasheet SBOS397; registers and fields in VigilParts/TMP102.swift):
/// 12-bit, 0.0625 °C/LSB. The part has no ID register; `start()` checks the configuration
/// register's read-only converter-resolution bits (R1:R0 = 11), which catches most other parts
/// sitting at the address.
public final class TMP102Driver<Bus: I2CBus>: ThermometerDriver<Bus> {
    typealias Part = TMP102

    public override init(bus: Bus, address: UInt8 = TMP102.addresses[0]) {
        super.init(bus: bus, address: address)
    }

    /// Checks the part and selects 4 Hz conversions, normal (12-bit) mode, comparator mode.
    public override func start() throws(HALError) {
        let current = try readWord(Part.Register.configuration)
        guard current & Part.resolutionBits == Part.resolutionBits else {
            throw HALError(.badData, code: Int32(current), operation: "tmp102 identify")
        }
        // Byte 1: OS=0, R1:R0 (read-only), F1:F0=00, POL=0, TM=0, SD=0. Byte 2: CR=10 (4 Hz), AL, EM=0.
        let word = Part.resolutionBits | Part.conversionRate4Hz << Part.conversionRateShift | 0x20
        var config: (UInt8, UInt8) = (UInt8(word >> 8), UInt8(word & 0xFF))
        try withUnsafeBytes(of: &config) { (b) throws(HALError) in
            try bus.writeBlock(address: address, register: Part.Register.configuration, bytes: b)
        }
        let readBack = try readWord(Part.Register.configuration)
        guard readBack & Part.conversionRateMask == Part.conversionRate4Hz << Part.conversionRateShift else {
            throw HALError(.badData, code: Int32(readBack), operation: "tmp102 configure readback")
        }
    }

    /// The last converted temperature, °C.
    public override func readCelsius() throws(HALError) -> Double {
        let word = try readWord(Part.Register.temperature)
        // Normal mode: bits 15:4 hold the value, bits 3:0 are zero (bit 0 is the extended-mode flag).
        guard word & 0x000F == 0 else { throw HALError(.badData, code: Int32(word), operation: "tmp102 temperature format") }
        let celsius = Double(Int16(bitPattern: word) >> 4) * Part.celsiusPerLSB
        guard Part.reportedRangeCelsius.contains(celsius) else { throw HALError(.badData, code: Int32(word), operation: "tmp102 temperature range") }
        return celsius
    }

    /// Reads a 16-bit register, MSB first (an SMBus read-word would swap the bytes).
    private func readWord(_ register: UInt8) throws(HALError) -> UInt16 {
        var bytes: (UInt8, UInt8) = (0, 0)
        try withUnsafeMutableBytes(of: &bytes) { (b) throws(HALError) in
            try bus.readBlock(address: address, register: register, into: b)
        }
        return UInt16(bytes.0) << 8 | UInt16(bytes.1)
    }
}

extension TMP102: ThermometerDriverPart {
    public static func makeDriver<Bus: I2CBus>(bus: Bus, address: UInt8) -> ThermometerDriver<Bus> {
        TMP102Driver(bus: bus, address: address)
    }
}
