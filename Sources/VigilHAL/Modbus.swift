/// The four Modbus data tables a client reads; the spellings are the profile's `function` and
/// `vigil modbus read --function`.
public enum ModbusTable: String, Sendable, CaseIterable, Codable {
    /// Function 1 (read) / 5 (write single).
    case coils = "coil"
    /// Function 2.
    case discreteInputs = "discrete"
    /// Function 3 (read) / 6 (write single).
    case holdingRegisters = "holding"
    /// Function 4.
    case inputRegisters = "input"

    /// The read function code (Modbus application protocol, 6.1–6.4).
    public var functionCode: UInt8 {
        switch self {
        case .coils: return 1
        case .discreteInputs: return 2
        case .holdingRegisters: return 3
        case .inputRegisters: return 4
        }
    }

    public var isBitTable: Bool { self == .coils || self == .discreteInputs }
    public var name: String {
        switch self {
        case .coils: return "coils"
        case .discreteInputs: return "discrete inputs"
        case .holdingRegisters: return "holding registers"
        case .inputRegisters: return "input registers"
        }
    }
}

/// How a value is encoded in registers (`type` in a profile's register map).
public enum ModbusValueType: String, Sendable, CaseIterable, Codable {
    case int16, uint16, int32, uint32, float32, int64, uint64, float64, bool

    /// Registers (16-bit words) one value spans.
    public var wordCount: Int {
        switch self {
        case .int16, .uint16, .bool: return 1
        case .int32, .uint32, .float32: return 2
        case .int64, .uint64, .float64: return 4
        }
    }

    /// The register types, for messages.
    public static var registerTypeList: String { allCases.filter { $0 != .bool }.map(\.rawValue).joined(separator: "/") }
}

/// Byte order of a multi-byte value as the letters of its big-endian bytes appear in the
/// registers, as Modbus tools spell it: `ABCD` is the standard (big-endian words, high word
/// first); `CDAB` swaps the words ("word swap", common on PLCs); `BADC` swaps the bytes in each
/// word; `DCBA` is fully little-endian. A 64-bit value follows the same rule over four words:
/// `ABCD` high word first, `CDAB` low word first, `BADC`/`DCBA` the same with each word's bytes
/// swapped.
public enum ModbusByteOrder: String, Sendable, CaseIterable, Codable {
    case abcd = "ABCD", cdab = "CDAB", badc = "BADC", dcba = "DCBA"
}

/// A Modbus client (RTU over RS-485 or TCP). One client owns its port or connection; slaves are
/// chosen per request by unit id. Addresses are the 0-based protocol addresses.
public protocol ModbusClient: AnyObject {
    /// A name for messages: `/dev/ttyUSB0` or `127.0.0.1:502`.
    var name: String { get }
    /// The time a request may take before it fails with `.timeout`.
    var responseTimeoutNanoseconds: Int64 { get set }

    /// Reads `buffer.count` registers (1…125) from a register table.
    func readRegisters(unit: UInt8, table: ModbusTable, address: UInt16, into buffer: UnsafeMutableBufferPointer<UInt16>) throws(HALError)
    /// Reads `buffer.count` bits (1…2000) from a bit table, one bit per element (0 or 1).
    func readBits(unit: UInt8, table: ModbusTable, address: UInt16, into buffer: UnsafeMutableBufferPointer<UInt8>) throws(HALError)
    func writeRegister(unit: UInt8, address: UInt16, value: UInt16) throws(HALError)
    func writeCoil(unit: UInt8, address: UInt16, value: Bool) throws(HALError)
}

/// The most registers one read request may ask for (Modbus application protocol, 6.3).
public let modbusMaximumRegisterCount = 125
/// The most bits one read request may ask for (6.1).
public let modbusMaximumBitCount = 2000
