import VigilBase
import VigilHAL
import VigilParts

/// One FIFO entry of a 3-axis accelerometer: right-justified signed counts.
public struct AccelerationSample: Sendable, Equatable {
    public var x: Int16
    public var y: Int16
    public var z: Int16
    public init(x: Int16, y: Int16, z: Int16) { self.x = x; self.y = y; self.z = z }
    public static let zero = AccelerationSample(x: 0, y: 0, z: 0)
}

/// What one FIFO drain produced.
public struct FIFODrain: Sendable, Equatable {
    /// Samples written to the caller's buffer.
    public var count: Int
    /// The FIFO overflowed since the last drain: samples were lost (the block has a gap).
    public var overrun: Bool
    /// At least one sample sat at the converter's limit.
    public var clipped: Bool
    public init(count: Int, overrun: Bool, clipped: Bool) {
        self.count = count
        self.overrun = overrun
        self.clipped = clipped
    }
}

/// A 3-axis accelerometer with a FIFO, drained in bursts by the loop. Each part's driver is a
/// final subclass in a file of its own (`PARTDriver.swift`); the node cycle holds this class,
/// so a drain costs one virtual call, as a Zephyr driver's API table costs one indirect call.
/// The base methods are never reached (every part overrides them); they throw rather than trap.
public class AccelerometerDriver<Bus: I2CBus> {
    public let bus: Bus
    public let address: UInt8
    /// The output data rate programmed, Hz.
    public let sampleRateHz: Double
    /// The full-scale range programmed, ± g.
    public let rangeG: Int
    /// Counts per g of the right-justified samples.
    public let countsPerG: Double
    /// Left shift that turns a count into Q15 (so Q15 full scale is ``fullScaleG``).
    public let q15Shift: Int
    /// Catches a part that keeps answering the same sample.
    var stuck = StuckSampleDetector(limit: 256)
    /// The configuration registers `start()` programs, with the value each must keep: a part
    /// that browned out and reset reads its power-on defaults here while it still answers.
    /// Filled by each part's initialiser (no allocation on the loop's fault path).
    var configuration: [ConfigurationRegister] = []
    private var verifyCursor = 0

    init(bus: Bus, address: UInt8, sampleRateHz: Double, rangeG: Int, countsPerG: Double, q15Shift: Int) {
        self.bus = bus
        self.address = address
        self.sampleRateHz = sampleRateHz
        self.rangeG = rangeG
        self.countsPerG = countsPerG
        self.q15Shift = q15Shift
    }

    /// Checks the part ID and programs rate, range and FIFO; the part is measuring afterwards.
    public func start() throws(HALError) { throw HALError(.unsupported, operation: "accelerometer start") }
    /// Puts the part in standby (low power, FIFO stops).
    public func stop() throws(HALError) { throw HALError(.unsupported, operation: "accelerometer stop") }
    /// Reads every sample waiting in the FIFO (at most `buffer.count`), oldest first.
    public func drain(into buffer: UnsafeMutableBufferPointer<AccelerationSample>) throws(HALError) -> FIFODrain {
        throw HALError(.unsupported, operation: "accelerometer drain")
    }

    /// Reads the next configuration register (one per call, round robin, so the check costs one
    /// byte read when the loop can afford it) and tells whether it still holds what `start()`
    /// wrote. False: the part lost its configuration (a supply dip reset it) and needs `start()`.
    public func verifyNextConfigurationRegister() throws(HALError) -> Bool {
        guard !configuration.isEmpty else { return true }
        let r = configuration[verifyCursor]
        verifyCursor = verifyCursor + 1 == configuration.count ? 0 : verifyCursor + 1
        let value = try bus.readByte(address: address, register: r.register)
        return value & r.mask == r.value & r.mask
    }

    /// The acceleration Q15's ±1.0 stands for, g.
    public var fullScaleG: Double { 32768 / (countsPerG * Double(1 << q15Shift)) }

    /// A count as Q15 at ``fullScaleG``.
    @inlinable
    public func q15(_ count: Int16) -> Q15 {
        Q15(rawValue: Int16(truncatingIfNeeded: Int32(count) << Int32(q15Shift)))
    }
}

/// An accelerometer part with a driver: its driver file registers it here, so the runtime makes
/// the driver a profile names without naming the part.
public protocol AccelerometerDriverPart: AccelerometerPart {
    /// A driver for the part at `address` on `bus`, for a rate and range the part has.
    /// - Throws: `.invalidArgument` for a rate or range the part does not have.
    static func makeDriver<Bus: I2CBus>(bus: Bus, address: UInt8, sampleRateHz: Double, rangeG: Int) throws(HALError) -> AccelerometerDriver<Bus>
}

/// Catches a part that keeps answering the same sample (a hung converter, a bus returning a stale
/// buffer): real accelerometers always show a few counts of noise.
struct StuckSampleDetector {
    let limit: Int
    private var previous = AccelerationSample(x: .min, y: .min, z: .min)
    private var run = 0
    init(limit: Int) { self.limit = limit }

    /// Returns false once `limit` consecutive identical samples have been seen.
    mutating func accept(_ s: AccelerationSample) -> Bool {
        if s == previous { run += 1 } else { run = 0; previous = s }
        return run < limit
    }
    mutating func reset() { run = 0; previous = AccelerationSample(x: .min, y: .min, z: .min) }
}

/// One register a driver programs and later checks: the bits in `mask` must read `value`.
struct ConfigurationRegister: Sendable, Equatable {
    var register: UInt8
    var value: UInt8
    var mask: UInt8 = 0xFF
}
