import VigilBase
import VigilHAL
import VigilParts

/// The register file of one device on a simulated I2C bus. The bus hands it every transfer with the
/// current time; the model updates its state (FIFO fill, conversions) from that time, so drivers
/// see the device's timing.
public protocol I2CDeviceModel: AnyObject {
    /// Reads `buffer.count` bytes starting at `register`, as an SMBus I2C-block read would
    /// (the device's own auto-increment rules apply).
    func read(register: UInt8, into buffer: UnsafeMutableRawBufferPointer, at now: MonotonicInstant)
    /// Writes `bytes` starting at `register` in one transfer (one byte for SMBus write-byte).
    func write(register: UInt8, bytes: UnsafeRawBufferPointer, at now: MonotonicInstant)
}

/// A model of an ADC: what its analog inputs carry is set by whoever wires it (the simulated
/// board from the profile's loop and the machine scenario, or a test).
public protocol AnalogInputModel: I2CDeviceModel {
    /// The voltage on each input against ground at a time, V.
    var inputVolts: (MonotonicInstant) -> SIMD4<Double> { get set }
}

/// A part with a register-level model: its model file registers it here, so a simulated board
/// builds the model a profile names without naming the part.
public protocol SimulatedI2CPart: I2CPart {
    static func makeModel(scenario: MachineScenario, origin: MonotonicInstant, seed: UInt64) -> any I2CDeviceModel
}

/// A fault a simulated bus injects for one address.
public enum I2CFault: Sendable, Equatable {
    /// The device is gone: every transfer is not acknowledged.
    case unplugged
    /// Each transfer is not acknowledged with this probability (a marginal connector).
    case intermittentNACK(probability: Double)
    /// The device answers with random bytes (a damaged part, a wrong device at the address).
    case garbage
    /// The device answers the same bytes as the first read after the fault began (a hung ADC).
    case stuck
    /// The adapter times out on every transfer (clock stretched forever).
    case timeout
    /// Each transfer takes this much longer (clock stretching).
    case slow(nanoseconds: Int64)
}
