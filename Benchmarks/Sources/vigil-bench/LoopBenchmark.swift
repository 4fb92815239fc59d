import CBenchAlloc
import Glibc
import Synchronization
import VigilBase
import VigilBoard
import VigilLoop
import VigilRuntime
import VigilSimulation
import VigilAgent
import VigilBoardSimulated

/// The node's real-time loop at 1 kHz on the simulator board for 20 s, with Debian's cyclictest
/// (the canonical periodic loop) running alongside at the same period and priority, so the two
/// lateness distributions share the machine's noise. Also: trip latency from an e-stop contact
/// opening to the permissive output dropping (10 trips), and heap calls per steady-state cycle.
enum LoopBenchmark {
    static let seconds = 20
    static let periodMicroseconds = 1000

    static func run() {
        // The simulator profile, with the e-stop input's 5 ms debounce removed so the measured
        // latency is the loop's: contact → next cycle's sample → interlock → output.
        guard var text = readText("../Boards/simulator.toml") else { fail("cannot read ../Boards/simulator.toml") }
        text = text.replacingOccurrences(of: "line = { chip = \"sim\", line = \"ESTOP_FB\" }\nbias = \"pull-down\"\ndebounce_ms = 5",
                                         with: "line = { chip = \"sim\", line = \"ESTOP_FB\" }\nbias = \"pull-down\"\ndebounce_ms = 0")
        let loaded: LoadedProfile
        do { loaded = try BoardProfileLoader.load(bytes: Array(text.utf8), path: "simulator.toml") } catch { fail("\(error)") }
        let board = SimulatedBoard(loaded, clock: .system())
        let node: Node<SimulatedBoard>
        do {
            node = try NodeAssembly.assemble(on: board)
        } catch { fail("\(error)") }
        for failure in node.cycle.startSensors() { fail("\(failure)") }
        let cycle = node.cycle
        let workers = node.modbusWorkers
        workers.forEach { $0.start() }

        let priority = loaded.profile.realtime.priority
        let loop = PeriodicLoop(configuration: LoopConfiguration(periodNanoseconds: Int64(periodMicroseconds) * 1000, priority: priority,
                                                                 lockMemory: true, warmUpCycles: 200), body: NodeLoopBody(cycle))
        // cyclictest alongside, same period and priority; if the kernel refuses SCHED_FIFO to us,
        // it refuses it to cyclictest too and both run on the default scheduler.
        let cyclictest = CyclictestRun(priority: priority, periodMicroseconds: periodMicroseconds, loops: seconds * 1_000_000 / periodMicroseconds)
        // The supervisor runs as in the agent (one priority above the loop): the figures below are
        // with it watching.
        do {
            try loop.start()
            try node.supervisor.start()
        } catch { fail("\(error)") }

        // Trips: wait for the machine to be armed (a reset after healthy data), then open the
        // e-stop, time the permissive's drop, close it and reset; ten times.
        let chip = board.chips["sim"]!
        var latencies: [Double] = []
        sleepSeconds(3)
        for _ in 0..<10 {
            cycle.requestReset()
            guard waitFor(seconds: 2, { (try? chip.physicalLevel(of: "RUN_PERMIT")) == true }) else { continue }
            sleepSeconds(0.2)
            let opened = MonotonicInstant(nanoseconds: monotonicNanoseconds())
            try? chip.drive("ESTOP_FB", to: false)
            if waitFor(seconds: 1, { (try? chip.physicalLevel(of: "RUN_PERMIT")) == false }),
               let dropped = try? chip.lastOutputChange(of: "RUN_PERMIT") {
                latencies.append(Double(dropped.nanoseconds(since: opened)) / 1000)
            }
            try? chip.drive("ESTOP_FB", to: true)
            sleepSeconds(0.3)
        }
        let elapsed = Double(monotonicNanoseconds()) / 1e9
        let remaining = Double(seconds) + 0.5 - (elapsed - cyclictest.startedAt)
        if remaining > 0 { sleepSeconds(remaining) }

        // Heap calls per cycle with the Modbus threads stopped (they allocate; the loop must not).
        workers.forEach { $0.stop() }
        let cyclesBefore = loop.statistics.read().cycles
        let heapBefore = bench_heap_calls()
        sleepSeconds(1.5)
        let heapAfter = bench_heap_calls()
        loop.stop()
        node.supervisor.stop()
        let stats = loop.statistics.read()
        let allocCycles = max(1, stats.cycles - cyclesBefore)
        let reference = cyclictest.finish()
        let grant = loop.grant
        let scheduler = grant?.fifoPriority != nil ? "fifo\(priority)" : "other"
        let p99Ratio = reference.map { Double(stats.latenessP99Microseconds) / Double(max(1, $0.p99)) }
        var line = "BENCH loop period_us=\(periodMicroseconds) seconds=\(seconds) scheduler=\(scheduler) cycles=\(stats.cycles)"
        line += " p50_us=\(stats.latenessP50Microseconds) p99_us=\(stats.latenessP99Microseconds) max_us=\(stats.latenessMaxMicroseconds)"
        if let r = reference {
            line += " cyclictest_p50_us=\(r.p50) cyclictest_p99_us=\(r.p99) cyclictest_max_us=\(r.max)"
            line += " p99_ratio=\(format(p99Ratio!))"
        } else {
            line += " cyclictest=unavailable"
        }
        line += " exec_p99_us=\(stats.executionP99Microseconds) overruns=\(stats.overruns)"
        line += " trip_latency_us=\(latencies.isEmpty ? "none" : format(latencies.max()!)) trips=\(latencies.count)"
        line += " allocs_per_cycle=\(format(Double(heapAfter - heapBefore) / Double(allocCycles)))"
        line += " supervisor=on stalls=\(node.cycle.watch.stalls.load(ordering: .acquiring))"
        print(line)
        if let refusals = grant?.refusals, !refusals.isEmpty {
            print("# loop: " + refusals.joined(separator: "; "))
        }
    }

    static func fail(_ message: String) -> Never {
        print("vigil-bench loop: \(message)")
        exit(1)
    }

    static func format(_ v: Double) -> String {
        let r = (v * 100).rounded() / 100
        return String(r)
    }

    static func sleepSeconds(_ s: Double) {
        var request = timespec(tv_sec: Int(s), tv_nsec: Int((s - s.rounded(.down)) * 1e9))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }

    static func waitFor(seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = monotonicNanoseconds() + Int64(seconds * 1e9)
        while monotonicNanoseconds() < deadline {
            if condition() { return true }
            sleepSeconds(0.0005)
        }
        return condition()
    }

    static func monotonicNanoseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    static func readText(_ path: String) -> String? {
        guard let f = fopen(path, "r") else { return nil }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = fread(&buffer, 1, buffer.count, f)
            if n <= 0 { break }
            bytes.append(contentsOf: buffer[0..<n])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// `cyclictest` from rt-tests in a child process, with its latency histogram parsed.
final class CyclictestRun {
    let pid: pid_t
    let output: UnsafeMutablePointer<FILE>?
    let startedAt: Double

    init(priority: Int, periodMicroseconds: Int, loops: Int) {
        startedAt = Double(LoopBenchmark.monotonicNanoseconds()) / 1e9
        // -q: summary only; -m: mlockall; -h: histogram up to 10 ms, one line per µs.
        let command = "cyclictest -q -m -p \(priority) -i \(periodMicroseconds) -l \(loops) -h 10000 2>/dev/null"
            + " || cyclictest -q -m -p 0 -i \(periodMicroseconds) -l \(loops) -h 10000 2>/dev/null"
        output = popen(command, "r")
        pid = 0
    }

    struct Figures { var p50: Int; var p99: Int; var max: Int }

    func finish() -> Figures? {
        guard let f = output else { return nil }
        var counts: [Int: Int] = [:]
        var maximum = 0
        var line = [CChar](repeating: 0, count: 512)
        while fgets(&line, Int32(line.count), f) != nil {
            let text = String(cString: line)
            if text.hasPrefix("# Max Latencies:") {
                maximum = Int(text.split(separator: " ").last.map { String($0).trimmingCharacters() } ?? "") ?? 0
            }
            guard let first = text.first, first.isNumber else { continue }
            let fields = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" })
            if fields.count >= 2, let us = Int(fields[0]), let n = Int(fields[1]), n > 0 { counts[us] = n }
        }
        pclose(f)
        let total = counts.values.reduce(0, +)
        guard total > 0 else { return nil }
        func percentile(_ p: Double) -> Int {
            let target = Int((p * Double(total)).rounded(.up))
            var seen = 0
            for us in counts.keys.sorted() {
                seen += counts[us]!
                if seen >= target { return us }
            }
            return counts.keys.max()!
        }
        return Figures(p50: percentile(0.5), p99: percentile(0.99), max: max(maximum, counts.keys.max()!))
    }
}

extension String {
    func trimmingCharacters() -> String { String(self.filter { !$0.isWhitespace }) }
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var result = ""
        var rest = self[...]
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}
