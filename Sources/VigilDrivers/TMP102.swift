import VigilBase
import VigilHAL

/// Driver for the TI TMP102 digital temperature sensor (datasheet SBOS397): 12-bit,
/// 0.0625 °C/LSB, −40…125 °C. The part has no ID register; `start()` checks the configuration
/// register's read-only converter-resolution bits (R1:R0 = 11), which catches most other parts
/// sitting at the address.
public final class TMP102<Bus: I2CBus> {
    public enum Register {
        public static var temperature: UInt8 { 0 }
        public static var configuration: UInt8 { 1 }
    }
    public let bus: Bus
    public let address: UInt8

    public init(bus: Bus, address: UInt8 = 0x48) {
        self.bus = bus
        self.address = address
    }

    /// Checks the part and selects 4 Hz conversions, normal (12-bit) mode, comparator mode.
    public func start() throws(HALError) {
        let current = try readWord(Register.configuration)
        guard current & 0x6000 == 0x6000 else {
            throw HALError(.badData, code: Int32(current), operation: "tmp102 identify")
        }
        // Byte 1: OS=0, R1:R0 (read-only), F1:F0=00, POL=0, TM=0, SD=0. Byte 2: CR=10 (4 Hz), AL, EM=0.
        var config: (UInt8, UInt8) = (0x60, 0xA0)
        try withUnsafeBytes(of: &config) { (b) throws(HALError) in
            try bus.writeBlock(address: address, register: Register.configuration, bytes: b)
        }
        let readBack = try readWord(Register.configuration)
        guard readBack & 0x00C0 == 0x0080 else { throw HALError(.badData, code: Int32(readBack), operation: "tmp102 configure readback") }
    }

    /// The last converted temperature, °C.
    public func readCelsius() throws(HALError) -> Double {
        let word = try readWord(Register.temperature)
        // Normal mode: bits 15:4 hold the value, bits 3:0 are zero (bit 0 is the extended-mode flag).
        guard word & 0x000F == 0 else { throw HALError(.badData, code: Int32(word), operation: "tmp102 temperature format") }
        let celsius = Double(Int16(bitPattern: word) >> 4) * 0.0625
        guard celsius >= -55, celsius <= 150 else { throw HALError(.badData, code: Int32(word), operation: "tmp102 temperature range") }
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
