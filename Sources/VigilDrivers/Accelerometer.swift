import VigilBase
import VigilHAL

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

/// A 3-axis accelerometer with a FIFO, drained in bursts by the loop.
public protocol Accelerometer: AnyObject {
    /// Checks the part ID and programs rate, range and FIFO; the part is measuring afterwards.
    func start() throws(HALError)
    /// Puts the part in standby (low power, FIFO stops).
    func stop() throws(HALError)
    /// Reads every sample waiting in the FIFO (at most `buffer.count`), oldest first.
    func drain(into buffer: UnsafeMutableBufferPointer<AccelerationSample>) throws(HALError) -> FIFODrain
    /// The output data rate actually programmed, Hz.
    var sampleRateHz: Double { get }
    /// Counts per g of the right-justified samples.
    var countsPerG: Double { get }
    /// Left shift that turns a count into Q15 (so Q15 full scale is `fullScaleG`).
    var q15Shift: Int { get }
    /// The acceleration Q15's ±1.0 stands for, g.
    var fullScaleG: Double { get }
}

extension Accelerometer {
    public var fullScaleG: Double { 32768 / (countsPerG * Double(1 << q15Shift)) }

    /// A count as Q15 at `fullScaleG`.
    @inlinable
    public func q15(_ count: Int16) -> Q15 {
        Q15(rawValue: Int16(truncatingIfNeeded: Int32(count) << Int32(q15Shift)))
    }
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
