import Glibc
import VigilHAL

/// A hwmon attribute file, found by the device's `name` (`/sys/class/hwmon/hwmon*/name`, the
/// kernel driver's name for the chip: `lm75`, `ina219`, …), kept open and read with one
/// `pread` per poll (sysfs regenerates the value on each read from offset 0).
public final class LinuxHwmonInput: HwmonInput {
    public let path: String
    private let fd: Int32

    /// - Parameter root: `/sys/class/hwmon` on a node; a directory of the same shape in tests.
    public init(device: String, attribute: String, root: String = "/sys/class/hwmon") throws(HALError) {
        guard let directory = Self.find(device: device, root: root) else {
            throw HALError(.noDevice, code: 2, operation: "hwmon device not found by name")
        }
        path = directory + "/" + attribute
        fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw HALError(errno: errno, operation: "hwmon open attribute") }
    }

    deinit { close(fd) }

    /// The first `hwmon*` directory under `root` whose `name` is `device`.
    public static func find(device: String, root: String) -> String? { findNamed(device, prefix: "hwmon", root: root) }

    /// The first directory under `root`, in name order, starting with `prefix` whose `name` file
    /// reads `device`: hwmon and IIO both list their devices this way.
    static func findNamed(_ device: String, prefix: String, root: String) -> String? {
        guard let dir = opendir(root) else { return nil }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name.hasPrefix(prefix) { names.append(name) }
        }
        for n in names.sorted() where readLine(root + "/" + n + "/name") == device { return root + "/" + n }
        return nil
    }

    static func readLine(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n], as: UTF8.self).split(separator: "\n").first.map(String.init)
    }

    public func read() throws(HALError) -> Int64 {
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        if n < 0 { throw HALError(errno: errno, operation: "hwmon read") }
        let text = String(decoding: buffer[0..<n], as: UTF8.self).split(separator: "\n").first ?? ""
        guard let value = Int64(text) else { throw HALError(.badData, code: Int32(n), operation: "hwmon value is not an integer") }
        return value
    }
}
