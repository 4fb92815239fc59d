#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport
import VigilBase
@testable import VigilDSP

@Suite struct VibrationAnalyzerTests {
    static let rate = 3200.0
    static let fullScale = 16.0

    /// A sine of `amplitudeG` at `hz`, plus an optional offset (gravity), quantized to Q15 at ±16 g.
    static func sine(_ hz: Double, amplitudeG: Double, n: Int = 4096, offsetG: Double = 0, phase: Double = 0.4) -> [Q15] {
        (0..<n).map { i in
            Q15(saturating: (offsetG + amplitudeG * sin(2 * .pi * hz * Double(i) / rate + phase)) / fullScale)
        }
    }

    static func analyze(_ x: [Q15], _ config: VibrationAnalysisConfig, shaftHz: Double? = nil) throws -> AxisMetrics {
        let analyzer = try VibrationAnalyzer(config)
        var m = analyzer.makeMetrics()
        try x.withUnsafeBufferPointer { s throws(DSPError) in try analyzer.analyze(s, shaftHz: shaftHz, into: &m) }
        return m
    }

    static func config(_ window: WindowKind = .hann, n: Int = 4096) -> VibrationAnalysisConfig {
        VibrationAnalysisConfig(blockLength: n, sampleRateHz: rate, fullScaleG: fullScale, window: window,
                                velocityBandHz: 10...1000, highFrequencyBandHz: 500...1250,
                                bands: .fixed(count: 32, fromHz: 0, toHz: 1280), peakCount: 5)
    }

    @Test(arguments: WindowKind.allCases)
    func velocityOfA50HzSineIsWithinOnePercentOfAnalytic(window: WindowKind) throws {
        // 1 g at 50 Hz: v = a / 2πf = 9.80665 / 314.159 m/s peak → 22.07 mm/s RMS.
        let m = try Self.analyze(Self.sine(50, amplitudeG: 1, offsetG: 1), Self.config(window))
        let analytic = 9.80665 / (2 * .pi * 50) / 2.0.squareRoot() * 1000
        #expect(abs(m.velocityRMS / analytic - 1) < 0.01, "\(window): \(m.velocityRMS) vs \(analytic) mm/s")
        #expect(m.velocity.unit == .millimetersPerSecond)
    }

    @Test func timeDomainMetricsOfASineIgnoreGravity() throws {
        let m = try Self.analyze(Self.sine(87.3, amplitudeG: 2, offsetG: 1), Self.config())
        #expect(abs(m.accelerationRMSG - 2 / 2.0.squareRoot()) < 1e-3)
        #expect(abs(m.accelerationPeakG - 2) < 2e-3)
        #expect(abs(m.crestFactor - 2.0.squareRoot()) < 1e-2)
        #expect(abs(m.kurtosis - 1.5) < 1e-2)
        #expect(abs(m.accelerationRMSMetersPerSecondSquared.value - 2 / 2.0.squareRoot() * 9.80665) < 1e-2)
        #expect(m.quality.isEmpty)
    }

    @Test func gaussianNoiseHasKurtosisThree() throws {
        var rng = SplitMix64(seed: 11)
        let x = (0..<4096).map { _ in Q15(saturating: 0.05 * rng.nextGaussian()) }
        let m = try Self.analyze(x, Self.config())
        #expect(abs(m.kurtosis - 3) < 0.3)
        #expect(m.crestFactor > 2.5)
    }

    /// Flat-top trades frequency precision (its top is flat) for amplitude accuracy.
    @Test(arguments: [(WindowKind.hann, 0.02, 0.02), (.flatTop, 0.002, 0.1), (.rectangular, 0.05, 0.05)])
    func peaksReportInterpolatedFrequencyAndAmplitude(window: WindowKind, tolerance: Double, hzTolerance: Double) throws {
        // Two tones off bin centres (bin = 0.78125 Hz).
        var x = Self.sine(24.7, amplitudeG: 0.5, phase: 0.1)
        let y = Self.sine(113.3, amplitudeG: 0.2, phase: 1.3)
        x = zip(x, y).map { Q15.addingSaturated($0, $1) }
        let m = try Self.analyze(x, Self.config(window))
        try #require(m.peakCount >= 2)
        #expect(abs(m.peaks[0].frequencyHz - 24.7) < hzTolerance, "\(m.peaks[0])")
        #expect(abs(m.peaks[0].amplitudeG / 0.5 - 1) < tolerance, "\(window) \(m.peaks[0])")
        #expect(abs(m.peaks[1].frequencyHz - 113.3) < hzTolerance, "\(m.peaks[1])")
        #expect(abs(m.peaks[1].amplitudeG / 0.2 - 1) < tolerance, "\(window) \(m.peaks[1])")
    }

    @Test func highFrequencyBandAndEnergyBandsSeeOnlyTheirTones() throws {
        var x = Self.sine(60, amplitudeG: 1)
        x = zip(x, Self.sine(820, amplitudeG: 0.3)).map { Q15.addingSaturated($0, $1) }
        let m = try Self.analyze(x, Self.config())
        #expect(abs(m.highFrequencyRMSG - 0.3 / 2.0.squareRoot()) < 3e-3)
        // 40 Hz bands: 60 Hz falls in band 1, 820 Hz in band 20.
        #expect(abs(m.bandRMSG[1] - 1 / 2.0.squareRoot()) < 1e-2)
        #expect(abs(m.bandRMSG[20] - 0.3 / 2.0.squareRoot()) < 3e-3)
        #expect(m.bandRMSG[10] < 1e-3)
    }

    @Test func orderBandsFollowTheShaftAndNeedIt() throws {
        var c = Self.config()
        c.bands = .orders(count: 4)
        let x = Self.sine(2 * 24.7, amplitudeG: 0.5) // 2× order of a 1482 rpm shaft
        let with = try Self.analyze(x, c, shaftHz: 24.7)
        #expect(abs(with.bandRMSG[1] - 0.5 / 2.0.squareRoot()) < 1e-2)
        #expect(with.bandRMSG[0] < 0.01 && with.bandRMSG[2] < 0.01)
        let without = try Self.analyze(x, c, shaftHz: nil)
        #expect(without.bandQuality.contains(.noValue))
    }

    @Test(arguments: [(1.39, ISOZone.a), (1.4, .b), (2.79, .b), (2.8, .c), (4.49, .c), (4.5, .d), (100, .d), (.nan, .d)])
    func zoneBoundariesAreExactlyAsConfigured(velocity: Double, zone: ISOZone) {
        #expect(ISOZoneBoundaries.iso10816_3(group: .medium, foundation: .rigid).zone(velocityRMS: velocity) == zone)
    }

    @Test func zoneOfAnAnalysedBlockFollowsVelocity() throws {
        // 5 mm/s RMS at 50 Hz → zone D for group 2 rigid (C/D at 4.5).
        let peakG = 5.0 / 1000 * 2.0.squareRoot() * 2 * .pi * 50 / 9.80665
        let m = try Self.analyze(Self.sine(50, amplitudeG: peakG), Self.config())
        #expect(m.zone == .d)
        var c = Self.config()
        c.zones = try ISOZoneBoundaries(ab: 3, bc: 6, cd: 9)
        #expect(try Self.analyze(Self.sine(50, amplitudeG: peakG), c).zone == .b)
        #expect(throws: DSPError.self) { try ISOZoneBoundaries(ab: 3, bc: 2, cd: 9) }
    }

    @Test func clippedAndSilentBlocksAreFlaggedNotTrapped() throws {
        let clipped = Self.sine(50, amplitudeG: 40) // ±40 g into a ±16 g range
        let m = try Self.analyze(clipped, Self.config())
        #expect(m.quality.contains(.clipped))
        #expect(m.velocity.quality.contains(.clipped))
        let silent = [Q15](repeating: Q15(rawValue: 1000), count: 4096)
        let s = try Self.analyze(silent, Self.config())
        #expect(s.quality.contains(.underRange))
        #expect(s.crestFactor == 0 && s.kurtosis == 0 && s.velocityRMS == 0 && s.zone == .a)
        let rails = [Q15](repeating: .min, count: 4096)
        let r = try Self.analyze(rails, Self.config())
        #expect(r.quality.contains(.clipped) && r.quality.contains(.underRange))
    }

    @Test func shortBlocksAndBadConfigurationsAreTypedErrors() throws {
        #expect(throws: DSPError.blockTooShort(expected: 4096, actual: 100)) {
            try Self.analyze([Q15](repeating: .zero, count: 100), Self.config())
        }
        var c = Self.config()
        c.highFrequencyBandHz = 1000...2000 // above Nyquist (1600 Hz)
        #expect(throws: DSPError.self) { try VibrationAnalyzer(c) }
        c = Self.config(); c.velocityBandHz = 0...1000
        #expect(throws: DSPError.self) { try VibrationAnalyzer(c) }
        c = Self.config(); c.blockLength = 3000
        #expect(throws: DSPError.unsupportedLength(3000)) { try VibrationAnalyzer(c) }
    }

    @Test func analysisIsDeterministicAcrossInstances() throws {
        var rng = SplitMix64(seed: 5)
        let x = (0..<4096).map { _ in Q15(saturating: 0.1 * rng.nextGaussian()) }
        let a = try Self.analyze(x, Self.config()), b = try Self.analyze(x, Self.config())
        #expect(a.velocityRMS.bitPattern == b.velocityRMS.bitPattern)
        #expect(a.bandRMSG.map(\.bitPattern) == b.bandRMSG.map(\.bitPattern))
    }

    @Test func steadyStateTransformsAndBlocksAllocateNothing() throws {
        let analyzer = try VibrationAnalyzer(Self.config())
        var m = analyzer.makeMetrics()
        let x = Self.sine(50, amplitudeG: 1)
        var spectrum = [Q31](repeating: .zero, count: 4098)
        try x.withUnsafeBufferPointer { s throws(DSPError) in
            try spectrum.withUnsafeMutableBufferPointer { o throws(DSPError) in
                try analyzer.analyze(s, into: &m) // warm-up
                let count = try heapAllocations { () throws(DSPError) in
                    for _ in 0..<3 {
                        try analyzer.fft.transform(s, into: o)
                        try analyzer.analyze(s, into: &m)
                    }
                }
                guard let count else { Issue.record("allocation counting unavailable"); return }
                #expect(count == 0, "\(count) heap allocations in steady state")
            }
        }
    }
}
