import VigilBase
import VigilHAL
import VigilParts

/// Driver for the Analog Devices ADXL345 on I2C (datasheet Rev. G; registers and fields in
/// VigilParts/ADXL345.swift).
///
/// Runs the part in full-resolution mode (3.9 mg/LSB at every range) with the FIFO in stream
/// mode, so the loop drains up to 33 samples per visit (32 in the FIFO, one at the output). At
/// 800 Hz (the fastest the datasheet allows on I2C) and a 1 ms loop that is 0–1 sample per cycle;
/// each costs one 6-byte block read (≈ 0.2 ms at 400 kHz).
public final class ADXL345Driver<Bus: I2CBus>: AccelerometerDriver<Bus> {
    typealias Part = ADXL345

    /// - Throws: `.invalidArgument` for a rate or range the part does not have.
    public init(bus: Bus, address: UInt8 = ADXL345.addresses[0], sampleRateHz: Double, rangeG: Int) throws(HALError) {
        guard Part.outputDataRatesHz.contains(sampleRateHz), Part.rangesG.contains(rangeG) else {
            throw HALError(.invalidArgument, operation: "adxl345 configure")
        }
        // Full resolution: 256 LSB/g at every range; ±(256 × range) counts fill Q15 after a left
        // shift of 6 at ±2 g … 3 at ±16 g.
        let rangeCode = Self.rangeCode(rangeG)
        super.init(bus: bus, address: address, sampleRateHz: sampleRateHz, rangeG: rangeG,
                   countsPerG: Part.fullResolutionCountsPerG, q15Shift: 15 - (8 + Int(rangeCode) + 1),
                   maximumWaitingSamples: Part.maximumWaitingSamples, noiseDensityGPerRootHz: Part.noiseDensityGPerRootHz)
        configuration = [
            ConfigurationRegister(register: Part.Register.powerControl, value: Part.measureBit),
            ConfigurationRegister(register: Part.Register.dataFormat, value: Part.fullResolutionBit | rangeCode, mask: Part.fullResolutionBit | Part.rangeMask),
            ConfigurationRegister(register: Part.Register.bandwidthRate, value: rateCode, mask: 0x1F),
            ConfigurationRegister(register: Part.Register.fifoControl, value: Part.fifoModeStream << Part.fifoModeShift | 16),
        ]
    }

    /// DATA_FORMAT range bits: 00 ±2 g, 01 ±4 g, 10 ±8 g, 11 ±16 g.
    static func rangeCode(_ rangeG: Int) -> UInt8 { rangeG == 2 ? 0 : rangeG == 4 ? 1 : rangeG == 8 ? 2 : 3 }
    var rangeCode: UInt8 { Self.rangeCode(rangeG) }

    /// BW_RATE rate code: 0x0F is 3200 Hz, each step down halves the rate.
    var rateCode: UInt8 {
        var code = Part.fastestRateCode
        var rate = Part.fastestRateHz
        while rate > sampleRateHz { rate /= 2; code -= 1 }
        return code
    }

    public override func start() throws(HALError) {
        let id = try bus.readByte(address: address, register: Part.Register.deviceID)
        guard id == Part.partID else { throw HALError(.badData, code: Int32(id), operation: "adxl345 part id") }
        // Configure in standby, as the datasheet recommends, then start measuring.
        try bus.writeByte(address: address, register: Part.Register.powerControl, value: 0)
        try bus.writeByte(address: address, register: Part.Register.dataFormat, value: Part.fullResolutionBit | rangeCode)
        try bus.writeByte(address: address, register: Part.Register.bandwidthRate, value: rateCode)
        // Through bypass first: that empties the FIFO, so samples from before a restart never
        // join the new ones in a block.
        try bus.writeByte(address: address, register: Part.Register.fifoControl, value: Part.fifoModeBypass << Part.fifoModeShift)
        try bus.writeByte(address: address, register: Part.Register.fifoControl, value: Part.fifoModeStream << Part.fifoModeShift | 16)
        try bus.writeByte(address: address, register: Part.Register.powerControl, value: Part.measureBit)
        // Read back: a device that ignores writes (or is not an ADXL345 after all) is caught here.
        let format = try bus.readByte(address: address, register: Part.Register.dataFormat)
        let rate = try bus.readByte(address: address, register: Part.Register.bandwidthRate)
        guard format & (Part.fullResolutionBit | Part.rangeMask) == Part.fullResolutionBit | rangeCode, rate & 0x1F == rateCode else {
            throw HALError(.badData, code: Int32(format), operation: "adxl345 configure readback")
        }
        stuck.reset()
    }

    public override func stop() throws(HALError) {
        try bus.writeByte(address: address, register: Part.Register.powerControl, value: 0)
    }

    /// The largest positive count: at 1600 Hz and 3200 Hz in full resolution the LSB is always 0.
    var largestPositiveCount: Int16 { Int16(256 * rangeG) - (sampleRateHz >= Part.lsbAlwaysZeroFromHz ? 2 : 1) }

    public override func drain(into buffer: UnsafeMutableBufferPointer<AccelerationSample>) throws(HALError) -> FIFODrain {
        // INT_SOURCE first: in stream mode its Overrun bit means the FIFO filled, not that a sample
        // was lost (the part cannot tell; the caller knows how late the drain is).
        let source = try bus.readByte(address: address, register: Part.Register.interruptSource)
        let status = try bus.readByte(address: address, register: Part.Register.fifoStatus)
        // FIFO_STATUS: bit 7 FIFO_TRIG, bit 6 reserved (0), bits 5:0 entries (≤ 33: 32 in the
        // FIFO and one at the output filter).
        let entries = Int(status & Part.fifoEntriesMask)
        guard status & 0x40 == 0, entries <= Part.maximumWaitingSamples else {
            throw HALError(.badData, code: Int32(status), operation: "adxl345 fifo status")
        }
        let limit = Int16(256 * rangeG)
        let top = largestPositiveCount
        var clipped = false
        var raw: UInt64 = 0
        let count = min(entries, buffer.count)
        for i in 0..<count {
            // One 6-byte read of DATAX0…DATAZ1 pops exactly one entry (datasheet, "FIFO").
            try withUnsafeMutableBytes(of: &raw) { (bytes) throws(HALError) in
                try bus.readBlock(address: address, register: Part.Register.dataX0, into: UnsafeMutableRawBufferPointer(rebasing: bytes[0..<Part.sampleReadBytes]))
            }
            raw = UInt64(littleEndian: raw) // DATAX0 (low byte) first on the wire
            let x = Int16(truncatingIfNeeded: raw & 0xFFFF)
            let y = Int16(truncatingIfNeeded: (raw >> 16) & 0xFFFF)
            let z = Int16(truncatingIfNeeded: (raw >> 32) & 0xFFFF)
            // Full resolution: 10 (±2 g) … 13 (±16 g) significant bits, sign-extended.
            guard x >= -limit, x < limit, y >= -limit, y < limit, z >= -limit, z < limit else {
                throw HALError(.badData, code: Int32(x), operation: "adxl345 data out of range")
            }
            if x == -limit || x >= top || y == -limit || y >= top || z == -limit || z >= top { clipped = true }
            let sample = AccelerationSample(x: x, y: y, z: z)
            guard stuck.accept(sample) else { throw HALError(.badData, operation: "adxl345 stuck output") }
            buffer[i] = sample
        }
        return FIFODrain(count: count, overrun: false, filled: source & Part.overrunBit != 0 || entries == Part.maximumWaitingSamples, clipped: clipped)
    }

    /// Datasheet, "Self-Test": in full resolution at ±16 g, the mean output with SELF_TEST set
    /// minus the mean without it, per axis, against the specified output change.
    public override func runSelfTest(wait: (Int64) -> Void) throws(HALError) -> SelfTestResult {
        let formatRegister = Part.fullResolutionBit | 0x03 // ±16 g, full resolution
        try bus.writeByte(address: address, register: Part.Register.dataFormat, value: formatRegister)
        // Full resolution: 256 LSB/g at every range, so the driver's scale holds at ±16 g too.
        func mean(_ n: Int) throws(HALError) -> [Double] { try meanG(samples: n, wait: wait) }
        let samples = max(16, Int(sampleRateHz / 10)) // 0.1 s of samples, as the datasheet suggests
        // Settle after each change (the datasheet: at least 4 samples), then average.
        _ = try mean(4)
        let off = try mean(samples)
        try bus.writeByte(address: address, register: Part.Register.dataFormat, value: formatRegister | Part.selfTestBit)
        _ = try mean(4)
        let on = try mean(samples)
        try bus.writeByte(address: address, register: Part.Register.dataFormat, value: formatRegister)
        try start()
        return SelfTestResult(changeG: zip(on, off).map { $0 - $1 }, limitsG: Part.selfTestLimitsG)
    }
}

extension ADXL345: AccelerometerDriverPart {
    public static func makeDriver<Bus: I2CBus>(bus: Bus, address: UInt8, sampleRateHz: Double, rangeG: Int) throws(HALError) -> AccelerometerDriver<Bus> {
        try ADXL345Driver(bus: bus, address: address, sampleRateHz: sampleRateHz, rangeG: rangeG)
    }
}
