/// Analog Devices ADXL345 3-axis digital accelerometer (datasheet Rev. G): ±2…16 g, 13 bits in
/// full resolution (3.9 mg/LSB at every range), up to 3200 Hz, a 32-sample FIFO. The facts its
/// driver (VigilDrivers/ADXL345Driver.swift) and its register model
/// (VigilSimulation/ADXL345Model.swift) share; each follows the datasheet's behaviour itself.
public enum ADXL345: AccelerometerPart {
    public static let typeName = "adxl345"
    public static let title = "Analog Devices ADXL345"

    /// The register map (Table 19, "Register Map").
    public enum Register {
        /// DEVID: the fixed device ID, 0xE5.
        public static let deviceID: UInt8 = 0x00
        /// BW_RATE: LOW_POWER (D4) and the rate code (D3:D0).
        public static let bandwidthRate: UInt8 = 0x2C
        /// POWER_CTL: Link, AUTO_SLEEP, Measure (D3), Sleep, Wakeup.
        public static let powerControl: UInt8 = 0x2D
        /// INT_SOURCE: DATA_READY (D7) … Watermark (D1), Overrun (D0); read-only.
        public static let interruptSource: UInt8 = 0x30
        /// DATA_FORMAT: SELF_TEST (D7), SPI, INT_INVERT, FULL_RES (D3), Justify (D2), Range (D1:D0).
        public static let dataFormat: UInt8 = 0x31
        /// DATAX0 … DATAZ1: two's complement, low byte first.
        public static let dataX0: UInt8 = 0x32
        public static let dataZ1: UInt8 = 0x37
        /// FIFO_CTL: FIFO_MODE (D7:D6), Trigger (D5), Samples (D4:D0).
        public static let fifoControl: UInt8 = 0x38
        /// FIFO_STATUS: FIFO_TRIG (D7), Entries (D5:D0); read-only.
        public static let fifoStatus: UInt8 = 0x39
        /// The register file's size (0x00–0x39, with reserved gaps).
        public static let count = 0x3A
    }

    /// DEVID's value.
    public static let partID: UInt8 = 0xE5
    /// POWER_CTL Measure bit: 1 measures, 0 is standby.
    public static let measureBit: UInt8 = 0x08
    /// DATA_FORMAT FULL_RES bit: 4 mg/LSB scale at every range.
    public static let fullResolutionBit: UInt8 = 0x08
    /// DATA_FORMAT Range bits (D1:D0): 00 ±2 g, 01 ±4 g, 10 ±8 g, 11 ±16 g.
    public static let rangeMask: UInt8 = 0x03
    /// FIFO_CTL FIFO_MODE field (D7:D6): 00 bypass, 01 FIFO, 10 stream, 11 trigger. "In bypass
    /// mode, FIFO is not operational and, therefore, remains empty": passing through bypass is
    /// how the FIFO is emptied.
    public static let fifoModeShift: UInt8 = 6
    public static let fifoModeBypass: UInt8 = 0b00
    public static let fifoModeStream: UInt8 = 0b10
    /// FIFO_CTL Samples field (D4:D0): the watermark.
    public static let fifoSamplesMask: UInt8 = 0x1F
    /// INT_SOURCE bits.
    public static let dataReadyBit: UInt8 = 0x80
    public static let watermarkBit: UInt8 = 0x02
    public static let overrunBit: UInt8 = 0x01
    /// FIFO_STATUS Entries field (D5:D0).
    public static let fifoEntriesMask: UInt8 = 0x3F
    /// BW_RATE rate-code field (D3:D0); code 0x0F is 3200 Hz and each code below halves it
    /// (Table 7).
    public static let rateCodeMask: UInt8 = 0x0F
    public static let fastestRateCode: UInt8 = 0x0F
    public static let fastestRateHz = 3200.0
    /// BW_RATE after reset: 0x0A, 100 Hz.
    public static let bandwidthRateReset: UInt8 = 0x0A
    /// Full resolution: 256 LSB/g at every range (Table 1, "Scale Factor", 3.9 mg/LSB).
    public static let fullResolutionCountsPerG = 256.0

    /// SDO/ALT ADDRESS low: 0x53; high: 0x1D ("Serial Communications", I2C).
    public static let addresses: [UInt8] = [0x53, 0x1D]
    public static let identity = PartIdentity(register: Register.deviceID, registerName: "DEVID", value: partID, isUnique: true)

    /// 6.25 Hz to 3200 Hz: the codes 0x6–0xF of Table 7 (the slower codes are not programmed).
    public static let outputDataRatesHz: [Double] = [6.25, 12.5, 25, 50, 100, 200, 400, 800, 1600, 3200]
    /// The fastest rate the datasheet allows on I2C (at 400 kHz).
    public static let defaultSampleRateHz = 800.0
    public static let rangesG = [2, 4, 8, 16]
    public static let defaultRangeG = 16
    public static let fifoDepth = 32
    /// FIFO_STATUS (register 0x39): "FIFO stores a maximum of 32 entries, which equates to a maximum
    /// of 33 entries available at any given time because an additional entry is available at the
    /// output filter of the device."
    public static let maximumWaitingSamples = 33
    /// DATAX0…DATAZ1 in one read pops one FIFO entry ("FIFO").
    public static let sampleReadBytes = 6
    /// A drain reads INT_SOURCE (overrun) and FIFO_STATUS (entries) before the samples.
    public static let drainStatusReadBytes = [1, 1]

    /// "Serial Communications": 3200 Hz and 1600 Hz are recommended only with SPI at 2 MHz or
    /// more; 800 Hz needs at least 400 kHz on I2C, and the lower rates scale proportionally
    /// (200 Hz: 100 kHz).
    public static func minimumI2CClockHz(sampleRateHz: Double) -> Int? {
        sampleRateHz >= 1600 ? nil : Int(sampleRateHz * 500)
    }
    /// "Data Formatting of Upper Data Rates": at 3200 Hz and 1600 Hz in full resolution the LSB of
    /// the output data word is always 0.
    public static let lsbAlwaysZeroFromHz = 1600.0

    /// DATA_FORMAT SELF_TEST (D7): a self-test force shifts the output.
    public static let selfTestBit: UInt8 = 0x80
    /// Specifications, "Self-Test": output change at 2.5 V, X 0.20…2.10 g, Y −2.10…−0.20 g,
    /// Z 0.30…3.40 g; at 3.3 V the change is 1.77× (X, Y) and 1.47× (Z) as large ("Self-Test",
    /// Table 14): the union of both supplies.
    public static let selfTestLimitsG: [ClosedRange<Double>] = [0.20...(2.10 * 1.77), -(2.10 * 1.77)...(-0.20), 0.30...(3.40 * 1.47)]
    /// Noise, X and Y: 0.75 LSB rms at 100 Hz in ±2 g 10-bit (3.9 mg/LSB): about 2.9 mg in 50 Hz
    /// of bandwidth, 0.41 mg/√Hz.
    public static let noiseDensityGPerRootHz = 0.00041
}
