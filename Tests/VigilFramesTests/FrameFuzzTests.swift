import Testing
import VigilBase
@testable import VigilFrames

/// A million random and mutated inputs: the decoder answers each with a frame, "need more data"
/// or a reason, and never traps; every frame it accepts re-encodes to the same bytes.
@Suite struct FrameFuzzTests {
    @Test func aMillionRandomAndMutatedInputsNeverCrashTheDecoder() throws {
        var rng = SplitMix64(seed: 0x5EED_F00D)
        let seeds: [[UInt8]] = try [
            FrameCodecTests.birth.encoded(),
            SnapshotFixture.make().data.encoded(),
            SnapshotFixture.make().spectrum.encoded(),
            Frame(header: FrameCodecTests.header(.event), body: .event(EventBody(kind: 3, reason: 1, rule: 2, channel: 5, value: 5, limit: 4.5))).encoded(),
        ]
        var accepted = 0, invalid = 0, short = 0
        let total = 1_000_000
        for i in 0..<total {
            var input: [UInt8]
            if i % 4 == 0 {
                // Random bytes, often starting like a frame so the body paths are reached.
                input = (0..<Int(rng.next() % 96)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                if input.count > 3 && i % 8 == 0 { input[0] = 0x56; input[1] = 0x10; input[2] = UInt8(1 + rng.next() % 5) }
            } else {
                input = seeds[Int(rng.next() % UInt64(seeds.count))]
                let flips = 1 + Int(rng.next() % 4)
                for _ in 0..<flips {
                    switch rng.next() % 4 {
                    case 0: input[Int(rng.next() % UInt64(input.count))] ^= UInt8(1 << (rng.next() % 8))
                    case 1: input[Int(rng.next() % UInt64(input.count))] = UInt8(truncatingIfNeeded: rng.next())
                    case 2: input = Array(input.prefix(Int(rng.next() % UInt64(input.count + 1))))
                    default: input.insert(UInt8(truncatingIfNeeded: rng.next()), at: Int(rng.next() % UInt64(input.count + 1)))
                    }
                    if input.isEmpty { break }
                }
                // Half the mutants get a fixed-up length and CRC, so the body checks do the work.
                if i % 2 == 1 && input.count >= 28 { fixUp(&input) }
            }
            switch FrameDecoder.decode(input) {
            case .frame(let f, let length):
                accepted += 1
                // Only canonical encodings re-encode identically (a varint may be padded); decode again instead.
                // (Bytes, not values, are compared: a NaN in an event is not equal to itself.)
                let again = try f.encoded()
                if case .frame(let g, _) = FrameDecoder.decode(again) { #expect(try g.encoded() == again) } else { Issue.record("re-encoding was refused") }
                #expect(length <= input.count)
            case .invalid: invalid += 1
            case .needMoreData(let n): short += 1; #expect(n > input.count)
            }
        }
        print("FUZZ inputs=\(total) accepted=\(accepted) invalid=\(invalid) need_more=\(short)")
        #expect(accepted + invalid + short == total)
        #expect(invalid > total / 2)
    }

    func fixUp(_ b: inout [UInt8]) {
        let body = b.count - 28
        b[4] = UInt8(body & 0xFF)
        b[5] = UInt8(body >> 8)
        let crc = CRC32C.checksum(Array(b[0..<(b.count - 4)]))
        for i in 0..<4 { b[b.count - 4 + i] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(i))) }
    }
}
