import Testing
import VigilBase
import VigilDSP
import VigilDrivers
import VigilHAL
import VigilSimulation

/// The ADXL345 and LIS3DH drivers against register-level models on a simulated bus whose clock
/// the test moves: FIFO fill rate, overrun, scaling, the part-ID check and every bus fault.
@Suite struct AccelerometerDriverTests {
    let clock = SimulationClock.manual()
    let scenario = MachineScenario.testMachine(seed: 3, noiseG: 0.002)

    func makeADXL(at address: UInt8 = 0x53) -> (SimulatedI2CBus, ADXL345Model) {
        let bus = SimulatedI2CBus(name: "sim-i2c", clock: clock)
        let model = ADXL345Model(scenario: scenario, origin: clock.now, seed: 9)
        bus.attach(model, at: address)
        return (bus, model)
    }

    /// Drains every `periodMs` for `seconds`; returns all samples and whether any drain overran.
    func run(_ sensor: AccelerometerDriver<SimulatedI2CBus>, seconds: Double, periodMs: Int64) throws(HALError) -> ([AccelerationSample], Bool) {
        var all: [AccelerationSample] = []
        var overrun = false
        var buffer = [AccelerationSample](repeating: .zero, count: sensor.maximumWaitingSamples)
        let start = clock.now
        while Double(clock.now.nanoseconds(since: start)) < seconds * 1e9 {
            clock.advance(byNanoseconds: periodMs * 1_000_000)
            let drain = try buffer.withUnsafeMutableBufferPointer { (b) throws(HALError) in try sensor.drain(into: b) }
            overrun = overrun || drain.overrun || drain.filled
            all.append(contentsOf: buffer[0..<drain.count])
        }
        return (all, overrun)
    }

    @Test func adxl345DeliversEverySampleAt3200HzWithoutOverrun() throws {
        let (bus, _) = makeADXL()
        let sensor = try ADXL345Driver(bus: bus, sampleRateHz: 3200, rangeG: 16)
        try sensor.start()
        let (samples, overrun) = try run(sensor, seconds: 1, periodMs: 1)
        #expect(!overrun)
        // 3200 samples per second, give or take the one in flight at either end; the bus time of
        // the reads themselves (≈ 0.2 ms each) is part of the simulated second.
        #expect(abs(samples.count - 3200) <= 40, "got \(samples.count)")
        // z carries 1 g: 256 counts in full resolution.
        let meanZ = Double(samples.reduce(0) { $0 + Int($1.z) }) / Double(samples.count)
        #expect(abs(meanZ - 256) < 2, "mean z \(meanZ) counts")
        #expect(sensor.fullScaleG == 16)
        #expect(sensor.q15(4095).rawValue == 32760)
    }

    @Test func adxl345SpectrumShowsTheShaftSpeed() throws {
        let (bus, _) = makeADXL()
        let sensor = try ADXL345Driver(bus: bus, sampleRateHz: 3200, rangeG: 2)
        try sensor.start()
        let (samples, _) = try run(sensor, seconds: 1.4, periodMs: 2)
        let config = VibrationAnalysisConfig(blockLength: 4096, sampleRateHz: 3200, fullScaleG: sensor.fullScaleG,
                                             highFrequencyBandHz: 500...1250, bands: .fixed(count: 8, fromHz: 0, toHz: 1000), peakCount: 3)
        let analyzer = try VibrationAnalyzer(config)
        var metrics = analyzer.makeMetrics()
        let block = samples.prefix(4096).map { sensor.q15($0.x) }
        try block.withUnsafeBufferPointer { (b) throws(DSPError) in try analyzer.analyze(b, into: &metrics) }
        // The strongest x component is the 1× unbalance at 1480 rpm = 24.67 Hz, 0.025 g.
        #expect(abs(metrics.peaks[0].frequencyHz - 1480.0 / 60) < 0.3, "peak at \(metrics.peaks[0].frequencyHz) Hz")
        #expect(abs(metrics.peaks[0].amplitudeG - 0.025) < 0.003, "amplitude \(metrics.peaks[0].amplitudeG) g")
    }

    @Test func adxl345ReportsAFullFIFOWhenDrainedTooRarely() throws {
        let (bus, model) = makeADXL()
        let sensor = try ADXL345Driver(bus: bus, sampleRateHz: 3200, rangeG: 16)
        try sensor.start()
        var buffer = [AccelerationSample](repeating: .zero, count: sensor.maximumWaitingSamples)
        clock.advance(byNanoseconds: 25_000_000) // 80 samples due, 33 kept
        let drain = try buffer.withUnsafeMutableBufferPointer { (b) throws(HALError) in try sensor.drain(into: b) }
        #expect(drain.filled && drain.count == 33, "\(drain)")
        // The part cannot say it lost samples (its Overrun bit means "filled"); the model knows.
        #expect(!drain.overrun)
        #expect(model.lostSamples > 40)
    }

    @Test func adxl345RefusesAnotherPartAtItsAddress() throws {
        let bus = SimulatedI2CBus(name: "sim-i2c", clock: clock)
        bus.attach(LIS3DHModel(scenario: scenario, origin: clock.now, seed: 1), at: 0x53)
        let sensor = try ADXL345Driver(bus: bus, sampleRateHz: 3200, rangeG: 16)
        let error = #expect(throws: HALError.self) { try sensor.start() }
        #expect(error?.kind == .badData)
        #expect(error?.description.contains("adxl345 part id") == true)
    }

    @Test func adxl345RejectsRatesAndRangesThePartLacks() {
        let bus = SimulatedI2CBus(name: "sim-i2c", clock: clock)
        #expect(throws: HALError.self) { try ADXL345Driver(bus: bus, sampleRateHz: 3000, rangeG: 16) }
        #expect(throws: HALError.self) { try ADXL345Driver(bus: bus, sampleRateHz: 3200, rangeG: 6) }
    }

    @Test(arguments: [I2CFault.unplugged, .timeout])
    func adxl345BusFaultsBecomeTypedErrors(fault: I2CFault) throws {
        let (bus, _) = makeADXL()
        let sensor = try ADXL345Driver(bus: bus, sampleRateHz: 3200, rangeG: 16)
        try sensor.start()
        bus.inject(fault, at: 0x53)
        var buffer = [AccelerationSample](repeating: .zero, count: 32)
        let error = #expect(throws: HALError.self) {
            try buffer.withUnsafeMutableBufferPointer { (b) throws(HALError) in _ = try sensor.drain(into: b) }
        }
        #expect(error?.kind == (fault == .unplugged ? .nack : .timeout))
        // Plugged back in, the same driver object reads again.
        bus.inject(nil, at: 0x53)
        clock.advance(byNanoseconds: 2_000_000)
        let drain = try buffer.withUnsafeMutableBufferPointer { (b) throws(HALError) in try sensor.drain(into: b) }
        #expect(drain.count > 0)
    }

    @Test func adxl345GarbageIsDetectedNeverTrusted() throws {
        let (bus, _) = makeADXL()
        let sensor = try ADXL345Driver(bus: bus, sampleRateHz: 3200, rangeG: 16)
        try sensor.start()
        bus.inject(.garbage, at: 0x53)
        var failures = 0
        var buffer = [AccelerationSample](repeating: .zero, count: 32)
        for _ in 0..<50 {
            clock.advance(byNanoseconds: 1_000_000)
            do {
                _ = try buffer.withUnsafeMutableBufferPointer { (b) throws(HALError) in try sensor.drain(into: b) }
            } catch {
                #expect(error.kind == .badData)
                failures += 1
            }
        }
        // Random bytes fail the reserved-bit, entry-count or data-range checks almost every time.
        #expect(failures >= 40, "only \(failures) of 50 garbage drains were caught")
    }

    @Test func adxl345StuckOutputIsAFault() throws {
        let (bus, _) = makeADXL()
        let sensor = try ADXL345Driver(bus: bus, sampleRateHz: 3200, rangeG: 16)
        try sensor.start()
        clock.advance(byNanoseconds: 3_000_000)
        bus.inject(.stuck, at: 0x53)
        var buffer = [AccelerationSample](repeating: .zero, count: 32)
        var caught: HALError?
        for _ in 0..<200 where caught == nil {
            clock.advance(byNanoseconds: 1_000_000)
            do { _ = try buffer.withUnsafeMutableBufferPointer { (b) throws(HALError) in try sensor.drain(into: b) } } catch { caught = error }
        }
        #expect(caught?.kind == .badData)
    }

    @Test func adxl345SlowBusStillReadsButTakesLonger() throws {
        let (bus, _) = makeADXL()
        let sensor = try ADXL345Driver(bus: bus, sampleRateHz: 3200, rangeG: 16)
        try sensor.start()
        bus.inject(.slow(nanoseconds: 300_000), at: 0x53)
        clock.advance(byNanoseconds: 2_000_000)
        let before = clock.now
        var buffer = [AccelerationSample](repeating: .zero, count: 32)
        let drain = try buffer.withUnsafeMutableBufferPointer { (b) throws(HALError) in try sensor.drain(into: b) }
        #expect(drain.count >= 6)
        #expect(clock.now.nanoseconds(since: before) >= Int64(drain.count + 2) * 300_000)
    }

    @Test func lis3dhDeliversSamplesAt1344Hz() throws {
        let bus = SimulatedI2CBus(name: "sim-i2c", clock: clock)
        bus.attach(LIS3DHModel(scenario: scenario, origin: clock.now, seed: 4), at: 0x18)
        let sensor = try LIS3DHDriver(bus: bus, sampleRateHz: 1344, rangeG: 4)
        try sensor.start()
        let (samples, overrun) = try run(sensor, seconds: 1, periodMs: 5)
        #expect(!overrun)
        #expect(abs(samples.count - 1344) <= 10, "got \(samples.count)")
        // ±4 g through the FIFO's 10 bits: 8 mg/digit, so 1 g is 125 digits.
        let meanZ = Double(samples.reduce(0) { $0 + Int($1.z) }) / Double(samples.count)
        #expect(abs(meanZ - 125) < 1, "mean z \(meanZ)")
        #expect(abs(sensor.fullScaleG - 4.096) < 1e-9)
    }

    @Test func lis3dhRefusesAnADXL345() throws {
        let (bus, _) = makeADXL(at: 0x18)
        let sensor = try LIS3DHDriver(bus: bus, sampleRateHz: 400, rangeG: 2)
        let error = #expect(throws: HALError.self) { try sensor.start() }
        #expect(error?.kind == .badData)
        #expect(error?.code == 0) // ADXL345 register 0x0F reads 0
    }
}
