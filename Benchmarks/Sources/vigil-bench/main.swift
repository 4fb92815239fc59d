// vigil-bench [group…]: one line per figure, `BENCH <group> key=value …`. Run via Benchmarks/run.
import Glibc
let groups = CommandLine.arguments.dropFirst()
let all = ["fft", "metrics", "loop", "frames", "spool", "footprint"]
for g in groups where !all.contains(g) {
    print("vigil-bench: unknown group \(g); groups: \(all.joined(separator: " "))")
    exit(2)
}
let selected = groups.isEmpty ? all : Array(groups)
if selected.contains("fft") { FFTBenchmark.run() }
if selected.contains("metrics") { MetricsBenchmark.run() }
if selected.contains("loop") { LoopBenchmark.run() }
if selected.contains("frames") { FramesBenchmark.run() }
if selected.contains("spool") { SpoolBenchmark.run() }
if selected.contains("footprint") { FootprintBenchmark.run() }
