import VigilBase
import VigilParts

/// A register-level model of the TI TMP102 temperature sensor (datasheet SBOS397): a pointer
/// register selecting temperature, configuration, T_LOW and T_HIGH, each 16 bits sent MSB first.
/// The temperature register updates only at the conversion rate the configuration selects
/// (0.25, 1, 4 or 8 Hz), with the 12-bit, 0.0625 °C/LSB left-justified format.
public final class TMP102Model: I2CDeviceModel {
    typealias Register = TMP102.Register

    private var words: [UInt16] = [0, TMP102.resetConfiguration, 0x4B00, 0x5000]
    private var lastConversion: MonotonicInstant?
    private let scenario: MachineScenario
    private let origin: MonotonicInstant
    /// Added to the scenario's temperature (tests push it past limits).
    public var offsetC = 0.0

    public init(scenario: MachineScenario, origin: MonotonicInstant) {
        self.scenario = scenario
        self.origin = origin
    }

    /// Conversion period for the CR1:CR0 bits (configuration bits 7:6).
    public var conversionPeriodNanoseconds: Int64 {
        switch (words[1] >> 6) & 0x3 {
        case 0: return 4_000_000_000
        case 1: return 1_000_000_000
        case 2: return 250_000_000
        default: return 125_000_000
        }
    }

    public func read(register: UInt8, into buffer: UnsafeMutableRawBufferPointer, at now: MonotonicInstant) {
        convert(now)
        // The pointer selects a 16-bit register; further bytes repeat it (MSB, LSB, MSB, …).
        let word = words[Int(register & 0x3)]
        for i in 0..<buffer.count { buffer[i] = i % 2 == 0 ? UInt8(word >> 8) : UInt8(word & 0xFF) }
    }

    /// A write after the pointer carries the register's MSB then LSB; the part takes a 16-bit
    /// register only when both bytes arrive in one transfer (a lone byte sets the pointer and
    /// changes nothing).
    public func write(register: UInt8, bytes: UnsafeRawBufferPointer, at now: MonotonicInstant) {
        convert(now)
        let r = Int(register & 0x3)
        guard r != 0, bytes.count >= 2 else { return } // the temperature register is read-only
        words[r] = UInt16(bytes[0]) << 8 | UInt16(bytes[1])
    }

    private func convert(_ now: MonotonicInstant) {
        // Shutdown mode (SD, bit 8) stops conversions.
        if words[1] & 0x0100 != 0 { return }
        if let last = lastConversion, now.nanoseconds(since: last) < conversionPeriodNanoseconds { return }
        lastConversion = now
        let celsius = scenario.temperature(atSeconds: Double(now.nanoseconds(since: origin)) / 1e9) + offsetC
        let counts = Int16(min(max((celsius / 0.0625).rounded(), -2048), 2047))
        words[0] = UInt16(bitPattern: counts << 4)
    }
}

extension TMP102: SimulatedI2CPart {
    public static func makeModel(scenario: MachineScenario, origin: MonotonicInstant, seed: UInt64) -> any I2CDeviceModel {
        TMP102Model(scenario: scenario, origin: origin)
    }
}
