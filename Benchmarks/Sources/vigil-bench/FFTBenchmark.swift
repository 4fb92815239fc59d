import CBenchAlloc
import CFFTW
import Glibc
import VigilBase
import VigilDSP

/// `BENCH fft`: vigil's Q15-in real FFT against FFTW's single-precision r2c, timed alternately in
/// one process, with SNR against a float64 DFT of the same quantized input.
enum FFTBenchmark {
    static func run() {
        for n in [256, 1024, 4096] { measure(n) }
    }

    /// Three tones (0.5, 0.1, 0.01 of full scale) plus white noise at −60 dBFS, quantized to Q15.
    static func testSignal(_ n: Int) -> [Q15] {
        var rng = SplitMix64(seed: UInt64(n))
        return (0..<n).map { i in
            let t = Double(i) / Double(n)
            let v = 0.5 * sin(2 * .pi * (Double(n) * 0.1234567) * t + 0.3)
                + 0.1 * sin(2 * .pi * (Double(n) * 0.0371) * t + 1.1)
                + 0.01 * sin(2 * .pi * (Double(n) * 0.3011) * t + 2.0)
                + 1e-3 * rng.nextGaussian()
            return Q15(saturating: v)
        }
    }

    /// SNR in dB of `bins` (X[k] = DFT/N, Q31 pairs) against a float64 DFT of `x` (fractions).
    static func snr(_ bins: [Q31], reference x: [Double]) -> Double {
        let n = x.count
        var cosTable = [Double](repeating: 0, count: n), sinTable = cosTable
        for i in 0..<n { cosTable[i] = cos(2 * .pi * Double(i) / Double(n)); sinTable[i] = sin(2 * .pi * Double(i) / Double(n)) }
        var signal = 0.0, noise = 0.0
        for k in 0...(n / 2) {
            var re = 0.0, im = 0.0
            for i in 0..<n {
                let idx = (k * i) % n
                re += x[i] * cosTable[idx]
                im -= x[i] * sinTable[idx]
            }
            re /= Double(n); im /= Double(n)
            let dr = bins[2 * k].doubleValue - re, di = bins[2 * k + 1].doubleValue - im
            signal += re * re + im * im
            noise += dr * dr + di * di
        }
        return 10 * log10(signal / noise)
    }

    static func measure(_ n: Int) {
        let fft = try! RealFFT(length: n)
        let x = testSignal(n)
        var spectrum = [Q31](repeating: .zero, count: n + 2)

        // Accuracy, rectangular window.
        x.withUnsafeBufferPointer { s in spectrum.withUnsafeMutableBufferPointer { o in try! fft.transform(s, into: o) } }
        let snrRect = snr(spectrum, reference: x.map(\.doubleValue))
        // Accuracy, Hann: the windowed samples are exact Q31 products, so the reference sees the same input.
        let window = try! WindowTable(kind: .hann, length: n)
        var windowed = [Q31](repeating: .zero, count: n)
        x.withUnsafeBufferPointer { s in windowed.withUnsafeMutableBufferPointer { w in try! window.apply(s, into: w) } }
        windowed.withUnsafeBufferPointer { s in spectrum.withUnsafeMutableBufferPointer { o in try! fft.transform(s, into: o) } }
        let snrHann = snr(spectrum, reference: windowed.map(\.doubleValue))

        // FFTW single precision r2c, planned with FFTW_MEASURE as a tuned deployment would.
        let fIn = fftwf_alloc_real(n)!, fOut = fftwf_alloc_complex(n / 2 + 1)!
        let plan = fftwf_plan_dft_r2c_1d(Int32(n), fIn, fOut, UInt32(FFTW_MEASURE))
        for i in 0..<n { fIn[i] = Float(x[i].doubleValue) }

        // Alternate the two in rounds; the median of per-round ratios resists a noisy neighbour.
        let reps = max(20_000 * 1024 / n / 8, 200)
        var ratios: [Double] = [], oursNs: [Double] = [], fftwNs: [Double] = []
        var allocs: UInt64 = 0
        x.withUnsafeBufferPointer { s in
            spectrum.withUnsafeMutableBufferPointer { o in
                for _ in 0..<3 { try! fft.transform(s, into: o); fftwf_execute(plan) } // warm up
                for _ in 0..<15 {
                    let a0 = bench_heap_calls()
                    let t0 = now()
                    for _ in 0..<reps { try! fft.transform(s, into: o) }
                    let t1 = now()
                    allocs += bench_heap_calls() - a0
                    for _ in 0..<reps { fftwf_execute(plan) }
                    let t2 = now()
                    let ours = Double(t1 - t0) / Double(reps), theirs = Double(t2 - t1) / Double(reps)
                    oursNs.append(ours); fftwNs.append(theirs); ratios.append(ours / theirs)
                }
            }
        }
        fftwf_destroy_plan(plan); fftwf_free(fIn); fftwf_free(fOut)
        print("BENCH fft n=\(n) input=q15 ns=\(fmt(median(oursNs), 0)) fftw_ns=\(fmt(median(fftwNs), 0)) ratio_fftw=\(fmt(median(ratios), 2)) snr_db=\(fmt(snrRect, 1)) snr_hann_db=\(fmt(snrHann, 1)) allocs=\(allocs)")
    }
}

func now() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

func median(_ v: [Double]) -> Double { let s = v.sorted(); return s[s.count / 2] }

func fmt(_ v: Double, _ decimals: Int) -> String {
    var buf = [CChar](repeating: 0, count: 64)
    _ = withVaList([v]) { vsnprintf(&buf, 64, "%.\(decimals)f", $0) }
    return String(cString: buf)
}
