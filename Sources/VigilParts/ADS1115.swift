import VigilBase

/// TI ADS1115 16-bit delta-sigma ADC with a programmable gain amplifier and a 4-input mux
/// (datasheet SBAS444). The facts its driver (VigilDrivers/ADS1115Driver.swift) and its register
/// model (VigilSimulation/ADS1115Model.swift) share.
public enum ADS1115: AnalogInputPart {
    public static let typeName = "ads1115"
    public static let title = "TI ADS1115"

    /// The address pointer register's values (section 9.6.1, Table 8-3): each selects a 16-bit
    /// register sent MSB first.
    public enum Register {
        public static let conversion: UInt8 = 0
        public static let config: UInt8 = 1
        public static let loThresh: UInt8 = 2
        public static let hiThresh: UInt8 = 3
    }

    /// Config register fields (section 9.6.3, Table 8-3's bit layout).
    /// OS (15): write 1 starts a single conversion in power-down; reads 0 while converting.
    public static let osBit: UInt16 = 0x8000
    /// MUX[2:0] (14:12): 000 AIN0−AIN1, 001 AIN0−AIN3, 010 AIN1−AIN3, 011 AIN2−AIN3,
    /// 100 AIN0−GND, 101 AIN1−GND, 110 AIN2−GND, 111 AIN3−GND.
    public static let muxShift: UInt16 = 12
    public static let inputs = ["AIN0-AIN1", "AIN0-AIN3", "AIN1-AIN3", "AIN2-AIN3", "AIN0", "AIN1", "AIN2", "AIN3"]
    /// PGA[2:0] (11:9): ±6.144, ±4.096, ±2.048 (default), ±1.024, ±0.512, ±0.256 V (codes 101–111 all ±0.256).
    public static let pgaShift: UInt16 = 9
    public static let fullScaleVolts = [6.144, 4.096, 2.048, 1.024, 0.512, 0.256]
    /// MODE (8): 0 continuous conversion, 1 single-shot / power-down (default).
    public static let singleShotBit: UInt16 = 0x0100
    /// DR[2:0] (7:5): 8, 16, 32, 64, 128 (default), 250, 475, 860 samples per second.
    public static let dataRateShift: UInt16 = 5
    public static let dataRatesSPS = [8, 16, 32, 64, 128, 250, 475, 860]
    /// COMP_QUE[1:0] (1:0) = 11: the comparator and the ALERT/RDY pin off (the default).
    public static let comparatorDisabled: UInt16 = 0x0003
    /// Power-up values (Table 8-3, 8-4): config 0x8583, Lo_thresh 0x8000, Hi_thresh 0x7FFF.
    public static let resetConfig: UInt16 = 0x8583
    public static let resetLoThresh: UInt16 = 0x8000
    public static let resetHiThresh: UInt16 = 0x7FFF
    /// The data rate is within ±10 % of its nominal value (section 7.5, "Output data rate"):
    /// a conversion may take 1.1 / DR.
    public static let dataRateTolerance = 0.10

    public static let resolutionBits = 16
    public static let readBytes = 2
    /// Absolute maximum analog input: VDD + 0.3 V (section 7.1), at VDD = 3.3 V.
    public static let maximumInputVolts = 3.6

    /// ADDR to GND, VDD, SDA, SCL: 0x48–0x4B (section 9.5.1.1, Table 8-2).
    public static let addresses: [UInt8] = [0x48, 0x49, 0x4A, 0x4B]
    /// No ID register. Hi_thresh keeps its power-up 0x7FFF while the comparator is unused (vigil
    /// never writes it): its first byte, 0x7F, is what a scan can check; an ADS1015 answers alike.
    public static let identity = PartIdentity(register: Register.hiThresh, registerName: "Hi_thresh", value: 0x7F, isUnique: false)

    /// The MUX code of an input name, nil for a name the part does not have.
    public static func muxCode(_ input: String) -> UInt16? { inputs.firstIndex(of: input).map { UInt16($0) } }
    /// The PGA code of a full-scale range.
    public static func pgaCode(_ volts: Double) -> UInt16? { fullScaleVolts.firstIndex(of: volts).map { UInt16($0) } }
    /// The DR code of a data rate.
    public static func dataRateCode(_ sps: Int) -> UInt16? { dataRatesSPS.firstIndex(of: sps).map { UInt16($0) } }
}
