import VigilBase
import VigilDSP
import VigilDrivers
import VigilHAL
import VigilInterlock
import VigilParts

/// One accelerometer in the node cycle: its FIFO drained into per-axis rings every cycle; once
/// per analysis interval the newest contiguous block of each axis analysed in place and its
/// metric channels written. All buffers are allocated here, at set-up.
final class AccelerometerSlot<Bus: I2CBus> {
    let name: String
    let driver: AccelerometerDriver<Bus>
    let analyzer: VibrationAnalyzer
    /// 0 = x, 1 = y, 2 = z for each analysed axis.
    let axes: [Int]
    /// Per analysed axis, every metric with the catalog index of its channel, in catalog order.
    let metricChannels: [[(metric: VibrationMetric, channel: Int)]]
    /// The shaft-speed channel order bands are computed against (the profile's `rpm_channel`).
    let rpmChannel: Int?
    let blockLength: Int
    let intervalNanoseconds: Int64
    var fifo: [AccelerationSample]
    /// Three rings of Q15 samples, each `blockLength` long, written at `cursor`.
    var rings: [Q15]
    var cursor = 0
    /// Contiguous samples in the rings since the last gap (capped at `blockLength`).
    var contiguous = 0
    var block: [Q15]
    var metrics: [AxisMetrics]
    var nextAnalysis: MonotonicInstant = .zero
    var clipped = false
    var health = SensorHealth(limit: SensorHealth.i2cFailureLimit)
    /// Samples lost to FIFO overruns (blocks restart after one).
    var overruns = 0
    /// Blocks analysed since start.
    var blocksAnalysed = 0
    /// One per analysed axis, for status readers and spectrum frames.
    let spectra: [SpectrumSlot]

    /// - Parameter metricChannels: per analysed axis, the channel of every ``VibrationMetric``.
    init(name: String, driver: AccelerometerDriver<Bus>, config: VibrationAnalysisConfig, axes: [Int],
         metricChannels: [[(metric: VibrationMetric, channel: Int)]], rpmChannel: Int?, intervalNanoseconds: Int64) throws(DSPError) {
        self.name = name
        self.driver = driver
        analyzer = try VibrationAnalyzer(config)
        self.axes = axes
        self.metricChannels = metricChannels
        self.rpmChannel = rpmChannel
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
        func channel(_ axis: [(metric: VibrationMetric, channel: Int)], _ m: VibrationMetric) -> Int {
            axis.first { $0.metric == m }?.channel ?? 0
        }
        spectra = metricChannels.map { axis in
            SpectrumSlot(SpectrumSnapshot(channel: channel(axis, .bandEnergies), metricsChannel: channel(axis, .accelerationRMS),
                                          bandRMSG: [Double](repeating: 0, count: config.bands.count),
                                          orderBands: orders, bandStart: start, bandWidth: width,
                                          peaks: [SpectralPeak](repeating: SpectralPeak(frequencyHz: 0, amplitudeG: 0), count: config.peakCount)))
        }
    }

    func start() throws(HALError) { try driver.start() }

    /// The cycle's visit: drain, then analyse when a block is due; faults after repeated failures.
    func sample(at now: MonotonicInstant, clockQuality: Quality, into samples: UnsafeMutableBufferPointer<ChannelSample>, busErrors: inout Int) {
        if !drain() {
            busErrors += 1
            if health.consecutiveFailures >= health.limit { markFault(samples: samples, now: now) }
        }
        let shaftHz: Double? = rpmChannel.flatMap { c in
            samples[c].quality.isDisjoint(with: .unusable) && samples[c].value > 0 ? samples[c].value / 60 : nil
        }
        analyseIfDue(now: now, samples: samples, clockQuality: clockQuality, shaftHz: shaftHz)
    }

    /// Drains the FIFO; returns false on a bus error (counted, the block restarts).
    func drain() -> Bool {
        let result: FIFODrain
        do {
            result = try fifo.withUnsafeMutableBufferPointer { (b) throws(HALError) in try driver.drain(into: b) }
        } catch {
            _ = health.failed(error)
            contiguous = 0
            return false
        }
        health.succeeded()
        if result.overrun {
            // Samples were lost: a block across the gap would be a lie.
            overruns += 1
            contiguous = 0
        }
        if result.clipped { clipped = true }
        let n = blockLength
        for i in 0..<result.count {
            let s = fifo[i]
            rings[cursor] = driver.q15(s.x)
            rings[n + cursor] = driver.q15(s.y)
            rings[2 * n + cursor] = driver.q15(s.z)
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
            for (metric, channel) in metricChannels[k] {
                samples[channel] = ChannelSample(value: metric.value(in: metrics[k]), quality: q, time: now)
            }
            spectra[k].publish(metrics[k], time: now, quality: q)
        }
        clipped = false
        blocksAnalysed += 1
    }

    /// Marks every metric channel of this sensor faulty (the sensor stopped answering).
    func markFault(samples: UnsafeMutableBufferPointer<ChannelSample>, now: MonotonicInstant) {
        for axis in metricChannels {
            for (_, channel) in axis { samples[channel] = ChannelSample(value: .nan, quality: .commFault, time: now) }
        }
    }
}

extension VibrationMetric {
    /// This metric's value in one block's analysis, in its channel's unit.
    public func value(in m: AxisMetrics) -> Double {
        switch self {
        case .accelerationRMS: return m.accelerationRMSG
        case .accelerationPeak: return m.accelerationPeakG
        case .crestFactor: return m.crestFactor
        case .kurtosis: return m.kurtosis
        case .velocityRMS: return m.velocityRMS
        case .highFrequencyAccelerationRMS: return m.highFrequencyRMSG
        case .isoZone: return Double(m.zone.rawValue)
        case .bandEnergies:
            // Data frames carry the bands' total RMS; spectrum frames the bands themselves.
            var energy = 0.0
            for b in m.bandRMSG { energy += b * b }
            return energy.squareRoot()
        }
    }
}
