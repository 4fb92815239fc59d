import Testing
import VigilBase
import VigilDrivers
import VigilHAL
import VigilSimulation

func stamp(_ clock: SimulationClock) -> Timestamp {
    Timestamp(monotonic: clock.now, wallClock: WallClockTime(microsecondsSinceEpoch: clock.now.nanoseconds / 1000), clockSync: .synchronized)
}

/// TMP102, debounced digital inputs and the tachometer against their simulated devices.
@Suite struct SlowSensorDriverTests {
    let clock = SimulationClock.manual()

    @Test func tmp102ReadsTheScenarioTemperatureAtItsConversionRate() throws {
        let scenario = MachineScenario.testMachine(temperatureC: 42, temperatureDriftCPerMinute: 60) // 1 °C per second
        let bus = SimulatedI2CBus(name: "sim-i2c", clock: clock)
        let model = TMP102Model(scenario: scenario, origin: clock.now)
        bus.attach(model, at: 0x48)
        let sensor = TMP102Driver(bus: bus)
        try sensor.start()
        let first = try sensor.readCelsius()
        #expect(abs(first - 42) <= 0.0625)
        // 100 ms later the part has not converted again (4 Hz): the same value.
        clock.advance(byNanoseconds: 100_000_000)
        #expect(try sensor.readCelsius() == first)
        // After a conversion period it has: about 0.25 °C warmer.
        clock.advance(byNanoseconds: 200_000_000)
        let second = try sensor.readCelsius()
        #expect(abs(second - first - 0.3) <= 0.0625 * 2, "\(first) → \(second)")
        model.offsetC = 50
        clock.advance(byNanoseconds: 300_000_000)
        #expect(try sensor.readCelsius() > 90)
    }

    @Test func tmp102FaultsAreTyped() throws {
        let bus = SimulatedI2CBus(name: "sim-i2c", clock: clock)
        bus.attach(TMP102Model(scenario: MachineScenario.testMachine(), origin: clock.now), at: 0x48)
        let sensor = TMP102Driver(bus: bus)
        try sensor.start()
        bus.inject(.unplugged, at: 0x48)
        #expect { try sensor.readCelsius() } throws: { ($0 as? HALError)?.kind == .nack }
        bus.inject(.garbage, at: 0x48)
        var bad = 0
        for _ in 0..<40 {
            do { _ = try sensor.readCelsius() } catch { bad += 1; #expect(error.kind == .badData) }
        }
        // Nonzero low nibble (15 in 16 cases) or an impossible temperature.
        #expect(bad >= 30)
    }

    @Test func tmp102IdentifyRejectsAnAccelerometer() throws {
        let bus = SimulatedI2CBus(name: "sim-i2c", clock: clock)
        bus.attach(ADXL345Model(scenario: MachineScenario.testMachine(), origin: clock.now, seed: 1), at: 0x48)
        #expect { try TMP102Driver(bus: bus).start() } throws: { ($0 as? HALError)?.kind == .badData }
    }

    @Test func debouncedInputIgnoresBounceAndFollowsAHeldLevel() throws {
        let chip = SimulatedGPIOChip(label: "sim", lineNames: ["DOOR"], clock: clock)
        let line = try chip.requestInput(offset: 0, consumer: "vigil", settings: InputLineSettings(bias: .pullDown))
        let door = DebouncedInput(input: line, debounceNanoseconds: 20_000_000)
        #expect(door.sample(at: stamp(clock)).quality == .noValue) // not yet held for 20 ms
        clock.advance(byNanoseconds: 20_000_000)
        #expect(door.sample(at: stamp(clock)).value == 0)
        // 5 ms spikes never get through.
        for _ in 0..<5 {
            try chip.drive("DOOR", to: true)
            clock.advance(byNanoseconds: 5_000_000)
            #expect(door.sample(at: stamp(clock)).value == 0)
            try chip.drive("DOOR", to: false)
            clock.advance(byNanoseconds: 5_000_000)
            #expect(door.sample(at: stamp(clock)).value == 0)
        }
        try chip.drive("DOOR", to: true)
        for _ in 0..<3 { clock.advance(byNanoseconds: 10_000_000); _ = door.sample(at: stamp(clock)) }
        #expect(door.sample(at: stamp(clock)).value == 1)
    }

    @Test func activeLowInputsAreInverted() throws {
        let chip = SimulatedGPIOChip(label: "sim", lineNames: ["ESTOP"], clock: clock)
        let line = try chip.requestInput(offset: 0, consumer: "vigil", settings: InputLineSettings(activeLow: true, bias: .pullUp))
        #expect(try line.read() == false) // pulled high, active-low: inactive
        try chip.drive("ESTOP", to: false)
        #expect(try line.read() == true)
    }

    @Test func aRequestedLineIsBusyForOthersAndFreedWhenReleased() throws {
        let chip = SimulatedGPIOChip(label: "sim", lineNames: ["RUN"], clock: clock)
        var output: SimulatedGPIOLine? = try chip.requestOutput(offset: 0, consumer: "vigil", settings: OutputLineSettings(initialValue: true))
        #expect(try chip.physicalLevel(of: "RUN"))
        #expect { try chip.requestInput(offset: 0, consumer: "other", settings: .init()) } throws: { ($0 as? HALError)?.kind == .busy }
        _ = output
        output = nil
        // Released, the line floats to its pull (default down): de-energized.
        #expect(try chip.physicalLevel(of: "RUN") == false)
        #expect(try chip.consumer(of: "RUN") == nil)
    }

    @Test func tachometerMeasuresShaftSpeedFromEdgeTimestamps() throws {
        let chip = SimulatedGPIOChip(label: "sim", lineNames: ["TACHO"], clock: clock)
        let line = try chip.requestInput(offset: 0, consumer: "vigil", settings: InputLineSettings(edges: .rising))
        let tacho = Tachometer(source: line, pulsesPerRevolution: 1, maxRPM: 3600, stallNanoseconds: 2_000_000_000, mayStandStill: true)
        try chip.setPulseTrain("TACHO", hz: 1480.0 / 60)
        var last = Reading(value: .nan, quality: .noValue, time: .zero)
        // Sampled every 7 ms (not a multiple of the pulse period): the reading comes from the
        // edges' own timestamps, so it does not jitter with the sampling.
        for _ in 0..<300 {
            clock.advance(byNanoseconds: 7_000_000)
            last = tacho.sample(at: stamp(clock))
        }
        #expect(last.quality.isGood)
        #expect(abs(last.value - 1480) < 0.5, "rpm \(last.value)")
        // The shaft stops on a machine that may stand still: after the stall time 0 rpm, a valid value.
        try chip.setPulseTrain("TACHO", hz: 0)
        clock.advance(byNanoseconds: 2_100_000_000)
        let stopped = tacho.sample(at: stamp(clock))
        #expect(stopped.value == 0 && stopped.quality.isGood)
    }

    /// Hazard (issue 17, 6): between 1.5× and 2× max_rpm the old driver dropped every other edge as
    /// bounce and read half the speed with good quality, so an overspeed never tripped.
    @Test func aShaftAboveMaxRPMReadsOutOfRangeNeverAHalfSpeed() throws {
        let chip = SimulatedGPIOChip(label: "sim", lineNames: ["TACHO"], clock: clock)
        let line = try chip.requestInput(offset: 0, consumer: "vigil", settings: InputLineSettings(edges: .rising))
        let tacho = Tachometer(source: line, pulsesPerRevolution: 1, maxRPM: 4000, stallNanoseconds: 1_000_000_000, mayStandStill: true)
        try chip.setPulseTrain("TACHO", hz: 7000.0 / 60) // 1.75 × max_rpm
        var readings: [Reading] = []
        for _ in 0..<200 {
            clock.advance(byNanoseconds: 5_000_000)
            readings.append(tacho.sample(at: stamp(clock)))
        }
        let valued = readings.filter { !$0.value.isNaN }
        #expect(!valued.isEmpty)
        for r in valued {
            #expect(r.quality.contains(.outOfRange), "read \(r.value) rpm as \(r.quality.summary)")
            #expect(r.value > 4000, "an overspeed read as \(r.value) rpm")
        }
        // Back below max_rpm: one revolution of plausible pulses and the reading is good again.
        try chip.setPulseTrain("TACHO", hz: 3000.0 / 60)
        for _ in 0..<100 { clock.advance(byNanoseconds: 5_000_000); _ = tacho.sample(at: stamp(clock)) }
        let back = tacho.sample(at: stamp(clock))
        #expect(back.quality.isGood && abs(back.value - 3000) < 1, "rpm \(back.value) \(back.quality.summary)")
    }

    @Test func aBounceIsAnImplausibleSpeedForOneRevolutionNotALowerSpeed() throws {
        let chip = SimulatedGPIOChip(label: "sim", lineNames: ["TACHO"], clock: clock)
        let line = try chip.requestInput(offset: 0, consumer: "vigil", settings: InputLineSettings(edges: .rising))
        let tacho = Tachometer(source: line, pulsesPerRevolution: 1, maxRPM: 3000, stallNanoseconds: 1_000_000_000, mayStandStill: true)
        func mark(bounce: Bool) throws {
            try chip.drive("TACHO", to: true); clock.advance(byNanoseconds: 100_000)
            try chip.drive("TACHO", to: false); clock.advance(byNanoseconds: 200_000)
            if bounce {
                try chip.drive("TACHO", to: true); clock.advance(byNanoseconds: 100_000)
                try chip.drive("TACHO", to: false); clock.advance(byNanoseconds: 49_600_000)
            } else {
                clock.advance(byNanoseconds: 49_700_000)
            }
        }
        for _ in 0..<5 { try mark(bounce: false); _ = tacho.sample(at: stamp(clock)) }
        #expect(abs(tacho.sample(at: stamp(clock)).value - 1200) < 1)
        try mark(bounce: true)
        let bounced = tacho.sample(at: stamp(clock))
        #expect(bounced.quality.contains(.outOfRange) && bounced.value > 3000, "rpm \(bounced.value) \(bounced.quality.summary)")
        #expect(tacho.implausibleIntervals == 1)
        for _ in 0..<3 { try mark(bounce: false); _ = tacho.sample(at: stamp(clock)) }
        let r = tacho.sample(at: stamp(clock))
        #expect(r.quality.isGood && abs(r.value - 1200) < 1, "rpm \(r.value)")
    }

    /// Hazard (issue 17, 6): a tachometer that stopped pulsing read 0 rpm, good, so a broken sensor
    /// passed for a machine at rest. Unless the profile says the machine may stand still, it is stale.
    @Test func aStoppedTachometerIsStaleUnlessTheMachineMayStandStill() throws {
        for mayStandStill in [false, true] {
            let chip = SimulatedGPIOChip(label: "sim", lineNames: ["TACHO"], clock: clock)
            let line = try chip.requestInput(offset: 0, consumer: "vigil", settings: InputLineSettings(edges: .rising))
            let tacho = Tachometer(source: line, pulsesPerRevolution: 1, maxRPM: 3600, stallNanoseconds: 500_000_000, mayStandStill: mayStandStill)
            try chip.setPulseTrain("TACHO", hz: 20)
            for _ in 0..<50 { clock.advance(byNanoseconds: 10_000_000); _ = tacho.sample(at: stamp(clock)) }
            #expect(tacho.sample(at: stamp(clock)).quality.isGood)
            try chip.setPulseTrain("TACHO", hz: 0)
            clock.advance(byNanoseconds: 600_000_000)
            let r = tacho.sample(at: stamp(clock))
            #expect(r.value == 0)
            #expect(r.quality.contains(.stale) == !mayStandStill, "may_stand_still = \(mayStandStill): \(r.quality.summary)")
        }
    }

    @Test func tachometerWithoutAnyPulseIsUnknownUntilTheStallTime() throws {
        let chip = SimulatedGPIOChip(label: "sim", lineNames: ["TACHO"], clock: clock)
        let line = try chip.requestInput(offset: 0, consumer: "vigil", settings: InputLineSettings(edges: .rising))
        let tacho = Tachometer(source: line, pulsesPerRevolution: 2, maxRPM: 3000, stallNanoseconds: 500_000_000, mayStandStill: true)
        #expect(tacho.sample(at: stamp(clock)).quality == .noValue)
        clock.advance(byNanoseconds: 600_000_000)
        #expect(tacho.sample(at: stamp(clock)).value == 0)
    }

    /// Hazard (issue 17, 7): a contact chattering faster than the debounce held "closed" forever,
    /// because no level ever lasted long enough to count. The change towards the trip side now
    /// counts at once; only the return to healthy is debounced.
    @Test func aChatteringSafetyContactReadsOpenNotClosed() throws {
        let chip = SimulatedGPIOChip(label: "sim", lineNames: ["ESTOP"], clock: clock)
        try chip.drive("ESTOP", to: true)
        let line = try chip.requestInput(offset: 0, consumer: "vigil", settings: InputLineSettings())
        // Healthy is closed (1); a rule trips below 1: the inactive side counts at once.
        let estop = DebouncedInput(input: line, towardsActive: 20_000_000, towardsInactive: 0)
        _ = estop.sample(at: stamp(clock))
        clock.advance(byNanoseconds: 25_000_000)
        #expect(estop.sample(at: stamp(clock)).value == 1)
        var sawOpen = false
        for _ in 0..<20 {
            try chip.drive("ESTOP", to: false); clock.advance(byNanoseconds: 1_000_000)
            if estop.sample(at: stamp(clock)).value == 0 { sawOpen = true }
            try chip.drive("ESTOP", to: true); clock.advance(byNanoseconds: 3_000_000)
            #expect(estop.sample(at: stamp(clock)).value == 0, "a chattering contact read closed")
        }
        #expect(sawOpen)
        // Closed and quiet for the debounce time: healthy again.
        clock.advance(byNanoseconds: 25_000_000)
        #expect(estop.sample(at: stamp(clock)).value == 1)
    }
}
