import CI2C
import CVigilSys
import Glibc
import VigilHAL

/// An I2C adapter through `/dev/i2c-N` and libi2c's SMBus calls. Owns the file descriptor; the
/// target address is set with `I2C_SLAVE` only when it changes.
public final class LinuxI2CBus: I2CBus {
    public let name: String
    private let fd: Int32
    private var currentAddress: Int = -1
    /// The adapter's I2C_FUNC_* bits.
    public let functionality: UInt

    /// Opens an adapter by device path (`/dev/i2c-1` or a udev symlink).
    public init(path: String) throws(HALError) {
        let fd = Glibc.open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw HALError(errno: errno, operation: "i2c open adapter") }
        var functions: UInt = 0
        guard vigil_i2c_functions(fd, &functions) == 0 else {
            let e = errno
            close(fd)
            throw HALError(errno: e, operation: "i2c query functionality")
        }
        // Drivers need byte-data and I2C-block reads; refuse an adapter that cannot do them
        // rather than fail on the first read.
        guard functions & vigil_i2c_func_smbus_byte_data() != 0, functions & vigil_i2c_func_smbus_i2c_block() != 0 else {
            close(fd)
            throw HALError(.unsupported, code: 95, operation: "i2c adapter lacks SMBus byte-data or I2C-block transfers")
        }
        self.fd = fd
        self.name = path
        functionality = functions
    }

    deinit { close(fd) }

    /// Opens the adapter whose sysfs name (`/sys/bus/i2c/devices/i2c-N/name`) is `name`.
    public static func openAdapter(named name: String) throws(HALError) -> LinuxI2CBus {
        for adapter in listAdapters() where adapter.name == name {
            return try LinuxI2CBus(path: "/dev/i2c-\(adapter.number)")
        }
        throw HALError(.noDevice, code: 2, operation: "i2c find adapter by name")
    }

    /// The clock the adapter at `path` (`/dev/i2c-N` or a udev symlink to it) runs at, from its
    /// device-tree node (`clock-frequency`, a big-endian 32-bit cell, as the I2C bindings define
    /// it), or nil where the adapter has no such node (i2c-stub, most x86 adapters).
    public static func clockHz(path: String, sysfs: String = "/sys") -> Int? {
        var buffer = [CChar](repeating: 0, count: 4096)
        guard realpath(path, &buffer) != nil else { return nil }
        let real = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let dash = real.lastIndex(of: "-"), real.hasPrefix("/dev/i2c-"), let n = Int(real[real.index(after: dash)...]) else { return nil }
        return clockHz(adapter: n, sysfs: sysfs)
    }

    /// The clock of adapter `i2c-N` from sysfs (see ``clockHz(path:sysfs:)``).
    public static func clockHz(adapter n: Int, sysfs: String = "/sys") -> Int? {
        guard let bytes = Sysfs.readBytes("\(sysfs)/bus/i2c/devices/i2c-\(n)/of_node/clock-frequency", limit: 8) else { return nil }
        return deviceTreeCell(bytes).map(Int.init)
    }

    /// A device-tree property of one 32-bit cell (big-endian), or nil if it is not one.
    public static func deviceTreeCell(_ bytes: [UInt8]) -> UInt32? {
        guard bytes.count == 4 else { return nil }
        return bytes.reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// The adapter number of the device at `path`, if it is an I2C adapter node.
    public static func adapterNumber(named name: String) -> Int? { listAdapters().first { $0.name == name }?.number }

    /// The kernel's I2C adapters: number and sysfs name.
    public static func listAdapters() -> [(number: Int, name: String)] {
        var result: [(Int, String)] = []
        for entry in Sysfs.list("/sys/bus/i2c/devices") where entry.hasPrefix("i2c-") {
            guard let n = Int(entry.dropFirst(4)) else { continue }
            result.append((n, Sysfs.readLine("/sys/bus/i2c/devices/\(entry)/name") ?? ""))
        }
        return result.sorted { $0.0 < $1.0 }
    }

    /// Addresses on adapter `number` that a kernel driver has bound (a scan must not touch them).
    public static func kernelClaimedAddresses(adapter number: Int) -> Set<UInt8> {
        var result = Set<UInt8>()
        let prefix = "\(number)-00"
        for entry in Sysfs.list("/sys/bus/i2c/devices") where entry.hasPrefix(prefix) {
            guard let address = UInt8(entry.dropFirst(prefix.count), radix: 16) else { continue }
            if Sysfs.exists("/sys/bus/i2c/devices/\(entry)/driver") { result.insert(address) }
        }
        return result
    }

    private func select(_ address: UInt8, operation: StaticString) throws(HALError) {
        guard address < 0x80 else { throw HALError(.invalidArgument, code: 22, operation: operation) }
        if currentAddress == Int(address) { return }
        // I2C_SLAVE fails with EBUSY when a kernel driver owns the address: never force it.
        guard vigil_i2c_set_address(fd, UInt32(address), 0) == 0 else { throw HALError(errno: errno, operation: operation) }
        currentAddress = Int(address)
    }

    public func readByte(address: UInt8, register: UInt8) throws(HALError) -> UInt8 {
        try select(address, operation: "i2c read byte")
        let value = i2c_smbus_read_byte_data(fd, register)
        // libi2c ≥ 4.0 returns −errno on failure.
        if value < 0 { throw HALError(errno: -value, operation: "i2c read byte") }
        return UInt8(truncatingIfNeeded: value)
    }

    public func writeByte(address: UInt8, register: UInt8, value: UInt8) throws(HALError) {
        try select(address, operation: "i2c write byte")
        let status = i2c_smbus_write_byte_data(fd, register, value)
        if status < 0 { throw HALError(errno: -status, operation: "i2c write byte") }
    }

    public func writeBlock(address: UInt8, register: UInt8, bytes: UnsafeRawBufferPointer) throws(HALError) {
        guard (1...i2cBlockMaximum).contains(bytes.count) else { throw HALError(.invalidArgument, code: 22, operation: "i2c write block") }
        try select(address, operation: "i2c write block")
        let status = i2c_smbus_write_i2c_block_data(fd, register, UInt8(bytes.count), bytes.bindMemory(to: UInt8.self).baseAddress)
        if status < 0 { throw HALError(errno: -status, operation: "i2c write block") }
    }

    public func readBlock(address: UInt8, register: UInt8, into buffer: UnsafeMutableRawBufferPointer) throws(HALError) {
        guard (1...i2cBlockMaximum).contains(buffer.count) else { throw HALError(.invalidArgument, code: 22, operation: "i2c read block") }
        try select(address, operation: "i2c read block")
        let n = i2c_smbus_read_i2c_block_data(fd, register, UInt8(buffer.count), buffer.bindMemory(to: UInt8.self).baseAddress)
        if n < 0 { throw HALError(errno: -n, operation: "i2c read block") }
        // A short block is a device that stopped mid-transfer.
        if n != buffer.count { throw HALError(.busError, code: 5, operation: "i2c read block (short)") }
    }

    /// Probes like `i2cdetect`'s default: a receive-byte read where the adapter supports it (it
    /// changes no register on common parts), a quick write otherwise.
    public func probe(address: UInt8) throws(HALError) -> Bool {
        try select(address, operation: "i2c probe")
        let status: Int32
        if functionality & vigil_i2c_func_smbus_read_byte() != 0 {
            status = i2c_smbus_read_byte(fd)
        } else {
            status = i2c_smbus_write_quick(fd, UInt8(I2C_SMBUS_WRITE))
        }
        if status >= 0 { return true }
        let kind = HALError.kind(ofErrno: -status)
        if kind == .nack || kind == .noDevice || kind == .timeout { return false }
        throw HALError(errno: -status, operation: "i2c probe")
    }
}

/// Small sysfs and devfs readers (no Foundation).
enum Sysfs {
    static func list(_ path: String) -> [String] {
        guard let directory = opendir(path) else { return [] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    static func readLine(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 256)
        let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n >= 0 else { return nil }
        return String(decoding: bytes[0..<n], as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init)
    }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// A small binary attribute (a device-tree property), whole; nil if absent or larger than `limit`.
    static func readBytes(_ path: String, limit: Int) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: limit + 1)
        let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n >= 0, n <= limit else { return nil }
        return Array(bytes[0..<n])
    }
}
