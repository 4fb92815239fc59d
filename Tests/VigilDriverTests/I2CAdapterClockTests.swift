#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport
import VigilHALLinux

/// Issue 22 (11): the adapter's clock is read from its device-tree node under sysfs, a big-endian
/// 32-bit cell as the I2C bindings define `clock-frequency`; an adapter without one (i2c-stub,
/// most x86 adapters) reports none, and the profile's clock_hz is used instead.
@Suite struct I2CAdapterClockTests {
    @Test func theClockComesFromTheAdaptersDeviceTreeNode() {
        let root = TestPaths.makeTemporaryDirectory("i2c-clock")
        defer { TestPaths.removeTree(root) }
        for path in ["/bus", "/bus/i2c", "/bus/i2c/devices", "/bus/i2c/devices/i2c-1", "/bus/i2c/devices/i2c-1/of_node",
                     "/bus/i2c/devices/i2c-2", "/bus/i2c/devices/i2c-3", "/bus/i2c/devices/i2c-3/of_node"] {
            mkdir(root + path, 0o755)
        }
        TestPaths.writeFile(root + "/bus/i2c/devices/i2c-1/of_node/clock-frequency", bytes: [0x00, 0x01, 0x86, 0xA0])
        TestPaths.writeFile(root + "/bus/i2c/devices/i2c-3/of_node/clock-frequency", bytes: [0x00, 0x06, 0x1A])
        #expect(LinuxI2CBus.clockHz(adapter: 1, sysfs: root) == 100_000)
        #expect(LinuxI2CBus.clockHz(adapter: 2, sysfs: root) == nil)
        #expect(LinuxI2CBus.clockHz(adapter: 3, sysfs: root) == nil)   // a truncated cell is no clock
        #expect(LinuxI2CBus.clockHz(adapter: 4, sysfs: root) == nil)
    }
}
