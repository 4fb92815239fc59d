import Glibc
import VigilBase
import VigilFrames
import VigilUplink

/// Store-and-forward throughput and wear (issue 18): appends per second and bytes written per
/// frame with the default fsync interval (1 s) and with `fsync_interval_ms = 0`, against a plain
/// `write` + `fdatasync` loop of the same record sizes in the same run, on the same file system
/// (`VIGIL_BENCH_DIR`, default /var/tmp: put it on the SD card to get the figure users ask for).
enum SpoolBenchmark {
    /// Bytes the process passed to write(2) so far (`wchar` of /proc/self/io): what reaches the
    /// page cache, the upper bound of what the card is asked to store.
    static func writtenBytes() -> Int {
        guard let f = fopen("/proc/self/io", "r") else { return 0 }
        defer { fclose(f) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), f) != nil {
            let text = String(cString: line)
            if text.hasPrefix("wchar:") { return Int(text.dropFirst(6).filter { $0.isNumber }) ?? 0 }
        }
        return 0
    }

    static func run() {
        let s = FramesBenchmark.snapshot()
        let data = try! s.data.encoded()
        let event = try! Frame(header: s.data.header, body: .event(EventBody(kind: 3, reason: 0, rule: 0, channel: 5, value: 4.6, limit: 4.5))).encoded()
        let base = String(cString: getenv("VIGIL_BENCH_DIR") ?? strdup("/var/tmp"))
        // One event in 50 frames, as a node with a few warnings an hour would not reach; the rest data.
        func workload(_ i: Int) -> ([UInt8], SpoolLane) { i % 50 == 49 ? (event, .events) : (data, .data) }

        func spoolRun(fsyncMilliseconds: Int, frames: Int) -> (rate: Double, bytesPerFrame: Double) {
            var template = Array("\(base)/vigil-bench-spool-XXXXXX".utf8CString)
            guard let dir = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }).map({ String(cString: $0) }) else { return (0, 0) }
            defer { _ = system("rm -rf '\(dir)'") }
            let spool = try! Spool(directory: dir, maxBytes: 64 << 20, segmentBytes: 1 << 20, fsyncIntervalMilliseconds: fsyncMilliseconds)
            let w0 = writtenBytes()
            let t0 = LoopBenchmark.monotonicNanoseconds()
            for i in 0..<frames {
                let (bytes, lane) = workload(i)
                _ = try! spool.append(bytes, lane: lane, now: LoopBenchmark.monotonicNanoseconds())
            }
            try! spool.sync(now: LoopBenchmark.monotonicNanoseconds())
            let seconds = Double(LoopBenchmark.monotonicNanoseconds() - t0) / 1e9
            return (Double(frames) / seconds, Double(writtenBytes() - w0) / Double(frames))
        }

        func plainRun(frames: Int) -> Double {
            let path = "\(base)/vigil-bench-plain-\(getpid())"
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0o644)
            defer { close(fd); unlink(path) }
            let t0 = LoopBenchmark.monotonicNanoseconds()
            for i in 0..<frames {
                let (bytes, _) = workload(i)
                _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                fdatasync(fd)
            }
            return Double(frames) / (Double(LoopBenchmark.monotonicNanoseconds() - t0) / 1e9)
        }

        let batched = spoolRun(fsyncMilliseconds: 1000, frames: 100_000)
        let each = spoolRun(fsyncMilliseconds: 0, frames: 2_000)
        let plain = plainRun(frames: 2_000)
        let rawBytes = Double(data.count * 49 + event.count) / 50
        print("BENCH spool dir=\(base) frame_bytes=\(fmt(rawBytes, 1)) default_fsync_appends_per_s=\(Int(batched.rate)) default_bytes_written_per_frame=\(fmt(batched.bytesPerFrame, 1))"
              + " fsync0_appends_per_s=\(Int(each.rate)) fsync0_bytes_written_per_frame=\(fmt(each.bytesPerFrame, 1))"
              + " plain_write_fdatasync_per_s=\(Int(plain)) fsync0_ratio_to_plain=\(fmt(each.rate / plain, 2))"
              + " default_ratio_to_plain=\(fmt(batched.rate / plain, 1))")
    }
}
