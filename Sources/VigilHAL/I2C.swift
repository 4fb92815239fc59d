/// An I2C bus, driven with SMBus-style transactions so that the same driver also runs on
/// SMBus-only adapters (many SoC and USB bridges): byte-data reads and writes, and I2C-block reads
/// of up to 32 bytes starting at a register (the device auto-increments).
///
/// Addresses are 7-bit. Every call addresses one device; a bus serves many.
public protocol I2CBus: AnyObject {
    /// A name for messages: `/dev/i2c-1` or a simulated adapter's label.
    var name: String { get }

    func readByte(address: UInt8, register: UInt8) throws(HALError) -> UInt8
    func writeByte(address: UInt8, register: UInt8, value: UInt8) throws(HALError)
    /// Writes `bytes` (1…32) starting at `register` in one transfer (SMBus I2C-block write).
    func writeBlock(address: UInt8, register: UInt8, bytes: UnsafeRawBufferPointer) throws(HALError)
    /// Reads `buffer.count` bytes (1…32) starting at `register`.
    func readBlock(address: UInt8, register: UInt8, into buffer: UnsafeMutableRawBufferPointer) throws(HALError)
    /// Whether a device acknowledges `address`, with a read that changes no device state.
    func probe(address: UInt8) throws(HALError) -> Bool
}

/// The longest block an SMBus I2C-block transfer carries.
public let i2cBlockMaximum = 32
