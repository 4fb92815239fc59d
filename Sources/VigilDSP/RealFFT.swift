import VigilBase

/// A fixed-point real FFT of one power-of-two length N in 64…8192, set up once and reused.
///
/// **Algorithm.** The N real samples are packed as N/2 complex values z[n] = x[2n] + i·x[2n+1],
/// loaded in bit-reversed order, transformed by a decimation-in-time complex FFT of length M = N/2
/// (one radix-2 stage when log₂M is odd, then radix-4 stages, each equal to two radix-2 stages), and
/// split into the N/2 + 1 bins of the real spectrum.
///
/// **Precision and scaling.** Values are Q31 between stages; twiddles are Q30; every butterfly
/// forms its products exactly in 64 bits and rounds once (half up) when it scales its outputs by
/// 1/4 (radix-4) or 1/2 (radix-2). Inputs are halved on load and the split halves again, so the
/// output bins are
///
///     X[k] = DFT(x)[k] / N,   k = 0 … N/2,   in Q31,
///
/// where x is the input as a fraction of full scale. A sine of amplitude A (fraction of full
/// scale) on bin k therefore reads |X[k]| = A/2 with a rectangular window. No stage can overflow:
/// the fixed 1/4 per radix-4 stage keeps every complex magnitude below its input's.
///
/// **Determinism.** Integer arithmetic only in the transform; tables are built from
/// ``Trigonometry`` with IEEE double `+ − × ÷`, so outputs are bit-exact on every CPU.
///
/// **Memory and threads.** All tables and the complex work buffer are allocated by `init` and freed
/// in `deinit`; `transform` allocates nothing. One instance must not transform on two threads at
/// once (it owns one work buffer); use one instance per thread.
public final class RealFFT: @unchecked Sendable {
    /// Real input length N.
    public let length: Int
    /// Number of output bins, N/2 + 1 (DC … Nyquist).
    public var binCount: Int { length / 2 + 1 }

    private let complexLength: Int            // M = N/2
    private let log2Complex: Int
    /// cos, sin of 2πj/M, j = 0 ..< 3M/4, interleaved, Q30.
    private let twiddles: UnsafeMutablePointer<Int32>
    /// cos, sin of 2πk/N, k = 0 … M/2, interleaved, Q30: the real-split twiddles.
    private let splitTwiddles: UnsafeMutablePointer<Int32>
    /// Bit-reversal of log₂M bits for every n < M.
    private let bitReversed: UnsafeMutablePointer<UInt16>

    /// The supported lengths.
    public static let supportedLengths: [Int] = [64, 128, 256, 512, 1024, 2048, 4096, 8192]

    /// Builds the tables for length `length`.
    /// - Throws: ``DSPError/unsupportedLength(_:)`` unless `length` is a power of two in 64…8192.
    public init(length: Int) throws(DSPError) {
        guard Self.supportedLengths.contains(length) else { throw .unsupportedLength(length) }
        self.length = length
        let m = length / 2
        complexLength = m
        log2Complex = m.trailingZeroBitCount

        let twiddleCount = max(3 * m / 4, 1)
        twiddles = .allocate(capacity: 2 * twiddleCount)
        for j in 0..<twiddleCount {
            let (c, s) = Trigonometry.cosSin(turns: j, of: m)
            twiddles[2 * j] = Self.q30(c)
            twiddles[2 * j + 1] = Self.q30(s)
        }
        splitTwiddles = .allocate(capacity: 2 * (m / 2 + 1))
        for k in 0...(m / 2) {
            let (c, s) = Trigonometry.cosSin(turns: k, of: length)
            splitTwiddles[2 * k] = Self.q30(c)
            splitTwiddles[2 * k + 1] = Self.q30(s)
        }
        bitReversed = .allocate(capacity: m)
        let bits = m.trailingZeroBitCount
        for n in 0..<m {
            var r = 0
            for b in 0..<bits where n & (1 << b) != 0 { r |= 1 << (bits - 1 - b) }
            bitReversed[n] = UInt16(r)
        }
    }

    deinit {
        twiddles.deallocate()
        splitTwiddles.deallocate()
        bitReversed.deallocate()
    }

    /// A value in [−1, 1] rounded to Q30 (ties away from zero).
    static func q30(_ v: Double) -> Int32 { Int32((v * 1073741824).rounded(.toNearestOrAwayFromZero)) }

    /// The twiddle tables as built (for the golden-vector tests): (cos, sin) pairs in Q30.
    public var twiddleTable: [Int32] { Array(UnsafeBufferPointer(start: twiddles, count: 2 * max(3 * complexLength / 4, 1))) }
    public var splitTwiddleTable: [Int32] { Array(UnsafeBufferPointer(start: splitTwiddles, count: 2 * (complexLength / 2 + 1))) }

    // MARK: - Transforms

    /// Transforms N Q15 samples into N/2 + 1 complex Q31 bins, `spectrum` holding (re, im) pairs:
    /// `spectrum[2k]`, `spectrum[2k + 1]` = X[k] = DFT(x)[k] / N.
    ///
    /// Real-time safe: no allocation, no locks, O(N log N) integer work.
    /// - Throws: ``DSPError/bufferSize(name:expected:actual:)`` when `samples` is not N long or
    ///   `spectrum` is not N + 2 long.
    public func transform(_ samples: UnsafeBufferPointer<Q15>, into spectrum: UnsafeMutableBufferPointer<Q31>) throws(DSPError) {
        try check(samples.count, spectrum.count)
        let out = UnsafeMutableRawPointer(spectrum.baseAddress!).assumingMemoryBound(to: Int32.self)
        let input = UnsafeRawPointer(samples.baseAddress!).assumingMemoryBound(to: Int16.self)
        // z[n] = (x[2n] + i·x[2n+1]) / 2, loaded at its bit-reversed place: Q15 << 15 is Q31 halved, exactly.
        loadBitReversed(out) { n in (Int64(input[2 &* n]) &<< 15, Int64(input[2 &* n &+ 1]) &<< 15) }
        complexTransform(out)
        split(out)
    }

    /// Transforms N Q31 samples into N/2 + 1 complex Q31 bins, X[k] = DFT(x)[k] / N, as
    /// ``transform(_:into:)-(UnsafeBufferPointer<Q15>,_)``. The inputs are halved with rounding on
    /// load, so their lowest bit is not kept.
    public func transform(_ samples: UnsafeBufferPointer<Q31>, into spectrum: UnsafeMutableBufferPointer<Q31>) throws(DSPError) {
        try check(samples.count, spectrum.count)
        let out = UnsafeMutableRawPointer(spectrum.baseAddress!).assumingMemoryBound(to: Int32.self)
        let input = UnsafeRawPointer(samples.baseAddress!).assumingMemoryBound(to: Int32.self)
        loadBitReversed(out) { n in ((Int64(input[2 &* n]) &+ 1) &>> 1, (Int64(input[2 &* n &+ 1]) &+ 1) &>> 1) }
        complexTransform(out)
        split(out)
    }

    private func check(_ samples: Int, _ spectrum: Int) throws(DSPError) {
        guard samples == length else { throw .bufferSize(name: "samples", expected: length, actual: samples) }
        guard spectrum == length + 2 else { throw .bufferSize(name: "spectrum", expected: length + 2, actual: spectrum) }
    }

    /// Writes z[n] (from `value`) to position bitReversed[n]. When log₂M is odd the first radix-2
    /// stage is done on the way: positions 2i and 2i+1 receive z[r] and z[r + M/2] (r = rev(2i)),
    /// and their butterfly (a ± b)/2 needs no twiddle.
    @inline(__always)
    private func loadBitReversed(_ out: UnsafeMutablePointer<Int32>, _ value: (Int) -> (Int64, Int64)) {
        let m = complexLength
        if log2Complex & 1 == 1 {
            var i = 0
            while i < m {
                let r = Int(bitReversed[i]) // rev(i + 1) = rev(i) + M/2 for even i
                let (ar, ai) = value(r), (br, bi) = value(r &+ m / 2)
                out[2 &* i] = Int32(truncatingIfNeeded: (ar &+ br &+ 1) &>> 1)
                out[2 &* i &+ 1] = Int32(truncatingIfNeeded: (ai &+ bi &+ 1) &>> 1)
                out[2 &* i &+ 2] = Int32(truncatingIfNeeded: (ar &- br &+ 1) &>> 1)
                out[2 &* i &+ 3] = Int32(truncatingIfNeeded: (ai &- bi &+ 1) &>> 1)
                i &+= 2
            }
        } else {
            for i in 0..<m {
                let (re, im) = value(Int(bitReversed[i]))
                out[2 &* i] = Int32(truncatingIfNeeded: re)
                out[2 &* i &+ 1] = Int32(truncatingIfNeeded: im)
            }
        }
    }

    /// In-place complex FFT of M values after ``loadBitReversed(_:_:)``, natural order out,
    /// scaled by 1/M.
    @inline(__always)
    private func complexTransform(_ z: UnsafeMutablePointer<Int32>) {
        let m = complexLength
        var span = log2Complex & 1 == 1 ? 2 : 1 // the radix-2 stage, if any, ran during the load
        while span < m {
            radix4Stage(z, quarter: span, twiddleStride: m / (4 * span))
            span *= 4
        }
    }

    /// One radix-4 decimation-in-time stage: blocks of 4·`quarter` values, each combining four
    /// transforms of length `quarter`. With A = x₀, B = x₁·W²ʲ, C = x₂·Wʲ, D = x₃·W³ʲ
    /// (W = e^(−2πi/L), L = 4·quarter), the outputs are
    /// y₀ = A+B+C+D, y₁ = A−B−i(C−D), y₂ = A+B−C−D, y₃ = A−B+i(C−D), each divided by 4.
    /// (x₁ carries W²ʲ because bit-reversed input puts the second half-length transform there.)
    @inline(__always)
    private func radix4Stage(_ z: UnsafeMutablePointer<Int32>, quarter q: Int, twiddleStride: Int) {
        let m = complexLength
        let step = 8 &* q           // Int32s from one block to the next (4·q complex values)
        let end = z + 2 &* m
        let tw = twiddles
        // j = 0: every twiddle is 1, so the products are shifts.
        var p0 = z
        while p0 < end {
            let p1 = p0 + 2 &* q, p2 = p1 + 2 &* q, p3 = p2 + 2 &* q
            let ar = Int64(p0[0]), ai = Int64(p0[1]), br = Int64(p1[0]), bi = Int64(p1[1])
            let cr = Int64(p2[0]), ci = Int64(p2[1]), dr = Int64(p3[0]), di = Int64(p3[1])
            let apbR = ar &+ br &+ 2, apbI = ai &+ bi &+ 2, ambR = ar &- br &+ 2, ambI = ai &- bi &+ 2
            let cpdR = cr &+ dr, cpdI = ci &+ di, cmdR = cr &- dr, cmdI = ci &- di
            p0[0] = Int32(truncatingIfNeeded: (apbR &+ cpdR) &>> 2)
            p0[1] = Int32(truncatingIfNeeded: (apbI &+ cpdI) &>> 2)
            p1[0] = Int32(truncatingIfNeeded: (ambR &+ cmdI) &>> 2)
            p1[1] = Int32(truncatingIfNeeded: (ambI &- cmdR) &>> 2)
            p2[0] = Int32(truncatingIfNeeded: (apbR &- cpdR) &>> 2)
            p2[1] = Int32(truncatingIfNeeded: (apbI &- cpdI) &>> 2)
            p3[0] = Int32(truncatingIfNeeded: (ambR &- cmdI) &>> 2)
            p3[1] = Int32(truncatingIfNeeded: (ambI &+ cmdR) &>> 2)
            p0 += step
        }
        var j = 1
        while j < q {
            let t1 = 2 &* j &* twiddleStride, t2 = 2 &* t1, t3 = 3 &* t1
            let c1 = Int64(tw[t1]), s1 = Int64(tw[t1 &+ 1])
            let c2 = Int64(tw[t2]), s2 = Int64(tw[t2 &+ 1])
            let c3 = Int64(tw[t3]), s3 = Int64(tw[t3 &+ 1])
            p0 = z + 2 &* j
            while p0 < end {
                let p1 = p0 + 2 &* q, p2 = p1 + 2 &* q, p3 = p2 + 2 &* q
                // A in Q61 (Q31 · 2^30); B, C, D are exact Q31 × Q30 products.
                let ar = Int64(p0[0]) &<< 30, ai = Int64(p0[1]) &<< 30
                // x·W with W = c − i·s: (xr·c + xi·s) + i(xi·c − xr·s)
                let x1r = Int64(p1[0]), x1i = Int64(p1[1])
                let br = x1r &* c2 &+ x1i &* s2, bi = x1i &* c2 &- x1r &* s2
                let x2r = Int64(p2[0]), x2i = Int64(p2[1])
                let cr = x2r &* c1 &+ x2i &* s1, ci = x2i &* c1 &- x2r &* s1
                let x3r = Int64(p3[0]), x3i = Int64(p3[1])
                let dr = x3r &* c3 &+ x3i &* s3, di = x3i &* c3 &- x3r &* s3
                let half: Int64 = 1 &<< 31
                let apbR = ar &+ br &+ half, apbI = ai &+ bi &+ half
                let ambR = ar &- br &+ half, ambI = ai &- bi &+ half
                let cpdR = cr &+ dr, cpdI = ci &+ di, cmdR = cr &- dr, cmdI = ci &- di
                p0[0] = Int32(truncatingIfNeeded: (apbR &+ cpdR) &>> 32)
                p0[1] = Int32(truncatingIfNeeded: (apbI &+ cpdI) &>> 32)
                // y₁ = (A−B) − i(C−D)
                p1[0] = Int32(truncatingIfNeeded: (ambR &+ cmdI) &>> 32)
                p1[1] = Int32(truncatingIfNeeded: (ambI &- cmdR) &>> 32)
                p2[0] = Int32(truncatingIfNeeded: (apbR &- cpdR) &>> 32)
                p2[1] = Int32(truncatingIfNeeded: (apbI &- cpdI) &>> 32)
                // y₃ = (A−B) + i(C−D)
                p3[0] = Int32(truncatingIfNeeded: (ambR &- cmdI) &>> 32)
                p3[1] = Int32(truncatingIfNeeded: (ambI &+ cmdR) &>> 32)
                p0 += step
            }
            j &+= 1
        }
    }

    /// Turns the M-point complex transform Z (scaled 1/M, of inputs halved) into the real
    /// spectrum: X[k] = ½[(Z[k] + Z*[M−k]) − i·W_N^k·(Z[k] − Z*[M−k])], k = 0 … M, in place,
    /// pairing k with M − k. Products are exact in 64 bits; one rounding per output.
    @inline(__always)
    private func split(_ z: UnsafeMutablePointer<Int32>) {
        let m = complexLength
        let half: Int64 = 1 << 30
        // k = 0 and k = M: X[0] = Zr + Zi, X[M] = Zr − Zi (both real).
        let z0r = Int64(z[0]), z0i = Int64(z[1])
        z[0] = Int32(truncatingIfNeeded: z0r + z0i)
        z[1] = 0
        z[2 * m] = Int32(truncatingIfNeeded: z0r - z0i)
        z[2 * m + 1] = 0
        var k = 1
        while k <= m / 2 {
            let l = m &- k
            let zkr = Int64(z[2 &* k]), zki = Int64(z[2 &* k &+ 1])
            let zlr = Int64(z[2 &* l]), zli = Int64(z[2 &* l &+ 1])
            // Output k: A = Z[k] + conj Z[l], B = Z[k] − conj Z[l], W = W_N^k = c − i·s.
            let c = Int64(splitTwiddles[2 &* k]), s = Int64(splitTwiddles[2 &* k &+ 1])
            var ar = zkr &+ zlr, ai = zki &- zli, br = zkr &- zlr, bi = zki &+ zli
            // T = −i·W·B = (−s − i·c)(br + i·bi) = (−s·br + c·bi) + i(−s·bi − c·br)
            var tr = c &* bi &- s &* br, ti = 0 &- s &* bi &- c &* br
            let xkr = ((ar &<< 30) &+ tr &+ half) &>> 31, xki = ((ai &<< 30) &+ ti &+ half) &>> 31
            // Output l = M − k: A' = Z[l] + conj Z[k] = conj A, B' = Z[l] − conj Z[k] = −conj B,
            // W_N^l = −conj W_N^k = −c − i·s.
            ar = zlr &+ zkr; ai = zli &- zki; br = zlr &- zkr; bi = zli &+ zki
            // T' = −i·W'·B' = (−s + i·c)(br + i·bi) = (−s·br − c·bi) + i(−s·bi + c·br)
            tr = 0 &- s &* br &- c &* bi; ti = c &* br &- s &* bi
            let xlr = ((ar &<< 30) &+ tr &+ half) &>> 31, xli = ((ai &<< 30) &+ ti &+ half) &>> 31
            z[2 &* k] = Int32(truncatingIfNeeded: xkr)
            z[2 &* k &+ 1] = Int32(truncatingIfNeeded: xki)
            z[2 &* l] = Int32(truncatingIfNeeded: xlr)
            z[2 &* l &+ 1] = Int32(truncatingIfNeeded: xli)
            k &+= 1
        }
    }
}
