import Testing
import VigilBase
@testable import VigilFrames

/// COBS and SLIP for the serial uplink: known vectors, random round trips, a stream split across
/// reads, and line noise that damages one packet without losing the next.
@Suite struct LineFramingTests {
    @Test func cobsKnownVectors() {
        #expect(COBS.encode([0x00]) == [0x01, 0x01])
        #expect(COBS.encode([0x00, 0x00]) == [0x01, 0x01, 0x01])
        #expect(COBS.encode([0x11, 0x22, 0x00, 0x33]) == [0x03, 0x11, 0x22, 0x02, 0x33])
        #expect(COBS.encode([0x11, 0x00, 0x00, 0x00]) == [0x02, 0x11, 0x01, 0x01, 0x01])
        let run = [UInt8](repeating: 0x42, count: 254)
        #expect(COBS.encode(run) == [0xFF] + run + [0x01])
        #expect(COBS.decode([0x03, 0x11, 0x22, 0x02, 0x33][...]) == [0x11, 0x22, 0x00, 0x33])
        #expect(COBS.decode([0x05, 0x11][...]) == nil)
    }

    @Test func slipKnownVectors() {
        #expect(SLIP.encode([0x01, 0xC0, 0xDB, 0x02]) == [0xC0, 0x01, 0xDB, 0xDC, 0xDB, 0xDD, 0x02, 0xC0])
        #expect(SLIP.decode([0x01, 0xDB, 0xDC, 0xDB, 0xDD][...]) == [0x01, 0xC0, 0xDB])
        #expect(SLIP.decode([0xDB, 0x01][...]) == nil)
    }

    @Test(arguments: LineFraming.allCases)
    func randomFramesSurviveAStreamSplitAnywhere(framing: LineFraming) {
        var rng = SplitMix64(seed: 99)
        var frames: [[UInt8]] = []
        for i in 0..<300 {
            let n = Int(rng.next() % 600) + 1
            // Zero-heavy and delimiter-heavy content on purpose.
            frames.append((0..<n).map { _ in i % 3 == 0 ? [0x00, 0xC0, 0xDB, 0x01][Int(rng.next() % 4)] : UInt8(truncatingIfNeeded: rng.next()) })
        }
        let stream = frames.flatMap { framing.encode($0) }
        if framing == .cobs { #expect(stream.filter { $0 == 0 }.count == frames.count) }
        var deframer = LineDeframer(framing: framing)
        var out: [[UInt8]] = []
        var i = 0
        while i < stream.count {
            let n = Int(rng.next() % 97) + 1
            out += deframer.feed(stream[i..<min(stream.count, i + n)])
            i += n
        }
        #expect(out == frames)
        #expect(deframer.damaged == 0)
    }

    @Test func lineNoiseDamagesOnePacketNotTheNext() throws {
        let a = COBS.encode([1, 2, 3]) + [0]
        var noisy = COBS.encode([4, 5, 6, 7, 8, 9])
        noisy[0] = 0x30  // a code pointing past the packet's end
        let b = COBS.encode([10, 0, 11]) + [0]
        var d = LineDeframer(framing: .cobs)
        let packets = d.feed(a + noisy + [0] + b)
        #expect(packets == [[1, 2, 3], [10, 0, 11]])
        #expect(d.damaged == 1)
    }
}
