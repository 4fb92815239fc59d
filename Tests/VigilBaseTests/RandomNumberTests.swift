#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import VigilBase

/// The seeded generator behind the simulator's noise: libm-free elementary functions and normal
/// deviates with the right moments.
@Suite struct RandomNumberTests {
    @Test func logarithmAgreesWithLibmAcrossTheRange() {
        var worst = 0.0
        var x = 1e-300
        while x < 1e300 {
            for m in [1.0, 1.0625, 1.3, 1.41421, 1.41422, 1.7, 1.999] {
                let v = x * m
                worst = max(worst, abs(VigilBase._log(v) - Glibc.log(v)) / max(1, abs(Glibc.log(v))))
            }
            x *= 7.3
        }
        #expect(worst < 4e-16)
        #expect(VigilBase._log(1) == 0)
        #expect(VigilBase._log(0) == -Double.infinity)
        #expect(VigilBase._log(-1) == -Double.infinity)
        #expect(abs(VigilBase._log(.leastNonzeroMagnitude) - Glibc.log(Double.leastNonzeroMagnitude)) < 1e-12)
    }

    @Test func gaussianPairsHaveUnitVarianceNoMeanAndNoCorrelation() {
        var rng = SplitMix64(seed: 2024)
        let n = 200_000
        var sum = 0.0, sumSq = 0.0, sumAB = 0.0, sum4 = 0.0
        for _ in 0..<(n / 2) {
            let (a, b) = rng.nextGaussianPair()
            sum += a + b
            sumSq += a * a + b * b
            sum4 += a * a * a * a + b * b * b * b
            sumAB += a * b
        }
        let mean = sum / Double(n), variance = sumSq / Double(n) - mean * mean
        #expect(abs(mean) < 0.01)
        #expect(abs(variance - 1) < 0.015)
        #expect(abs(sum4 / Double(n) - 3) < 0.1)          // kurtosis of a normal distribution
        #expect(abs(sumAB / Double(n / 2)) < 0.01)
        // The same seed replays the same sequence.
        var a = SplitMix64(seed: 9), b = SplitMix64(seed: 9)
        for _ in 0..<100 { #expect(a.nextGaussianPair() == b.nextGaussianPair()) }
    }
}
