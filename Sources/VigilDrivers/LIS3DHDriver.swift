import VigilBase
import VigilHAL
import VigilParts

/// Driver for the ST LIS3DH on I2C (datasheet DocID17530; registers and fields in
/// VigilParts/LIS3DH.swift). Runs high-resolution mode (12-bit) with block data update and the
/// 32-level FIFO in stream mode. Multi-byte reads set the sub-address MSB to auto-increment, as
/// the part requires.
public final class LIS3DHDriver<Bus: I2CBus>: AccelerometerDriver<Bus> {
    typealias Part = LIS3DH

    public init(bus: Bus, address: UInt8 = LIS3DH.addresses[0], sampleRateHz: Double, rangeG: Int) throws(HALError) {
        guard Part.outputDataRatesHz.contains(sampleRateHz), let mg = Part.milliGPerDigit.first(where: { $0.rangeG == rangeG })?.mg else {
            throw HALError(.invalidArgument, operation: "lis3dh configure")
        }
        // High-resolution sensitivity (Table 4); 12-bit digits become Q15 by undoing the right
        // shift of the left-justified output.
        super.init(bus: bus, address: address, sampleRateHz: sampleRateHz, rangeG: rangeG, countsPerG: 1000 / mg, q15Shift: 4)
        configuration = [
            ConfigurationRegister(register: Part.Register.control1, value: rateBits << Part.odrShift | Part.axesEnabled),
            ConfigurationRegister(register: Part.Register.control4, value: control4),
            ConfigurationRegister(register: Part.Register.control5, value: Part.fifoEnableBit),
            ConfigurationRegister(register: Part.Register.fifoControl, value: Part.fifoModeStream << Part.fifoModeShift, mask: 0xC0),
        ]
    }

    var control4: UInt8 { Part.blockDataUpdateBit | rangeBits << Part.fullScaleShift | Part.highResolutionBit }

    var rangeBits: UInt8 { rangeG == 2 ? 0 : rangeG == 4 ? 1 : rangeG == 8 ? 2 : 3 }
    /// CTRL_REG1 ODR[3:0] (Table 31).
    var rateBits: UInt8 { Part.rateCodes.first { $0.hz == sampleRateHz }?.code ?? 9 }

    public override func start() throws(HALError) {
        let id = try bus.readByte(address: address, register: Part.Register.whoAmI)
        guard id == Part.partID else { throw HALError(.badData, code: Int32(id), operation: "lis3dh part id") }
        try bus.writeByte(address: address, register: Part.Register.control4, value: control4)
        try bus.writeByte(address: address, register: Part.Register.control5, value: Part.fifoEnableBit)
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
        // FIFO_SRC_REG: WTM (7), OVRN_FIFO (6), EMPTY (5), FSS (4:0).
        let source = try bus.readByte(address: address, register: Part.Register.fifoSource)
        let empty = source & Part.emptyBit != 0
        var entries = empty ? 0 : Int(source & Part.storedSamplesMask)
        // A full FIFO reads as 31 unread with the overrun flag; the 32nd is there too.
        if source & Part.overrunBit != 0 && entries == 31 { entries = 32 }
        guard !(empty && source & Part.storedSamplesMask != 0) else { throw HALError(.badData, code: Int32(source), operation: "lis3dh fifo source") }
        var raw: UInt64 = 0
        var clipped = false
        let count = min(entries, buffer.count)
        for i in 0..<count {
            try withUnsafeMutableBytes(of: &raw) { (bytes) throws(HALError) in
                try bus.readBlock(address: address, register: Part.Register.outXLow | Part.autoIncrement,
                                  into: UnsafeMutableRawBufferPointer(rebasing: bytes[0..<Part.sampleReadBytes]))
            }
            raw = UInt64(littleEndian: raw)
            // Left-justified 12-bit: the low nibble is always zero in high-resolution mode.
            guard raw & 0x0000_000F_000F_000F == 0 else { throw HALError(.badData, code: Int32(raw & 0xF), operation: "lis3dh data format") }
            let x = Int16(truncatingIfNeeded: raw & 0xFFFF) >> 4
            let y = Int16(truncatingIfNeeded: (raw >> 16) & 0xFFFF) >> 4
            let z = Int16(truncatingIfNeeded: (raw >> 32) & 0xFFFF) >> 4
            if x == -2048 || x == 2047 || y == -2048 || y == 2047 || z == -2048 || z == 2047 { clipped = true }
            let sample = AccelerationSample(x: x, y: y, z: z)
            guard stuck.accept(sample) else { throw HALError(.badData, operation: "lis3dh stuck output") }
            buffer[i] = sample
        }
        return FIFODrain(count: count, overrun: source & Part.overrunBit != 0, clipped: clipped)
    }
}

extension LIS3DH: AccelerometerDriverPart {
    public static func makeDriver<Bus: I2CBus>(bus: Bus, address: UInt8, sampleRateHz: Double, rangeG: Int) throws(HALError) -> AccelerometerDriver<Bus> {
        try LIS3DHDriver(bus: bus, address: address, sampleRateHz: sampleRateHz, rangeG: rangeG)
    }
}
