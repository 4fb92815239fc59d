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

/// Issue 17: the node around the interlock fails safe. Each test names the hazard it guards and
/// is written to fail on the node as it was before (stepped on a manual clock unless it needs
/// real threads).
@Suite(.serialized) struct FailSafeTests {
    /// Drains the cycle's event ring (the test is its only consumer).
    static func events(_ node: SimulatedNode) -> [InterlockEvent] {
        var all: [InterlockEvent] = []
        while let e = node.cycle.events.pop() { all.append(e) }
        return all
    }

    static func armed(_ edit: ((inout String) -> Void)? = nil) throws -> SimulatedNode {
        let node = try SimulatedNode(edit: edit)
        node.step(2000)
        node.pressReset()
        #expect(node.output("RUN_PERMIT"), "not armed: \(node.cycle.publishedSummary())")
        return node
    }

    // MARK: 1. outputs first

    /// A board whose I2C buses cannot be opened (an adapter missing at start-up).
    final class BoardWithoutI2C: NodeBoard {
        let inner: SimulatedBoard
        init(_ inner: SimulatedBoard) { self.inner = inner }
        var loaded: LoadedProfile { inner.loaded }
        func i2cBus(_ name: String) throws(NodeError) -> SimulatedI2CBus {
            throw NodeError.hardware(what: "i2c bus \(name)", HALError(.noDevice, code: 2, operation: "i2c open"))
        }
        func gpioChip(_ name: String) throws(NodeError) -> SimulatedGPIOChip { try inner.gpioChip(name) }
        func modbusClient(port name: String) throws(NodeError) -> SimulatedModbusClient { try inner.modbusClient(port: name) }
        func serialPort(device: String, baud: Int) throws(HALError) -> SimulatedSerialPort { try inner.serialPort(device: device, baud: baud) }
        var openChips: [(name: String, chip: SimulatedGPIOChip)] { inner.openChips }
        func i2cClockHz(_ name: String) -> Int? { inner.i2cClockHz(name) }
        func hwmonInput(device: String, attribute: String) throws(HALError) -> any HwmonInput { try inner.hwmonInput(device: device, attribute: attribute) }
        func monotonicNow() -> MonotonicInstant { inner.monotonicNow() }
        func wallClock() -> WallClockTime { inner.wallClock() }
        func clockSyncState() -> ClockSyncState { inner.clockSyncState() }
        func pollerTimestamp() -> Timestamp { inner.pollerTimestamp() }
    }

    /// Hazard (1): outputs were requested after every bus and sensor, so a start-up that failed
    /// early never took the run permit from whatever held it, and never drove it off.
    @Test func theOutputsAreDrivenSafeBeforeAnyBusIsOpened() throws {
        let text = TestPaths.readText(TestPaths.repositoryRoot + "/Boards/simulator.toml")!
        let loaded = try BoardProfileLoader.load(bytes: Array(text.utf8), path: "simulator.toml")
        let simulated = SimulatedBoard(loaded, clock: .manual())
        let chip = try simulated.gpioChip("sim")
        #expect(try chip.lastOutputChange(of: "RUN_PERMIT") == nil)
        #expect(throws: NodeError.self) { try NodeAssembly.assemble(on: BoardWithoutI2C(simulated)) }
        // The assembly failed at the first I2C bus, but the outputs had been requested (at their
        // safe level) before it.
        #expect(try chip.lastOutputChange(of: "RUN_PERMIT") != nil, "the run permit was never requested")
        #expect(try chip.physicalLevel(of: "RUN_PERMIT") == false)
    }

    // MARK: 2. the supervisor

    final class RecordingOutput: DigitalOutput {
        var writes: [Bool] = []
        func write(_ active: Bool) throws(HALError) { writes.append(active) }
        func readBack() throws(HALError) -> Bool { writes.last ?? false }
    }

    @Test func theSupervisorActsOncePerStallAndOnlyAfterTheBound() {
        let watch = CycleWatch()
        let out = RecordingOutput()
        let supervisor = LoopSupervisor(outputs: [out], watch: watch, maxStallNanoseconds: 10_000_000, priority: nil)
        var seen: Int64 = 0, acted = false
        // Not yet supervised (the loop is warming up).
        _ = supervisor.check(now: 1_000_000_000, seenCycleEnd: &seen, acted: &acted)
        #expect(out.writes.isEmpty)
        watch.lastCycleEnd.store(1_000_000_000, ordering: .releasing)
        let due = supervisor.check(now: 1_005_000_000, seenCycleEnd: &seen, acted: &acted)
        #expect(due == 1_010_000_000 && out.writes.isEmpty)
        _ = supervisor.check(now: 1_010_000_001, seenCycleEnd: &seen, acted: &acted)
        #expect(out.writes == [false] && watch.stalls.load(ordering: .acquiring) == 1)
        _ = supervisor.check(now: 1_030_000_000, seenCycleEnd: &seen, acted: &acted)
        #expect(out.writes == [false] && watch.stalls.load(ordering: .acquiring) == 1, "one stall, one action")
        // The loop moves again, then stalls a second time.
        watch.lastCycleEnd.store(1_040_000_000, ordering: .releasing)
        _ = supervisor.check(now: 1_045_000_000, seenCycleEnd: &seen, acted: &acted)
        _ = supervisor.check(now: 1_051_000_000, seenCycleEnd: &seen, acted: &acted)
        #expect(watch.stalls.load(ordering: .acquiring) == 2)
    }



    // MARK: 3. outputs that cannot be driven, feedback

    /// Hazard (3): a failed write was counted and otherwise ignored.
    @Test func aFailedOutputWriteIsALatchedSystemFault() throws {
        let node = try Self.armed()
        try node.chip.failWrites("WARN_LAMP", with: HALError(.busError, code: 5, operation: "gpio set value"))
        node.step(2)
        let faults = SystemFault(rawValue: node.cycle.systemFaultBits.load(ordering: .acquiring))
        #expect(faults.contains(.outputFault), "\(faults.names)")
        #expect(node.output("RUN_PERMIT") == false)
        try node.chip.failWrites("WARN_LAMP", with: nil)
        node.step(5)
        #expect(node.output("RUN_PERMIT") == false, "an output fault must hold the permit off until a reset")
        node.pressReset()
        #expect(node.output("RUN_PERMIT"))
    }

    /// Hazard (3): an output that "succeeds" but does not switch (a welded relay, an expander that
    /// lost power) went unnoticed. The relay's monitoring contact disagrees: latched output fault.
    @Test func aRelayWhoseFeedbackDisagreesIsALatchedOutputFault() throws {
        let node = try Self.armed()
        // The relay will not drop: its contact keeps reading on.
        try node.chip.stickOutput("RUN_PERMIT", at: true)
        try node.chip.drive("ESTOP_FB", to: false)
        node.step(30)
        #expect(SystemFault(rawValue: node.cycle.systemFaultBits.load(ordering: .acquiring)).isEmpty, "faulted within feedback_ms (50 ms)")
        node.step(40)
        #expect(SystemFault(rawValue: node.cycle.systemFaultBits.load(ordering: .acquiring)).contains(.outputFault))
        #expect(node.cycle.feedbackFaults.load(ordering: .relaxed) > 0)
        // The contact follows again and the e-stop is closed: still latched until a reset.
        try node.chip.stickOutput("RUN_PERMIT", at: nil)
        try node.chip.drive("ESTOP_FB", to: true)
        node.step(100)
        let latched = node.cycle.systemFaultLatched.load(ordering: .acquiring)
        #expect(latched)
        node.pressReset()
        #expect(node.output("RUN_PERMIT"))
    }

    // MARK: 4. the hardware watchdog

    /// Hazard (4): a failed keep-alive was added to a counter after the counter was read, and
    /// `SystemFault.watchdog` was never raised.
    @Test func aFailingWatchdogKeepAliveIsASystemFault() throws {
        let node = try Self.armed()
        // /dev/null takes the open but refuses WDIOC_KEEPALIVE (ENOTTY): a keep-alive that fails.
        node.cycle.attach(watchdog: try HardwareWatchdog(path: "/dev/null", timeoutSeconds: 10))
        node.step(3)
        #expect(SystemFault(rawValue: node.cycle.systemFaultBits.load(ordering: .acquiring)).contains(.watchdog))
        #expect(node.cycle.watchdogErrors.load(ordering: .relaxed) >= 2)
        #expect(node.output("RUN_PERMIT") == false)
    }

    // MARK: 5. a frozen accelerometer

    /// Hazard (5): after a supply dip the part sits in standby and its FIFO drains empty without an
    /// error; the node re-analysed the same block each interval and stamped it fresh and good.
    @Test func anAccelerometerThatStopsSamplingIsAFaultAndIsRestarted() throws {
        let node = try Self.armed()
        #expect(node.value("bearing.x.velocity_rms").quality.isGood)
        node.accelerometer().powerOnReset(at: node.clock.now)
        var faultedAfter: Int?
        for ms in 1...400 {
            node.step(1)
            if faultedAfter == nil && !node.value("bearing.x.velocity_rms").quality.isDisjoint(with: .unusable) { faultedAfter = ms }
        }
        let after = try #require(faultedAfter, "the frozen part's channels stayed good")
        #expect(after <= 250, "faulted only after \(after) ms")
        #expect(node.output("RUN_PERMIT") == false, "a trip rule on a frozen sensor must drop the permit")
        // The driver re-initialised the part: fresh blocks, good values again.
        node.step(3000)
        #expect(node.value("bearing.x.velocity_rms").quality.isGood, "\(node.value("bearing.x.velocity_rms"))")
        #expect(node.cycle.sensorsDown().isEmpty)
    }

    /// Hazard (5): a part that lost part of its configuration (DATA_FORMAT back to ±2 g, 10 bits)
    /// keeps sampling at the right rate but at the wrong scale. The periodic read-back catches it.
    @Test func anAccelerometerThatLostItsConfigurationIsRestarted() throws {
        let node = try Self.armed()
        let bus = try node.board.i2cBus("sensors")
        try bus.writeByte(address: 0x53, register: 0x31, value: 0x00)
        var faulted = false
        for _ in 0..<1200 {
            node.step(1)
            if !node.value("bearing.x.velocity_rms").quality.isDisjoint(with: .unusable) { faulted = true; break }
        }
        #expect(faulted, "the configuration loss went unnoticed")
        node.step(200)
        #expect(try bus.readByte(address: 0x53, register: 0x31) & 0x0B == 0x0B, "DATA_FORMAT not restored (full resolution, ±16 g)")
    }

    // MARK: 7. chattering safety contact

    /// Hazard (7): the e-stop contact chatters (1 ms open, 3 ms closed) faster than its 5 ms
    /// debounce: before, no level held long enough, so the input kept reading closed.
    @Test func aChatteringEStopTrips() throws {
        let node = try Self.armed()
        for _ in 0..<25 {
            try node.chip.drive("ESTOP_FB", to: false); node.step(1)
            try node.chip.drive("ESTOP_FB", to: true); node.step(3)
        }
        #expect(node.output("RUN_PERMIT") == false, "a chattering e-stop held the machine running")
    }

    // MARK: 11. one dead sensor

    /// Hazard (11): an unplugged accelerometer made every cycle a bus error (a node-wide burst), and
    /// start-up stopped at it, so later sensors were never configured and the node never armed.
    @Test func aDeadSensorFaultsItsOwnChannelsOnly() throws {
        var text = TestPaths.readText(TestPaths.repositoryRoot + "/Boards/simulator.toml")!
        // Only a warn rule watches it in this profile (its trip rules removed): the node may run without it.
        for rule in ["bearing-x-velocity-trip", "bearing-y-velocity-trip"] {
            let start = text.firstRange(of: "[[rules]]\nname = \"\(rule)\"")!
            let end = text[start.upperBound...].firstRange(of: "output = \"run-permit\"\n")!
            text.removeSubrange(start.lowerBound..<end.upperBound)
        }
        let loaded = try BoardProfileLoader.load(bytes: Array(text.utf8), path: "simulator.toml")
        let clock = SimulationClock.manual()
        let board = SimulatedBoard(loaded, clock: clock)
        let bus = try board.i2cBus("sensors")
        bus.inject(.unplugged, at: 0x53)
        let node = try NodeAssembly.assemble(on: board)
        let failures = node.cycle.startSensors()
        #expect(failures.count == 1 && failures.first?.description.contains("bearing") == true, "\(failures)")
        let motor = loaded.channels["motor.temperature"]!.id - 1
        let bearing = loaded.channels["bearing.x.velocity_rms"]!.id - 1
        func step(_ n: Int) {
            for _ in 0..<n {
                let now = clock.now
                node.cycle.cycle(CycleTiming(deadline: now, wake: now, index: 0, isWarmUp: false, deadlineBurst: false, previousMetDeadline: true))
                let next = now.nanoseconds + 1_000_000
                if clock.now.nanoseconds < next { clock.advance(byNanoseconds: next - clock.now.nanoseconds) }
            }
        }
        step(3000)
        #expect(node.cycle.sample(motor).quality.isGood, "the thermometer after the dead part was never started")
        #expect(!node.cycle.sample(bearing).quality.isGood)
        #expect(!SystemFault(rawValue: node.cycle.systemFaultBits.load(ordering: .acquiring)).contains(.busErrorBurst), "one dead part made a node-wide bus-error burst")
        node.cycle.requestReset()
        step(2)
        #expect(try board.chips["sim"]!.physicalLevel(of: "RUN_PERMIT"), "the node did not arm: \(node.cycle.publishedSummary())")
        #expect(node.cycle.sensorsDown().map(\.name) == ["bearing"])
        // Plugged back in: found again by the back-off retries, and measuring.
        bus.inject(nil, at: 0x53)
        step(35_000)
        #expect(node.cycle.sample(bearing).quality.isGood, "\(node.cycle.sample(bearing))")
        #expect(node.cycle.sensorsDown().isEmpty)
    }

    // MARK: 12. the heartbeat and a warn-only fault

    /// Hazard (12): the heartbeat stopped on a warn-only rule's fault, so with the external relay
    /// a silent warn-only Modbus sensor stopped the machine.
    @Test func aSilentWarnOnlyModbusSensorKeepsTheHeartbeatGoing() throws {
        let node = try Self.armed()
        try node.board.modbusClient(port: "rs485").inject(.silent, unit: 1)
        node.step(3000)
        #expect(!node.value("qm30.z_velocity_rms").quality.isDisjoint(with: .unusable), "the silent sensor is not faulted")
        #expect(node.output("WARN_LAMP"), "its warn rule's fault lights the warning lamp")
        #expect(node.output("RUN_PERMIT"))
        var toggles = 0
        var last = node.output("WD_HEARTBEAT")
        for _ in 0..<10 {
            node.step(1)
            if node.output("WD_HEARTBEAT") != last { toggles += 1 }
            last = node.output("WD_HEARTBEAT")
        }
        #expect(toggles == 10, "the heartbeat stopped on a warning")
    }

    // MARK: 13. a Modbus mailbox held mid-publish

    /// Hazard (13): the loop spun without limit on a mailbox whose writer was pre-empted
    /// mid-publish. Now it gives up after a bounded number of tries and keeps the previous value.
    @Test func aMailboxHeldMidPublishDoesNotHoldTheLoop() throws {
        let mailbox = Mailbox(ChannelSample(value: 1, quality: [], time: MonotonicInstant(nanoseconds: 5)))
        #expect(mailbox.read(attempts: 4)?.value == 1)
        mailbox.holdPublication(true)
        #expect(mailbox.read(attempts: 64) == nil)
        mailbox.holdPublication(false)
        #expect(mailbox.read(attempts: 4)?.value == 1)
    }

    // MARK: 9. Modbus values dated in the future


    // MARK: 16. the proof test



    // MARK: 17. who may reset

    /// Hazard (17): any rising edge of the reset input reset the interlock, so a shorted or held
    /// button, or a bounce, reset it. A press counts on its release, between 50 ms and 5 s.
    @Test func theButtonResetsOnlyOnTheReleaseOfAPressOfTheRightLength() throws {
        let node = try SimulatedNode()
        node.step(2000)
        func press(_ ms: Int) throws {
            try node.chip.drive("RESET_BTN", to: true)
            node.step(ms)
            try node.chip.drive("RESET_BTN", to: false)
            node.step(40) // the input's 20 ms debounce
        }
        try press(10)
        #expect(node.output("RUN_PERMIT") == false, "a 10 ms brush reset the interlock")
        try press(6000)
        #expect(node.output("RUN_PERMIT") == false, "a 6 s press (a shorted button) reset the interlock")
        try node.chip.drive("RESET_BTN", to: true)
        node.step(200)
        #expect(node.output("RUN_PERMIT") == false, "the press reset before its release")
        try node.chip.drive("RESET_BTN", to: false)
        node.step(40)
        #expect(node.output("RUN_PERMIT"), "a 200 ms press did not reset")
        let resets = Self.events(node).filter { $0.kind == .reset && $0.rule == -1 }
        #expect(resets.count == 1 && resets.first?.reason == ResetSource.button.code)
    }

    /// Hazard (17): the control socket could reset any node; a profile that allows only the button
    /// refuses it, and the refusal is an event naming the socket and its caller.
    @Test func aSocketResetIsRefusedWhenOnlyTheButtonMayReset() throws {
        let node = try SimulatedNode { $0 = $0.replacing("sources = [\"button\", \"socket\"]", with: "sources = [\"button\"]") }
        node.step(2000)
        let request = node.cycle.requestReset(uid: 1000, pid: 4242)
        node.step(1)
        #expect(node.cycle.resetOutcome(of: request) == .sourceNotAllowed)
        #expect(node.output("RUN_PERMIT") == false)
        let refused = Self.events(node).filter { $0.kind == .resetRefused }
        #expect(refused.count == 1)
        #expect(refused.first?.reason == ResetSource.socket.code && refused.first?.value == 1000 && refused.first?.limit == 4242)
    }

    @Test func everyResetIsOneEventWithItsSourceAndCaller() throws {
        let node = try SimulatedNode()
        node.step(2000)
        _ = Self.events(node)
        let request = node.cycle.requestReset(uid: 1000, pid: 4242)
        node.step(1)
        #expect(node.cycle.resetOutcome(of: request) == .armed)
        let wide = Self.events(node).filter { $0.rule == -1 && ($0.kind == .reset || $0.kind == .resetRefused) }
        #expect(wide.count == 1)
        #expect(wide.first?.kind == .reset && wide.first?.reason == ResetSource.socket.code && wide.first?.value == 1000 && wide.first?.limit == 4242)
    }
}
