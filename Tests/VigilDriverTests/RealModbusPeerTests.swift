import Glibc
import Testing
import TestSupport
import VigilBase
import VigilDrivers
import VigilHAL
import VigilHALLinux
import VigilSimulation

/// libmodbus (through `LinuxModbusClient`) against a real Modbus peer: pymodbus's RTU server on one
/// end of a socat pseudo-terminal pair, and its TCP server on loopback. See Tests/Peers/modbus_peer.py
/// for the register map.
@Suite(.serialized) struct RealModbusPeerTests {
    static var python: String {
        if let p = getenv("VIGIL_PYTHON") { return String(cString: p) }
        return TestPaths.repositoryRoot + "/.cache/venv/bin/python3"
    }
    static var peerScript: String { TestPaths.repositoryRoot + "/Tests/Peers/modbus_peer.py" }

    /// A pty pair from socat plus a peer on its far end; both killed when the test ends.
    final class SerialPeer {
        let directory = TestPaths.makeTemporaryDirectory("vigil-modbus")
        var socat: ChildProcess?
        var peer: ChildProcess?
        var near: String { directory + "/vigil" }
        var far: String { directory + "/peer" }

        init(mode: String) throws {
            guard let socatPath = TestPaths.which("socat") else { throw SetupError("socat is not installed: run Scripts/setup") }
            socat = try ChildProcess(socatPath, ["pty,raw,echo=0,link=\(near)", "pty,raw,echo=0,link=\(far)"])
            let deadline = monotonicSeconds() + 10
            while !(TestPaths.exists(near) && TestPaths.exists(far)) {
                guard monotonicSeconds() < deadline else { throw SetupError("socat made no pty pair: \(socat?.stderrSoFar ?? "")") }
                usleep(20_000)
            }
            peer = try ChildProcess(RealModbusPeerTests.python, [RealModbusPeerTests.peerScript, mode, far, "19200"])
            guard peer!.waitForOutput(timeoutSeconds: 30, { $0.contains("ready") }) else {
                throw SetupError("the Modbus peer did not start: \(peer!.stderrSoFar)")
            }
            usleep(300_000) // the server opens the port after printing
        }

        deinit {
            peer?.signal(SIGKILL)
            _ = peer?.finish(timeoutSeconds: 5)
            socat?.signal(SIGKILL)
            _ = socat?.finish(timeoutSeconds: 5)
            TestPaths.removeTree(directory)
        }
    }

    struct SetupError: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }

    static func mixedPoints() -> [ModbusPoint] {
        [ModbusPoint(table: .holdingRegisters, address: 0, type: .int16),
         ModbusPoint(table: .holdingRegisters, address: 1, type: .uint16, scale: 0.01),
         ModbusPoint(table: .holdingRegisters, address: 2, type: .int32),
         ModbusPoint(table: .holdingRegisters, address: 4, type: .uint32, order: .cdab),
         ModbusPoint(table: .holdingRegisters, address: 6, type: .float32),
         ModbusPoint(table: .holdingRegisters, address: 8, type: .float32, order: .cdab),
         ModbusPoint(table: .holdingRegisters, address: 10, type: .float32, order: .badc),
         ModbusPoint(table: .holdingRegisters, address: 12, type: .float32, order: .dcba),
         ModbusPoint(table: .inputRegisters, address: 101, type: .uint16, scale: 0.1, offset: -50),
         ModbusPoint(table: .coils, address: 3, type: .bool),
         ModbusPoint(table: .discreteInputs, address: 1, type: .bool),
         // Issue 22 (10): 64-bit types, a bit of a register and a SunSpec-style scale factor.
         ModbusPoint(table: .holdingRegisters, address: 14, type: .float64),
         ModbusPoint(table: .holdingRegisters, address: 18, type: .int64, order: .cdab),
         ModbusPoint(table: .holdingRegisters, address: 22, type: .uint64, order: .dcba),
         ModbusPoint(table: .holdingRegisters, address: 26, type: .uint16, bit: 13),
         ModbusPoint(table: .holdingRegisters, address: 26, type: .uint16, bit: 1),
         ModbusPoint(table: .holdingRegisters, address: 27, type: .uint16, scaleFactorAddress: 28)]
    }
    static let expected: [Double] = [-1234, 543.21, -123456789, 3_000_000_000, 21.5, -0.125, 1.5, 1.5, 150, 1, 1,
                                     -2.718281828459045, -9_000_000_000_123, 12_345_678_901_234, 1, 0, 234.56]

    func check(_ device: ModbusDevice, _ client: LinuxModbusClient) {
        let error = device.poll(client) { Timestamp(monotonic: MonotonicInstant(nanoseconds: 1), wallClock: .epoch, clockSync: .synchronized) }
        #expect(error == nil, "\(String(describing: error))")
        for (reading, want) in zip(device.readings, Self.expected) {
            #expect(abs(reading.value - want) < 1e-9 * max(1, abs(want)), "got \(reading.value), want \(want)")
            #expect(reading.quality.isGood)
        }
        #expect(device.readings.count == Self.expected.count)
        // Registers 0…28 in one request (the gaps bridged): 4 requests for 4 tables.
        #expect(device.requests.count == 4)
    }

    @Test func rtuMixedTypesAndWordOrdersThroughAPty() throws {
        let peer = try SerialPeer(mode: "rtu")
        // The driver-enable line is a simulated GPIO output here: it must pulse around every request.
        let chip = SimulatedGPIOChip(label: "sim", lineNames: ["DE"], clock: .system())
        let de = try chip.requestOutput(offset: 0, consumer: "vigil", settings: .init())
        let client = try LinuxModbusClient(rtuDevice: peer.near, baud: 19200, parity: .none, dataBits: 8, stopBits: 1,
                                           direction: .gpio(de, activeLow: false, beforeMicroseconds: 100, afterMicroseconds: 100))
        let device = ModbusDevice(unit: 1, points: Self.mixedPoints(), timeoutNanoseconds: 1_000_000_000, retries: 1, maximumGap: 2)
        check(device, client)
        #expect(client.driverEnableToggles >= 8, "DE toggled \(client.driverEnableToggles) times")
        // A pty has no line status register: the end of the frame is found by tcdrain.
        #expect(client.lastDrainMethod == .tcdrain)
        #expect(try chip.physicalLevel(of: "DE") == false) // receiving between requests
    }

    @Test func rtuExceptionThenRecovery() throws {
        let peer = try SerialPeer(mode: "rtu")
        let client = try LinuxModbusClient(rtuDevice: peer.near, baud: 19200, parity: .none, dataBits: 8, stopBits: 1, direction: .auto)
        client.responseTimeoutNanoseconds = 300_000_000
        var words = [UInt16](repeating: 0, count: 4)
        // Past the end of the map: exception 2 from the peer.
        let exception = #expect(throws: HALError.self) {
            try words.withUnsafeMutableBufferPointer { (w) throws(HALError) in
                try client.readRegisters(unit: 1, table: .holdingRegisters, address: 28, into: w)
            }
        }
        #expect(exception?.kind == .modbusException && exception?.code == 2)
        // And the line still works afterwards.
        try words.withUnsafeMutableBufferPointer { (w) throws(HALError) in
            try client.readRegisters(unit: 1, table: .holdingRegisters, address: 0, into: w)
        }
        #expect(words[0] == UInt16(bitPattern: -1234))
    }

    @Test func rtuBadCRCWrongUnitAndSilenceFromAFaultyPeer() throws {
        let peer = try SerialPeer(mode: "faulty-rtu")
        let client = try LinuxModbusClient(rtuDevice: peer.near, baud: 19200, parity: .none, dataBits: 8, stopBits: 1, direction: .auto)
        client.responseTimeoutNanoseconds = 500_000_000
        var words = [UInt16](repeating: 0, count: 2)
        for (unit, kind) in [(UInt8(7), HALError.Kind.crc), (8, .badData)] {
            let error = #expect(throws: HALError.self) {
                try words.withUnsafeMutableBufferPointer { (w) throws(HALError) in
                    try client.readRegisters(unit: unit, table: .holdingRegisters, address: 0, into: w)
                }
            }
            #expect(error?.kind == kind, "unit \(unit): \(String(describing: error))")
        }
        // Unit 5 gets no answer at all: a timeout after the configured 0.5 s, not a hang.
        let start = monotonicSeconds()
        let timeout = #expect(throws: HALError.self) {
            try words.withUnsafeMutableBufferPointer { (w) throws(HALError) in
                try client.readRegisters(unit: 5, table: .holdingRegisters, address: 0, into: w)
            }
        }
        #expect(timeout?.kind == .timeout)
        #expect(monotonicSeconds() - start < 1.5)
    }

    /// Issue 22 (9): libmodbus's byte timeout (500 ms by default) is set from the baud rate, and
    /// the port is raw, without hardware flow control, with parity checking when a parity is set.
    @Test func theRTUPortIsRawWithTimeoutsFromItsBaudRate() throws {
        let peer = try SerialPeer(mode: "rtu")
        for (baud, parity) in [(9600, SerialParity.even), (19200, .none)] {
            let client = try LinuxModbusClient(rtuDevice: peer.near, baud: baud, parity: parity, dataBits: 8, stopBits: 1, direction: .auto)
            client.responseTimeoutNanoseconds = 300_000_000
            let (response, byte) = client.timeoutsInEffect
            #expect(response == 300_000_000)
            #expect(byte == LinuxModbusClient.byteTimeoutNanoseconds(baud: baud) / 1000 * 1000, "byte timeout \(byte) ns at \(baud)")
            #expect(byte < 25_000_000 && byte > 16_000_000)
            let t = try client.serialSettings()
            #expect(t.c_cflag & tcflag_t(CRTSCTS) == 0, "hardware flow control left on")
            #expect(t.c_lflag & tcflag_t(ICANON | ECHO) == 0, "not raw")
            #expect(t.c_iflag & tcflag_t(IXON | IXOFF) == 0, "software flow control left on")
            #expect((t.c_iflag & tcflag_t(INPCK) != 0) == (parity != .none), "parity checking at \(parity)")
            // (PARENB itself cannot be read back here: the kernel's pty driver clears it.)
        }
    }

    @Test func kernelDirectionOnAPtyIsRefusedClearly() throws {
        let peer = try SerialPeer(mode: "rtu")
        // A pty has no RS-485 mode: the profile demanded it, so opening must fail and say why.
        let error = #expect(throws: HALError.self) {
            _ = try LinuxModbusClient(rtuDevice: peer.near, baud: 19200, parity: .none, dataBits: 8, stopBits: 1, direction: .kernel(activeLow: false, beforeMicroseconds: 0, afterMicroseconds: 0))
        }
        #expect(error?.kind == .unsupported)
        #expect(error?.description.contains("TIOCSRS485") == true)
    }

    @Test func tcpMixedTypesOnLoopback() throws {
        let port = 20000 + Int(getpid() % 20000)
        let peer = try ChildProcess(Self.python, [Self.peerScript, "tcp", String(port)])
        defer { peer.signal(SIGKILL); _ = peer.finish(timeoutSeconds: 5) }
        #expect(peer.waitForOutput(timeoutSeconds: 30) { $0.contains("ready") })
        var client: LinuxModbusClient?
        let deadline = monotonicSeconds() + 10
        while client == nil && monotonicSeconds() < deadline {
            client = try? LinuxModbusClient(tcpHost: "127.0.0.1", port: port)
            if client == nil { usleep(100_000) }
        }
        let connected = try #require(client)
        check(ModbusDevice(unit: 1, points: Self.mixedPoints(), timeoutNanoseconds: 1_000_000_000, retries: 0, maximumGap: 2), connected)
    }

    @Test func aMissingPortIsNoDevice() {
        let error = #expect(throws: HALError.self) {
            _ = try LinuxModbusClient(rtuDevice: "/dev/vigil-no-such-port", baud: 19200, parity: .none, dataBits: 8, stopBits: 1, direction: .auto)
        }
        #expect(error?.kind == .noDevice)
    }
}
