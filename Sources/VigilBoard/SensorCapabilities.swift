/// What each supported part can do, from its datasheet. The validator checks profiles against these.
public enum SensorCapabilities {
    /// ADXL345 output data rates (datasheet Table 7, BW_RATE rate codes 0x0–0xF), Hz.
    public static let adxl345Rates: [Double] = [0.10, 0.20, 0.39, 0.78, 1.56, 3.13, 6.25, 12.5, 25, 50, 100, 200, 400, 800, 1600, 3200]
    /// LIS3DH output data rates in normal / high-resolution mode (CTRL_REG1 ODR 1–7 and 9), Hz.
    public static let lis3dhRates: [Double] = [1, 10, 25, 50, 100, 200, 400, 1344]
    /// Full-scale ranges, ± g, of both accelerometers.
    public static let accelerometerRanges: [Int] = [2, 4, 8, 16]

    public static func supportedRates(_ part: AccelerometerSpec.Part) -> [Double] {
        switch part {
        case .adxl345: return adxl345Rates
        case .lis3dh: return lis3dhRates
        }
    }

    /// 7-bit addresses selectable by the part's address pin.
    public static func addresses(_ part: AccelerometerSpec.Part) -> [Int] {
        switch part {
        case .adxl345: return [0x53, 0x1D]
        case .lis3dh: return [0x18, 0x19]
        }
    }

    public static let tmp102Addresses: [Int] = [0x48, 0x49, 0x4A, 0x4B]
    /// TMP102 converts at most 8 times per second (CR1:CR0 = 11).
    public static let tmp102MinimumPollMilliseconds = 125

    /// Hardware FIFO depth (entries of one X/Y/Z sample) of both accelerometers.
    public static let accelerometerFIFODepth = 32

    /// Baud rates a Linux UART (termios `Bnnn` constants) can be set to.
    public static let standardBaudRates: [Int] = [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600]

    /// Bit times of one SMBus I2C-block read of `count` bytes: start, address+W, register,
    /// repeated start, address+R, data bytes, stop (each byte 9 bits with its ACK).
    public static func i2cBlockReadBits(count: Int) -> Int { 1 + 9 + 9 + 1 + 9 + 9 * count + 1 }
}
