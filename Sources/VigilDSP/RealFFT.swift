import VigilBase

/// A fixed-point real FFT of one power-of-two length N in 64…8192, set up once and reused.
///
/// **Algorithm.** The N real samples are packed as N/2 complex values z[n] = x[2n] + i·x[2n+1],
/// transformed by a decimation-in-time complex FFT of length M = N/2 (one radix-2 stage when
/// log₂M is odd, then radix-4 stages, each equal to two radix-2 stages), and split into the
/// N/2 + 1 bins of the real spectrum. The stages that need no general twiddle (the radix-2 stage
/// and the first radix-4 stage) run while the input is read in bit-reversed order, so the work
/// buffer is swept once less.
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
/// **Speed without changing a bit.** The outputs are exactly those of the plain algorithm above
/// (and of `Tests/VigilDSPTests/Golden/generate.py`, which computes it stage by stage): a complex
/// product x·W is formed from three integer products instead of four,
/// k = c·(xr + xi), Re = k − xi·(c − s), Im = k − xr·(c + s), which is the same integer in
/// wrapping 64-bit arithmetic; and for Q15 input the roundings of the twiddle-free stages are
/// exact (the low bits are zero), so those stages are plain sums of the raw samples.
///
/// **Determinism.** Integer arithmetic only in the transform; tables are built from
/// ``Trigonometry`` with IEEE double `+ − × ÷`, so outputs are bit-exact on every CPU.
///
/// **Memory and threads.** All tables are allocated by `init` and freed in `deinit`; `transform`
/// works in the caller's `spectrum` buffer and allocates nothing. The tables are read-only after
/// `init`, so one instance may transform on several threads at once, each with its own buffers.
public final class RealFFT: @unchecked Sendable {
    /// Real input length N.
    public let length: Int
    /// Number of output bins, N/2 + 1 (DC … Nyquist).
    public var binCount: Int { length / 2 + 1 }

    private let complexLength: Int            // M = N/2
    private let log2Complex: Int
    /// cos, sin of 2πj/M, j = 0 ..< 3M/4, interleaved, Q30: the twiddles every stage draws from.
    private let twiddles: UnsafeMutablePointer<Int32>
    /// The general radix-4 stages' twiddles in the order they are used: for each stage (quarter
    /// length q) and j = 1 ..< q, the factors of x₁, x₂, x₃ (W²ʲ, Wʲ, W³ʲ) as (c, c − s, c + s).
    private let stageTwiddles: UnsafeMutablePointer<Int32>
    private let stageTwiddleCount: Int
    /// cos, sin of 2πk/N, k = 0 … M/2, interleaved, Q30: the real-split twiddles.
    private let splitTwiddles: UnsafeMutablePointer<Int32>
    /// The split's factor −i·W_N^k = −s − i·c for three-product multiplication: (−s, −s − c, s − c).
    private let splitFactors: UnsafeMutablePointer<Int32>
    /// Bit-reversal of log₂M bits for every n < M.
    private let bitReversed: UnsafeMutablePointer<UInt16>
    /// cos π/4 = sin π/4 in Q30, as the twiddle table holds it (the load's radix-8 step uses it).
    private let cosQuarterPi: Int64

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

        let twiddleCount = 3 * m / 4
        twiddles = .allocate(capacity: 2 * twiddleCount)
        for j in 0..<twiddleCount {
            let (c, s) = Trigonometry.cosSin(turns: j, of: m)
            twiddles[2 * j] = Self.q30(c)
            twiddles[2 * j + 1] = Self.q30(s)
        }
        splitTwiddles = .allocate(capacity: 2 * (m / 2 + 1))
        splitFactors = .allocate(capacity: 3 * (m / 2 + 1))
        for k in 0...(m / 2) {
            let (c, s) = Trigonometry.cosSin(turns: k, of: length)
            let cq = Self.q30(c), sq = Self.q30(s)
            splitTwiddles[2 * k] = cq
            splitTwiddles[2 * k + 1] = sq
            splitFactors[3 * k] = 0 &- sq
            splitFactors[3 * k + 1] = 0 &- sq &- cq
            splitFactors[3 * k + 2] = sq &- cq
        }
        bitReversed = .allocate(capacity: m)
        let bits = log2Complex
        for n in 0..<m {
            var r = 0
            for b in 0..<bits where n & (1 << b) != 0 { r |= 1 << (bits - 1 - b) }
            bitReversed[n] = UInt16(r)
        }

        // The load runs the first stages (quarter 1, or radix-2 and quarter 2); M ≥ 32 leaves at
        // least one general stage, the last of quarter M/4.
        let firstQuarter = log2Complex & 1 == 1 ? 8 : 4
        var count = 0
        var q = firstQuarter
        while q < m { count += 9 * (q - 1); q *= 4 }
        stageTwiddleCount = count
        stageTwiddles = .allocate(capacity: count)
        var at = 0
        q = firstQuarter
        while q < m {
            let stride = m / (4 * q)
            for j in 1..<q {
                for t in [2 * j * stride, j * stride, 3 * j * stride] {
                    let c = twiddles[2 * t], s = twiddles[2 * t + 1]
                    // |c ± s| ≤ √2 · 2³⁰ < 2³¹: both fit Int32.
                    stageTwiddles[at] = c
                    stageTwiddles[at + 1] = c - s
                    stageTwiddles[at + 2] = c + s
                    at += 3
                }
            }
            q *= 4
        }
        // The load's radix-8 step (odd log₂M) takes W = e^(−iπ/4), W² = −i, W³ from the table
        // as (h, h), (0, 1), (−h, h); the table is built so, and this holds it to that.
        let eighth = m / 8
        cosQuarterPi = Int64(twiddles[2 * eighth])
        precondition(twiddles[2 * eighth + 1] == twiddles[2 * eighth]
            && twiddles[4 * eighth] == 0 && twiddles[4 * eighth + 1] == 1 << 30
            && twiddles[6 * eighth] == -twiddles[2 * eighth] && twiddles[6 * eighth + 1] == twiddles[2 * eighth],
            "the Q30 twiddles of π/4, π/2 and 3π/4 are not the exact values the load relies on")
    }

    deinit {
        twiddles.deallocate()
        stageTwiddles.deallocate()
        splitTwiddles.deallocate()
        splitFactors.deallocate()
        bitReversed.deallocate()
    }

    /// A value in [−1, 1] rounded to Q30 (ties away from zero).
    static func q30(_ v: Double) -> Int32 { Int32((v * 1073741824).rounded(.toNearestOrAwayFromZero)) }

    /// The twiddle tables as built (for the golden-vector tests): (cos, sin) pairs in Q30.
    public var twiddleTable: [Int32] { Array(UnsafeBufferPointer(start: twiddles, count: 2 * (3 * complexLength / 4))) }
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
        loadQ15(out, input)
        radix4Stages(out)
        split(out)
    }

    /// Transforms N Q31 samples into N/2 + 1 complex Q31 bins, X[k] = DFT(x)[k] / N, as
    /// ``transform(_:into:)-(UnsafeBufferPointer<Q15>,_)``. The inputs are halved with rounding on
    /// load, so their lowest bit is not kept.
    public func transform(_ samples: UnsafeBufferPointer<Q31>, into spectrum: UnsafeMutableBufferPointer<Q31>) throws(DSPError) {
        try check(samples.count, spectrum.count)
        let out = UnsafeMutableRawPointer(spectrum.baseAddress!).assumingMemoryBound(to: Int32.self)
        let input = UnsafeRawPointer(samples.baseAddress!).assumingMemoryBound(to: Int32.self)
        // z[n] = (x[2n] + i·x[2n+1]) / 2, rounded.
        load(out) { n in ((Int64(input[2 &* n]) &+ 1) &>> 1, (Int64(input[2 &* n &+ 1]) &+ 1) &>> 1) }
        radix4Stages(out)
        split(out)
    }

    private func check(_ samples: Int, _ spectrum: Int) throws(DSPError) {
        guard samples == length else { throw .bufferSize(name: "samples", expected: length, actual: samples) }
        guard spectrum == length + 2 else { throw .bufferSize(name: "spectrum", expected: length + 2, actual: spectrum) }
    }

    // MARK: - Butterflies

    /// The radix-4 combination every stage ends with, before its rounding shift:
    /// y₀ = a+b+c+d, y₁ = a−b−i(c−d), y₂ = a+b−c−d, y₃ = a−b+i(c−d), as (re, im) × 4.
    /// Callers fold the rounding half into a. (Concrete, not generic: a debug build would ask the
    /// runtime for tuple metadata, an allocation, on first use.)
    @inline(__always)
    private static func combine(_ ar: Int64, _ ai: Int64, _ br: Int64, _ bi: Int64, _ cr: Int64, _ ci: Int64, _ dr: Int64, _ di: Int64)
        -> (Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64) {
        let apbR = ar &+ br, apbI = ai &+ bi, ambR = ar &- br, ambI = ai &- bi
        let cpdR = cr &+ dr, cpdI = ci &+ di, cmdR = cr &- dr, cmdI = ci &- di
        return (apbR &+ cpdR, apbI &+ cpdI, ambR &+ cmdI, ambI &- cmdR,
                apbR &- cpdR, apbI &- cpdI, ambR &- cmdI, ambI &+ cmdR)
    }

    /// The j = 1 outputs of the fused first stages from the radix-2 differences x₀…x₃, scaled by
    /// 2³⁰ with `rounding` added to x₀: x₀ + x₁·W² + x₂·W + x₃·W³ with W² = −i (x₁·W² = xi − i·xr),
    /// x₂·W = (xr + xi)h + i(xi − xr)h and x₃·W³ = (xi − xr)h − i(xr + xi)h, h = cos(π/4) in Q30.
    @inline(__always)
    private static func oddQuarter(_ x0r: Int64, _ x0i: Int64, _ x1r: Int64, _ x1i: Int64, _ x2r: Int64, _ x2i: Int64, _ x3r: Int64, _ x3i: Int64,
                                   h: Int64, rounding: Int64) -> (Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64) {
        combine((x0r &<< 30) &+ rounding, (x0i &<< 30) &+ rounding, x1i &<< 30, 0 &- (x1r &<< 30),
                (x2r &+ x2i) &* h, (x2i &- x2r) &* h, (x3i &- x3r) &* h, 0 &- (x3r &+ x3i) &* h)
    }

    /// x·W for W = c − i·s given as (c, c − s, c + s): three exact products.
    @inline(__always)
    private static func rotate(_ xr: Int64, _ xi: Int64, _ w: UnsafePointer<Int32>) -> (Int64, Int64) {
        let k = Int64(w[0]) &* (xr &+ xi)
        return (k &- xi &* Int64(w[1]), k &- xr &* Int64(w[2]))
    }

    /// Stores four complex outputs at positions i, i + d, i + 2d, i + 3d, each shifted right by `shift`.
    @inline(__always)
    private static func store(_ z: UnsafeMutablePointer<Int32>, _ i: Int, _ d: Int, _ shift: Int64,
                              _ y: (Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64)) {
        let p = z + 2 &* i, o = 2 &* d
        p[0] = Int32(truncatingIfNeeded: y.0 &>> shift); p[1] = Int32(truncatingIfNeeded: y.1 &>> shift)
        p[o] = Int32(truncatingIfNeeded: y.2 &>> shift); p[o &+ 1] = Int32(truncatingIfNeeded: y.3 &>> shift)
        p[2 &* o] = Int32(truncatingIfNeeded: y.4 &>> shift); p[2 &* o &+ 1] = Int32(truncatingIfNeeded: y.5 &>> shift)
        p[3 &* o] = Int32(truncatingIfNeeded: y.6 &>> shift); p[3 &* o &+ 1] = Int32(truncatingIfNeeded: y.7 &>> shift)
    }

    // MARK: - Stages

    /// The bit-reversed indices of positions i, i + s, i + 2s, i + 3s.
    @inline(__always)
    private func reversed(_ i: Int, stride s: Int) -> (Int, Int, Int, Int) {
        (Int(bitReversed[i]), Int(bitReversed[i &+ s]), Int(bitReversed[i &+ 2 &* s]), Int(bitReversed[i &+ 3 &* s]))
    }

    /// Reads z[n] (from `value`) in bit-reversed order and runs the twiddle-free first stages on
    /// the way. Even log₂M: the radix-4 stage of quarter 1 on each four consecutive positions.
    /// Odd log₂M: the radix-2 stage (positions 2i, 2i+1 get (a ± b)/2 with a = z[rev(2i)],
    /// b = z[rev(2i) + M/2]) and then the radix-4 stage of quarter 2, on each eight positions.
    @inline(__always)
    private func load(_ z: UnsafeMutablePointer<Int32>, _ value: (Int) -> (Int64, Int64)) {
        let m = complexLength, half = m / 2
        var i = 0
        if log2Complex & 1 == 1 {
            let h = cosQuarterPi
            while i < m {
                let (rA, rB, rC, rD) = reversed(i, stride: 2)
                let (aAr, aAi) = value(rA), (bAr, bAi) = value(rA &+ half)
                let (aBr, aBi) = value(rB), (bBr, bBi) = value(rB &+ half)
                let (aCr, aCi) = value(rC), (bCr, bCi) = value(rC &+ half)
                let (aDr, aDi) = value(rD), (bDr, bDi) = value(rD &+ half)
                // j = 0 of quarter 2: the radix-2 sums, twiddles 1.
                Self.store(z, i, 2, 2, Self.combine(
                    ((aAr &+ bAr &+ 1) &>> 1) &+ 2, ((aAi &+ bAi &+ 1) &>> 1) &+ 2,
                    (aBr &+ bBr &+ 1) &>> 1, (aBi &+ bBi &+ 1) &>> 1,
                    (aCr &+ bCr &+ 1) &>> 1, (aCi &+ bCi &+ 1) &>> 1,
                    (aDr &+ bDr &+ 1) &>> 1, (aDi &+ bDi &+ 1) &>> 1))
                // j = 1: the radix-2 differences; x₁·W² = xi − i·xr, x₂·W = (xr + xi)h + i(xi − xr)h,
                // x₃·W³ = (xi − xr)h − i(xr + xi)h.
                Self.store(z, i &+ 1, 2, 32, Self.oddQuarter(
                    (aAr &- bAr &+ 1) &>> 1, (aAi &- bAi &+ 1) &>> 1, (aBr &- bBr &+ 1) &>> 1, (aBi &- bBi &+ 1) &>> 1,
                    (aCr &- bCr &+ 1) &>> 1, (aCi &- bCi &+ 1) &>> 1, (aDr &- bDr &+ 1) &>> 1, (aDi &- bDi &+ 1) &>> 1,
                    h: h, rounding: 1 &<< 31))
                i &+= 8
            }
        } else {
            while i < m {
                let (ar, ai) = value(Int(bitReversed[i]))
                let (br, bi) = value(Int(bitReversed[i &+ 1]))
                let (cr, ci) = value(Int(bitReversed[i &+ 2]))
                let (dr, di) = value(Int(bitReversed[i &+ 3]))
                Self.store(z, i, 1, 2, Self.combine(ar &+ 2, ai &+ 2, br, bi, cr, ci, dr, di))
                i &+= 4
            }
        }
    }

    /// ``load(_:_:)`` for Q15 input, z = x·2¹⁵: the radix-2 halving and the quarter-1/quarter-2
    /// j = 0 quartering only drop zero bits, so those outputs are sums of raw samples shifted
    /// into place, and the one rounding left, (2¹⁴·Y + 2³¹) >> 32, equals (Y + 2¹⁷) >> 18.
    @inline(__always)
    private func loadQ15(_ z: UnsafeMutablePointer<Int32>, _ x: UnsafePointer<Int16>) {
        let m = complexLength, half = m / 2
        @inline(__always) func re(_ r: Int) -> Int64 { Int64(x[2 &* r]) }
        @inline(__always) func im(_ r: Int) -> Int64 { Int64(x[2 &* r &+ 1]) }
        var i = 0
        if log2Complex & 1 == 1 {
            let h = cosQuarterPi
            while i < m {
                let (rA, rB, rC, rD) = reversed(i, stride: 2)
                let aAr = re(rA), aAi = im(rA), bAr = re(rA &+ half), bAi = im(rA &+ half)
                let aBr = re(rB), aBi = im(rB), bBr = re(rB &+ half), bBi = im(rB &+ half)
                let aCr = re(rC), aCi = im(rC), bCr = re(rC &+ half), bCi = im(rC &+ half)
                let aDr = re(rD), aDi = im(rD), bDr = re(rD &+ half), bDi = im(rD &+ half)
                // Sums of eight samples, |·| ≤ 2¹⁸, scaled by 2¹⁵ · ½ · ¼.
                let y0 = Self.combine(aAr &+ bAr, aAi &+ bAi, aBr &+ bBr, aBi &+ bBi,
                                      aCr &+ bCr, aCi &+ bCi, aDr &+ bDr, aDi &+ bDi)
                Self.store(z, i, 2, 0, (y0.0 &<< 12, y0.1 &<< 12, y0.2 &<< 12, y0.3 &<< 12,
                                                 y0.4 &<< 12, y0.5 &<< 12, y0.6 &<< 12, y0.7 &<< 12))
                Self.store(z, i &+ 1, 2, 18, Self.oddQuarter(aAr &- bAr, aAi &- bAi, aBr &- bBr, aBi &- bBi, aCr &- bCr, aCi &- bCi, aDr &- bDr, aDi &- bDi,
                                                         h: h, rounding: 1 &<< 17))
                i &+= 8
            }
        } else {
            while i < m {
                let (rA, rB, rC, rD) = reversed(i, stride: 1)
                // Sums of four samples scaled by 2¹⁵ · ¼.
                let y = Self.combine(re(rA), im(rA), re(rB), im(rB), re(rC), im(rC), re(rD), im(rD))
                Self.store(z, i, 1, 0, (y.0 &<< 13, y.1 &<< 13, y.2 &<< 13, y.3 &<< 13,
                                                 y.4 &<< 13, y.5 &<< 13, y.6 &<< 13, y.7 &<< 13))
                i &+= 4
            }
        }
    }

    /// The general radix-4 stages after ``load(_:_:)``: quarter lengths 4 or 8, ×4 up to M/4.
    /// Natural order out, scaled by 1/M overall.
    @inline(__always)
    private func radix4Stages(_ z: UnsafeMutablePointer<Int32>) {
        let m = complexLength
        var q = log2Complex & 1 == 1 ? 8 : 4
        var tw = stageTwiddles
        while q < m {
            radix4Stage(z, quarter: q, twiddles: tw)
            tw += 9 &* (q &- 1)
            q &*= 4
        }
    }

    /// One radix-4 decimation-in-time stage: blocks of 4·`quarter` values, each combining four
    /// transforms of length `quarter`. With A = x₀, B = x₁·W²ʲ, C = x₂·Wʲ, D = x₃·W³ʲ
    /// (W = e^(−2πi/L), L = 4·quarter), the outputs are
    /// y₀ = A+B+C+D, y₁ = A−B−i(C−D), y₂ = A+B−C−D, y₃ = A−B+i(C−D), each divided by 4.
    /// (x₁ carries W²ʲ because bit-reversed input puts the second half-length transform there.)
    /// Blocks outside, j inside, so each butterfly reads its twiddles in table order.
    @inline(__always)
    private func radix4Stage(_ z: UnsafeMutablePointer<Int32>, quarter q: Int, twiddles: UnsafeMutablePointer<Int32>) {
        let end = z + 2 &* complexLength
        let o1 = 2 &* q, o2 = 4 &* q, o3 = 6 &* q
        var block = z
        while block < end {
            // j = 0: every twiddle is 1, so the products are shifts.
            do {
                let p = block
                Self.store(block, 0, q, 2, Self.combine(
                    Int64(p[0]) &+ 2, Int64(p[1]) &+ 2, Int64(p[o1]), Int64(p[o1 &+ 1]),
                    Int64(p[o2]), Int64(p[o2 &+ 1]), Int64(p[o3]), Int64(p[o3 &+ 1])))
            }
            var p = block + 2
            let stop = block + o1
            var w = twiddles
            while p < stop {
                // A in Q61 (Q31 · 2³⁰) with the rounding half; B, C, D are exact Q31 × Q30 products.
                let (br, bi) = Self.rotate(Int64(p[o1]), Int64(p[o1 &+ 1]), w)
                let (cr, ci) = Self.rotate(Int64(p[o2]), Int64(p[o2 &+ 1]), w + 3)
                let (dr, di) = Self.rotate(Int64(p[o3]), Int64(p[o3 &+ 1]), w + 6)
                Self.store(p, 0, q, 32, Self.combine(
                    (Int64(p[0]) &<< 30) &+ (1 &<< 31), (Int64(p[1]) &<< 30) &+ (1 &<< 31), br, bi, cr, ci, dr, di))
                p += 2
                w += 9
            }
            block += 8 &* q
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
        var f = splitFactors + 3
        while k <= m / 2 {
            let l = m &- k
            let zkr = Int64(z[2 &* k]), zki = Int64(z[2 &* k &+ 1])
            let zlr = Int64(z[2 &* l]), zli = Int64(z[2 &* l &+ 1])
            // A = Z[k] + conj Z[l] (in Q61, with the rounding half), B = Z[k] − conj Z[l].
            let ar = ((zkr &+ zlr) &<< 30) &+ half, ai = (zki &- zli) &<< 30
            let br = zkr &- zlr, bi = zki &+ zli
            // T = −i·W_N^k·B = B·(−s − i·c), three products.
            let t = Int64(f[0]) &* (br &+ bi)
            let tr = t &- bi &* Int64(f[1]), ti = (t &+ br &* Int64(f[2])) &+ half
            // X[k] = (A + T)/2; X[M − k] = (conj A − conj T)/2, since for l the same sums give
            // A' = conj A, B' = −conj B and W_N^l = −conj W_N^k. When k = l both are the same bin.
            z[2 &* k] = Int32(truncatingIfNeeded: (ar &+ tr) &>> 31)
            z[2 &* k &+ 1] = Int32(truncatingIfNeeded: (ti &+ ai) &>> 31)
            z[2 &* l] = Int32(truncatingIfNeeded: (ar &- tr) &>> 31)
            z[2 &* l &+ 1] = Int32(truncatingIfNeeded: (ti &- ai) &>> 31)
            f += 3
            k &+= 1
        }
    }
}
