import VigilBase
import VigilHAL
import VigilParts

/// Driver for the TI ADS1115 (datasheet SBAS444; registers and fields in VigilParts/ADS1115.swift).
/// Single-shot mode: each read takes the conversion the previous read started (OS reads 1 once
/// it is done) and starts the next, so the part idles between polls and a result is never older
/// than one poll. Continuous mode: each read takes the newest result.
public final class ADS1115Driver<Bus: I2CBus>: AnalogInputDriver<Bus> {
    typealias Part = ADS1115
    /// The config word `start()` programs (OS clear).
    let config: UInt16

    public init(on bus: Bus, address: UInt8, settings: AnalogInputSettings) throws(HALError) {
        guard let mux = Part.muxCode(settings.input), let pga = Part.pgaCode(settings.fullScaleVolts),
              let dr = Part.dataRateCode(settings.dataRateSPS) else {
            throw HALError(.invalidArgument, code: 22, operation: "ads1115 input, range or data rate")
        }
        config = mux << Part.muxShift | pga << Part.pgaShift | (settings.continuous ? 0 : Part.singleShotBit)
            | dr << Part.dataRateShift | Part.comparatorDisabled
        super.init(bus: bus, address: address, settings: settings)
    }

    /// Checks the part (Hi_thresh at its power-up value: vigil never uses the comparator) and
    /// programs it; the config is read back (OS aside: it reads conversion state, not what was written).
    public override func start() throws(HALError) {
        let hi = try readWord(Part.Register.hiThresh)
        guard hi == Part.resetHiThresh else { throw HALError(.badData, code: Int32(hi), operation: "ads1115 identify") }
        try writeWord(Part.Register.config, settings.continuous ? config : config | Part.osBit)
        let readBack = try readWord(Part.Register.config)
        guard readBack & ~Part.osBit == config else { throw HALError(.badData, code: Int32(readBack), operation: "ads1115 configure readback") }
    }

    public override func readVolts() throws(HALError) -> Double {
        if !settings.continuous {
            // OS = 0: still converting (the poll came sooner than 1.1 / DR, or the part reset).
            let state = try readWord(Part.Register.config)
            guard state & Part.osBit != 0 else { throw HALError(.busy, code: Int32(state), operation: "ads1115 conversion not done") }
            guard state & ~Part.osBit == config else { throw HALError(.badData, code: Int32(state), operation: "ads1115 lost its configuration") }
        }
        let raw = Int16(bitPattern: try readWord(Part.Register.conversion))
        if !settings.continuous { try writeWord(Part.Register.config, config | Part.osBit) }
        // Section 9.3.3 (Table 8-1): full scale is 0x7FFF / 0x8000; one code is FSR / 2^15.
        return Double(raw) * settings.fullScaleVolts / 32768
    }

    private func readWord(_ register: UInt8) throws(HALError) -> UInt16 {
        var bytes: (UInt8, UInt8) = (0, 0)
        try withUnsafeMutableBytes(of: &bytes) { (b) throws(HALError) in try bus.readBlock(address: address, register: register, into: b) }
        return UInt16(bytes.0) << 8 | UInt16(bytes.1)
    }

    private func writeWord(_ register: UInt8, _ word: UInt16) throws(HALError) {
        var bytes: (UInt8, UInt8) = (UInt8(word >> 8), UInt8(word & 0xFF))
        try withUnsafeBytes(of: &bytes) { (b) throws(HALError) in try bus.writeBlock(address: address, register: register, bytes: b) }
    }
}

extension ADS1115: AnalogInputDriverPart {
    public static func makeDriver<Bus: I2CBus>(bus: Bus, address: UInt8, settings: AnalogInputSettings) throws(HALError) -> AnalogInputDriver<Bus> {
        try ADS1115Driver(on: bus, address: address, settings: settings)
    }
}
