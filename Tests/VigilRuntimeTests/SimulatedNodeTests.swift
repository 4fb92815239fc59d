import Testing
import TestSupport
import VigilBase
import VigilBoard
import VigilInterlock
import VigilLoop
import VigilRuntime
import VigilSimulation
import VigilBoardSimulated
import VigilAgent
import Synchronization
import VigilFrames

/// The whole node cycle on the simulator board, stepped one period at a time on a manual clock:
/// the same drivers, interlock and outputs the agent runs, against register-level device models.
final class SimulatedNode {
    let loaded: LoadedProfile
    let clock = SimulationClock.manual()
    /// The Modbus thread's own time line, kept level with the loop's.
    let modbusClock = SimulationClock.manual()
    let board: SimulatedBoard
    let cycle: NodeCycle<SimulatedBoard>
    let workers: [ModbusWorker<SimulatedModbusClient>]
    let hwmon: HwmonWorker
    /// The loop body the agent runs (the cycle specialised for this board): every test steps the
    /// shipped call path.
    let body: NodeLoopBody<SimulatedBoard>
    var index: Int64 = 0
    let period: Int64 = 1_000_000

    init(profile: String = "simulator.toml", adapterClockHz: [String: Int] = [:], edit: ((inout String) -> Void)? = nil) throws {
        var text = TestPaths.readText(TestPaths.repositoryRoot + "/Boards/" + profile)!
        edit?(&text)
        loaded = try BoardProfileLoader.load(bytes: Array(text.utf8), path: profile)
        board = SimulatedBoard(loaded, clock: clock, modbusClock: modbusClock, adapterClockHz: adapterClockHz)
        let node = try NodeAssembly.assemble(on: board)
        cycle = node.cycle
        workers = node.modbusWorkers
        hwmon = node.hwmonWorker
        body = NodeLoopBody(node.cycle)
        cycle.startSensors()
    }

    func channel(_ name: String) -> Int { loaded.channels[name]!.id - 1 }
    func value(_ name: String) -> ChannelSample { cycle.sample(channel(name)) }
    var chip: SimulatedGPIOChip { board.chips["sim"]! }
    func output(_ line: String) -> Bool { (try? chip.physicalLevel(of: line)) ?? false }

    /// Runs `count` periods; Modbus is polled every 100 periods (its own thread in the agent).
    /// `figures` is what the loop tells each cycle about its own timing (nil: not yet published).
    func step(_ count: Int, modbus: Bool = true, figures: LoopFigures? = nil, deadlineBurst: Bool = false) {
        for _ in 0..<count {
            let now = clock.now
            body.cycle(CycleTiming(deadline: now, wake: now, index: index, isWarmUp: false, deadlineBurst: deadlineBurst, previousMetDeadline: true,
                                   figures: figures))
            index += 1
            if modbus && index % 100 == 0 {
                let lag = clock.now.nanoseconds(since: modbusClock.now)
                if lag > 0 { modbusClock.advance(byNanoseconds: lag) }
                workers.forEach { $0.pollOnce() }
                hwmon.pollOnce()
            }
            // The cycle's own bus time has already moved the clock; sleep to the next period.
            let next = now.nanoseconds + period
            if clock.now.nanoseconds < next { clock.advance(byNanoseconds: next - clock.now.nanoseconds) }
        }
    }

    /// Presses the local reset (restart prevention: the permissive needs one after start-up).
    func pressReset() {
        cycle.requestReset()
        step(1)
    }

    /// The simulated accelerometer behind sensor `name`.
    func accelerometer(_ name: String = "bearing") -> ADXL345Model { board.model(name, as: ADXL345Model.self)! }
}

@Suite(.serialized) struct SimulatedNodeTests {
    @Test func theNodeMeasuresTheMachineAndArmsAfterAReset() throws {
        let node = try SimulatedNode()
        node.step(2000)
        // Restart prevention: healthy data alone does not energize the permissive.
        #expect(node.output("RUN_PERMIT") == false)
        node.pressReset()
        #expect(node.output("RUN_PERMIT") == true, "states: \(node.cycle.interlockStates)")
        #expect(node.output("WARN_LAMP") == false)
        let v = node.value("bearing.x.velocity_rms")
        // 0.025 g at 24.67 Hz is 1.12 mm/s RMS; misalignment and the bearing tone add a little.
        #expect(v.quality.isGood && v.value > 0.9 && v.value < 1.6, "\(v)")
        #expect(abs(node.value("motor.temperature").value - 42) < 0.5)
        #expect(abs(node.value("shaft.rpm").value - 1480) < 1)
        #expect(node.value("estop.state").value == 1)
        let qm30 = node.value("qm30.x_velocity_rms")
        #expect(qm30.quality.isGood && abs(qm30.value - 1.12) < 0.01, "\(qm30)")
        // The heartbeat toggles every healthy cycle.
        let before = node.output("WD_HEARTBEAT")
        node.step(1)
        #expect(node.output("WD_HEARTBEAT") != before)
    }

    /// Issue 21 (2): the loop's own channels carry the loop's figures once it has published any
    /// (they read "no value, never" before: nothing wrote them).
    @Test func theLoopChannelsCarryTheLoopsFigures() throws {
        let node = try SimulatedNode()
        node.step(5)
        #expect(node.value("loop.lateness_p99_us").value.isNaN, "a value before the loop published any")
        node.step(5, figures: LoopFigures(latenessP99Microseconds: 87, overruns: 3))
        let lateness = node.value("loop.lateness_p99_us"), overruns = node.value("loop.overruns")
        #expect(lateness.value == 87 && lateness.quality.isEmpty, "\(lateness)")
        #expect(overruns.value == 3 && overruns.quality.isEmpty, "\(overruns)")
        #expect(lateness.time == node.cycle.sample(node.channel("interlock.state")).time)
    }

    @Test func anOpenEStopTripsWithinOnePeriodOfItsSample() throws {
        let node = try SimulatedNode()
        node.step(2000)
        node.pressReset()
        #expect(node.output("RUN_PERMIT"))
        let pressed = node.clock.now
        try node.chip.drive("ESTOP_FB", to: false)
        var crossing: MonotonicInstant?
        for _ in 0..<50 where node.output("RUN_PERMIT") {
            node.step(1)
            let s = node.value("estop.state")
            if crossing == nil && s.value == 0 { crossing = s.time }
        }
        #expect(node.output("RUN_PERMIT") == false)
        let dropped = try #require(try node.chip.lastOutputChange(of: "RUN_PERMIT"))
        let sample = try #require(crossing)
        // From the sample that crossed the limit to the output: inside that same cycle.
        let fromSample = dropped.nanoseconds(since: sample)
        #expect(fromSample >= 0 && fromSample <= 1_000_000 + 1_000_000, "\(fromSample) ns")
        // From the contact opening: the input's 5 ms debounce plus at most one period and the cycle.
        let fromContact = dropped.nanoseconds(since: pressed)
        #expect(fromContact <= 5_000_000 + 1_000_000 + 1_000_000, "\(fromContact) ns")
        // Closing the e-stop again does not restart the machine: the trip latches until a reset.
        try node.chip.drive("ESTOP_FB", to: true)
        node.step(50)
        #expect(node.output("RUN_PERMIT") == false)
        node.pressReset()
        #expect(node.output("RUN_PERMIT"))
    }

    @Test func anUnpluggedAccelerometerTripsTheMachine() throws {
        let node = try SimulatedNode()
        node.step(2000)
        node.pressReset()
        #expect(node.output("RUN_PERMIT"))
        node.board.buses["sensors"]!.inject(.unplugged, at: 0x53)
        node.step(10)
        #expect(node.value("bearing.x.velocity_rms").quality.contains(.commFault))
        #expect(node.output("RUN_PERMIT") == false)
        // The TMP102 on the same bus still answers: only the accelerometer's channels are faulty.
        #expect(node.value("motor.temperature").quality.isGood)
    }

    @Test func vibrationPastTheLimitTripsAndResetIsRefusedWhileItLasts() throws {
        let node = try SimulatedNode()
        node.step(2000)
        node.pressReset()
        #expect(node.output("RUN_PERMIT"))
        node.accelerometer().vibrationFactor = 6 // ≈ 6.7 mm/s: zone D
        node.step(4000)
        #expect(node.value("bearing.x.velocity_rms").value > 4.5)
        #expect(node.output("RUN_PERMIT") == false)
        #expect(node.output("WARN_LAMP") == true)
        var refused = false
        node.pressReset()
        while let e = node.cycle.events.pop() { if e.kind == .resetRefused { refused = true } }
        #expect(refused)
        #expect(node.output("RUN_PERMIT") == false)
    }

    @Test func aSilentModbusSensorOnlyWarnsByItsPolicy() throws {
        let node = try SimulatedNode()
        node.step(2000)
        node.pressReset()
        node.board.ports["rs485"]!.inject(.silent, unit: 1)
        node.step(3000)
        #expect(node.value("qm30.z_velocity_rms").quality.contains(.commFault))
        // on_fault = "warn": the lamp comes on, the machine keeps running.
        #expect(node.output("WARN_LAMP"))
        #expect(node.output("RUN_PERMIT"))
    }

    @Test func theLoopPublishesWhatItDidWithEachResetRequest() throws {
        let node = try SimulatedNode()
        node.step(1)
        // No rule has seen a healthy input yet: the reset is taken, the permissive stays off.
        let early = node.cycle.requestReset()
        #expect(node.cycle.resetOutcome(of: early) == nil, "answered before the loop ran")
        node.step(1)
        #expect(node.cycle.resetOutcome(of: early) == .notArmed)
        node.step(2000)
        let healthy = node.cycle.requestReset()
        node.step(1)
        #expect(node.cycle.resetOutcome(of: healthy) == .armed)
        #expect(node.output("RUN_PERMIT"))
        node.accelerometer().vibrationFactor = 6
        node.step(4000)
        let tripped = node.cycle.requestReset()
        node.step(1)
        #expect(node.cycle.resetOutcome(of: tripped) == .refused)
        #expect(node.cycle.publishedSummary().state == .tripped)
        #expect(node.cycle.publishedSummary().reset == .refused)
    }

    /// Order bands are computed against the shaft speed the profile names for that sensor
    /// (`rpm_channel`), not the first tachometer the node has.
    @Test func orderBandsFollowTheProfilesRPMChannel() throws {
        let node = try SimulatedNode { text in
            text = text.replacing("\"TACHO\", \"RS485_DE\"]", with: "\"TACHO\", \"RS485_DE\", \"AUX_TACHO\"]")
            text = text.replacing("bands = { mode = \"fixed\", count = 32, from_hz = 0, to_hz = 312 }",
                                  with: "bands = { mode = \"orders\", count = 4, rpm_channel = \"aux.rpm\" }")
            text = text.replacing("[[outputs]]\nname = \"run-permit\"", with: """
                [[sensors]]
                name = "aux"
                type = "tachometer"
                line = { chip = "sim", line = "AUX_TACHO" }
                pulses_per_revolution = 1
                max_rpm = 3600

                [[outputs]]
                name = "run-permit"
                """)
        }
        // The auxiliary shaft turns at half the fan's speed: the fan's 1× tone (24.67 Hz) is
        // its 2× order, in band 1 (1.5–2.5 orders); against the fan's own shaft it is band 0.
        try node.chip.setPulseTrain("AUX_TACHO", hz: 1480.0 / 60 / 2)
        node.step(4000)
        #expect(abs(node.value("aux.rpm").value - 740) < 1)
        let spectrum = node.cycle.spectra[0].read()
        #expect(spectrum.orderBands && spectrum.blocks > 0)
        let strongest = spectrum.bandRMSG.indices.max { spectrum.bandRMSG[$0] < spectrum.bandRMSG[$1] }
        #expect(strongest == 1, "bands \(spectrum.bandRMSG)")
    }
}

/// Issue 22 (15): the simulator's 4–20 mA oil-pressure loop through its ADS1115 model.
@Suite struct CurrentLoopNodeTests {
    @Test func aHealthyLoopReadsItsProcessValueAndABrokenOneTripsTheMachine() throws {
        let node = try SimulatedNode()
        node.step(2000)
        node.pressReset()
        #expect(node.output("RUN_PERMIT"))
        let current = node.value("oil-pressure.current"), value = node.value("oil-pressure.value")
        // The scenario's transmitter sits near mid-range: about 12 mA, 5 bar.
        #expect(current.quality.isGood && abs(current.value - 12) < 1.5, "\(current)")
        #expect(value.quality.isGood && abs(value.value - (current.value - 4) / 16 * 10) < 0.01, "\(value)")
        // The loop breaks (a cut wire: no current, 0 V across the shunt).
        let adc = try #require(node.board.model("oil-pressure", as: ADS1115Model.self))
        adc.inputVolts = { _ in [0, 0, 0, 0] }
        node.step(300)
        #expect(node.value("oil-pressure.value").quality.contains(.commFault))
        #expect(node.value("oil-pressure.current").value < 0.01)
        #expect(node.output("RUN_PERMIT") == false, "a broken loop left the machine running")
        // Restored, the machine may be reset again; low pressure (1 bar ≈ 5.6 mA) also trips.
        adc.inputVolts = { _ in [0.012 * 150, 0, 0, 0] } // 12 mA
        node.step(300)
        node.pressReset()
        #expect(node.output("RUN_PERMIT"))
        adc.inputVolts = { _ in [0.0052 * 150, 0, 0, 0] } // 5.2 mA = 0.75 bar
        node.step(300)
        #expect(node.value("oil-pressure.value").quality.isGood)
        #expect(node.output("RUN_PERMIT") == false, "low oil pressure left the machine running")
    }
}

/// Issue 22 (16): a sensor the kernel drives, through hwmon, in the node cycle.
@Suite struct HwmonNodeTests {
    @Test func aKernelDrivenSensorReadsFaultsWhenRemovedAndHealsWhenBack() throws {
        let node = try SimulatedNode(edit: { text in
            text = text.replacing("[[sensors]]\nname = \"qm30\"", with: """
                [[sensors]]
                name = "cabinet"
                type = "hwmon"
                device = "lm75"
                attribute = "temp1_input"
                poll_ms = 250

                [[sensors]]
                name = "qm30"
                """)
        })
        node.step(1000)
        let reading = node.value("cabinet.temperature")
        #expect(reading.quality.isGood && abs(reading.value - node.value("motor.temperature").value) < 0.5, "\(reading)")
        let input = try #require(node.board.hwmonInputs["lm75/temp1_input"])
        input.removed = true
        node.step(600) // the worker reads every 250 ms (polled every 100 periods here)
        #expect(node.value("cabinet.temperature").quality.contains(.commFault))
        input.removed = false
        node.step(1000)
        #expect(node.value("cabinet.temperature").quality.isGood)
    }

    /// The same through IIO (`type = "iio"`): the channel's micro-units arrive as volts, and a
    /// channel whose device goes away is a fault of its value.
    @Test func anIIOChannelReadsInItsUnitAndFaultsWhenRemoved() throws {
        let node = try SimulatedNode(edit: { text in
            text = text.replacing("[[sensors]]\nname = \"qm30\"", with: """
                [[sensors]]
                name = "supply"
                type = "iio"
                device = "ads1015"
                channel = "in_voltage0"
                poll_ms = 250

                [[sensors]]
                name = "qm30"
                """)
        })
        node.step(1000)
        let reading = node.value("supply.voltage")
        #expect(reading.quality.isGood && abs(reading.value - 1.0) < 1e-9, "\(reading)")
        let input = try #require(node.board.hwmonInputs["ads1015/in_voltage0"])
        input.value = { 900_125 }
        node.step(600)
        #expect(abs(node.value("supply.voltage").value - 0.900125) < 1e-9, "the fraction of a millivolt is kept")
        input.removed = true
        node.step(600)
        #expect(node.value("supply.voltage").quality.contains(.commFault))
    }
}

/// Issue 22 (11): the adapter's real clock, not the profile's clock_hz, decides whether the
/// sampling fits, and the node refuses to start, naming the bus, the clock and what to change.
@Suite struct I2CClockAtStartTests {
    @Test func anADXL345At800HzOnA100kHzAdapterIsRefusedAtStart() throws {
        var refusal = ""
        do {
            _ = try SimulatedNode(adapterClockHz: ["sensors": 100_000])
        } catch {
            refusal = "\(error)"
        }
        #expect(refusal.contains("i2c sensors: the adapter runs at 100 kHz (profile: clock_hz = 400000)"), "\(refusal)")
        #expect(refusal.contains("raise the adapter's clock in the device tree"), "\(refusal)")
        // At 400 kHz the same profile starts.
        _ = try SimulatedNode()
    }
}
