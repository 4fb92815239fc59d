import Synchronization
import Testing
import TestSupport
import VigilBase
import VigilBoard
import VigilAgent
import VigilBoardSimulated
import VigilFrames
import VigilHAL
import VigilInterlock
import VigilLoop
import VigilRuntime
import VigilSimulation

/// Issue 22 (13): the whole node with its interlock outputs and reset button on a Revolution Pi
/// Connect 4's own I/O, piControl's process image (modelled from the driver's source), and its
/// sensors on the simulated board. The node is assembled and stepped exactly as the agent runs it.
@Suite(.serialized) struct PiControlNodeTests {
    static let profile = """
    schema = 1
    [board]
    name = "picontrol-bench"
    models = []
    backend = "simulated"
    [asset]
    site = "s"
    area = "a"
    line = "l"
    machine = "m"
    node = "n"
    [gpio.x2]
    label = "piControl"
    lines = ["RevPiOutput.0", "RevPiLED.0", "RevPiLED.1", "RevPiStatus.6"]
    [i2c.bus]
    adapter = "sim-i2c"
    clock_hz = 400000
    [[sensors]]
    name = "motor"
    type = "tmp102"
    bus = "bus"
    address = 0x48
    poll_ms = 500
    [[outputs]]
    name = "run-permit"
    line = { chip = "x2", line = "RevPiOutput.0" }
    kind = "permissive"
    [[outputs]]
    name = "fault-led"
    line = { chip = "x2", line = "RevPiLED.0" }
    kind = "fault_led"
    [reset]
    line = { chip = "x2", line = "RevPiStatus.6" }
    active_low = false
    sources = ["button", "socket"]
    [[rules]]
    name = "motor-overtemperature"
    channel = "motor.temperature"
    above = 85
    release = 80
    unit = "degC"
    action = "trip"
    output = "run-permit"
    [watchdog]
    device = "/dev/watchdog"
    """

    /// The simulated board, except that every GPIO chip is piControl's image (one handle, with
    /// the output watchdog the Connect 4 profile arms).
    final class PiControlBoard: NodeBoard {
        let inner: SimulatedBoard
        let model: PiControlModel
        var chip: PiControlChip<PiControlModel.Handle>?
        init(_ inner: SimulatedBoard) {
            self.inner = inner
            model = PiControlModel.connect4(clock: inner.clock)
        }
        var loaded: LoadedProfile { inner.loaded }
        func i2cBus(_ name: String) throws(NodeError) -> SimulatedI2CBus { try inner.i2cBus(name) }
        func gpioChip(_ name: String) throws(NodeError) -> PiControlChip<PiControlModel.Handle> {
            if let chip { return chip }
            let c = PiControlChip(image: model.open(), name: name, outputWatchdogMilliseconds: 100)
            chip = c
            return c
        }
        func modbusClient(port name: String) throws(NodeError) -> SimulatedModbusClient { try inner.modbusClient(port: name) }
        func serialPort(device: String, baud: Int) throws(HALError) -> SimulatedSerialPort { try inner.serialPort(device: device, baud: baud) }
        var openChips: [(name: String, chip: PiControlChip<PiControlModel.Handle>)] { chip.map { [("x2", $0)] } ?? [] }
        func i2cClockHz(_ name: String) -> Int? { inner.i2cClockHz(name) }
        func hwmonInput(device: String, attribute: String) throws(HALError) -> any HwmonInput { try inner.hwmonInput(device: device, attribute: attribute) }
        func monotonicNow() -> MonotonicInstant { inner.monotonicNow() }
        func wallClock() -> WallClockTime { inner.wallClock() }
        func clockSyncState() -> ClockSyncState { inner.clockSyncState() }
        func pollerTimestamp() -> Timestamp { inner.pollerTimestamp() }
    }

    final class Bench {
        let clock = SimulationClock.manual()
        let board: PiControlBoard
        let body: NodeLoopBody<PiControlBoard>
        let cycle: NodeCycle<PiControlBoard>
        var index: Int64 = 0
        var model: PiControlModel { board.model }

        init() throws {
            let loaded = try BoardProfileLoader.load(bytes: Array(PiControlNodeTests.profile.utf8), path: "picontrol-bench.toml")
            board = PiControlBoard(SimulatedBoard(loaded, clock: clock))
            let node = try NodeAssembly.assemble(on: board)
            cycle = node.cycle
            body = NodeLoopBody(node.cycle)
            cycle.startSensors()
        }

        /// `count` loop periods of 1 ms; piControl's I/O cycle runs every 5 ms beside them.
        func step(_ count: Int, loopRuns: Bool = true) {
            for _ in 0..<count {
                let now = clock.now
                if loopRuns {
                    body.cycle(CycleTiming(deadline: now, wake: now, index: index, isWarmUp: false, deadlineBurst: false, previousMetDeadline: true, figures: nil))
                    index += 1
                }
                let next = now.nanoseconds + 1_000_000
                if clock.now.nanoseconds < next { clock.advance(byNanoseconds: next - clock.now.nanoseconds) }
                if clock.now.nanoseconds / 1_000_000 % 5 == 0 { model.runCycle() }
            }
        }

        /// The X2 reset button pressed for 200 ms and released.
        func pressButton() {
            model.x2InputPinHigh = false
            step(200)
            model.x2InputPinHigh = true
            step(100)
        }
    }

    @Test func theX2ButtonArmsTheRelayAndATripDropsIt() throws {
        let bench = try Bench()
        bench.step(1500)
        #expect(!bench.model.x2Relay, "restart prevention: no relay before a reset")
        bench.pressButton()
        #expect(bench.model.x2Relay, "states: \(bench.cycle.interlockStates) \(bench.cycle.publishedSummary()) status \(bench.model.byte(at: 0))")
        // Held for 3 s with the loop writing every period: the driver's watchdog never fires.
        bench.step(3000)
        #expect(bench.model.x2Relay && bench.model.watchdogExpiries == 0)
        // The motor overheats: the trip reaches the relay within the TMP102's poll and one I/O cycle.
        bench.board.inner.model("motor", as: TMP102Model.self)!.offsetC = 60
        var dropped = 0
        for ms in 1...1500 where dropped == 0 {
            bench.step(1)
            if !bench.model.x2Relay { dropped = ms }
        }
        #expect(dropped > 0 && dropped <= 760, "relay dropped after \(dropped) ms")
        bench.board.inner.model("motor", as: TMP102Model.self)!.offsetC = 0
        bench.step(1500)
        #expect(!bench.model.x2Relay, "a trip holds until a reset")
        bench.pressButton()
        #expect(bench.model.x2Relay)
    }

    /// The loop freezes (a hung vigil): nothing user space does drops the relay, but the driver's
    /// output watchdog, armed by vigil, does, about 100 ms after the last write.
    @Test func aFrozenLoopLosesTheRelayToPiControlsWatchdog() throws {
        let bench = try Bench()
        bench.step(1500)
        bench.pressButton()
        #expect(bench.model.x2Relay)
        var dropped = 0
        for ms in 1...400 where dropped == 0 {
            bench.step(1, loopRuns: false)
            if !bench.model.x2Relay { dropped = ms }
        }
        // The loop's last write was 1 ms before the first frozen step ended.
        #expect(dropped + 1 > 100 && dropped + 1 <= 106, "relay dropped \(dropped + 1) ms after the last write")
        #expect(bench.model.watchdogExpiries == 1)
    }

    /// vigil dies: its handle closes and the driver zeroes the outputs itself.
    @Test func aDeadAgentLosesTheRelayWhenItsHandleCloses() throws {
        let bench = try Bench()
        bench.step(1500)
        bench.pressButton()
        #expect(bench.model.x2Relay)
        bench.board.chip!.image.close()
        bench.step(5, loopRuns: false)
        #expect(!bench.model.x2Relay)
    }

    /// A PiCtory reset while the node runs: the writes fail (EAGAIN), the node latches an output
    /// fault, and the relay stays off after the driver is back until someone resets.
    @Test func aDriverResetIsALatchedOutputFault() throws {
        let bench = try Bench()
        bench.step(1500)
        bench.pressButton()
        #expect(bench.model.x2Relay)
        bench.model.running = false
        bench.step(10)
        let faults = SystemFault(rawValue: bench.cycle.systemFaultBits.load(ordering: .acquiring))
        #expect(faults.contains(.outputFault), "\(faults.names) write errors \(bench.cycle.outputWriteErrors.load(ordering: .relaxed))")
        bench.model.running = true
        bench.step(500)
        let latched = bench.cycle.systemFaultLatched.load(ordering: .acquiring)
        #expect(latched)
        #expect(!bench.model.x2Relay)
        #expect(bench.model.byte(at: 11) & 0x01 == 0x01, "the fault LED (A1 red) is lit")
        bench.pressButton()
        #expect(bench.model.x2Relay)
    }
}
