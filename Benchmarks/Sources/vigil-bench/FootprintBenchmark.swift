import Glibc

/// The agent as flashed: stripped release binary size, and steady-state RSS and CPU of
/// `vigil run` on the simulator board (3.2 kHz sampling, one 4096-point FFT per second per axis,
/// uplink to a local mosquitto). The simulator's device models run in the same process, so the
/// CPU figure includes generating the samples a real sensor would deliver.
enum FootprintBenchmark {
    static func run() {
        guard let binary = getenv("VIGIL_RELEASE_BINARY").map({ String(cString: $0) }) else {
            print("vigil-bench footprint: VIGIL_RELEASE_BINARY is not set (Benchmarks/run sets it)")
            exit(1)
        }
        let dir = "/tmp/vigil-bench-footprint-\(getpid())"
        mkdir(dir, 0o755)
        defer { system("rm -rf \(dir)") }
        system("strip -o \(dir)/vigil-stripped \(binary)")
        var st = stat()
        stat("\(dir)/vigil-stripped", &st)
        let stripped = Int(st.st_size)

        let port = 20_000 + Int.random(in: 0..<20_000)
        let conf = "\(dir)/m.conf"
        let f = fopen(conf, "w")!
        fputs("listener \(port) 127.0.0.1\nallow_anonymous true\n", f)
        fclose(f)
        chmod(conf, 0o644)
        chmod(dir, 0o755)
        let broker = popen("exec mosquitto -c \(conf) 2>/dev/null", "r")
        LoopBenchmark.sleepSeconds(0.5)
        let seconds = 40
        let agent = popen("exec \(binary) run --board ../Boards/simulator.toml --broker tcp://127.0.0.1:\(port) --spool \(dir)/spool"
                          + " --socket \(dir)/c.sock --seconds \(seconds) 2>/dev/null & echo $!", "r")!
        var line = [CChar](repeating: 0, count: 64)
        fgets(&line, 64, agent)
        let pid = Int32(String(cString: line).filter(\.isNumber)) ?? 0
        // Steady state: after start-up and the first analysis blocks.
        LoopBenchmark.sleepSeconds(8)
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let cpu0 = cpuTicks(pid), t0 = LoopBenchmark.monotonicNanoseconds()
        var rssMax = 0
        for _ in 0..<20 {
            LoopBenchmark.sleepSeconds(1)
            rssMax = max(rssMax, rssKilobytes(pid))
        }
        let cpu1 = cpuTicks(pid), t1 = LoopBenchmark.monotonicNanoseconds()
        let cpuPercent = (cpu1 - cpu0) / ticks / (Double(t1 - t0) / 1e9) * 100
        kill(pid, SIGTERM)
        pclose(agent)
        system("pkill -f 'mosquitto -c \(conf)' >/dev/null 2>&1")
        if let broker { pclose(broker) }
        print("BENCH footprint binary_stripped_bytes=\(stripped) binary_mib=\(LoopBenchmark.format(Double(stripped) / 1_048_576)) rss_kb=\(rssMax)"
              + " cpu_percent=\(LoopBenchmark.format(cpuPercent)) sampling_hz=3200 fft_per_s_per_axis=1 axes=3 window_s=20 target_rss_kb=12288 target_cpu_percent=3")
    }

    static func cpuTicks(_ pid: Int32) -> Double {
        guard let text = LoopBenchmark.readText("/proc/\(pid)/stat"), let close = text.lastIndex(of: ")") else { return 0 }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // After the command: state(0) … utime(11) stime(12).
        guard fields.count > 12, let u = Double(fields[11]), let s = Double(fields[12]) else { return 0 }
        return u + s
    }

    static func rssKilobytes(_ pid: Int32) -> Int {
        guard let text = LoopBenchmark.readText("/proc/\(pid)/status") else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.filter(\.isNumber)) ?? 0
        }
        return 0
    }
}
