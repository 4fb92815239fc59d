import VigilBase

/// A digital thermometer read at the profile's poll interval.
public protocol ThermometerPart: I2CPart {
    /// The shortest poll interval that still sees a new conversion, ms.
    static var minimumPollMilliseconds: Int { get }
    static var defaultPollMilliseconds: Int { get }
    /// The channels one reading produces (`SENSOR.SUFFIX`).
    static var channels: [ChannelTemplate] { get }
    /// Bytes one reading moves (one SMBus I2C-block read).
    static var readBytes: Int { get }
}

extension ThermometerPart {
    public static var kind: PartKind { .thermometer }
}
