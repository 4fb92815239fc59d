import Glibc
import VigilHAL

/// One channel of an IIO device the kernel drives (`/sys/bus/iio/devices/iio:deviceN`, found by
/// its `name`, e.g. `ads1015` for every part Linux's ti-ads1015 driver binds, the 16-bit parts included). By the IIO sysfs ABI a channel is
/// either processed (`CHANNEL_input`, milli-units) or raw (`CHANNEL_raw`, to be scaled: value =
/// (raw + `CHANNEL_offset`) × `CHANNEL_scale`, in milli-units); the scale and offset may also be
/// shared by the channel type (`in_voltage_scale`). `read()` returns micro-units (µV, µA, m°C ×
/// 1000) so a fractional scale keeps its resolution. Scale and offset are read once, at open.
public final class LinuxIIOInput: HwmonInput {
    public let path: String
    private let fd: Int32
    /// Nil for a processed channel.
    private let scale: Double?
    private let offset: Double

    public init(device: String, channel: String, root: String = "/sys/bus/iio/devices") throws(HALError) {
        guard let directory = Self.find(device: device, root: root) else {
            throw HALError(.noDevice, code: 2, operation: "iio device not found by name")
        }
        // The channel's type prefix, for shared attributes: in_voltage0 → in_voltage.
        let type = String(channel.prefix { !$0.isNumber && $0 != "-" })
        let processed = directory + "/" + channel + "_input"
        if access(processed, R_OK) == 0 {
            path = processed
            scale = nil
            offset = 0
        } else {
            path = directory + "/" + channel + "_raw"
            guard let s = Self.number(directory + "/" + channel + "_scale") ?? Self.number(directory + "/" + type + "_scale") else {
                throw HALError(.noDevice, code: 2, operation: "iio channel has neither _input nor _raw with _scale")
            }
            scale = s
            offset = Self.number(directory + "/" + channel + "_offset") ?? Self.number(directory + "/" + type + "_offset") ?? 0
        }
        fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw HALError(errno: errno, operation: "iio open channel") }
    }

    deinit { close(fd) }

    /// The first `iio:device*` directory under `root` whose `name` is `device`.
    public static func find(device: String, root: String) -> String? {
        LinuxHwmonInput.findNamed(device, prefix: "iio:device", root: root)
    }

    static func number(_ path: String) -> Double? { LinuxHwmonInput.readLine(path).flatMap { Double($0.trimmingCharacters()) } }

    public func read() throws(HALError) -> Int64 {
        var buffer = [UInt8](repeating: 0, count: 40)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        if n < 0 { throw HALError(errno: errno, operation: "iio read") }
        let text = String(decoding: buffer[0..<n], as: UTF8.self).split(separator: "\n").first ?? ""
        guard let value = Double(text), value.isFinite else { throw HALError(.badData, code: Int32(n), operation: "iio value is not a number") }
        let milli = scale.map { (value + offset) * $0 } ?? value
        guard abs(milli) < 9e12 else { throw HALError(.badData, code: Int32(n), operation: "iio value out of range") }
        return Int64((milli * 1000).rounded())
    }
}

extension String {
    fileprivate func trimmingCharacters() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\r" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s.removeLast() }
        return String(s)
    }
}
