import CBenchAlloc
import VigilBase
import VigilDSP

/// `BENCH metrics`: the cost of one full analysis block (time-domain moments, window, FFT,
/// velocity, bands, peaks, zone) per axis, as a ratio to the bare FFT of the same length.
enum MetricsBenchmark {
    static func run() {
        for n in [1024, 4096] { measure(n) }
    }

    static func measure(_ n: Int) {
        let config = VibrationAnalysisConfig(blockLength: n, sampleRateHz: 3200, fullScaleG: 16, window: .hann,
                                             velocityBandHz: 10...1000, highFrequencyBandHz: 500...1250,
                                             bands: .fixed(count: 32, fromHz: 0, toHz: 1250), peakCount: 5)
        let analyzer = try! VibrationAnalyzer(config)
        var metrics = analyzer.makeMetrics()
        let x = FFTBenchmark.testSignal(n)
        var spectrum = [Q31](repeating: .zero, count: n + 2)
        let reps = max(2_000_000 / n, 100)
        var blockNs: [Double] = [], ratios: [Double] = []
        var allocs: UInt64 = 0
        x.withUnsafeBufferPointer { s in
            spectrum.withUnsafeMutableBufferPointer { o in
                try! analyzer.analyze(s, into: &metrics)
                for _ in 0..<11 {
                    let a0 = bench_heap_calls()
                    let t0 = now()
                    for _ in 0..<reps { try! analyzer.analyze(s, into: &metrics) }
                    let t1 = now()
                    allocs += bench_heap_calls() - a0
                    for _ in 0..<reps { try! analyzer.fft.transform(s, into: o) }
                    let t2 = now()
                    let block = Double(t1 - t0) / Double(reps), fft = Double(t2 - t1) / Double(reps)
                    blockNs.append(block); ratios.append(block / fft)
                }
            }
        }
        let perSecond = 3200.0 / Double(n) // blocks per second per axis at 3200 Hz, no overlap
        print("BENCH metrics n=\(n) window=hann block_us=\(fmt(median(blockNs) / 1000, 1)) ratio_fft=\(fmt(median(ratios), 2)) cpu_percent_3axis_3200hz=\(fmt(median(blockNs) * 3 * perSecond / 1e7, 3)) allocs=\(allocs)")
    }
}
