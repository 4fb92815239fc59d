#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport
import VigilBase
@testable import VigilBoard

/// Mutated and random profiles thrown at the loader in this process: a crash (a trap in the TOML
/// reader or a validator) would kill the test run. `VIGIL_FUZZ_ITERATIONS` raises
/// the count; `VIGIL_FUZZ_SEED` replays a run; `VIGIL_FUZZ_TRACE=1` writes the iteration number and
/// the input being loaded to /tmp/fuzz-iter and /tmp/fuzz-last.toml, so a crash leaves its input behind.
@Suite struct ProfileFuzzTests {
    static let seeds: [String] = ["simulator", "raspberry-pi-4", "beagleplay"].compactMap {
        TestPaths.readText(TestPaths.repositoryRoot + "/Boards/\($0).toml")
    }
    static let alphabet: [UInt8] = Array("[]{}=\"'.,#\n \t\\0123456789abcxyz_-+:".utf8) + [0xC3, 0xA9, 0xFF, 0x0D, 0x00]

    @Test func mutatedProfilesNeverCrashTheLoader() {
        let iterations = Int(getenv("VIGIL_FUZZ_ITERATIONS").map { String(cString: $0) } ?? "") ?? 3000
        let seed = UInt64(getenv("VIGIL_FUZZ_SEED").map { String(cString: $0) } ?? "") ?? 0x5EED_F00D
        var rng = SplitMix64(seed: seed)
        var rejected = 0, accepted = 0
        let trace = getenv("VIGIL_FUZZ_TRACE") != nil
        for i in 0..<iterations {
            var bytes = Array(Self.seeds[i % Self.seeds.count].utf8)
            let edits = 1 + Int(rng.next() % 4)
            for _ in 0..<edits { mutate(&bytes, &rng) }
            if trace {
                if let f = fopen("/tmp/fuzz-iter", "w") { fputs("\(i)", f); fclose(f) }
                bytes.withUnsafeBufferPointer { b in
                    if let g = fopen("/tmp/fuzz-last.toml", "w") { fwrite(b.baseAddress, 1, b.count, g); fclose(g) }
                }
            }
            do {
                _ = try BoardProfileLoader.load(bytes: bytes, path: "fuzz.toml")
                accepted += 1
            } catch {
                rejected += 1
                // Every rejection names the file and says something.
                #expect(error.diagnostics.allSatisfy { $0.file == "fuzz.toml" && !$0.message.isEmpty }, "seed \(seed) iteration \(i)")
            }
        }
        #expect(accepted + rejected == iterations)
        #expect(rejected > iterations / 4, "mutations should mostly break profiles (seed \(seed))")
    }

    @Test func randomTOMLishTextNeverCrashesTheLoader() {
        var rng = SplitMix64(seed: 0xBAD_70A1)
        for _ in 0..<2000 {
            let length = Int(rng.next() % 64)
            let bytes = (0..<length).map { _ in Self.alphabet[Int(rng.next() % UInt64(Self.alphabet.count))] }
            _ = try? BoardProfileLoader.load(bytes: bytes, path: "random.toml")
        }
    }

    func mutate(_ bytes: inout [UInt8], _ rng: inout SplitMix64) {
        guard !bytes.isEmpty else { bytes = [Self.alphabet[Int(rng.next() % UInt64(Self.alphabet.count))]]; return }
        let at = Int(rng.next() % UInt64(bytes.count))
        switch rng.next() % 6 {
        case 0: bytes[at] = Self.alphabet[Int(rng.next() % UInt64(Self.alphabet.count))]
        case 1: bytes.insert(Self.alphabet[Int(rng.next() % UInt64(Self.alphabet.count))], at: at)
        case 2: bytes.removeSubrange(at..<min(bytes.count, at + 1 + Int(rng.next() % 40)))
        case 3: // duplicate a line
            let start = bytes[..<at].lastIndex(of: 0x0A).map { $0 + 1 } ?? 0
            let end = bytes[at...].firstIndex(of: 0x0A) ?? bytes.count
            bytes.insert(contentsOf: Array(bytes[start..<end]) + [0x0A], at: start)
        case 4: bytes.removeSubrange(at..<bytes.count)
        default: // swap two characters
            let other = Int(rng.next() % UInt64(bytes.count))
            bytes.swapAt(at, other)
        }
    }
}
