import VigilBase

/// What to compute from each block of one accelerometer axis.
public struct VibrationAnalysisConfig: Sendable, Equatable {
    /// FFT length, a power of two in 64…8192.
    public var blockLength: Int
    public var sampleRateHz: Double
    /// The acceleration a Q15 sample of 1.0 stands for, g (the sensor's ± range).
    public var fullScaleG: Double
    public var window: WindowKind
    /// ISO 10816/20816 velocity band, Hz.
    public var velocityBandHz: ClosedRange<Double>
    /// High-frequency acceleration band (bearing defects), Hz.
    public var highFrequencyBandHz: ClosedRange<Double>
    public var bands: BandLayout
    /// How many spectral peaks to report (0…32).
    public var peakCount: Int
    public var zones: ISOZoneBoundaries

    /// Energy bands.
    public enum BandLayout: Sendable, Equatable {
        /// `count` equal bands from `fromHz` to `toHz`.
        case fixed(count: Int, fromHz: Double, toHz: Double)
        /// `count` bands of one shaft order each, centred on 1×, 2×, …: (i + 0.5)…(i + 1.5) × shaft Hz.
        case orders(count: Int)

        public var count: Int {
            switch self { case .fixed(let c, _, _), .orders(let c): return c }
        }
    }

    public init(blockLength: Int, sampleRateHz: Double, fullScaleG: Double, window: WindowKind = .hann,
                velocityBandHz: ClosedRange<Double> = 10...1000, highFrequencyBandHz: ClosedRange<Double> = 1000...5000,
                bands: BandLayout = .fixed(count: 32, fromHz: 0, toHz: 1000), peakCount: Int = 5,
                zones: ISOZoneBoundaries = .iso10816_3(group: .medium, foundation: .rigid)) {
        self.blockLength = blockLength
        self.sampleRateHz = sampleRateHz
        self.fullScaleG = fullScaleG
        self.window = window
        self.velocityBandHz = velocityBandHz
        self.highFrequencyBandHz = highFrequencyBandHz
        self.bands = bands
        self.peakCount = peakCount
        self.zones = zones
    }
}

/// A value with its unit and the quality of the block it came from.
public struct Measurement: Sendable, Equatable {
    public var value: Double
    public var unit: PhysicalUnit
    public var quality: Quality
    public init(_ value: Double, _ unit: PhysicalUnit, _ quality: Quality) {
        self.value = value; self.unit = unit; self.quality = quality
    }
}

/// One spectral peak: interpolated frequency and the amplitude of the sinusoid, g (0-to-peak).
public struct SpectralPeak: Sendable, Equatable {
    public var frequencyHz: Double
    public var amplitudeG: Double
    public init(frequencyHz: Double, amplitudeG: Double) { self.frequencyHz = frequencyHz; self.amplitudeG = amplitudeG }
}

/// The metrics of one block of one axis. Storage for bands and peaks is sized once, so
/// `VibrationAnalyzer.analyze` refills it without allocating.
public struct AxisMetrics: Sendable {
    /// Block quality: `.clipped` if any sample sat on a rail, `.underRange` if the signal is below
    /// 2 LSB RMS, `.noValue` on band energies when order bands have no shaft speed.
    public var quality: Quality = []
    /// Acceleration RMS about the block mean (gravity and offset removed), g.
    public var accelerationRMSG = 0.0
    /// Largest |sample − mean|, g.
    public var accelerationPeakG = 0.0
    /// Peak / RMS; 0 for a silent block.
    public var crestFactor = 0.0
    /// Fourth standardized moment (3 for Gaussian noise, 1.5 for a sine); 0 for a silent block.
    public var kurtosis = 0.0
    /// Velocity RMS in the configured ISO band, mm/s.
    public var velocityRMS = 0.0
    /// Acceleration RMS in the high-frequency band, g.
    public var highFrequencyRMSG = 0.0
    public var zone: ISOZone = .a
    /// Acceleration RMS per energy band, g.
    public var bandRMSG: [Double]
    public var bandQuality: Quality = []
    /// The strongest peaks, strongest first; `peakCount` of them are valid.
    public var peaks: [SpectralPeak]
    public var peakCount = 0

    public init(bandCount: Int, peakCapacity: Int) {
        bandRMSG = [Double](repeating: 0, count: bandCount)
        peaks = [SpectralPeak](repeating: SpectralPeak(frequencyHz: 0, amplitudeG: 0), count: peakCapacity)
    }

    public var accelerationRMS: Measurement { Measurement(accelerationRMSG, .g, quality) }
    public var accelerationPeak: Measurement { Measurement(accelerationPeakG, .g, quality) }
    public var accelerationRMSMetersPerSecondSquared: Measurement { Measurement(accelerationRMSG * PhysicalUnit.standardGravity, .metersPerSecondSquared, quality) }
    public var accelerationPeakMetersPerSecondSquared: Measurement { Measurement(accelerationPeakG * PhysicalUnit.standardGravity, .metersPerSecondSquared, quality) }
    public var crest: Measurement { Measurement(crestFactor, .ratio, quality) }
    public var kurtosisMeasurement: Measurement { Measurement(kurtosis, .ratio, quality) }
    public var velocity: Measurement { Measurement(velocityRMS, .millimetersPerSecond, quality) }
    public var highFrequencyRMS: Measurement { Measurement(highFrequencyRMSG, .g, quality) }
    public var isoZone: Measurement { Measurement(Double(zone.rawValue), .state, quality) }
}

/// Turns blocks of Q15 accelerometer samples (one axis) into ``AxisMetrics``.
///
/// Set-up allocates the FFT tables, the window, the work buffers and per-bin weights; `analyze`
/// allocates nothing and uses integer arithmetic up to the spectrum and IEEE double `+ − × ÷ √`
/// after it, in a fixed order, so results are bit-identical on every CPU. Not thread-safe: one
/// analyzer per thread (it owns its buffers).
public final class VibrationAnalyzer: @unchecked Sendable {
    public let config: VibrationAnalysisConfig
    public let fft: RealFFT
    public let window: WindowTable
    private let n: Int
    private let binHz: Double
    private let centered: UnsafeMutablePointer<Int16>
    private let windowed: UnsafeMutablePointer<Int32>
    private let spectrum: UnsafeMutablePointer<Int32>
    /// One-sided mean-square per bin, fraction of full scale squared, window-corrected.
    private let binPower: UnsafeMutablePointer<Double>
    /// Per-bin factor turning binPower into velocity² (mm/s)², 0 outside the band.
    private let velocityWeight: UnsafeMutablePointer<Double>
    private let peakBins: UnsafeMutablePointer<Int>

    /// Most peaks a profile may ask for.
    public static let maximumPeakCount = 32

    /// - Throws: ``DSPError`` when the length is unsupported or a band is empty, inverted or
    ///   above Nyquist.
    public init(_ config: VibrationAnalysisConfig) throws(DSPError) {
        self.config = config
        fft = try RealFFT(length: config.blockLength)
        window = try WindowTable(kind: config.window, length: config.blockLength)
        n = config.blockLength
        let nyquist = config.sampleRateHz / 2
        guard config.sampleRateHz > 0, config.fullScaleG > 0 else {
            throw .invalidConfiguration("sample rate and full scale must be positive")
        }
        for (name, band) in [("velocity", config.velocityBandHz), ("high-frequency", config.highFrequencyBandHz)] {
            guard band.lowerBound >= 0, band.upperBound <= nyquist, band.lowerBound < band.upperBound else {
                throw .invalidConfiguration("\(name) band \(band.lowerBound)–\(band.upperBound) Hz must lie within 0–\(nyquist) Hz (Nyquist)")
            }
        }
        guard config.velocityBandHz.lowerBound > 0 else {
            throw .invalidConfiguration("velocity band must start above 0 Hz (integration divides by frequency)")
        }
        if case .fixed(let count, let from, let to) = config.bands {
            guard count >= 1, from >= 0, to <= nyquist, from < to else {
                throw .invalidConfiguration("energy bands \(from)–\(to) Hz must lie within 0–\(nyquist) Hz")
            }
        }
        guard config.bands.count >= 1, config.bands.count <= 256 else {
            throw .invalidConfiguration("band count \(config.bands.count) must be 1…256")
        }
        guard (0...Self.maximumPeakCount).contains(config.peakCount) else {
            throw .invalidConfiguration("peak count \(config.peakCount) must be 0…\(Self.maximumPeakCount)")
        }
        binHz = config.sampleRateHz / Double(n)
        centered = .allocate(capacity: n)
        windowed = .allocate(capacity: n)
        spectrum = .allocate(capacity: n + 2)
        binPower = .allocate(capacity: n / 2 + 1)
        velocityWeight = .allocate(capacity: n / 2 + 1)
        peakBins = .allocate(capacity: Self.maximumPeakCount)
        // (g₀·FS / 2πf)² · 10⁶ turns a mean-square fraction of full scale at f into (mm/s)².
        let gravity = PhysicalUnit.standardGravity * config.fullScaleG
        for k in 0...(n / 2) {
            let f = Double(k) * binHz
            if config.velocityBandHz.contains(f) {
                let v = gravity / (2 * Double.pi * f) * 1000
                velocityWeight[k] = v * v
            } else {
                velocityWeight[k] = 0
            }
        }
    }

    deinit {
        centered.deallocate(); windowed.deallocate(); spectrum.deallocate()
        binPower.deallocate(); velocityWeight.deallocate(); peakBins.deallocate()
    }

    /// Storage sized for this analyzer's bands and peaks.
    public func makeMetrics() -> AxisMetrics {
        AxisMetrics(bandCount: config.bands.count, peakCapacity: config.peakCount)
    }

    /// Analyses the first `blockLength` samples of `samples`.
    ///
    /// - Parameters:
    ///   - shaftHz: shaft speed for order bands; nil or ≤ 0 marks the bands `.noValue`.
    ///   - metrics: storage from ``makeMetrics()``, overwritten.
    /// - Throws: ``DSPError/blockTooShort(expected:actual:)`` with fewer samples than a block.
    public func analyze(_ samples: UnsafeBufferPointer<Q15>, shaftHz: Double? = nil, into metrics: inout AxisMetrics) throws(DSPError) {
        guard samples.count >= n else { throw .blockTooShort(expected: n, actual: samples.count) }
        let x = UnsafeRawPointer(samples.baseAddress!).assumingMemoryBound(to: Int16.self)
        var quality: Quality = []

        // Time domain: exact integer mean, then moments about it.
        var sum: Int64 = 0
        var clipped = 0
        for i in 0..<n {
            let v = x[i]
            sum += Int64(v)
            if v == Int16.max || v == Int16.min { clipped += 1 }
        }
        if clipped > 0 { quality.insert(.clipped) }
        let mean = Double(sum) / Double(n)
        var m2 = 0.0, m4 = 0.0, peak = 0.0
        for i in 0..<n {
            let d = Double(x[i]) - mean
            let d2 = d * d
            m2 += d2
            m4 += d2 * d2
            let a = d < 0 ? -d : d
            if a > peak { peak = a }
        }
        m2 /= Double(n); m4 /= Double(n)
        let rms = m2.squareRoot()
        let scale = config.fullScaleG / 32768
        metrics.accelerationRMSG = rms * scale
        metrics.accelerationPeakG = peak * scale
        metrics.crestFactor = rms > 0 ? peak / rms : 0
        metrics.kurtosis = m2 > 0 ? m4 / (m2 * m2) : 0
        if rms < 2 { quality.insert(.underRange) }

        // Spectrum of the block with its mean removed (in integers, rounded half up).
        let meanRounded = Self.floorDivide(2 * sum + Int64(n), 2 * Int64(n)) // ⌊sum/n + ½⌋
        for i in 0..<n {
            centered[i] = Int16(clamping: Int64(x[i]) - meanRounded)
        }
        let cs = UnsafeRawPointer(centered).bindMemory(to: Q15.self, capacity: n)
        let ws = UnsafeMutableRawPointer(windowed).bindMemory(to: Q31.self, capacity: n)
        let sp = UnsafeMutableRawPointer(spectrum).bindMemory(to: Q31.self, capacity: n + 2)
        try window.apply(UnsafeBufferPointer(start: cs, count: n), into: UnsafeMutableBufferPointer(start: ws, count: n))
        try fft.transform(UnsafeBufferPointer(start: ws, count: n), into: UnsafeMutableBufferPointer(start: sp, count: n + 2))

        // One-sided power per bin, corrected by the window's noise-power gain.
        let norm = 1 / (4611686018427387904.0 * window.noisePowerGain) // 2⁶² · NPG
        for k in 0...(n / 2) {
            let re = Double(spectrum[2 * k]), im = Double(spectrum[2 * k + 1])
            let oneSided = (k == 0 || k == n / 2) ? 1.0 : 2.0
            binPower[k] = (re * re + im * im) * norm * oneSided
        }

        var velocitySquared = 0.0
        for k in 0...(n / 2) { velocitySquared += binPower[k] * velocityWeight[k] }
        metrics.velocityRMS = velocitySquared.squareRoot()
        metrics.highFrequencyRMSG = bandMeanSquare(config.highFrequencyBandHz.lowerBound, config.highFrequencyBandHz.upperBound, inclusive: true).squareRoot() * config.fullScaleG
        metrics.zone = config.zones.zone(velocityRMS: metrics.velocityRMS)

        // Energy bands.
        metrics.bandQuality = quality
        switch config.bands {
        case .fixed(let count, let from, let to):
            let width = (to - from) / Double(count)
            for b in 0..<count {
                let lo = from + Double(b) * width
                let hi = b == count - 1 ? to : lo + width
                metrics.bandRMSG[b] = bandMeanSquare(lo, hi, inclusive: b == count - 1).squareRoot() * config.fullScaleG
            }
        case .orders(let count):
            if let shaft = shaftHz, shaft > 0 {
                for b in 0..<count {
                    let lo = (Double(b) + 0.5) * shaft, hi = (Double(b) + 1.5) * shaft
                    metrics.bandRMSG[b] = bandMeanSquare(lo, hi, inclusive: false).squareRoot() * config.fullScaleG
                }
            } else {
                for b in 0..<count { metrics.bandRMSG[b] = 0 }
                metrics.bandQuality.insert(.noValue)
            }
        }

        findPeaks(into: &metrics)
        metrics.quality = quality
    }

    /// ⌊a / b⌋ for b > 0 (Swift's `/` truncates toward zero).
    static func floorDivide(_ a: Int64, _ b: Int64) -> Int64 { a / b - (a % b < 0 ? 1 : 0) }

    /// Mean square (fraction of full scale²) of the bins whose centre lies in lo ..< hi (or lo … hi).
    private func bandMeanSquare(_ lo: Double, _ hi: Double, inclusive: Bool) -> Double {
        var first = Int((lo / binHz).rounded(.up))
        var last = Int((hi / binHz).rounded(.down))
        if !inclusive && Double(last) * binHz >= hi { last -= 1 }
        first = max(first, 0); last = min(last, n / 2)
        var s = 0.0
        if first <= last { for k in first...last { s += binPower[k] } }
        return s
    }

    /// The `peakCount` largest local maxima, with frequency and amplitude interpolated for the window.
    private func findPeaks(into metrics: inout AxisMetrics) {
        let capacity = config.peakCount
        var found = 0
        guard capacity > 0 else { metrics.peakCount = 0; return }
        var k = 2 // bin 1 borders DC, where the removed mean leaves window leakage
        while k < n / 2 {
            let p = binPower[k]
            if p > binPower[k - 1] && p >= binPower[k + 1] && p > 0 {
                // Insert into the descending list of the best so far.
                if found < capacity || p > binPower[peakBins[found - 1]] {
                    var i = found < capacity ? found : capacity - 1
                    while i > 0 && binPower[peakBins[i - 1]] < p { peakBins[i] = peakBins[i - 1]; i -= 1 }
                    peakBins[i] = k
                    if found < capacity { found += 1 }
                }
            }
            k += 1
        }
        let cg = window.coherentGain
        for i in 0..<found {
            let k = peakBins[i]
            // Magnitudes |X| of the two-sided spectrum X = DFT/N.
            let a0 = (binPower[k - 1] / 2 * window.noisePowerGain).squareRoot()
            let a1 = (binPower[k] / 2 * window.noisePowerGain).squareRoot()
            let a2 = (binPower[k + 1] / 2 * window.noisePowerGain).squareRoot()
            var delta: Double
            switch config.window {
            case .hann:
                // For a Hann-windowed tone the neighbour ratio gives the offset exactly.
                delta = a2 > a0 ? (2 * a2 - a1) / (a1 + a2) : -(2 * a0 - a1) / (a1 + a0)
            case .rectangular:
                delta = a2 > a0 ? a2 / (a1 + a2) : -a0 / (a1 + a0)
            case .flatTop:
                let denominator = a0 - 2 * a1 + a2
                delta = denominator != 0 ? 0.5 * (a0 - a2) / denominator : 0
            }
            if delta > 0.5 { delta = 0.5 } else if delta < -0.5 { delta = -0.5 }
            let amplitude = 2 * a1 / cg / window.scallopingFactor(offset: delta)
            metrics.peaks[i] = SpectralPeak(frequencyHz: (Double(k) + delta) * binHz, amplitudeG: amplitude * config.fullScaleG)
        }
        metrics.peakCount = found
    }
}
