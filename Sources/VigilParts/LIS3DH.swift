/// ST LIS3DH 3-axis accelerometer (datasheet DocID17530 Rev 2): ±2…16 g, 12 bits in
/// high-resolution mode, up to 1344 Hz (5376 Hz low-power), a 32-level FIFO, common on SBC HATs.
/// The facts its driver (VigilDrivers/LIS3DHDriver.swift) and its register model
/// (VigilSimulation/LIS3DHModel.swift) share; each follows the datasheet's behaviour itself.
public enum LIS3DH: AccelerometerPart {
    public static let typeName = "lis3dh"
    public static let title = "ST LIS3DH"

    /// The register map (section 7, "Register mapping", Table 17).
    public enum Register {
        /// WHO_AM_I: 0x33.
        public static let whoAmI: UInt8 = 0x0F
        /// CTRL_REG1: ODR3…0 (7:4), LPen (3), Zen, Yen, Xen.
        public static let control1: UInt8 = 0x20
        /// CTRL_REG4: BDU (7), BLE (6), FS1:FS0 (5:4), HR (3), ST1:ST0 (2:1), SIM (0).
        public static let control4: UInt8 = 0x23
        /// CTRL_REG5: BOOT (7), FIFO_EN (6), LIR_INT1, D4D_INT1, LIR_INT2, D4D_INT2.
        public static let control5: UInt8 = 0x24
        /// OUT_X_L … OUT_Z_H: left-justified two's complement, low byte first.
        public static let outXLow: UInt8 = 0x28
        public static let outZHigh: UInt8 = 0x2D
        /// FIFO_CTRL_REG: FM1:FM0 (7:6), TR (5), FTH4:0.
        public static let fifoControl: UInt8 = 0x2E
        /// FIFO_SRC_REG: WTM (7), OVRN_FIFO (6), EMPTY (5), FSS4:0; read-only.
        public static let fifoSource: UInt8 = 0x2F
        public static let count = 0x40
    }

    /// WHO_AM_I's value.
    public static let partID: UInt8 = 0x33
    /// The sub-address bit that makes a multi-byte transfer auto-increment (section 6.1.1).
    public static let autoIncrement: UInt8 = 0x80
    /// CTRL_REG1: the ODR field (7:4) and X, Y, Z enable (2:0).
    public static let odrShift: UInt8 = 4
    public static let axesEnabled: UInt8 = 0x07
    /// CTRL_REG4 bits.
    public static let blockDataUpdateBit: UInt8 = 0x80
    public static let fullScaleShift: UInt8 = 4
    public static let highResolutionBit: UInt8 = 0x08
    /// CTRL_REG5 FIFO_EN.
    public static let fifoEnableBit: UInt8 = 0x40
    /// FIFO_CTRL_REG FM1:FM0 (7:6): 00 bypass, 01 FIFO, 10 stream, 11 stream-to-FIFO. Section 3.3.1:
    /// in bypass mode the FIFO is not operational and remains empty; switching to bypass resets it.
    public static let fifoModeShift: UInt8 = 6
    public static let fifoModeBypass: UInt8 = 0b00
    public static let fifoModeStream: UInt8 = 0b10
    /// CTRL_REG4 ST1:ST0 (2:1): 00 normal, 01 self-test 0, 10 self-test 1.
    public static let selfTestShift: UInt8 = 1
    public static let selfTest0: UInt8 = 0b01
    /// FIFO_SRC_REG bits.
    public static let watermarkBit: UInt8 = 0x80
    public static let overrunBit: UInt8 = 0x40
    public static let emptyBit: UInt8 = 0x20
    public static let storedSamplesMask: UInt8 = 0x1F

    /// CTRL_REG1 ODR codes in normal and high-resolution mode (Table 31): 1 Hz … 400 Hz are
    /// codes 1–7, 1344 Hz is code 9 (code 8 is 1.6 kHz in low-power mode only).
    public static let rateCodes: [(hz: Double, code: UInt8)] = [(1, 1), (10, 2), (25, 3), (50, 4), (100, 5), (200, 6), (400, 7), (1344, 9)]
    /// High-resolution sensitivity, mg per digit, by full scale (Table 4): 1, 2, 4, 12.
    public static let milliGPerDigit: [(rangeG: Int, mg: Double)] = [(2, 1), (4, 2), (8, 4), (16, 12)]
    /// Normal-mode (10-bit) sensitivity, mg per digit (Table 4): 4, 8, 16, 48. The FIFO holds
    /// only the 10 most significant bits of each sample (section 3.3), so what a FIFO drain
    /// reads has this step whatever the output mode.
    public static let fifoMilliGPerDigit: [(rangeG: Int, mg: Double)] = [(2, 4), (4, 8), (8, 16), (16, 48)]
    public static let fifoSignificantBits = 10

    /// SDO/SA0 low: 0x18; high: 0x19 (section 6.1.1).
    public static let addresses: [UInt8] = [0x18, 0x19]
    public static let identity = PartIdentity(register: Register.whoAmI, registerName: "WHO_AM_I", value: partID, isUnique: true)

    public static let outputDataRatesHz: [Double] = rateCodes.map(\.hz)
    public static let defaultSampleRateHz = 1344.0
    public static let rangesG = [2, 4, 8, 16]
    /// ±4 g: 8 mg per FIFO step, room for a machine's shocks (±16 g would be 48 mg per step, too
    /// coarse for a quiet machine's vibration).
    public static let defaultRangeG = 4
    public static let fifoDepth = 32
    public static let maximumWaitingSamples = 32
    public static let sampleReadBytes = 6
    public static let drainStatusReadBytes = [1]
    /// Table 4: 220 µg/√Hz (normal mode).
    public static let noiseDensityGPerRootHz = 0.00022
    /// Table 4: self-test output change 17…360 LSb at ±2 g in normal mode (4 mg/digit), on each
    /// axis with the same sign: 0.068…1.44 g.
    public static let selfTestLimitsG: [ClosedRange<Double>] = Array(repeating: 0.068...1.44, count: 3)
}
