import Testing
import VigilBase

/// Published test vectors: FIPS 180-4 examples for SHA-256, RFC 3720 / iSCSI for CRC-32C.
@Suite struct ChecksumTests {
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    ])
    func sha256MatchesFIPSExamples(input: String, digest: String) {
        #expect(SHA256.hash(Array(input.utf8)).hexString == digest)
    }

    @Test func sha256OfAMillionAsStreamedInOddChunks() {
        var hasher = SHA256()
        let chunk = [UInt8](repeating: 0x61, count: 997)
        var remaining = 1_000_000
        while remaining > 0 {
            let n = min(remaining, chunk.count)
            hasher.update(chunk[0..<n])
            remaining -= n
        }
        #expect(hasher.finalize().hexString == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func crc32cMatchesTheCheckValueAndISCSIVectors() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum((0..<32).map { UInt8($0) }) == 0x46DD_794E)
    }

    @Test func crc32cDetectsEverySingleBitFlip() {
        let frame = (0..<64).map { UInt8(truncatingIfNeeded: $0 &* 37) }
        let good = CRC32C.checksum(frame)
        for bit in 0..<(frame.count * 8) {
            var bad = frame
            bad[bit / 8] ^= 1 << UInt8(bit % 8)
            #expect(CRC32C.checksum(bad) != good, "bit \(bit)")
        }
    }
}
