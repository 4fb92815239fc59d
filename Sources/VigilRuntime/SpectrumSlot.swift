import Synchronization
import VigilBase
import VigilDSP

/// The latest spectrum of one accelerometer axis, as status readers and the uplink see it.
public struct SpectrumSnapshot: Sendable {
    /// Catalog index of the axis's `bands` channel (the spectrum frame's channel).
    public var channel: Int
    /// Catalog index of the axis's first metric channel (`…accel_rms`).
    public var metricsChannel: Int
    public var time: MonotonicInstant = .zero
    public var quality: Quality = .noValue
    public var bandRMSG: [Double]
    /// Bands in shaft orders (start and width in orders) rather than Hz.
    public var orderBands: Bool
    public var bandStart: Double
    public var bandWidth: Double
    public var peaks: [SpectralPeak]
    public var peakCount = 0
    public var zone: Int = 0
    public var velocityRMS = 0.0
    /// Blocks published so far (0: none yet).
    public var blocks = 0
}

/// A slot the loop writes a block's spectrum into without waiting: if a reader holds the lock,
/// that block is skipped for readers (the metrics channels still carry it). Storage is sized at
/// set-up, so publishing copies numbers and never allocates.
public final class SpectrumSlot: @unchecked Sendable {
    private let state: Mutex<SpectrumSnapshot>

    init(_ initial: SpectrumSnapshot) { state = Mutex(initial) }

    func publish(_ m: AxisMetrics, time: MonotonicInstant, quality: Quality) {
        state.withLockIfAvailable { s in
            let n = min(s.bandRMSG.count, m.bandRMSG.count)
            for i in 0..<n { s.bandRMSG[i] = m.bandRMSG[i] }
            let p = min(s.peaks.count, m.peakCount)
            for i in 0..<p { s.peaks[i] = m.peaks[i] }
            s.peakCount = p
            s.time = time
            s.quality = quality
            s.zone = Int(m.zone.rawValue)
            s.velocityRMS = m.velocityRMS
            s.blocks += 1
        }
    }

    /// A private copy (the arrays are duplicated, so the loop's next write never has to copy).
    public func read() -> SpectrumSnapshot {
        state.withLock { s in
            var copy = s
            copy.bandRMSG = s.bandRMSG.map { $0 }
            copy.peaks = Array(s.peaks.prefix(s.peakCount)).map { $0 }
            return copy
        }
    }
}
