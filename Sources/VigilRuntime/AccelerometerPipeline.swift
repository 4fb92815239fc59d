import VigilBase
import VigilDSP
import VigilDrivers
import VigilHAL
import VigilInterlock

/// One accelerometer's path through the loop: FIFO drains into per-axis rings every cycle; once
/// per analysis interval the newest contiguous block of each axis is analysed in place and the
/// metric channels are updated. All buffers are allocated here, at set-up.
final class AccelerometerPipeline<Bus: I2CBus> {
    /// Metric channels per axis, in catalog order.
    static var metricsPerAxis: Int { 8 }

    let name: String
    let driver: AccelerometerDriver<Bus>
    let analyzer: VibrationAnalyzer
    /// 0 = x, 1 = y, 2 = z for each analysed axis.
    let axes: [Int]
    /// Index of each analysed axis's first metric channel.
    let channelBases: [Int]
    let blockLength: Int
    let intervalNanoseconds: Int64
    private var fifo: [AccelerationSample]
    /// Three rings of Q15 samples, each `blockLength` long, written at `cursor`.
    private var rings: [Q15]
    private var cursor = 0
    /// Contiguous samples in the rings since the last gap (capped at `blockLength`).
    private var contiguous = 0
    private var block: [Q15]
    private var metrics: [AxisMetrics]
    private var nextAnalysis: MonotonicInstant = .zero
    private var clipped = false
    private(set) var consecutiveFailures = 0
    private(set) var lastError: HALError?
    /// Samples lost to FIFO overruns (blocks restart after one).
    private(set) var overruns = 0
    /// Blocks analysed since start.
    private(set) var blocksAnalysed = 0
    /// The band RMS values of the newest block, per analysed axis (for spectrum frames).
    var bandRMS: [[Double]] { metrics.map(\.bandRMSG) }
    var latestMetrics: [AxisMetrics] { metrics }
    /// One per analysed axis, for status readers and spectrum frames.
    let spectra: [SpectrumSlot]

    init(name: String, driver: AccelerometerDriver<Bus>, config: VibrationAnalysisConfig, axes: [Int], channelBases: [Int],
         intervalNanoseconds: Int64) throws(DSPError) {
        self.name = name
        self.driver = driver
        analyzer = try VibrationAnalyzer(config)
        self.axes = axes
        self.channelBases = channelBases
        blockLength = config.blockLength
        self.intervalNanoseconds = intervalNanoseconds
        fifo = Array(repeating: .zero, count: 32)
        rings = Array(repeating: Q15(rawValue: 0), count: 3 * config.blockLength)
        block = Array(repeating: Q15(rawValue: 0), count: config.blockLength)
        let analyzer = self.analyzer
        metrics = axes.map { _ in analyzer.makeMetrics() }
        let orders: Bool
        let start: Double, width: Double
        switch config.bands {
        case .fixed(let count, let from, let to):
            orders = false; start = from; width = (to - from) / Double(max(1, count))
        case .orders:
            orders = true; start = 0.5; width = 1
        }
        spectra = channelBases.map { base in
            SpectrumSlot(SpectrumSnapshot(channel: base + 7, metricsChannel: base, bandRMSG: [Double](repeating: 0, count: config.bands.count),
                                          orderBands: orders, bandStart: start, bandWidth: width,
                                          peaks: [SpectralPeak](repeating: SpectralPeak(frequencyHz: 0, amplitudeG: 0), count: config.peakCount)))
        }
    }

    func start() throws(HALError) { try driver.start() }

    /// Drains the FIFO; returns false on a bus error (counted, the block restarts).
    func drain() -> Bool {
        let result: FIFODrain
        do {
            result = try fifo.withUnsafeMutableBufferPointer { (b) throws(HALError) in try driver.drain(into: b) }
        } catch {
            consecutiveFailures += 1
            lastError = error
            contiguous = 0
            return false
        }
        consecutiveFailures = 0
        if result.overrun {
            // Samples were lost: a block across the gap would be a lie.
            overruns += 1
            contiguous = 0
        }
        if result.clipped { clipped = true }
        let n = blockLength
        for i in 0..<result.count {
            let s = fifo[i]
            rings[cursor] = Q15(rawValue: driver.q15(s.x))
            rings[n + cursor] = Q15(rawValue: driver.q15(s.y))
            rings[2 * n + cursor] = Q15(rawValue: driver.q15(s.z))
            cursor = cursor + 1 == n ? 0 : cursor + 1
        }
        contiguous = min(n, contiguous + result.count)
        return true
    }

    /// Analyses the newest block when one is due and complete; writes the metric channels.
    func analyseIfDue(now: MonotonicInstant, samples: UnsafeMutableBufferPointer<ChannelSample>, clockQuality: Quality, shaftHz: Double?) {
        guard now >= nextAnalysis, contiguous == blockLength else { return }
        nextAnalysis = now.advanced(byNanoseconds: intervalNanoseconds)
        let n = blockLength
        for (k, axis) in axes.enumerated() {
            // Oldest sample sits at `cursor` once the ring is full: copy in two runs.
            let base = axis * n
            for i in 0..<n {
                let j = cursor + i
                block[i] = rings[base + (j < n ? j : j - n)]
            }
            do {
                try block.withUnsafeBufferPointer { (b) throws(DSPError) in try analyzer.analyze(b, shaftHz: shaftHz, into: &metrics[k]) }
            } catch {
                continue
            }
            var q = metrics[k].quality.union(clockQuality)
            if clipped { q.insert(.clipped) }
            let m = metrics[k]
            let c = channelBases[k]
            var energy = 0.0
            for b in m.bandRMSG { energy += b * b }
            samples[c] = ChannelSample(value: m.accelerationRMSG, quality: q, time: now)
            samples[c + 1] = ChannelSample(value: m.accelerationPeakG, quality: q, time: now)
            samples[c + 2] = ChannelSample(value: m.crestFactor, quality: q, time: now)
            samples[c + 3] = ChannelSample(value: m.kurtosis, quality: q, time: now)
            samples[c + 4] = ChannelSample(value: m.velocityRMS, quality: q, time: now)
            samples[c + 5] = ChannelSample(value: m.highFrequencyRMSG, quality: q, time: now)
            samples[c + 6] = ChannelSample(value: Double(m.zone.rawValue), quality: q, time: now)
            samples[c + 7] = ChannelSample(value: energy.squareRoot(), quality: q, time: now)
            spectra[k].publish(m, time: now, quality: q)
        }
        clipped = false
        blocksAnalysed += 1
    }

    /// Marks every metric channel of this sensor faulty (the sensor stopped answering).
    func markFault(samples: UnsafeMutableBufferPointer<ChannelSample>, now: MonotonicInstant) {
        for c in channelBases {
            for i in 0..<Self.metricsPerAxis {
                samples[c + i] = ChannelSample(value: .nan, quality: .commFault, time: now)
            }
        }
    }
}
