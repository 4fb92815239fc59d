#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Hands back the clean file-backed pages that start-up mapped and steady state does not use.
///
/// Loading a program maps far more of its files than it will run: the kernel maps up to 64 kB
/// around every page fault in a file mapping ("fault-around"), the dynamic linker walks every
/// library's symbol tables once, and profile parsing, argument parsing and connection set-up run
/// code that is never entered again. On the simulator board that was 13 MB of the agent's 16 MB
/// resident set, most of it never touched after the first second.
///
/// ``release()`` walks `/proc/self/smaps` and unmaps (`MADV_DONTNEED`) each mapping of a file
/// that is not writable and holds no private (copy-on-write) page and no locked page. Nothing is
/// lost: the pages stay in the page cache and come back when touched (with their fault-around
/// neighbours; `MADV_RANDOM` does not change that, so it is not asked for).
/// Mappings with private pages (relocated data, RELRO) are left alone: dropping them would undo
/// the dynamic linker's writes. Locked memory (`mlockall`, `lock_memory = true`) is left alone:
/// the real-time set-up wants every page resident, and the kernel refuses anyway.
///
/// Not real-time safe (file I/O, allocation, pauses); the agent's main thread calls it once, when
/// start-up has settled. The loop's next cycles fault their pages back in (minor faults from the
/// page cache, a few µs each, once), a few per cycle because the release is paced.
enum StartupPages {
    /// How long after start the agent releases: the first analysis blocks, the first connection
    /// and birth frame and the spool's first segment are behind it by then.
    static let settleNanoseconds: Int64 = 5_000_000_000

    /// Released at a time, and the pause after each: a 10 MB text mapping takes about 0.1 s.
    static let chunkBytes = 256 * 1024
    static let pauseMicroseconds: UInt32 = 2000

    /// What ``release()`` did.
    struct Outcome {
        var mappings = 0
        var releasedKilobytes = 0
    }

    /// Releases clean, unlocked, read-only file mappings. Returns nil when `/proc/self/smaps`
    /// cannot be read (no procfs): nothing is changed then.
    static func release() -> Outcome? {
        guard let smaps = readTextFile("/proc/self/smaps") else { return nil }
        var outcome = Outcome()
        var current: Mapping?
        func finish() {
            guard let m = current, m.isCleanReadOnlyFile else { return }
            // Paced: a chunk at a time with a pause between, so the loop, which faults back the
            // code it runs, meets a few faults per cycle and never a whole binary's worth in one
            // period (a burst of overruns is a system fault that drops the permissive).
            var at = m.start, released = false
            while at < m.end {
                let length = min(chunkBytes, m.end - at)
                guard let base = UnsafeMutableRawPointer(bitPattern: at), madvise(base, length, MADV_DONTNEED) == 0 else { break }
                released = true
                at += length
                if at < m.end { usleep(pauseMicroseconds) }
            }
            guard released else { return }
            outcome.mappings += 1
            outcome.releasedKilobytes += m.residentKilobytes
        }
        for line in smaps.split(separator: "\n", omittingEmptySubsequences: true) {
            if let header = Mapping(header: line) {
                finish()
                current = header
            } else if current != nil {
                current!.take(field: line)
            }
        }
        finish()
        return outcome
    }

    /// One mapping from smaps: its header line and the fields that decide.
    struct Mapping {
        var start = 0, end = 0
        var writable = true
        var isFile = false
        var residentKilobytes = 0
        var privateKilobytes = -1   // "Anonymous:" — copy-on-write pages; unknown until read
        var lockedKilobytes = -1

        /// `start-end perms offset dev inode [path]`; nil for a field line ("Rss:  12 kB").
        init?(header line: Substring) {
            let parts = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            guard parts.count >= 5, let dash = parts[0].firstIndex(of: "-"),
                  let s = Int(parts[0][..<dash], radix: 16), let e = Int(parts[0][parts[0].index(after: dash)...], radix: 16),
                  parts[1].count == 4 else { return nil }
            start = s; end = e
            writable = parts[1].dropFirst().first != "-"
            isFile = parts.count == 6 && parts[5].trimmingLeadingSpaces.first == "/"
        }

        mutating func take(field line: Substring) {
            func kilobytes() -> Int? {
                line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Int($0) }
            }
            if line.hasPrefix("Rss:") { residentKilobytes = kilobytes() ?? 0 }
            else if line.hasPrefix("Anonymous:") { privateKilobytes = kilobytes() ?? -1 }
            else if line.hasPrefix("Locked:") { lockedKilobytes = kilobytes() ?? -1 }
        }

        /// Only what can be dropped without losing a written byte or a locked page.
        var isCleanReadOnlyFile: Bool {
            isFile && !writable && privateKilobytes == 0 && lockedKilobytes == 0 && end > start
        }
    }
}

extension Substring {
    fileprivate var trimmingLeadingSpaces: Substring { drop(while: { $0 == " " }) }
}
