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
    /// The part says samples were overwritten since the last drain: the block has a gap.
    public var overrun: Bool
    /// The FIFO was full when drained: samples may have been lost (whether they were depends on
    /// how long the drain was late; the part cannot tell).
    public var filled: Bool
    /// At least one sample sat at the converter's limit.
    public var clipped: Bool
    public init(count: Int, overrun: Bool, filled: Bool = false, clipped: Bool) {
        self.count = count
        self.overrun = overrun
        self.filled = filled
        self.clipped = clipped
    }
}

/// The result of a part's electromechanical self-test: the output change each axis showed (g),
/// against the datasheet's limits.
public struct SelfTestResult: Sendable, Equatable {
    public var changeG: [Double]
    public var limitsG: [ClosedRange<Double>]
    public var passed: Bool { changeG.count == limitsG.count && zip(changeG, limitsG).allSatisfy { $1.contains($0) } }
    public init(changeG: [Double], limitsG: [ClosedRange<Double>]) {
        self.changeG = changeG
        self.limitsG = limitsG
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
    /// The most samples one drain can find (the FIFO plus any held beyond it).
    public let maximumWaitingSamples: Int
    /// Catches a part that keeps answering the same sample, where its noise makes that impossible
    /// for a working part (see ``StuckSampleDetector/limit(noiseDensityGPerRootHz:sampleRateHz:countsPerG:)``).
    var stuck: StuckSampleDetector
    /// The configuration registers `start()` programs, with the value each must keep: a part
    /// that browned out and reset reads its power-on defaults here while it still answers.
    /// Filled by each part's initialiser (no allocation on the loop's fault path).
    var configuration: [ConfigurationRegister] = []
    private var verifyCursor = 0

    init(bus: Bus, address: UInt8, sampleRateHz: Double, rangeG: Int, countsPerG: Double, q15Shift: Int, maximumWaitingSamples: Int,
         noiseDensityGPerRootHz: Double) {
        self.bus = bus
        self.address = address
        self.sampleRateHz = sampleRateHz
        self.rangeG = rangeG
        self.countsPerG = countsPerG
        self.q15Shift = q15Shift
        self.maximumWaitingSamples = maximumWaitingSamples
        stuck = StuckSampleDetector(limit: StuckSampleDetector.limit(noiseDensityGPerRootHz: noiseDensityGPerRootHz, sampleRateHz: sampleRateHz,
                                                                     countsPerG: countsPerG))
    }

    /// Runs the part's electromechanical self-test and puts the part back as `start()` leaves it.
    /// `wait` lets the given nanoseconds pass (the CLI sleeps; tests move a manual clock).
    public func runSelfTest(wait: (Int64) -> Void) throws(HALError) -> SelfTestResult {
        throw HALError(.unsupported, operation: "accelerometer self-test")
    }

    /// The mean of `count` samples drained as they come (at the programmed rate), per axis, g.
    func meanG(samples count: Int, wait: (Int64) -> Void) throws(HALError) -> [Double] {
        var sums = [0.0, 0.0, 0.0]
        var taken = 0
        var buffer = [AccelerationSample](repeating: .zero, count: maximumWaitingSamples)
        var attempts = 0
        while taken < count {
            attempts += 1
            if attempts > 100 * count { throw HALError(.timeout, operation: "accelerometer self-test samples") }
            wait(Int64(4e9 / sampleRateHz))
            let drained = try buffer.withUnsafeMutableBufferPointer { (b) throws(HALError) in try drain(into: b) }
            for i in 0..<drained.count where taken < count {
                sums[0] += Double(buffer[i].x); sums[1] += Double(buffer[i].y); sums[2] += Double(buffer[i].z)
                taken += 1
            }
        }
        return sums.map { $0 / Double(count) / countsPerG }
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
/// buffer), where the part's own noise makes long runs of one sample impossible for a working part.
/// Where one count is coarse against that noise (a 10-bit FIFO at ±16 g: 48 mg per
/// step against about 4 mg of noise), a quiet machine reads one value for seconds: there the check
/// is off, and the self-test (`vigil selftest`) is what finds a dead converter.
struct StuckSampleDetector {
    let limit: Int

    /// 256 identical samples where the noise is at least half a count rms; no limit otherwise.
    static func limit(noiseDensityGPerRootHz: Double, sampleRateHz: Double, countsPerG: Double) -> Int {
        let noiseCounts = noiseDensityGPerRootHz * (sampleRateHz / 2).squareRoot() * countsPerG
        return noiseCounts >= 0.5 ? 256 : Int.max
    }

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
