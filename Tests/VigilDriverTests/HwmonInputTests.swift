#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport
import VigilHAL
import VigilHALLinux

/// Issue 22 (16): a kernel-driven sensor read through hwmon. Here on a directory shaped like
/// /sys/class/hwmon (the real kernel's lm75, with a device removed, is on the real-kernel bench).
@Suite struct HwmonInputTests {
    func fakeSysfs() -> String {
        let root = TestPaths.makeTemporaryDirectory("hwmon")
        for (dir, name) in [("hwmon0", "cpu_thermal"), ("hwmon1", "lm75"), ("hwmon2", "ina219")] {
            mkdir(root + "/" + dir, 0o755)
            TestPaths.writeFile(root + "/" + dir + "/name", name + "\n")
        }
        TestPaths.writeFile(root + "/hwmon0/temp1_input", "51000\n")
        TestPaths.writeFile(root + "/hwmon1/temp1_input", "42500\n")
        TestPaths.writeFile(root + "/hwmon2/in1_input", "12034\n")
        return root
    }

    @Test func theDeviceIsFoundByItsNameAndItsAttributeReadAgainEachTime() throws {
        let root = fakeSysfs()
        defer { TestPaths.removeTree(root) }
        let lm75 = try LinuxHwmonInput(device: "lm75", attribute: "temp1_input", root: root)
        #expect(lm75.path == root + "/hwmon1/temp1_input")
        #expect(try lm75.read() == 42500)
        // sysfs makes a new value for each read from offset 0: so must the reader.
        let fd = open(lm75.path, O_WRONLY | O_TRUNC)
        _ = "43125\n".withCString { write(fd, $0, 6) }
        close(fd)
        #expect(try lm75.read() == 43125)
        #expect(try LinuxHwmonInput(device: "ina219", attribute: "in1_input", root: root).read() == 12034)
    }

    @Test func aMissingDeviceOrAttributeAndGarbageAreTypedErrors() throws {
        let root = fakeSysfs()
        defer { TestPaths.removeTree(root) }
        let missing = #expect(throws: HALError.self) { _ = try LinuxHwmonInput(device: "tmp102", attribute: "temp1_input", root: root) }
        #expect(missing?.kind == .noDevice)
        let noAttribute = #expect(throws: HALError.self) { _ = try LinuxHwmonInput(device: "lm75", attribute: "temp2_input", root: root) }
        #expect(noAttribute?.kind == .noDevice)
        TestPaths.writeFile(root + "/hwmon1/temp1_input", "N/A\n")
        let garbage = #expect(throws: HALError.self) { _ = try LinuxHwmonInput(device: "lm75", attribute: "temp1_input", root: root).read() }
        #expect(garbage?.kind == .badData)
    }
}
