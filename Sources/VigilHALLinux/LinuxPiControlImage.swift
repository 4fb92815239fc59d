import CVigilSys
import Glibc
import VigilHAL

/// piControl's process image through `/dev/piControl0` (KUNBUS's driver on a Revolution Pi). Owns
/// its file descriptor: closing it, as the kernel does when vigil dies, makes the driver set every
/// output to 0 once the output watchdog is armed. The ABI is `vigil_picontrol.h`'s.
public final class LinuxPiControlImage: PiControlImage {
    public static let defaultPath = "/dev/piControl0"
    public let path: String
    private let fd: Int32

    public init(path: String = LinuxPiControlImage.defaultPath) throws(HALError) {
        let fd = Glibc.open(path, O_RDWR | O_CLOEXEC)
        if fd < 0 { throw HALError(errno: errno, operation: "picontrol open") }
        self.fd = fd
        self.path = path
    }

    deinit { close(fd) }

    public func findVariable(named name: String) throws(HALError) -> PiControlVariable? {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= PiControlLineName.maximumNameBytes else {
            throw HALError(.invalidArgument, code: 22, operation: "picontrol variable name")
        }
        var v = vigil_picontrol_variable()
        withUnsafeMutableBytes(of: &v.name) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        let status = vigil_picontrol_find_variable(fd, &v)
        let e = errno
        // An unknown name comes back as address 0xffff (with EFAULT, the driver's default status).
        if v.address == 0xffff || (status < 0 && e == EFAULT) { return nil }
        if status < 0 { throw HALError(errno: e, operation: "picontrol find variable") }
        return PiControlVariable(address: v.address, bit: v.bit, lengthBits: v.length_bits)
    }

    public func bit(address: UInt16, bit: UInt8) throws(HALError) -> Bool {
        var v = vigil_picontrol_value(address: address, bit: bit, value: 0)
        if vigil_picontrol_get_value(fd, &v) < 0 { throw HALError(errno: errno, operation: "picontrol get value") }
        return v.value != 0
    }

    public func setBit(address: UInt16, bit: UInt8, to value: Bool) throws(HALError) {
        var v = vigil_picontrol_value(address: address, bit: bit, value: value ? 1 : 0)
        // EAGAIN: the driver is not running its I/O cycle (a PiCtory reset, no configuration).
        if vigil_picontrol_set_value(fd, &v) < 0 { throw HALError(errno: errno, operation: "picontrol set value") }
    }

    public func setOutputWatchdog(milliseconds: Int) throws(HALError) {
        guard milliseconds >= 0 else { throw HALError(.invalidArgument, code: 22, operation: "picontrol output watchdog") }
        if vigil_picontrol_set_output_watchdog(fd, UInt(milliseconds)) < 0 { throw HALError(errno: errno, operation: "picontrol output watchdog") }
    }
}
