#if canImport(Glibc)
import Glibc
#endif
import Testing
import VigilBase
@testable import VigilDSP

@Suite struct RealFFTTests {
    static let goldenLengths = [64, 128, 1024, 2048]

    func spectrum(_ fft: RealFFT, q15 input: [Int64]) throws -> [Int64] {
        let samples = input.map { Q15(rawValue: Int16($0)) }
        var out = [Q31](repeating: .zero, count: fft.length + 2)
        try samples.withUnsafeBufferPointer { s throws(DSPError) in
            try out.withUnsafeMutableBufferPointer { o throws(DSPError) in try fft.transform(s, into: o) }
        }
        return out.map { Int64($0.rawValue) }
    }

    @Test(arguments: goldenLengths)
    func twiddleTablesMatchTheGoldenModelBitForBit(n: Int) throws {
        let golden = GoldenFile("fft-\(n).txt")
        let fft = try RealFFT(length: n)
        #expect(fft.twiddleTable.map(Int64.init) == golden.ints("twiddles_q30"))
        #expect(fft.splitTwiddleTable.map(Int64.init) == golden.ints("split_twiddles_q30"))
    }

    @Test(arguments: goldenLengths)
    func q15SpectraMatchTheGoldenModelBitForBit(n: Int) throws {
        let golden = GoldenFile("fft-\(n).txt")
        let fft = try RealFFT(length: n)
        for name in ["", "square_", "negative_", "impulse_"] {
            let input = golden.ints(name.isEmpty ? "input_q15" : name + "q15")
            #expect(try spectrum(fft, q15: input) == golden.ints(name + "spectrum"), "\(n) \(name)")
        }
    }

    @Test(arguments: goldenLengths)
    func q31InputMatchesTheGoldenModelBitForBit(n: Int) throws {
        let golden = GoldenFile("fft-\(n).txt")
        let fft = try RealFFT(length: n)
        let samples = golden.ints("input_q31").map { Q31(rawValue: Int32($0)) }
        var out = [Q31](repeating: .zero, count: n + 2)
        try samples.withUnsafeBufferPointer { s throws(DSPError) in
            try out.withUnsafeMutableBufferPointer { o throws(DSPError) in try fft.transform(s, into: o) }
        }
        #expect(out.map { Int64($0.rawValue) } == golden.ints("spectrum_q31_input"))
    }

    /// The same quantized input through numpy's float64 rfft: only the FFT's own arithmetic counts.
    @Test(arguments: goldenLengths)
    func accuracyAgainstFloat64ReferenceExceeds135dB(n: Int) throws {
        let golden = GoldenFile("fft-\(n).txt")
        let reference = GoldenFile("fft-\(n)-float64.txt")
        let out = try spectrum(RealFFT(length: n), q15: golden.ints("input_q15"))
        let re = reference.doubles("reference_re"), im = reference.doubles("reference_im")
        var signal = 0.0, noise = 0.0
        for k in 0...(n / 2) {
            let xr = Double(out[2 * k]) / 2147483648, xi = Double(out[2 * k + 1]) / 2147483648
            signal += re[k] * re[k] + im[k] * im[k]
            noise += (xr - re[k]) * (xr - re[k]) + (xi - im[k]) * (xi - im[k])
        }
        let snr = 10 * log10(signal / noise)
        #expect(snr > 135, "N=\(n): \(snr) dB")
    }

    @Test func aFullScaleToneOnABinReadsHalfItsAmplitude() throws {
        let n = 1024, bin = 37
        let fft = try RealFFT(length: n)
        let x = (0..<n).map { i -> Int64 in
            let (c, _) = Trigonometry.cosSin(turns: bin * i, of: n)
            return Int64(Q15(saturating: 0.75 * c).rawValue)
        }
        let out = try spectrum(fft, q15: x)
        let peak = Double(out[2 * bin]) / 2147483648
        #expect(abs(peak - 0.375) < 1e-4)
        for k in 0...(n / 2) where k != bin {
            // Q15 rounding of the tone leaves error harmonics near 2⁻¹⁷; nothing else may leak.
            #expect(abs(out[2 * k]) < 40_000 && abs(out[2 * k + 1]) < 40_000, "leak above −94 dBFS at bin \(k)")
        }
    }

    @Test(arguments: [0, 1, 32, 63, 100, 16384, -64, 3 * 1024])
    func unsupportedLengthsAreTypedErrors(n: Int) {
        #expect(throws: DSPError.unsupportedLength(n)) { try RealFFT(length: n) }
    }

    @Test func wrongBufferSizesAreTypedErrors() throws {
        let fft = try RealFFT(length: 64)
        let short = [Q15](repeating: .zero, count: 63)
        var out = [Q31](repeating: .zero, count: 66)
        #expect(throws: DSPError.bufferSize(name: "samples", expected: 64, actual: 63)) {
            try short.withUnsafeBufferPointer { s throws(DSPError) in
                try out.withUnsafeMutableBufferPointer { o throws(DSPError) in try fft.transform(s, into: o) }
            }
        }
        let samples = [Q15](repeating: .zero, count: 64)
        var small = [Q31](repeating: .zero, count: 64)
        #expect(throws: DSPError.bufferSize(name: "spectrum", expected: 66, actual: 64)) {
            try samples.withUnsafeBufferPointer { s throws(DSPError) in
                try small.withUnsafeMutableBufferPointer { o throws(DSPError) in try fft.transform(s, into: o) }
            }
        }
        _ = out
    }
}
