/// How long SMBus transfers hold an I2C bus, in bit times (one bit = 1 / clock): the budget the
/// profile validator and the start-up check hold a loop period against, and the time the
/// simulated bus charges for each transfer, so the two cannot disagree. Each byte on the wire is
/// 9 bits with its ACK; a start, a repeated start and a stop are about one bit each.
public enum I2CBusTime {
    /// One SMBus read of `count` bytes from a register (read byte data, I2C-block read): start,
    /// address+W, the register's address, repeated start, address+R, the data, stop.
    public static func registerReadBits(count: Int) -> Int { 1 + 9 + 9 + 1 + 9 + 9 * count + 1 }
    /// One SMBus write of `count` bytes to a register: start, address+W, the register's address,
    /// the data, stop.
    public static func registerWriteBits(count: Int) -> Int { 1 + 9 + 9 + 9 * count + 1 }
    /// An address probe (SMBus quick or receive byte): start, the address, stop.
    public static let probeBits = 1 + 9 + 1

    /// The same, under the name the drivers' drain budget uses.
    public static func blockReadBits(count: Int) -> Int { registerReadBits(count: count) }

    /// Nanoseconds `bits` take at `clockHz`.
    public static func nanoseconds(bits: Int, clockHz: Int) -> Int64 { Int64(bits) * 1_000_000_000 / Int64(max(1, clockHz)) }
}
