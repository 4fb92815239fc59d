/// The four Modbus data tables a client reads.
public enum ModbusTable: UInt8, Sendable, CaseIterable {
    /// Function 1 (read) / 5 (write single).
    case coils = 1
    /// Function 2.
    case discreteInputs = 2
    /// Function 3 (read) / 6 (write single).
    case holdingRegisters = 3
    /// Function 4.
    case inputRegisters = 4

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
