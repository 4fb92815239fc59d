import Testing
import VigilBase
import VigilDrivers
import VigilHAL
import VigilParts
import VigilSimulation

/// Issue 22 (15): a 4–20 mA loop through an ADS1115, the driver against a model written from the
/// datasheet (SBAS444), and NAMUR NE 43's signal levels.
@Suite struct CurrentLoopDriverTests {
    let clock = SimulationClock.manual()

    func wired(milliamps: @escaping () -> Double, shunt: Double = 150, input: Int = 0) -> (SimulatedI2CBus, ADS1115Model) {
        let bus = SimulatedI2CBus(name: "sim-i2c", clock: clock, clockHz: 400_000)
        let model = ADS1115Model()
        model.inputVolts = { _ in
            var v = SIMD4<Double>.zero
            v[input] = milliamps() / 1000 * shunt
            return v
        }
        bus.attach(model, at: 0x49)
        return (bus, model)
    }

    func settings(_ input: String = "AIN0", continuous: Bool = false, sps: Int = 128) -> AnalogInputSettings {
        AnalogInputSettings(input: input, fullScaleVolts: 4.096, dataRateSPS: sps, continuous: continuous)
    }

    /// Single-shot: each read takes the conversion the previous one started; a read sooner than
    /// the conversion time finds OS = 0 and says so instead of returning the old result.
    @Test func singleShotReadsTheConversionItStartedAndRefusesAnUnfinishedOne() throws {
        var current = 12.0
        let (bus, model) = wired(milliamps: { current })
        let adc = try ADS1115.makeDriver(bus: bus, address: 0x49, settings: settings())
        try adc.start()
        clock.advance(byNanoseconds: 10_000_000) // 1 / 128 SPS = 7.8 ms
        let volts = try adc.readVolts()
        // 12 mA × 150 Ω = 1.8 V; one code is 4.096 V / 32768 = 125 µV.
        #expect(abs(volts - 1.8) <= 125e-6, "\(volts) V")
        current = 20
        let error = #expect(throws: HALError.self) { _ = try adc.readVolts() } // no time for the conversion
        #expect(error?.kind == .busy)
        clock.advance(byNanoseconds: 10_000_000)
        #expect(abs(try adc.readVolts() - 3.0) <= 125e-6)
        #expect(model.conversions == 2)
    }

    @Test func continuousModeReadsTheNewestResult() throws {
        var current = 4.0
        let (bus, _) = wired(milliamps: { current }, input: 2)
        let adc = try ADS1115.makeDriver(bus: bus, address: 0x49, settings: settings("AIN2", continuous: true, sps: 860))
        try adc.start()
        clock.advance(byNanoseconds: 5_000_000)
        #expect(abs(try adc.readVolts() - 0.6) <= 125e-6)
        current = 16
        clock.advance(byNanoseconds: 5_000_000)
        #expect(abs(try adc.readVolts() - 2.4) <= 125e-6)
    }

    /// A supply dip resets the part to single-shot on AIN0−AIN1 at ±2.048 V: the read-back of the
    /// config catches it instead of reading the wrong input at the wrong gain.
    @Test func aPartThatLostItsConfigurationIsNotRead() throws {
        let (bus, model) = wired(milliamps: { 12 })
        let adc = try ADS1115.makeDriver(bus: bus, address: 0x49, settings: settings())
        try adc.start()
        clock.advance(byNanoseconds: 10_000_000)
        _ = try adc.readVolts()
        model.powerOnReset()
        clock.advance(byNanoseconds: 10_000_000)
        let error = #expect(throws: HALError.self) { _ = try adc.readVolts() }
        #expect(error?.kind == .badData)
    }

    /// Section 9.3.3: codes saturate at 0x7FFF above +FS; the driver reads full scale, which the
    /// profile validator keeps above NAMUR's 21 mA failure level.
    @Test func theModelSaturatesAtFullScaleAndSomethingElseAtTheAddressIsRefused() throws {
        let (bus, _) = wired(milliamps: { 40 }) // 6 V on a ±4.096 V range
        let adc = try ADS1115.makeDriver(bus: bus, address: 0x49, settings: settings())
        try adc.start()
        clock.advance(byNanoseconds: 10_000_000)
        #expect(try adc.readVolts() == 4.096 * 32767 / 32768)
        // A TMP102 at the address: its T_HIGH (register 3) is not the ADS1115's Hi_thresh 0x7FFF.
        let other = SimulatedI2CBus(name: "sim-i2c", clock: clock, clockHz: 400_000)
        other.attach(TMP102Model(scenario: .testMachine(), origin: clock.now), at: 0x49)
        let wrong = try ADS1115.makeDriver(bus: other, address: 0x49, settings: settings())
        #expect(throws: HALError.self) { try wrong.start() }
        #expect(throws: HALError.self) { _ = try ADS1115.makeDriver(bus: bus, address: 0x49, settings: settings("AIN4")) }
    }

    /// NAMUR NE 43: 3.8–20.5 mA measures (4 mA = low, 20 mA = high), ≤ 3.6 or ≥ 21 mA is a failure
    /// signal (an open loop reads 0 mA), in between out of range.
    @Test func namurLevels() {
        let cases: [(Double, CurrentLoop.Signal)] = [
            (0, .failure), (3.6, .failure), (3.7, .outOfRange), (3.8, .measurement), (4, .measurement), (12, .measurement),
            (20.5, .measurement), (20.7, .outOfRange), (21, .failure), (25, .failure), (.nan, .failure),
        ]
        for (mA, signal) in cases { #expect(CurrentLoop.classify(milliamps: mA) == signal, "\(mA) mA") }
        #expect(CurrentLoop.value(milliamps: 4, low: 0, high: 10) == 0)
        #expect(CurrentLoop.value(milliamps: 20, low: 0, high: 10) == 10)
        #expect(CurrentLoop.value(milliamps: 12, low: -1, high: 1) == 0)
    }
}
