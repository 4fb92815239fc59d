#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport
@testable import VigilAgent
import VigilBoard
import VigilUplink

/// The technician commands that were not part of the demo path: `watch`, `selftest`,
/// `modbus read/scan` against a real pymodbus server, `frame decode` of a file, the direct
/// GPIO/I2C paths on a machine without those buses.
@Suite(.serialized) struct TechnicianCommandTests {
    func vigil(_ args: [String]) throws -> ChildProcess.Result {
        try ChildProcess.run(TestPaths.vigilBinary, args, directory: TestPaths.repositoryRoot, timeoutSeconds: 60)
    }

    @Test func watchAndSelftestAgainstARunningAgent() throws {
        let h = AgentHarness(name: "watch", rampStartSeconds: 1000)
        let broker = try Mosquitto(directory: h.directory)
        try h.start(broker: broker.uri)
        // The first analysis blocks take 1.3 s (1024 samples at 800 Hz).
        #expect(try h.waitFor(seconds: 10) { $0.channels.filter { $0.name.hasPrefix("bearing.") }.allSatisfy { $0.quality == "good" } })
        let watch = try h.vigil(["watch", "--count", "3", "--interval", "0.2", "--json"])
        #expect(watch.status == 0, "\(watch.output)")
        let lines = watch.stdout.split(separator: "\n")
        #expect(lines.count == 3)
        let reports = try lines.map { try decode(StatusReport.self, String($0)) }
        #expect(reports[2].uptimeSeconds > reports[0].uptimeSeconds)
        let table = try h.vigil(["watch", "--count", "1"])
        #expect(table.stdout.contains("interlock:"))
        #expect(table.stdout.contains("bearing.x.velocity_rms"))

        let selftest = try ChildProcess.run(TestPaths.vigilBinary, ["selftest", "--board", h.profile, "--json"], directory: TestPaths.repositoryRoot)
        let checks = try decode([SelftestRow].self, selftest.stdout)
        #expect(checks.first { $0.check == "agent" }?.pass == true)
        #expect(checks.first { $0.check == "sensor bearing" }?.pass == true, "\(checks)")
        #expect(checks.first { $0.check == "uplink" }?.pass == true, "\(checks)")
        #expect(checks.first { $0.check == "spool" }?.pass == true)
        // Exit 0 only if every check passed (the clock is often unsynchronised on a test machine).
        #expect(selftest.status == (checks.allSatisfy(\.pass) ? 0 : 1))
        #expect(h.stop().status == 0)
    }

    @Test func selftestWithoutAnAgentReadsPartIDsFromTheSimulatedBus() throws {
        let h = AgentHarness(name: "selftest")
        let r = try vigil(["selftest", "--board", h.profile, "--json"])
        let checks = try decode([SelftestRow].self, r.stdout)
        #expect(checks.first { $0.check == "sensor bearing" }?.detail.contains("part ID 0xe5") == true, "\(checks)")
        #expect(checks.first { $0.check == "sensor motor" }?.pass == true)
        // The accelerometer's own self-test ran (the model deflects as the datasheet says).
        let selfTest = try #require(checks.first { $0.check == "self-test bearing" }, "\(checks)")
        #expect(selfTest.pass && selfTest.detail.contains("x ") && selfTest.detail.contains("z "), "\(selfTest)")
        #expect(checks.first { $0.check == "i2c sensors clock" }?.detail.contains("at 400 kHz") == true, "\(checks)")
        // The 4–20 mA loop read through its ADC: the scenario's transmitter near mid-range.
        let loop = try #require(checks.first { $0.check == "loop oil-pressure" }, "\(checks)")
        #expect(loop.pass && loop.detail.contains(" mA = ") && loop.detail.hasSuffix(" bar"), "\(loop)")
        // No broker on the profile's port: the uplink check fails and says where.
        #expect(checks.first { $0.check == "uplink" }?.pass == false)
        #expect(r.status == 1)
    }

    @Test func modbusReadAndScanAgainstARealPymodbusServer() throws {
        let python = getenv("VIGIL_PYTHON").map { String(cString: $0) } ?? TestPaths.repositoryRoot + "/.cache/venv/bin/python3"
        let port = Mosquitto.freePort()
        let peer = try ChildProcess(python, [TestPaths.repositoryRoot + "/Tests/Peers/modbus_peer.py", "tcp", String(port)])
        defer { peer.signal(SIGKILL); _ = peer.finish(timeoutSeconds: 5) }
        #expect(peer.waitForOutput(timeoutSeconds: 30) { $0.contains("ready") })
        let target = ["--tcp", "127.0.0.1:\(port)"]
        let r = try vigil(["modbus", "read"] + target + ["--address", "6", "--count", "2", "--type", "float32", "--repeat", "5", "--json"])
        #expect(r.status == 0, "\(r.output)")
        let report = try decode(ModbusRow.self, r.stdout)
        #expect(report.values == [21.5, -0.125] || report.values.first == 21.5)
        #expect(report.requests == 5 && report.failures == 0)
        #expect(report.latencyMsAvg != nil)
        let swapped = try vigil(["modbus", "read"] + target + ["--address", "8", "--type", "float32", "--order", "cdab", "--json"])
        #expect(try decode(ModbusRow.self, swapped.stdout).values == [-0.125])
        let coils = try vigil(["modbus", "read"] + target + ["--function", "coil", "--address", "0", "--count", "8", "--json"])
        #expect(try decode(ModbusRow.self, coils.stdout).values == [1, 0, 1, 1, 0, 0, 0, 1])
        let exception = try vigil(["modbus", "read"] + target + ["--address", "500"])
        #expect(exception.status == 1)
        #expect(exception.stderr.contains("modbus unit 1"), "\(exception.output)")
        let scan = try vigil(["modbus", "scan"] + target + ["--from", "1", "--to", "3", "--timeout-ms", "200", "--json"])
        #expect(scan.stdout.contains("\"unit\" : \"1\""), "\(scan.output)")
        let bad = try vigil(["modbus", "read", "--tcp", "127.0.0.1:\(port)", "--address", "0", "--type", "int128"])
        #expect(bad.status == 2)
        // Issue 22 (10): 64-bit types, a bit of a register, a scale-factor register.
        let double = try vigil(["modbus", "read"] + target + ["--address", "14", "--type", "float64", "--json"])
        #expect(try decode(ModbusRow.self, double.stdout).values == [-2.718281828459045], "\(double.output)")
        let long = try vigil(["modbus", "read"] + target + ["--address", "18", "--type", "int64", "--order", "cdab", "--json"])
        #expect(try decode(ModbusRow.self, long.stdout).values == [-9_000_000_000_123], "\(long.output)")
        let bit = try vigil(["modbus", "read"] + target + ["--address", "26", "--bit", "13", "--json"])
        #expect(try decode(ModbusRow.self, bit.stdout).values == [1], "\(bit.output)")
        let sunssf = try vigil(["modbus", "read"] + target + ["--address", "27", "--scale-factor", "28", "--json"])
        let scaled = try decode(ModbusRow.self, sunssf.stdout).values
        #expect(scaled.count == 1 && abs(scaled[0] - 234.56) < 1e-9, "\(sunssf.output)")
        let missing = try vigil(["modbus", "read"] + target + ["--address", "27", "--scale-factor", "29"])
        #expect(missing.stderr.contains("not implemented"), "\(missing.output)")
        let bitOfFloat = try vigil(["modbus", "read"] + target + ["--address", "6", "--type", "float32", "--bit", "1"])
        #expect(bitOfFloat.status == 2 && bitOfFloat.stderr.contains("--bit"), "\(bitOfFloat.output)")
    }

    @Test func frameDecodeReadsAFileOfFramesAndNamesChannelsFromTheBirth() throws {
        // The agent's file uplink writes concatenated frames; decode reads them back.
        let h = AgentHarness(name: "file-uplink", edits: [("[uplink]\nkind = \"mqtt\"", "[uplink]\nkind = \"file\"")], rampStartSeconds: 1000)
        var text = TestPaths.readText(h.profile)!
        let mqtt = text.firstRange(of: "[uplink.mqtt]")!
        let spool = text[mqtt.upperBound...].firstRange(of: "[spool]")!
        text.replaceSubrange(mqtt.lowerBound..<spool.lowerBound, with: "[uplink.file]\npath = \"\(h.directory)/frames.bin\"\n\n")
        TestPaths.writeFile(h.profile, text)
        try h.start(broker: "tcp://127.0.0.1:1")
        usleep(2_500_000)
        #expect(h.stop().status == 0)
        let r = try vigil(["frame", "decode", "\(h.directory)/frames.bin", "--summary"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.first?.contains("\"type\":\"birth\"") == true)
        #expect(lines.contains { $0.contains("\"channel\":\"motor.temperature\"") })
        #expect(lines.last?.contains("\"reason\":\"clean_stop\"") == true)
        #expect(r.stderr.contains("invalid 0"))
        // A corrupted copy: the damaged frame is reported, decoding resumes at the next one.
        var bytes = TestPaths.readFile("\(h.directory)/frames.bin")!
        bytes[40] ^= 0xFF
        TestPaths.writeFile("\(h.directory)/damaged.bin", bytes: bytes)
        let damaged = try vigil(["frame", "decode", "\(h.directory)/damaged.bin"])
        #expect(damaged.status == 1)
        #expect(damaged.stdout.contains("\"invalid\":\"crc_mismatch\""))
        #expect(damaged.stdout.split(separator: "\n").count >= lines.count - 1)
    }

    @Test func directGPIOAndI2CSayWhatIsMissing() throws {
        // This machine's kernel has neither GPIO chips nor I2C adapters (the QEMU bench has both).
        let gpio = try vigil(["gpio", "get", "GPIO17", "--socket", "/tmp/vigil-no-agent.sock"])
        #expect(gpio.status != 0)
        #expect(gpio.stderr.contains("GPIO") || gpio.stderr.contains("gpiochip"), "\(gpio.output)")
        let i2c = try vigil(["i2c", "scan", "--bus", "7"])
        #expect(i2c.status != 0)
        #expect(i2c.stderr.contains("/dev/i2c-7"), "\(i2c.output)")
        let badAddress = try vigil(["i2c", "read", "--bus", "1", "0x99", "0x00"])
        #expect(badAddress.status == 2)
    }
}

struct SelftestRow: Codable { var check: String; var pass: Bool; var detail: String }
struct ModbusRow: Codable {
    var values: [Double]
    var requests: Int
    var failures: Int
    var latencyMsAvg: Double?
}

/// Issue 18 (9): secrets others may read are refused, with the file's mode in the message.
@Suite struct SecretFileModeTests {
    @Test func aPasswordFileReadableByEveryoneIsRefused() throws {
        let dir = TestPaths.makeTemporaryDirectory("secret")
        defer { TestPaths.removeTree(dir) }
        let path = dir + "/password"
        TestPaths.writeFile(path, "s3cret\n")
        chmod(path, 0o644)
        var text = TestPaths.readText(TestPaths.repositoryRoot + "/Boards/simulator.toml")!
        text = text.replacing("broker = \"tcp://127.0.0.1:1883\"\n", with: "broker = \"ssl://127.0.0.1:8883\"\nusername_file = \"\(path)\"\npassword_file = \"\(path)\"\n")
        var spec = try #require(try BoardProfileLoader.load(bytes: Array(text.utf8), path: "simulator.toml").profile.uplink.mqtt)
        spec.clientID = ""
        let message = Self.refusal(spec)
        #expect(message?.contains("mode 644") == true && message?.contains(path) == true, "\(String(describing: message))")
        chmod(path, 0o640)
        let connection = try UplinkFactory.mqttConnection(spec, site: "s", node: "n")
        #expect(connection.password == "s3cret")
        #expect(connection.clientID == "vigil-s-n")
        spec.keyFile = path
        chmod(path, 0o604)
        #expect(Self.refusal(spec)?.contains("key file") == true)
    }

    /// The connection's refusal message, nil when it was accepted.
    static func refusal(_ spec: MQTTSpec) -> String? {
        do {
            _ = try UplinkFactory.mqttConnection(spec, site: "s", node: "n")
            return nil
        } catch {
            return error.message
        }
    }
}

