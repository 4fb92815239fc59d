#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import VigilAgent

/// The agent's post-start-up release of clean file pages: it must drop pages that can come back
/// from the file, and must never touch a page holding a write of ours.
@Suite struct StartupPagesTests {
    static let pages = 64

    /// A temporary file of `pages` pages, each filled with its own index.
    func makeFile() throws -> (path: String, fd: Int32) {
        var template = Array("/tmp/vigil-startup-pages-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        try #require(fd >= 0)
        let path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        let size = Self.pages * Int(getpagesize())
        var bytes = [UInt8](repeating: 0, count: size)
        for i in 0..<size { bytes[i] = UInt8(i / Int(getpagesize()) & 0xff) }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, size) }
        try #require(written == size)
        return (path, fd)
    }

    /// Resident kB of the mapping starting at `address`, from /proc/self/smaps.
    func residentKilobytes(at address: UnsafeRawPointer) -> Int? {
        guard let text = readTextFile("/proc/self/smaps") else { return nil }
        let start = String(UInt(bitPattern: address), radix: 16)
        var inMapping = false
        for line in text.split(separator: "\n") {
            if StartupPages.Mapping(header: line) != nil { inMapping = line.hasPrefix(start + "-") || line.hasPrefix("0" + start + "-") }
            else if inMapping && line.hasPrefix("Rss:") { return Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]) }
        }
        return nil
    }

    @Test func cleanReadOnlyFilePagesAreReleasedAndReadBackIntact() throws {
        let (path, fd) = try makeFile()
        defer { close(fd); unlink(path) }
        let size = Self.pages * Int(getpagesize())
        let map = try #require(mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0))
        try #require(map != MAP_FAILED)
        defer { munmap(map, size) }
        let bytes = map.assumingMemoryBound(to: UInt8.self)
        var sum = 0
        for p in 0..<Self.pages { sum += Int(bytes[p * Int(getpagesize())]) }
        let before = try #require(residentKilobytes(at: map))
        #expect(before >= Self.pages * Int(getpagesize()) / 1024)

        let outcome = try #require(StartupPages.release())
        #expect(outcome.mappings >= 1)
        #expect(outcome.releasedKilobytes >= before)
        #expect(residentKilobytes(at: map) == 0)
        // The pages come back from the file, unchanged.
        var again = 0
        for p in 0..<Self.pages { again += Int(bytes[p * Int(getpagesize())]) }
        #expect(again == sum)
        #expect(bytes[5 * Int(getpagesize()) + 17] == 5)
    }

    @Test func pagesHoldingOurWritesAreNeverReleased() throws {
        let (path, fd) = try makeFile()
        defer { close(fd); unlink(path) }
        let size = Self.pages * Int(getpagesize())
        // Written, then made read-only: what the dynamic linker does to relocated data (RELRO).
        let map = try #require(mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0))
        try #require(map != MAP_FAILED)
        defer { munmap(map, size) }
        let bytes = map.assumingMemoryBound(to: UInt8.self)
        bytes[3 * Int(getpagesize())] = 0xA5
        try #require(mprotect(map, size, PROT_READ) == 0)

        _ = try #require(StartupPages.release())
        #expect(bytes[3 * Int(getpagesize())] == 0xA5)
        #expect((residentKilobytes(at: map) ?? 0) > 0)
    }

    @Test func smapsHeadersAndFieldsAreToldApart() {
        let header = StartupPages.Mapping(header: "7f6d5881e000-7f6d58844000 r-xp 00026000 fe:00 333151                     /usr/lib/x86_64-linux-gnu/libc.so.6")
        #expect(header?.start == 0x7f6d5881e000 && header?.end == 0x7f6d58844000)
        #expect(header?.writable == false && header?.isFile == true)
        #expect(StartupPages.Mapping(header: "7ffcd9a4f000-7ffcd9a70000 rw-p 00000000 00:00 0                          [stack]")?.isFile == false)
        #expect(StartupPages.Mapping(header: "559f7f76e000-559f7f9ed000 rw-p 00000000 00:00 0 ")?.writable == true)
        #expect(StartupPages.Mapping(header: "Rss:                 328 kB") == nil)
        #expect(StartupPages.Mapping(header: "VmFlags: rd ex mr mw me sd") == nil)
        // Unknown private or locked counts mean "not provably clean": keep.
        var m = StartupPages.Mapping(header: "7f6d5881e000-7f6d58844000 r--p 00026000 fe:00 333151 /lib/x.so")!
        #expect(!m.isCleanReadOnlyFile)
        m.take(field: "Anonymous:             0 kB")
        m.take(field: "Locked:                0 kB")
        #expect(m.isCleanReadOnlyFile)
        m.take(field: "Locked:                4 kB")
        #expect(!m.isCleanReadOnlyFile)
    }
}
