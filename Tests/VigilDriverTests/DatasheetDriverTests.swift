import Testing
import VigilBase
import VigilBoard
import VigilDrivers
import VigilHAL
import VigilParts
import VigilSimulation

/// Issue 22, points 1–6: the accelerometer drivers against models written from the datasheets.
/// Each test names the datasheet behaviour it holds the driver to, and failed on the drivers as
/// they were (which shared the models' wrong assumptions).
@Suite struct DatasheetDriverTests {
    let clock = SimulationClock.manual()

    func bus() -> SimulatedI2CBus { SimulatedI2CBus(name: "sim-i2c", clock: clock, clockHz: 400_000) }

    func drain(_ sensor: AccelerometerDriver<SimulatedI2CBus>) throws(HALError) -> ([AccelerationSample], FIFODrain) {
        var buffer = [AccelerationSample](repeating: .zero, count: sensor.maximumWaitingSamples)
        let d = try buffer.withUnsafeMutableBufferPointer { (b) throws(HALError) in try sensor.drain(into: b) }
        return (Array(buffer[0..<d.count]), d)
    }

    /// (1) FIFO_STATUS: "a maximum of 33 entries available at any given time because an additional
    /// entry is available at the output filter". The driver threw on more than 32 and the sensor
    /// stayed faulted after one long stall.
    @Test func adxl345ReadsAll33EntriesOfAFullFIFO() throws {
        let b = bus()
        let model = ADXL345Model(scenario: .testMachine(), origin: clock.now, seed: 1)
        b.attach(model, at: 0x53)
        let sensor = try ADXL345Driver(bus: b, sampleRateHz: 800, rangeG: 16)
        try sensor.start()
        clock.advance(byNanoseconds: 200_000_000) // 160 samples due
        #expect(try b.readByte(address: 0x53, register: ADXL345.Register.fifoStatus) & 0x3F == 33)
        let (samples, d) = try drain(sensor)
        #expect(samples.count == 33 && d.filled)
        clock.advance(byNanoseconds: 5_000_000)
        let (next, _) = try drain(sensor)
        // Reading 33 samples takes 6.8 ms of bus time at 400 kHz: what arrived meanwhile, and no more.
        #expect(next.count <= 12, "the FIFO kept \(next.count) after being read empty")
    }

    /// (2) "Data Formatting of Upper Data Rates": at 1600 and 3200 Hz the LSB is always 0 in full
    /// resolution, so a positive clip reads 4094 at ±16 g, never 4095; the old test (`== limit − 1`)
    /// never fired there.
    @Test func adxl345FindsAPositiveClipAtTheUpperRates() throws {
        for rate in [3200.0, 800.0] {
            let b = bus()
            let model = ADXL345Model(scenario: .testMachine(noiseG: 0), origin: clock.now, seed: 1)
            model.vibrationFactor = 2000 // 50 g of unbalance: far past ±16 g
            b.attach(model, at: 0x53)
            let sensor = try ADXL345Driver(bus: b, sampleRateHz: rate, rangeG: 16)
            try sensor.start()
            clock.advance(byNanoseconds: 30_000_000)
            let (samples, d) = try drain(sensor)
            #expect(d.clipped, "\(rate) Hz: no clip found in \(samples.prefix(4))")
            if rate >= 1600 { #expect(samples.allSatisfy { $0.x & 1 == 0 }, "the LSB must be 0 at \(rate) Hz") }
        }
    }

    /// (2) The rates the datasheet allows on I2C, and the clock each needs.
    @Test func adxl345RatesOnI2CFollowTheDatasheet() {
        #expect(ADXL345.minimumI2CClockHz(sampleRateHz: 3200) == nil)
        #expect(ADXL345.minimumI2CClockHz(sampleRateHz: 1600) == nil)
        #expect(ADXL345.minimumI2CClockHz(sampleRateHz: 800) == 400_000)
        #expect(ADXL345.minimumI2CClockHz(sampleRateHz: 200) == 100_000)
        #expect(ADXL345.defaultSampleRateHz == 800)
    }

    /// (3) Section 3.3: the LIS3DH FIFO holds the 10 most significant bits; its positive full
    /// scale is 511 digits, and at ±16 g (48 mg per step) a quiet machine reads the same sample for
    /// long: that is not a stuck part.
    @Test func lis3dhFIFOIsTenBitsAndAQuietMachineIsNotAStuckPart() throws {
        let b = bus()
        let quiet = MachineScenario(SimulationSpec(seed: 2, shaftRPM: 0, unbalanceG: 0, misalignmentG: 0, bearingDefectHz: 87, bearingDefectG: 0,
                                                   noiseG: 0.0005, temperatureC: 25, temperatureDriftCPerMinute: 0, rampStartSeconds: 0,
                                                   rampDurationSeconds: 0, rampFactor: 1))
        b.attach(LIS3DHModel(scenario: quiet, origin: clock.now, seed: 5), at: 0x18)
        let sensor = try LIS3DHDriver(bus: b, sampleRateHz: 1344, rangeG: 16)
        try sensor.start()
        var all: [AccelerationSample] = []
        for _ in 0..<400 {
            clock.advance(byNanoseconds: 5_000_000)
            all += try drain(sensor).0 // throws "stuck output" if the detector misjudges the part
        }
        #expect(all.count > 2500)
        // 1 g on z at 48 mg per step, and well under one step of noise on every axis: the same
        // sample for hundreds of samples in a row.
        #expect(Set(all.map(\.x)).count == 1 && Set(all.map(\.z)).count == 1, "\(Set(all.map(\.x))) \(Set(all.map(\.z)))")
        #expect(LIS3DH.defaultRangeG == 4)

        let loud = bus()
        let model = LIS3DHModel(scenario: .testMachine(noiseG: 0), origin: clock.now, seed: 5)
        model.vibrationFactor = 1000 // 25 g: past ±16 g
        loud.attach(model, at: 0x18)
        let clipping = try LIS3DHDriver(bus: loud, sampleRateHz: 1344, rangeG: 16)
        try clipping.start()
        clock.advance(byNanoseconds: 20_000_000)
        let (samples, d) = try drain(clipping)
        #expect(d.clipped, "no clip in \(samples.prefix(3))")
        #expect(samples.map(\.x).max() == 511)
    }

    /// (4) Both datasheets: passing through bypass mode resets the FIFO. Without it a restart let
    /// samples from before it join the new ones in one block.
    @Test(arguments: ["adxl345", "lis3dh"])
    func aRestartBeginsWithAnEmptyFIFO(part: String) throws {
        let b = bus()
        let sensor: AccelerometerDriver<SimulatedI2CBus>
        if part == "adxl345" {
            b.attach(ADXL345Model(scenario: .testMachine(), origin: clock.now, seed: 1), at: 0x53)
            sensor = try ADXL345Driver(bus: b, sampleRateHz: 800, rangeG: 16)
        } else {
            b.attach(LIS3DHModel(scenario: .testMachine(), origin: clock.now, seed: 1), at: 0x18)
            sensor = try LIS3DHDriver(bus: b, sampleRateHz: 400, rangeG: 4)
        }
        try sensor.start()
        clock.advance(byNanoseconds: 30_000_000) // 12–24 samples wait in the FIFO
        try sensor.start()
        let (stale, _) = try drain(sensor)
        #expect(stale.count <= 2, "\(stale.count) samples from before the restart")
    }

    /// (5) ADXL345: in stream mode Overrun means the FIFO filled, not that a sample was lost; a
    /// FIFO exactly full has lost nothing. LIS3DH: OVRN means a sample was overwritten.
    @Test func overrunMeansWhatEachDatasheetSays() throws {
        let b = bus()
        let adxl = ADXL345Model(scenario: .testMachine(), origin: clock.now, seed: 1)
        b.attach(adxl, at: 0x53)
        let sensor = try ADXL345Driver(bus: b, sampleRateHz: 800, rangeG: 16)
        try sensor.start()
        clock.advance(byNanoseconds: 40_000_000) // 33 samples at 800 Hz (one at t = 0): exactly full
        let (samples, d) = try drain(sensor)
        #expect(d.filled && !d.overrun && samples.count == 33)
        #expect(adxl.lostSamples == 0)

        let l = bus()
        l.attach(LIS3DHModel(scenario: .testMachine(), origin: clock.now, seed: 1), at: 0x18)
        let lis = try LIS3DHDriver(bus: l, sampleRateHz: 400, rangeG: 4)
        try lis.start()
        clock.advance(byNanoseconds: 60_000_000) // 24 samples: room to spare
        #expect(try !drain(lis).1.overrun)
        clock.advance(byNanoseconds: 200_000_000) // 80 samples: 48 overwritten
        let (kept, overwritten) = try drain(lis)
        #expect(overwritten.overrun && kept.count == 32)
    }

    /// (6) The electromechanical self-test: the output change with the self-test force on, against
    /// the datasheet's limits; a part whose proof mass no longer moves fails.
    @Test(arguments: ["adxl345", "lis3dh"])
    func theSelfTestPassesAWorkingPartAndFailsADeadOne(part: String) throws {
        for factor in [1.0, 0.0] {
            let b = bus()
            let sensor: AccelerometerDriver<SimulatedI2CBus>
            if part == "adxl345" {
                let m = ADXL345Model(scenario: .testMachine(), origin: clock.now, seed: 1)
                m.selfTestResponseFactor = factor
                b.attach(m, at: 0x53)
                sensor = try ADXL345Driver(bus: b, sampleRateHz: 800, rangeG: 16)
            } else {
                let m = LIS3DHModel(scenario: .testMachine(), origin: clock.now, seed: 1)
                m.selfTestResponseFactor = factor
                b.attach(m, at: 0x18)
                sensor = try LIS3DHDriver(bus: b, sampleRateHz: 400, rangeG: 4)
            }
            try sensor.start()
            let result = try sensor.runSelfTest { clock.advance(byNanoseconds: $0) }
            #expect(result.passed == (factor == 1), "\(part) ×\(factor): change \(result.changeG) g against \(result.limitsG)")
        }
    }
}
