import VigilBase
import VigilHAL

/// Driver for the ST LIS3DH 3-axis accelerometer on I2C (datasheet DocID17530), common on SBC
/// HATs. Runs high-resolution mode (12-bit) with block data update and the 32-level FIFO in stream
/// mode. Multi-byte reads set the sub-address MSB to auto-increment, as the part requires.
public final class LIS3DH<Bus: I2CBus>: Accelerometer {
    public enum Register {
        public static var whoAmI: UInt8 { 0x0F }
        public static var control1: UInt8 { 0x20 }
        public static var control4: UInt8 { 0x23 }
        public static var control5: UInt8 { 0x24 }
        public static var outXLow: UInt8 { 0x28 }
        public static var fifoControl: UInt8 { 0x2E }
        public static var fifoSource: UInt8 { 0x2F }
    }
    public static var partID: UInt8 { 0x33 }
    /// Sub-address bit that makes the part auto-increment.
    static var autoIncrement: UInt8 { 0x80 }
    public static var supportedRatesHz: [Double] { [1, 10, 25, 50, 100, 200, 400, 1344] }
    public static var supportedRangesG: [Int] { [2, 4, 8, 16] }

    public let bus: Bus
    public let address: UInt8
    public let sampleRateHz: Double
    public let rangeG: Int
    private var stuck = StuckSampleDetector(limit: 256)

    public init(bus: Bus, address: UInt8 = 0x18, sampleRateHz: Double, rangeG: Int) throws(HALError) {
        guard Self.supportedRatesHz.contains(sampleRateHz), Self.supportedRangesG.contains(rangeG) else {
            throw HALError(.invalidArgument, operation: "lis3dh configure")
        }
        self.bus = bus
        self.address = address
        self.sampleRateHz = sampleRateHz
        self.rangeG = rangeG
    }

    /// High-resolution sensitivity: 1, 2, 4, 12 mg/digit at ±2, 4, 8, 16 g (table 4).
    public var countsPerG: Double { 1000 / (rangeG == 2 ? 1 : rangeG == 4 ? 2 : rangeG == 8 ? 4 : 12) }
    /// 12-bit digits become Q15 by undoing the right shift of the left-justified output.
    public var q15Shift: Int { 4 }

    var rangeBits: UInt8 { rangeG == 2 ? 0 : rangeG == 4 ? 1 : rangeG == 8 ? 2 : 3 }
    /// CTRL_REG1 ODR[3:0] (table 31).
    var rateBits: UInt8 {
        switch sampleRateHz {
        case 1: return 1
        case 10: return 2
        case 25: return 3
        case 50: return 4
        case 100: return 5
        case 200: return 6
        case 400: return 7
        default: return 9 // 1344 Hz in normal / high-resolution mode
        }
    }

    public func start() throws(HALError) {
        let id = try bus.readByte(address: address, register: Register.whoAmI)
        guard id == Self.partID else { throw HALError(.badData, code: Int32(id), operation: "lis3dh part id") }
        // CTRL_REG4: BDU (7), FS (5:4), HR (3).
        let control4 = 0x80 | rangeBits << 4 | 0x08
        try bus.writeByte(address: address, register: Register.control4, value: control4)
        try bus.writeByte(address: address, register: Register.control5, value: 0x40)      // FIFO_EN
        try bus.writeByte(address: address, register: Register.fifoControl, value: 0x80)  // stream mode
        try bus.writeByte(address: address, register: Register.control1, value: rateBits << 4 | 0x07) // ODR, X/Y/Z on
        let readBack = try bus.readByte(address: address, register: Register.control4)
        guard readBack == control4 else { throw HALError(.badData, code: Int32(readBack), operation: "lis3dh configure readback") }
        stuck.reset()
    }

    public func stop() throws(HALError) {
        try bus.writeByte(address: address, register: Register.control1, value: 0x07) // ODR 0: power-down
    }

    public func drain(into buffer: UnsafeMutableBufferPointer<AccelerationSample>) throws(HALError) -> FIFODrain {
        // FIFO_SRC_REG: WTM (7), OVRN_FIFO (6), EMPTY (5), FSS (4:0).
        let source = try bus.readByte(address: address, register: Register.fifoSource)
        let empty = source & 0x20 != 0
        var entries = empty ? 0 : Int(source & 0x1F)
        // A full FIFO reads as 31 unread with the overrun flag; the 32nd is there too.
        if source & 0x40 != 0 && entries == 31 { entries = 32 }
        guard !(empty && source & 0x1F != 0) else { throw HALError(.badData, code: Int32(source), operation: "lis3dh fifo source") }
        var raw: UInt64 = 0
        var clipped = false
        let count = min(entries, buffer.count)
        for i in 0..<count {
            try withUnsafeMutableBytes(of: &raw) { (bytes) throws(HALError) in
                try bus.readBlock(address: address, register: Register.outXLow | Self.autoIncrement,
                                  into: UnsafeMutableRawBufferPointer(rebasing: bytes[0..<6]))
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
        return FIFODrain(count: count, overrun: source & 0x40 != 0, clipped: clipped)
    }
}
