import VigilBase
import VigilHAL
import VigilParts

/// Driver for the ST LIS3DH on I2C (datasheet DocID17530; registers and fields in
/// VigilParts/LIS3DH.swift). Runs normal mode with block data update and the 32-level FIFO in
/// stream mode. The FIFO keeps only the 10 most significant bits of each sample (section 3.3), so
/// what the loop drains has the normal-mode step (4, 8, 16 or 48 mg) whatever the output mode; the
/// driver scales by that step. Multi-byte reads set the sub-address MSB to auto-increment, as the
/// part requires.
public final class LIS3DHDriver<Bus: I2CBus>: AccelerometerDriver<Bus> {
    typealias Part = LIS3DH

    public init(bus: Bus, address: UInt8 = LIS3DH.addresses[0], sampleRateHz: Double, rangeG: Int) throws(HALError) {
        guard Part.outputDataRatesHz.contains(sampleRateHz), let mg = Part.fifoMilliGPerDigit.first(where: { $0.rangeG == rangeG })?.mg else {
            throw HALError(.invalidArgument, operation: "lis3dh configure")
        }
        // The FIFO's 10-bit step (Table 4, normal mode); 10-bit digits become Q15 by undoing the
        // right shift of the left-justified word.
        super.init(bus: bus, address: address, sampleRateHz: sampleRateHz, rangeG: rangeG, countsPerG: 1000 / mg, q15Shift: 16 - Part.fifoSignificantBits,
                   maximumWaitingSamples: Part.maximumWaitingSamples, noiseDensityGPerRootHz: Part.noiseDensityGPerRootHz)
        configuration = [
            ConfigurationRegister(register: Part.Register.control1, value: rateBits << Part.odrShift | Part.axesEnabled),
            ConfigurationRegister(register: Part.Register.control4, value: control4),
            ConfigurationRegister(register: Part.Register.control5, value: Part.fifoEnableBit),
            ConfigurationRegister(register: Part.Register.fifoControl, value: Part.fifoModeStream << Part.fifoModeShift, mask: 0xC0),
        ]
    }

    /// Block data update and the range; normal mode (the FIFO stores 10 bits either way).
    var control4: UInt8 { Part.blockDataUpdateBit | rangeBits << Part.fullScaleShift }

    var rangeBits: UInt8 { rangeG == 2 ? 0 : rangeG == 4 ? 1 : rangeG == 8 ? 2 : 3 }
    /// CTRL_REG1 ODR[3:0] (Table 31).
    var rateBits: UInt8 { Part.rateCodes.first { $0.hz == sampleRateHz }?.code ?? 9 }

    public override func start() throws(HALError) {
        let id = try bus.readByte(address: address, register: Part.Register.whoAmI)
        guard id == Part.partID else { throw HALError(.badData, code: Int32(id), operation: "lis3dh part id") }
        try bus.writeByte(address: address, register: Part.Register.control4, value: control4)
        try bus.writeByte(address: address, register: Part.Register.control5, value: Part.fifoEnableBit)
        // Through bypass first: that resets the FIFO (section 3.3.1), so samples from before a
        // restart never join the new ones in a block.
        try bus.writeByte(address: address, register: Part.Register.fifoControl, value: Part.fifoModeBypass << Part.fifoModeShift)
        try bus.writeByte(address: address, register: Part.Register.fifoControl, value: Part.fifoModeStream << Part.fifoModeShift)
        try bus.writeByte(address: address, register: Part.Register.control1, value: rateBits << Part.odrShift | Part.axesEnabled)
        let readBack = try bus.readByte(address: address, register: Part.Register.control4)
        guard readBack == control4 else { throw HALError(.badData, code: Int32(readBack), operation: "lis3dh configure readback") }
        stuck.reset()
    }

    public override func stop() throws(HALError) {
        try bus.writeByte(address: address, register: Part.Register.control1, value: Part.axesEnabled) // ODR 0: power-down
    }

    public override func drain(into buffer: UnsafeMutableBufferPointer<AccelerationSample>) throws(HALError) -> FIFODrain {
        // FIFO_SRC_REG: WTM (7), OVRN_FIFO (6), EMPTY (5), FSS (4:0). OVRN_FIFO: a sample was
        // overwritten since the FIFO filled (the block has a gap); FSS counts up to 31 unread, and
        // with OVRN set and FSS 31 all 32 slots hold samples.
        let source = try bus.readByte(address: address, register: Part.Register.fifoSource)
        let empty = source & Part.emptyBit != 0
        let overwritten = source & Part.overrunBit != 0
        var entries = empty ? 0 : Int(source & Part.storedSamplesMask)
        if overwritten && entries == 31 { entries = 32 }
        guard !(empty && source & Part.storedSamplesMask != 0) else { throw HALError(.badData, code: Int32(source), operation: "lis3dh fifo source") }
        var raw: UInt64 = 0
        var clipped = false
        let count = min(entries, buffer.count)
        let top = Int16(1 << (Part.fifoSignificantBits - 1))
        for i in 0..<count {
            try withUnsafeMutableBytes(of: &raw) { (bytes) throws(HALError) in
                try bus.readBlock(address: address, register: Part.Register.outXLow | Part.autoIncrement,
                                  into: UnsafeMutableRawBufferPointer(rebasing: bytes[0..<Part.sampleReadBytes]))
            }
            raw = UInt64(littleEndian: raw)
            // Left-justified 10-bit words: the low 6 bits of each are always zero.
            guard raw & 0x0000_003F_003F_003F == 0 else { throw HALError(.badData, code: Int32(raw & 0x3F), operation: "lis3dh data format") }
            let shift = Int16(16 - Part.fifoSignificantBits)
            let x = Int16(truncatingIfNeeded: raw & 0xFFFF) >> shift
            let y = Int16(truncatingIfNeeded: (raw >> 16) & 0xFFFF) >> shift
            let z = Int16(truncatingIfNeeded: (raw >> 32) & 0xFFFF) >> shift
            if x == -top || x == top - 1 || y == -top || y == top - 1 || z == -top || z == top - 1 { clipped = true }
            let sample = AccelerationSample(x: x, y: y, z: z)
            guard stuck.accept(sample) else { throw HALError(.badData, operation: "lis3dh stuck output") }
            buffer[i] = sample
        }
        return FIFODrain(count: count, overrun: overwritten, filled: overwritten, clipped: clipped)
    }

    /// Section 3.2.2 and Table 4: at ±2 g in normal mode, the mean output with self-test 0 minus
    /// the mean without it, per axis, against the specified output change (17…360 LSb).
    public override func runSelfTest(wait: (Int64) -> Void) throws(HALError) -> SelfTestResult {
        let base = Part.blockDataUpdateBit // ±2 g, normal mode
        try bus.writeByte(address: address, register: Part.Register.control4, value: base)
        // The FIFO keeps 10 bits: at ±2 g that is 4 mg per digit.
        let scale = countsPerG / (1000 / 4)
        func mean(_ n: Int) throws(HALError) -> [Double] { try meanG(samples: n, wait: wait).map { $0 * scale } }
        let samples = max(16, Int(sampleRateHz / 10))
        _ = try mean(5)
        let off = try mean(samples)
        try bus.writeByte(address: address, register: Part.Register.control4, value: base | Part.selfTest0 << Part.selfTestShift)
        _ = try mean(5)
        let on = try mean(samples)
        try bus.writeByte(address: address, register: Part.Register.control4, value: base)
        try start()
        return SelfTestResult(changeG: zip(on, off).map { $0 - $1 }, limitsG: Part.selfTestLimitsG)
    }
}

extension LIS3DH: AccelerometerDriverPart {
    public static func makeDriver<Bus: I2CBus>(bus: Bus, address: UInt8, sampleRateHz: Double, rangeG: Int) throws(HALError) -> AccelerometerDriver<Bus> {
        try LIS3DHDriver(bus: bus, address: address, sampleRateHz: sampleRateHz, rangeG: rangeG)
    }
}
