/// How long SMBus transfers hold an I2C bus, in bit times (one bit = 1 / clock): the budget the
/// profile validator checks a loop period against.
public enum I2CBusTime {
    /// One SMBus I2C-block read of `count` bytes: start, address+W, register, repeated start,
    /// address+R, data bytes, stop (each byte 9 bits with its ACK).
    public static func blockReadBits(count: Int) -> Int { 1 + 9 + 9 + 1 + 9 + 9 * count + 1 }
}
