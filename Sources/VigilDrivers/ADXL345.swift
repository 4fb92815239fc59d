import VigilBase
import VigilHAL

/// Driver for the Analog Devices ADXL345 3-axis accelerometer on I2C (datasheet rev. G).
///
/// Runs the part in full-resolution mode (3.9 mg/LSB at every range) with the FIFO in stream
/// mode, so the loop drains up to 32 samples per visit. At 3200 Hz and a 1 ms loop that is 3–4
/// samples per cycle; each costs one 6-byte block read (≈ 0.2 ms at 400 kHz).
public final class ADXL345<Bus: I2CBus>: Accelerometer {
    /// Register map (datasheet table 19).
    public enum Register {
        public static var deviceID: UInt8 { 0x00 }
        public static var bandwidthRate: UInt8 { 0x2C }
        public static var powerControl: UInt8 { 0x2D }
        public static var interruptSource: UInt8 { 0x30 }
        public static var dataFormat: UInt8 { 0x31 }
        public static var dataX0: UInt8 { 0x32 }
        public static var fifoControl: UInt8 { 0x38 }
        public static var fifoStatus: UInt8 { 0x39 }
    }
    /// DEVID's fixed value.
    public static var partID: UInt8 { 0xE5 }
    /// POWER_CTL: Measure bit.
    static var measure: UInt8 { 0x08 }
    /// DATA_FORMAT: FULL_RES bit.
    static var fullResolution: UInt8 { 0x08 }
    /// FIFO_CTL: stream mode (bits 7:6 = 10), watermark 16.
    static var streamMode: UInt8 { 0x80 | 16 }
    /// INT_SOURCE: Overrun bit.
    static var overrunBit: UInt8 { 0x01 }
    public static var fifoDepth: Int { 32 }

    /// Output data rates the part offers with I2C (3200 Hz / 2ⁿ down to 6.25 Hz).
    public static var supportedRatesHz: [Double] { [3200, 1600, 800, 400, 200, 100, 50, 25, 12.5, 6.25] }
    public static var supportedRangesG: [Int] { [2, 4, 8, 16] }

    public let bus: Bus
    public let address: UInt8
    public let sampleRateHz: Double
    public let rangeG: Int
    private var stuck = StuckSampleDetector(limit: 256)

    /// - Throws: `.invalidArgument` for a rate or range the part does not have.
    public init(bus: Bus, address: UInt8 = 0x53, sampleRateHz: Double, rangeG: Int) throws(HALError) {
        guard Self.supportedRatesHz.contains(sampleRateHz), Self.supportedRangesG.contains(rangeG) else {
            throw HALError(.invalidArgument, operation: "adxl345 configure")
        }
        self.bus = bus
        self.address = address
        self.sampleRateHz = sampleRateHz
        self.rangeG = rangeG
    }

    /// In full resolution the scale is 256 LSB/g at every range (datasheet table 1).
    public var countsPerG: Double { 256 }
    /// ±(256 × range) counts fill Q15 after this shift: 6 at ±2 g … 3 at ±16 g.
    public var q15Shift: Int { 15 - (8 + rangeCode + 1) }

    /// DATA_FORMAT range bits: 00 ±2 g, 01 ±4 g, 10 ±8 g, 11 ±16 g.
    var rangeCode: Int { rangeG == 2 ? 0 : rangeG == 4 ? 1 : rangeG == 8 ? 2 : 3 }
    /// BW_RATE rate code: 0x0F is 3200 Hz, each step down halves the rate.
    var rateCode: UInt8 {
        var code: UInt8 = 0x0F
        var rate = 3200.0
        while rate > sampleRateHz { rate /= 2; code -= 1 }
        return code
    }

    public func start() throws(HALError) {
        let id = try bus.readByte(address: address, register: Register.deviceID)
        guard id == Self.partID else { throw HALError(.badData, code: Int32(id), operation: "adxl345 part id") }
        // Configure in standby, as the datasheet recommends, then start measuring.
        try bus.writeByte(address: address, register: Register.powerControl, value: 0)
        try bus.writeByte(address: address, register: Register.dataFormat, value: Self.fullResolution | UInt8(rangeCode))
        try bus.writeByte(address: address, register: Register.bandwidthRate, value: rateCode)
        try bus.writeByte(address: address, register: Register.fifoControl, value: Self.streamMode)
        try bus.writeByte(address: address, register: Register.powerControl, value: Self.measure)
        // Read back: a device that ignores writes (or is not an ADXL345 after all) is caught here.
        let format = try bus.readByte(address: address, register: Register.dataFormat)
        let rate = try bus.readByte(address: address, register: Register.bandwidthRate)
        guard format & 0x0B == Self.fullResolution | UInt8(rangeCode), rate & 0x1F == rateCode else {
            throw HALError(.badData, code: Int32(format), operation: "adxl345 configure readback")
        }
        stuck.reset()
    }

    public func stop() throws(HALError) {
        try bus.writeByte(address: address, register: Register.powerControl, value: 0)
    }

    public func drain(into buffer: UnsafeMutableBufferPointer<AccelerationSample>) throws(HALError) -> FIFODrain {
        let source = try bus.readByte(address: address, register: Register.interruptSource)
        let status = try bus.readByte(address: address, register: Register.fifoStatus)
        // FIFO_STATUS: bit 7 FIFO_TRIG, bit 6 reserved (0), bits 5:0 entries (≤ 32).
        let entries = Int(status & 0x3F)
        guard status & 0x40 == 0, entries <= Self.fifoDepth else {
            throw HALError(.badData, code: Int32(status), operation: "adxl345 fifo status")
        }
        let limit = Int16(256 * rangeG)
        var clipped = false
        var raw: UInt64 = 0
        let count = min(entries, buffer.count)
        for i in 0..<count {
            // One 6-byte read of DATAX0…DATAZ1 pops exactly one entry (datasheet, "FIFO").
            try withUnsafeMutableBytes(of: &raw) { (bytes) throws(HALError) in
                try bus.readBlock(address: address, register: Register.dataX0, into: UnsafeMutableRawBufferPointer(rebasing: bytes[0..<6]))
            }
            raw = UInt64(littleEndian: raw) // DATAX0 (low byte) first on the wire
            let x = Int16(truncatingIfNeeded: raw & 0xFFFF)
            let y = Int16(truncatingIfNeeded: (raw >> 16) & 0xFFFF)
            let z = Int16(truncatingIfNeeded: (raw >> 32) & 0xFFFF)
            // Full resolution: 10 (±2 g) … 13 (±16 g) significant bits, sign-extended.
            guard x >= -limit, x < limit, y >= -limit, y < limit, z >= -limit, z < limit else {
                throw HALError(.badData, code: Int32(x), operation: "adxl345 data out of range")
            }
            if x == -limit || x == limit - 1 || y == -limit || y == limit - 1 || z == -limit || z == limit - 1 { clipped = true }
            let sample = AccelerationSample(x: x, y: y, z: z)
            guard stuck.accept(sample) else { throw HALError(.badData, operation: "adxl345 stuck output") }
            buffer[i] = sample
        }
        return FIFODrain(count: count, overrun: source & Self.overrunBit != 0, clipped: clipped)
    }
}
