#if canImport(Glibc)
import Glibc
#endif
import Testing
import VigilBase
@testable import VigilDSP

@Suite struct WindowTableTests {
    @Test(arguments: [64, 128, 1024, 2048])
    func coefficientsMatchTheGoldenModelBitForBit(n: Int) throws {
        let golden = GoldenFile("window-\(n).txt")
        #expect(try WindowTable(kind: .hann, length: n).table.map { Int64($0.rawValue) } == golden.ints("hann_q15"))
        #expect(try WindowTable(kind: .flatTop, length: n).table.map { Int64($0.rawValue) } == golden.ints("flat_top_q15"))
    }

    @Test func gainsAreTheTextbookValues() throws {
        let hann = try WindowTable(kind: .hann, length: 4096)
        #expect(abs(hann.coherentGain - 0.5) < 1e-4)
        #expect(abs(hann.noisePowerGain - 0.375) < 1e-4)
        #expect(abs(hann.equivalentNoiseBandwidthBins - 1.5) < 1e-3)
        let flat = try WindowTable(kind: .flatTop, length: 4096)
        #expect(abs(flat.coherentGain - 0.21557895) < 1e-4)
        #expect(abs(flat.equivalentNoiseBandwidthBins - 3.77) < 0.01)
        let rect = try WindowTable(kind: .rectangular, length: 4096)
        #expect(abs(rect.coherentGain - 1) < 1e-4)
    }

    @Test func applyingIsExactQ15TimesQ15() throws {
        let w = try WindowTable(kind: .hann, length: 64)
        let x = (0..<64).map { Q15(rawValue: Int16(truncatingIfNeeded: $0 * 1021 - 32768)) }
        var y = [Q31](repeating: .zero, count: 64)
        try x.withUnsafeBufferPointer { s throws(DSPError) in try y.withUnsafeMutableBufferPointer { o throws(DSPError) in try w.apply(s, into: o) } }
        for i in 0..<64 {
            #expect(Int64(y[i].rawValue) == Int64(x[i].rawValue) * Int64(w.table[i].rawValue) * 2)
        }
    }

    @Test func scallopingOfHannAtHalfABinIs1Point42dB() throws {
        let hann = try WindowTable(kind: .hann, length: 1024)
        let db = 20 * log10(hann.scallopingFactor(offset: 0.5))
        #expect(abs(db + 1.424) < 0.01)
    }
}
