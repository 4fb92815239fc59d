#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport
import VigilBoard
import VigilHAL
import VigilHALLinux
import VigilParts

/// Issue 22 (16): a kernel-driven sensor read through IIO, on a directory shaped like
/// /sys/bus/iio/devices as the IIO ABI (Documentation/ABI/testing/sysfs-bus-iio) lays it out: a raw
/// channel with its own or its type's scale and offset, and a processed one. The real kernel's
/// ti-ads1015 driver on i2c-stub is on the real-kernel bench.
@Suite struct IIOInputTests {
    func fakeSysfs() -> String {
        let root = TestPaths.makeTemporaryDirectory("iio")
        for (dir, name) in [("iio:device0", "mcp3008"), ("iio:device1", "ads1015"), ("iio:device2", "bme280")] {
            mkdir(root + "/" + dir, 0o755)
            TestPaths.writeFile(root + "/" + dir + "/name", name + "\n")
        }
        // An ADS1115 under ti-ads1015 (which names its IIO device "ads1015" whatever the chip) at
        // ±2.048 V: 0.0625 mV per code, the scale per channel as the driver gives it.
        TestPaths.writeFile(root + "/iio:device1/in_voltage0_raw", "14400\n")
        TestPaths.writeFile(root + "/iio:device1/in_voltage0_scale", "0.062500000\n")
        TestPaths.writeFile(root + "/iio:device1/in_voltage0-voltage1_raw", "-800\n")
        TestPaths.writeFile(root + "/iio:device1/in_voltage0-voltage1_scale", "0.062500000\n")
        // A shared type scale and an offset: (raw + offset) × scale.
        TestPaths.writeFile(root + "/iio:device0/in_voltage3_raw", "512\n")
        TestPaths.writeFile(root + "/iio:device0/in_voltage_scale", "3.222656250\n")
        TestPaths.writeFile(root + "/iio:device2/in_temp_raw", "1000\n")
        TestPaths.writeFile(root + "/iio:device2/in_temp_offset", "-500\n")
        TestPaths.writeFile(root + "/iio:device2/in_temp_scale", "10\n")
        // A processed channel, in milli-units already.
        TestPaths.writeFile(root + "/iio:device2/in_current0_input", "12.5\n")
        return root
    }

    @Test func rawChannelsAreScaledAndProcessedOnesReadAsTheyAre() throws {
        let root = fakeSysfs()
        defer { TestPaths.removeTree(root) }
        let ain0 = try LinuxIIOInput(device: "ads1015", channel: "in_voltage0", root: root)
        #expect(ain0.path == root + "/iio:device1/in_voltage0_raw")
        #expect(try ain0.read() == 900_000, "14400 × 0.0625 mV = 900 mV, in µV")
        #expect(try LinuxIIOInput(device: "ads1015", channel: "in_voltage0-voltage1", root: root).read() == -50_000)
        #expect(try LinuxIIOInput(device: "mcp3008", channel: "in_voltage3", root: root).read() == 1_650_000)
        #expect(try LinuxIIOInput(device: "bme280", channel: "in_temp", root: root).read() == 5_000_000, "(1000 − 500) × 10 m°C")
        #expect(try LinuxIIOInput(device: "bme280", channel: "in_current0", root: root).read() == 12_500)
        // Read again each time from offset 0.
        TestPaths.writeFile(root + "/iio:device1/in_voltage0_raw", "16000\n")
        #expect(try ain0.read() == 1_000_000)
    }

    @Test func aMissingDeviceChannelOrScaleAndGarbageAreTypedErrors() throws {
        let root = fakeSysfs()
        defer { TestPaths.removeTree(root) }
        #expect(throws: HALError(.noDevice, code: 2, operation: "iio device not found by name")) { try LinuxIIOInput(device: "ads1115", channel: "in_voltage0", root: root) }
        #expect(throws: HALError.self) { try LinuxIIOInput(device: "ads1015", channel: "in_voltage2", root: root) }
        TestPaths.writeFile(root + "/iio:device1/in_voltage2_raw", "7\n")
        #expect(throws: HALError(.noDevice, code: 2, operation: "iio channel has neither _input nor _raw with _scale")) { try LinuxIIOInput(device: "ads1015", channel: "in_voltage2", root: root) }
        TestPaths.writeFile(root + "/iio:device1/in_voltage0_raw", "busy\n")
        let garbage = #expect(throws: HALError.self) { try LinuxIIOInput(device: "ads1015", channel: "in_voltage0", root: root).read() }
        #expect(garbage?.kind == .badData)
    }

    /// The channel names the profile accepts, and the channel each becomes.
    @Test func channelNamesMapToTheirQuantities() {
        #expect(HwmonSpec.iioInput(of: "in_voltage0")?.channel.suffix == "voltage")
        #expect(HwmonSpec.iioInput(of: "in_voltage0-voltage1")?.channel.suffix == "voltage")
        #expect(HwmonSpec.iioInput(of: "in_current2")?.channel.suffix == "current")
        #expect(HwmonSpec.iioInput(of: "in_temp")?.channel.suffix == "temperature")
        #expect(HwmonSpec.iioInput(of: "in_temp0")?.scale == 1e-6)
        for bad in ["in_voltage", "in_voltage0_raw", "in_voltage0-voltage", "in_accel_x", "temp1_input", "in_current", "in_voltage0-current1"] {
            #expect(HwmonSpec.iioInput(of: bad) == nil, "\(bad)")
        }
    }
}
