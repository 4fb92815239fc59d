#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport
import VigilBase
import VigilBoard
import VigilFrames
import Synchronization
import VigilInterlock
import VigilLoop
import VigilRuntime
import VigilSimulation
import VigilBoardSimulated
import VigilUplink
@testable import VigilAgent

/// A 30 s run of the simulator board on a manual clock, through the uplink worker's own frame
/// path (snapshots, spectra and events into frames, frames into the spool), compared byte for byte
/// with a recording. The recording was made before the code was reshaped (issue 16): any change
/// to what a node measures, decides or sends shows here as the first frame that differs.
///
/// `VIGIL_RECORD=1` writes a new recording instead of comparing (only when a change of the frames
/// is intended; say why in the commit).
@Suite(.serialized) struct RecordedRunTests {
    static let recording = TestPaths.repositoryRoot + "/Tests/VigilCLITests/Golden/simulator-30s.frames"

    @Test func aThirtySecondSimulatorRunSendsTheRecordedFrames() throws {
        let bytes = try RecordedRun.frames()
        if getenv("VIGIL_RECORD") != nil {
            TestPaths.writeFile(Self.recording, bytes: bytes)
            print("RECORDED \(bytes.count) bytes to \(Self.recording)")
            return
        }
        let expected = try #require(TestPaths.readFile(Self.recording), "no recording at \(Self.recording)")
        if bytes != expected {
            let a = RecordedRun.jsonLines(expected), b = RecordedRun.jsonLines(bytes)
            let first = (0..<min(a.count, b.count)).first { a[$0] != b[$0] } ?? min(a.count, b.count)
            Issue.record("""
                the run's frames differ from the recording at frame \(first) of \(a.count) (now \(b.count) frames, \(bytes.count) bytes; recorded \(expected.count) bytes)
                recorded: \(first < a.count ? a[first] : "(end)")
                now:      \(first < b.count ? b[first] : "(end)")
                """)
        }
        // The run did what the script says: a warning, a trip, a refused reset, resets, the e-stop.
        let kinds = RecordedRun.jsonLines(bytes).filter { $0.contains("\"type\":\"event\"") }
        for kind in ["armed", "warning", "tripped", "reset_refused", "reset", "released"] {
            #expect(kinds.contains { $0.contains("\"kind\":\"\(kind)\"") }, "no \(kind) event in the run")
        }
    }
}

/// The scripted run: the simulator profile, reset at 3 s, vibration 3× at 10 s (warning), 6× at
/// 14 s (trip), a reset refused at 17 s, back to 1× at 18 s, reset at 22 s, the e-stop opened at
/// 25 s and closed at 26 s, reset at 28 s.
enum RecordedRun {
    static let seconds = 30
    static let session: UInt32 = 0x5EED_0030

    static func frames() throws -> [UInt8] {
        let loaded = try BoardProfileLoader.load(path: TestPaths.repositoryRoot + "/Boards/simulator.toml")
        let clock = SimulationClock.manual()
        let modbusClock = SimulationClock.manual()
        let board = SimulatedBoard(loaded, clock: clock, modbusClock: modbusClock)
        let node = try NodeAssembly.assemble(on: board)
        let cycle = node.cycle
        let workers = node.modbusWorkers
        try cycle.startSensors()
        let directory = TestPaths.makeTemporaryDirectory("vigil-recorded")
        defer { TestPaths.removeTree(directory) }
        let spool = try Spool(directory: directory + "/spool", maxBytes: 16 << 20, segmentBytes: 1 << 20, fsyncIntervalMilliseconds: 1000)
        let start = clock.now
        let producer = FrameProducer(loaded: loaded, session: session, sessionStart: start)
        let worker = UplinkWorker(loaded: loaded, producer: producer, uplink: nil, store: spool,
                                  updates: cycle.updates, events: cycle.events, spectra: cycle.spectra)
        func stamp() -> Timestamp {
            Timestamp(monotonic: clock.now, wallClock: WallClockTime(microsecondsSinceEpoch: SimulatedBoard.manualEpochMicroseconds + clock.now.nanoseconds / 1000),
                      clockSync: .synchronized)
        }
        var out: [UInt8] = []
        try producer.birth(at: stamp()).encode(into: &out)
        producer.birthDelivered()

        let chip = board.chips["sim"]!
        let accelerometer = board.model("bearing", as: ADXL345Model.self)!
        let period: Int64 = 1_000_000
        for index in 0..<Int64(seconds * 1000) {
            switch index {
            case 3_000, 17_000, 22_000, 28_000: cycle.requestReset()
            case 10_000: accelerometer.vibrationFactor = 3
            case 14_000: accelerometer.vibrationFactor = 6
            case 18_000: accelerometer.vibrationFactor = 1
            case 25_000: try chip.drive("ESTOP_FB", to: false)
            case 26_000: try chip.drive("ESTOP_FB", to: true)
            default: break
            }
            let now = clock.now
            cycle.cycle(CycleTiming(deadline: now, wake: now, index: index, isWarmUp: false, deadlineBurst: false, previousMetDeadline: true))
            if (index + 1) % 100 == 0 {
                let lag = clock.now.nanoseconds(since: modbusClock.now)
                if lag > 0 { modbusClock.advance(byNanoseconds: lag) }
                workers.forEach { $0.pollOnce() }
            }
            // The uplink thread's pace: every 50 ms.
            if (index + 1) % 50 == 0 { worker.collect(stamp()) }
            let next = now.nanoseconds + period
            if clock.now.nanoseconds < next { clock.advance(byNanoseconds: next - clock.now.nanoseconds) }
        }
        worker.collect(stamp())
        for record in spool.pending(limit: 1 << 20) { out += record.bytes }
        return out
    }

    /// Every frame of a recording as `vigil frame decode` prints it.
    static func jsonLines(_ bytes: [UInt8]) -> [String] {
        var tracker = FrameSessionTracker()
        var lines: [String] = []
        var offset = 0
        while offset < bytes.count {
            switch FrameDecoder.decode(bytes[offset...]) {
            case .frame(let f, let n):
                _ = tracker.observe(f)
                lines.append(FrameJSON.line(f, channels: tracker.channels(session: f.header.session)))
                offset += n
            default:
                lines.append("(undecodable at \(offset))")
                return lines
            }
        }
        return lines
    }
}

/// `vigil frame sample` (the reference frames every architecture must reproduce) writes the bytes
/// recorded before the code was reshaped.
@Suite struct FrameSampleRecordingTests {
    @Test func frameSampleWritesTheRecordedBytes() throws {
        let r = try ChildProcess.run(TestPaths.vigilBinary, ["frame", "sample"], directory: TestPaths.repositoryRoot)
        #expect(r.status == 0, "\(r.output)")
        let expected = try #require(TestPaths.readFile(TestPaths.repositoryRoot + "/Tests/VigilCLITests/Golden/frame-sample.bin"))
        #expect(r.stdoutBytes == expected, "frame sample wrote \(r.stdoutBytes.count) bytes, recorded \(expected.count)")
    }
}
