/// A UART's parity (the profile's and `vigil modbus read --parity` spellings).
public enum SerialParity: String, Sendable, CaseIterable, Codable {
    case none, even, odd
    /// The letter termios and libmodbus use: `N`, `E` or `O`.
    public var letter: UInt8 {
        switch self {
        case .none: return UInt8(ascii: "N")
        case .even: return UInt8(ascii: "E")
        case .odd: return UInt8(ascii: "O")
        }
    }
}

/// The rates a Linux UART can be set to (termios `Bnnn` constants), bit/s.
public let standardBaudRates: [Int] = [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600]

/// A byte stream over a UART (a serial uplink to a gateway, or a raw RS-485 line).
public protocol SerialPort: AnyObject {
    var name: String { get }
    /// Writes all of `bytes`, waiting at most `timeoutNanoseconds` for room in the driver.
    func write(_ bytes: UnsafeRawBufferPointer, timeoutNanoseconds: Int64) throws(HALError)
    /// Reads what is available, waiting at most `timeoutNanoseconds` for the first byte; returns the
    /// count (0 on timeout).
    func read(into buffer: UnsafeMutableRawBufferPointer, timeoutNanoseconds: Int64) throws(HALError) -> Int
}
