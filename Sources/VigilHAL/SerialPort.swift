/// A byte stream over a UART (a serial uplink to a gateway, or a raw RS-485 line).
public protocol SerialPort: AnyObject {
    var name: String { get }
    /// Writes all of `bytes`, waiting at most `timeoutNanoseconds` for room in the driver.
    func write(_ bytes: UnsafeRawBufferPointer, timeoutNanoseconds: Int64) throws(HALError)
    /// Reads what is available, waiting at most `timeoutNanoseconds` for the first byte; returns the
    /// count (0 on timeout).
    func read(into buffer: UnsafeMutableRawBufferPointer, timeoutNanoseconds: Int64) throws(HALError) -> Int
}
