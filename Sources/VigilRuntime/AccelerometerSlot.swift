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
    var retry = SensorRetry()
    /// Samples drained in the current rate window, and when the window began (nil: not yet).
    var windowSamples = 0
    var windowOverran = false
    /// When the FIFO was last drained (nil: not since start).
    var lastDrain: MonotonicInstant?
    var windowStart: MonotonicInstant?
    /// The rate window: long enough for a FIFO's worth of samples four times over, at least 100 ms.
    let rateWindowNanoseconds: Int64
    /// Fewer samples than this in a rate window: the part has stopped producing them (a supply dip
    /// put it back in standby; its FIFO drains empty without an error).
    let minimumWindowSamples: Int
    /// Samples drained since the last analysis: a block is analysed only when this many are new.
    var samplesSinceAnalysis = 0
    let minimumNewSamples: Int
    /// One configuration register is read back this often, round robin.
    var nextConfigurationCheck = MonotonicInstant.zero
    static var configurationCheckNanoseconds: Int64 { 250_000_000 }
    /// Rate windows that found the part starved, and configuration read-backs that found it lost.
    var starvations = 0
    var configurationLosses = 0
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
        let rate = config.sampleRateHz
        rateWindowNanoseconds = max(100_000_000, Int64(4 * 32 / rate * 1e9))
        // Half the samples the rate promises (a part's data rate is accurate to a few per cent).
        minimumWindowSamples = max(1, Int(rate * Double(rateWindowNanoseconds) / 1e9 / 2))
        minimumNewSamples = max(1, min(config.blockLength, Int(rate * Double(intervalNanoseconds) / 1e9 / 2)))
        fifo = Array(repeating: .zero, count: driver.maximumWaitingSamples)
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

    /// Starts the part at set-up; the error, if any (the cycle tries again).
    func start() -> HALError? { retry.attempt(at: nil) { () throws(HALError) in try driver.start() } }

    /// The cycle's visit: (re)start a part that is down when due, drain, check that samples come
    /// at the rate and the configuration holds, then analyse when a block is due.
    func sample(at now: MonotonicInstant, clockQuality: Quality, into samples: UnsafeMutableBufferPointer<ChannelSample>, busErrors: inout Int) {
        if !retry.isRunning {
            guard retry.isDue(at: now) else { return }
            guard retry.attempt(at: now, { () throws(HALError) in try driver.start() }) == nil else {
                markFault(samples: samples, now: now, quality: .commFault)
                return
            }
            health.succeeded()
            contiguous = 0
            samplesSinceAnalysis = 0
            windowStart = nil
            nextConfigurationCheck = now.advanced(byNanoseconds: Self.configurationCheckNanoseconds)
        }
        let drained = drain(at: now)
        if !drained {
            busErrors += 1
            if health.consecutiveFailures >= health.limit {
                markFault(samples: samples, now: now, quality: .commFault)
                retry.lost(health.lastError, at: now)
                return
            }
        }
        if checkRate(at: now) || checkConfiguration(at: now) {
            markFault(samples: samples, now: now, quality: .stale)
            return
        }
        let shaftHz: Double? = rpmChannel.flatMap { c in
            samples[c].quality.isDisjoint(with: .unusable) && samples[c].value > 0 ? samples[c].value / 60 : nil
        }
        analyseIfDue(now: now, samples: samples, clockQuality: clockQuality, shaftHz: shaftHz)
    }

    /// At the end of each rate window: whether the part produced too few samples in it (it is then
    /// restarted).
    func checkRate(at now: MonotonicInstant) -> Bool {
        guard let start = windowStart else {
            windowStart = now
            windowSamples = 0
            return false
        }
        guard now.nanoseconds(since: start) >= rateWindowNanoseconds else { return false }
        let starved = windowSamples < minimumWindowSamples && !windowOverran
        windowStart = now
        windowSamples = 0
        windowOverran = false
        if starved {
            starvations += 1
            retry.lost(HALError(.timeout, operation: "accelerometer samples"), at: now)
        }
        return starved
    }

    /// Reads back one configuration register when due: whether the part lost its configuration
    /// (it is then restarted). A failed read is left to the drain's failure count.
    func checkConfiguration(at now: MonotonicInstant) -> Bool {
        guard now >= nextConfigurationCheck else { return false }
        nextConfigurationCheck = now.advanced(byNanoseconds: Self.configurationCheckNanoseconds)
        guard let intact = try? driver.verifyNextConfigurationRegister(), !intact else { return false }
        configurationLosses += 1
        retry.lost(HALError(.badData, operation: "accelerometer configuration"), at: now)
        return true
    }

    /// Drains the FIFO at `now`; returns false on a bus error (counted, the block restarts).
    func drain(at now: MonotonicInstant) -> Bool {
        let result: FIFODrain
        do {
            result = try fifo.withUnsafeMutableBufferPointer { (b) throws(HALError) in try driver.drain(into: b) }
        } catch {
            _ = health.failed(error)
            contiguous = 0
            return false
        }
        health.succeeded()
        // A FIFO found full lost samples only if more arrived since the last drain than it holds.
        let sinceLast = lastDrain.map { Double(now.nanoseconds(since: $0)) * driver.sampleRateHz / 1e9 } ?? .infinity
        lastDrain = now
        if result.overrun || (result.filled && sinceLast > Double(driver.maximumWaitingSamples) + 1) {
            // Samples were lost: a block across the gap would be a lie.
            overruns += 1
            contiguous = 0
        }
        if result.clipped { clipped = true }
        windowSamples += result.count
        // A full FIFO means the part is producing (the loop was late).
        if result.overrun || result.filled { windowOverran = true }
        samplesSinceAnalysis += result.count
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
        // A block is analysed only when enough of it is new: the same samples analysed again
        // would be stamped fresh while the part has gone quiet.
        guard now >= nextAnalysis, contiguous == blockLength, samplesSinceAnalysis >= minimumNewSamples else { return }
        nextAnalysis = now.advanced(byNanoseconds: intervalNanoseconds)
        samplesSinceAnalysis = 0
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

    /// Marks every metric channel of this sensor faulty (it stopped answering: `.commFault`; it
    /// answers but produces no samples or lost its configuration: `.stale`).
    func markFault(samples: UnsafeMutableBufferPointer<ChannelSample>, now: MonotonicInstant, quality: Quality) {
        for axis in metricChannels {
            for (_, channel) in axis { samples[channel] = ChannelSample(value: .nan, quality: quality, time: now) }
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
