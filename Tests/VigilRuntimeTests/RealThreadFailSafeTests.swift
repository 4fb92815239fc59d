#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Testing
import TestSupport
import VigilBase
import VigilBoard
import VigilBoardSimulated
import VigilDrivers
import VigilFrames
import VigilHAL
import VigilInterlock
import VigilLoop
import VigilRuntime
import VigilSimulation

/// The node on real threads and clocks: the simulator profile (edited; the overrun burst raised,
/// as these tests run a debug build beside the rest of the suite), its loop at 1 kHz, and on
/// request its supervisor and its Modbus workers. Stopped, outputs safe, when released.
final class RealThreadNode {
    let loaded: LoadedProfile
    let board: SimulatedBoard
    let node: Node<SimulatedBoard>
    let loop: PeriodicLoop<NodeCycle<SimulatedBoard>>
    let supervised: Bool
    let polled: Bool
    var cycle: NodeCycle<SimulatedBoard> { node.cycle }
    var chip: SimulatedGPIOChip { board.chips["sim"]! }

    init(supervisor: Bool = false, modbus: Bool = false, edit: (inout String) -> Void = { _ in }) throws {
        var text = TestPaths.readText(TestPaths.repositoryRoot + "/Boards/simulator.toml")!
        text = text.replacing("overrun_burst = 20\n", with: "overrun_burst = 400\n")
        edit(&text)
        loaded = try BoardProfileLoader.load(bytes: Array(text.utf8), path: "simulator.toml")
        board = SimulatedBoard(loaded, clock: .system())
        node = try NodeAssembly.assemble(on: board)
        node.cycle.startSensors()
        loop = PeriodicLoop(configuration: LoopConfiguration(periodNanoseconds: 1_000_000, warmUpCycles: 10, overrunBurst: 400), body: node.cycle)
        supervised = supervisor
        polled = modbus
        try loop.start()
        if supervisor { try node.supervisor.start() }
        if modbus { node.modbusWorkers.forEach { $0.start() } }
    }

    deinit {
        node.cycle.driveSafeState()
        _ = loop.stop(waitingAtMostNanoseconds: 2_000_000_000)
        if supervised { node.supervisor.stop() }
        if polled { node.modbusWorkers.forEach { $0.stop() } }
    }

    func permit() -> Bool { (try? chip.physicalLevel(of: "RUN_PERMIT")) ?? false }

    func waitFor(_ seconds: Double, _ condition: () -> Bool) -> Bool {
        let end = SystemClock.monotonic().nanoseconds + Int64(seconds * 1e9)
        while SystemClock.monotonic().nanoseconds < end { if condition() { return true }; usleep(1000) }
        return condition()
    }

    /// Waits for the node to ask for a reset, resets it and waits for the permit.
    func arm() -> Bool {
        guard waitFor(20, { cycle.publishedSummary().state == .waitingForReset }) else { return false }
        cycle.requestReset()
        return waitFor(2) { permit() }
    }

    /// Takes the tachometer out: the machine counts as stopped, as the proof test requires.
    static func withoutTachometer(_ text: inout String) {
        let start = text.firstRange(of: "[[sensors]]\nname = \"shaft\"")!
        let stop = text[start.upperBound...].firstRange(of: "[[outputs]]")!
        text.removeSubrange(start.lowerBound..<stop.lowerBound)
    }
}

/// Issue 17 on real threads and clocks: the loop at 1 kHz on its own thread, the supervisor and
/// the Modbus poller on theirs. Not run under qemu-aarch64 (Scripts/build-aarch64), where
/// emulation cannot hold a 1 kHz loop to these bounds.
@Suite(.serialized) struct RealThreadFailSafeTests {
    /// Hazard (2): a loop hung in an I2C transfer (adapter timeouts are typically a second) kept
    /// the outputs where they were. On real threads: the loop is made to hang for 400 ms with a
    /// 30 ms bound; the run permit must drop within the bound plus a period while it still hangs,
    /// and once the loop runs again a latched loop_stall fault holds it off until a reset.
    @Test func aHungLoopIsTakenOffTheOutputsByTheSupervisor() throws {
        let n = try RealThreadNode(supervisor: true) { $0 = $0.replacing("max_stall_ms = 100 ", with: "max_stall_ms = 30 ") }
        #expect(n.arm(), "not armed: \(n.cycle.publishedSummary())")
        // A loaded machine may already have cost a debug build's loop one 30 ms hiccup before it
        // armed (a stall the reset then cleared): count from here.
        let before = n.cycle.watch.stalls.load(ordering: .acquiring)
        n.cycle.watch.stallRequestMilliseconds.store(400, ordering: .releasing)
        #expect(n.waitFor(1) { n.cycle.watch.stalls.load(ordering: .acquiring) > before }, "the supervisor did not act")
        let reaction = n.node.supervisor.lastStallReactionNanoseconds.load(ordering: .relaxed)
        // Still inside the 400 ms hang: the permit is off although the loop never wrote it.
        #expect(!n.permit(), "the run permit stayed on while the loop hung")
        #expect(reaction >= 30_000_000 && reaction <= 30_000_000 + 1_000_000 + 20_000_000, "reaction \(reaction) ns")
        #expect(n.waitFor(2) { n.cycle.systemFaultLatched.load(ordering: .acquiring) })
        usleep(100_000)
        #expect(!n.permit(), "the loop re-energized the permit after the stall")
        // An ordinary reset clears it (once every rule sees fresh input again: the hang broke the
        // accelerometer's block, so a new one is gathered first).
        #expect(n.waitFor(8) { n.cycle.requestReset(); usleep(50_000); return n.permit() }, "\(n.cycle.publishedSummary())")
    }

    /// Hazard (2, SIGTERM): the stop path joined a hung loop before writing the safe state. Now the
    /// safe state comes first, from the caller's thread, and the stop gives up on a hung loop.
    @Test func theStopPathDrivesSafeBeforeJoiningAHungLoop() throws {
        let n = try RealThreadNode()
        #expect(n.arm())
        n.cycle.watch.stallRequestMilliseconds.store(1500, ordering: .releasing)
        usleep(50_000)
        let t0 = SystemClock.monotonic()
        n.cycle.driveSafeState()
        #expect(!n.permit())
        #expect(!n.loop.stop(waitingAtMostNanoseconds: 300_000_000), "the loop was not hung?")
        #expect(SystemClock.monotonic().nanoseconds(since: t0) < 1_000_000_000)
        // The loop wakes from its hang into a stop: it keeps the outputs safe.
        usleep(1_600_000)
        #expect(!n.permit())
    }

    /// Hazard (9): the cycle's "now" was taken at its start, but the Modbus mailboxes are read after
    /// the I2C work, so a fresh Modbus value was often newer than "now", classified as from the
    /// future, and latched a trip. Real threads and clocks: the poller on its own thread every 20 ms,
    /// the loop at 1 kHz, the QM30's rule a trip rule; 6 s armed without a single fault. The
    /// channel's age bound is widened to 2 s: on a loaded CI machine a debug build's poller can
    /// miss 90 ms now and then, and a stale fault is not the hazard under test.
    @Test func freshModbusValuesAreNeverFromTheFutureOnRealThreads() throws {
        let n = try RealThreadNode(modbus: true) { text in
            text = text.replacing("poll_ms = 500\ntimeout_ms = 200", with: "poll_ms = 20\ntimeout_ms = 15")
            text += "\n[channels.\"qm30.z_velocity_rms\"]\nmax_age_ms = 2000\n"
            text = text.replacing("""
                name = "qm30-velocity-warn"
                channel = "qm30.z_velocity_rms"
                above = 2.8
                release = 2.5
                unit = "mm/s"
                action = "warn"
                output = "warn-lamp"
                on_fault = "warn"
                """, with: """
                name = "qm30-velocity-trip"
                channel = "qm30.z_velocity_rms"
                above = 4.5
                release = 4.0
                unit = "mm/s"
                action = "trip"
                output = "run-permit"
                """)
        }
        let rule = try #require(n.loaded.profile.rules.firstIndex { $0.name == "qm30-velocity-trip" })
        #expect(n.arm(), "\(n.cycle.publishedSummary())")
        var future = 0
        let end = SystemClock.monotonic().nanoseconds + 6_000_000_000
        while SystemClock.monotonic().nanoseconds < end {
            while let e = n.cycle.events.pop() {
                if e.kind == .fault && e.reason == FaultReason.timeInFuture.rawValue { future += 1 }
                if e.kind == .fault && e.rule == rule { Issue.record("qm30 rule faulted: \(FaultReason(rawValue: e.reason).map { "\($0)" } ?? "reason \(e.reason)")") }
            }
            usleep(10_000)
        }
        #expect(future == 0, "\(future) samples from the future")
        #expect(n.cycle.publishedSummary().state == .armed, "\(n.cycle.publishedSummary())")
    }

    /// Hazard (16): the proof test asked for resets for 3 s after its trip, which cleared every
    /// latched rule, including an e-stop opened meanwhile, and re-armed the machine by itself.
    @Test func theProofTestNeverReArmsAndAnEStopOpenedMeanwhileStaysLatched() throws {
        let n = try RealThreadNode(edit: RealThreadNode.withoutTachometer)
        #expect(n.arm())
        // The e-stop opens and closes again while the proof test runs.
        let chip = n.chip
        let technician = startThread {
            usleep(300_000)
            try? chip.drive("ESTOP_FB", to: false)
            usleep(100_000)
            try? chip.drive("ESTOP_FB", to: true)
        }
        let outcome = ProofTest(cycle: n.cycle, loaded: n.loaded).run(rule: "bearing-x-velocity-trip", confirmed: true)
        if case .success(let t) = technician { pthread_join(t, nil) }
        guard case .passed(_, _, let released) = outcome else { Issue.record("\(outcome)"); return }
        #expect(released == true)
        usleep(100_000)
        #expect(!n.permit(), "the proof test re-armed the machine")
        let estop = try #require(n.loaded.profile.rules.firstIndex { $0.name == "estop-open" })
        #expect(RuleStateCode(rawValue: n.cycle.ruleStates.read(estop)) == .latched, "the e-stop opened during the test was cleared")
    }

    /// Hazard (16): the proof test judged the trip by the level the loop commanded; an output whose
    /// line does not follow (a driver stage shorted) passed. It judges by the line read back now.
    @Test func theProofTestFailsWhenTheLineDoesNotFollow() throws {
        let n = try RealThreadNode { text in
            RealThreadNode.withoutTachometer(&text)
            // Without the feedback contact: the line itself is read back.
            text = text.replacing("feedback = { chip = \"sim\", line = \"RUN_PERMIT_FB\" }", with: "")
            text = text.replacing("feedback_ms = 50 ", with: "# ")
        }
        #expect(n.arm())
        try n.chip.stickOutput("RUN_PERMIT", at: true)
        let outcome = ProofTest(cycle: n.cycle, loaded: n.loaded).run(rule: "bearing-x-velocity-trip", confirmed: true)
        guard case .failed(_, let commandedOff) = outcome else { Issue.record("passed on a line that never dropped: \(outcome)"); return }
        #expect(commandedOff)
    }
}
