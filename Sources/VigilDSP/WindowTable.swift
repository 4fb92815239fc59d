import VigilBase

/// The analysis windows and their gains.
public enum WindowKind: String, Sendable, CaseIterable, Codable {
    /// Hann: good frequency resolution and leakage; the default for vibration spectra.
    case hann
    /// Flat-top (5-term, the SRS coefficients): amplitude within 0.01 dB wherever a tone falls.
    case flatTop = "flat-top"
    /// No window: exact for bin-centred tones and transients, leaks badly otherwise.
    case rectangular
}

/// A window of one length as Q15 coefficients, with the gains that make amplitudes and
/// energies come out right whatever window is used.
///
/// Coefficients are periodic (DFT-even): w[n] for n = 0 … N−1 over one full period, built from
/// ``Trigonometry`` so they are bit-identical on every CPU. The gains are computed from the
/// quantized Q15 coefficients actually applied, not from the ideal formula.
public final class WindowTable: @unchecked Sendable {
    public let kind: WindowKind
    public let length: Int
    private let coefficients: UnsafeMutablePointer<Int16>
    /// Coherent gain, mean(w): a tone of amplitude A shows a peak of A·CG/2 in X = DFT/N.
    public let coherentGain: Double
    /// Noise-power gain, mean(w²): Σ|X[k]|² over all N bins is mean-square(x)·NPG.
    public let noisePowerGain: Double

    /// Flat-top coefficients a₀ … a₄ (Stanford Research Systems' 5-term window).
    static let flatTopTerms: [Double] = [0.21557895, 0.41663158, 0.277263158, 0.083578947, 0.006947368]

    /// - Throws: ``DSPError/unsupportedLength(_:)`` unless `length` is one ``RealFFT`` supports.
    public init(kind: WindowKind, length: Int) throws(DSPError) {
        guard RealFFT.supportedLengths.contains(length) else { throw .unsupportedLength(length) }
        self.kind = kind
        self.length = length
        coefficients = .allocate(capacity: length)
        var sum: Int64 = 0, sumSquares: Int64 = 0
        for i in 0..<length {
            let value: Double
            switch kind {
            case .rectangular:
                value = 1
            case .hann:
                value = 0.5 - 0.5 * Trigonometry.cosSin(turns: i, of: length).cos
            case .flatTop:
                let a = Self.flatTopTerms
                var v = a[0]
                v = v - a[1] * Trigonometry.cosSin(turns: i, of: length).cos
                v = v + a[2] * Trigonometry.cosSin(turns: 2 * i, of: length).cos
                v = v - a[3] * Trigonometry.cosSin(turns: 3 * i, of: length).cos
                v = v + a[4] * Trigonometry.cosSin(turns: 4 * i, of: length).cos
                value = v
            }
            let q = Q15(saturating: value).rawValue
            coefficients[i] = q
            sum += Int64(q)
            sumSquares += Int64(q) * Int64(q)
        }
        coherentGain = Double(sum) / 32768 / Double(length)
        noisePowerGain = Double(sumSquares) / (32768.0 * 32768.0) / Double(length)
    }

    deinit { coefficients.deallocate() }

    /// The Q15 coefficients (for tests and golden vectors).
    public var table: [Q15] { (0..<length).map { Q15(rawValue: coefficients[$0]) } }

    /// Equivalent noise bandwidth in bins, NPG / CG².
    public var equivalentNoiseBandwidthBins: Double { noisePowerGain / (coherentGain * coherentGain) }

    /// `windowed[n] = samples[n] · w[n]`, exactly: a Q15 × Q15 product is Q30, stored as Q31 by a
    /// left shift, so no bit is lost before the FFT. Real-time safe.
    public func apply(_ samples: UnsafeBufferPointer<Q15>, into windowed: UnsafeMutableBufferPointer<Q31>) throws(DSPError) {
        guard samples.count == length else { throw .bufferSize(name: "samples", expected: length, actual: samples.count) }
        guard windowed.count == length else { throw .bufferSize(name: "windowed", expected: length, actual: windowed.count) }
        let x = UnsafeRawPointer(samples.baseAddress!).assumingMemoryBound(to: Int16.self)
        let y = UnsafeMutableRawPointer(windowed.baseAddress!).assumingMemoryBound(to: Int32.self)
        for i in 0..<length {
            // −32768 × −32768 would be 2³⁰ → 2³¹ after the shift: the only product that saturates.
            y[i] = Int32(truncatingIfNeeded: min(Int64(x[i]) * Int64(coefficients[i]) << 1, Int64(Int32.max)))
        }
    }

    /// How much a tone's peak bin under-reads when the tone lies `offset` bins (−0.5 … 0.5) from
    /// the bin centre: the window's normalized frequency response |W(δ)|/|W(0)|.
    public func scallopingFactor(offset d: Double) -> Double {
        if d == 0 { return 1 }
        let sinc = Trigonometry.sinPi(d) / (Double.pi * d)
        switch kind {
        case .rectangular: return abs(sinc)
        case .hann: return abs(sinc / (1 - d * d))
        case .flatTop: return 1 // flat within 0.01 dB over ±0.5 bin
        }
    }
}
