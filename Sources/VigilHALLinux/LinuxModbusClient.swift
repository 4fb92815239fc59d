import CModbus
import CVigilModbus
import CVigilSys
import Glibc
import VigilHAL

/// How an RS-485 transceiver's driver is switched for a Modbus RTU port.
public enum RS485Direction {
    /// The UART switches RTS itself (`TIOCSRS485`), timed by its driver from the transmitter's own
    /// state: the better wiring where the UART has it (PL011, the Pi 5's RP1 UARTs, 8250/OMAP
    /// UARTs with RTS brought out). Delays are whole milliseconds in the kernel's interface.
    case kernel(activeLow: Bool, beforeMicroseconds: Int, afterMicroseconds: Int)
    /// vigil switches a GPIO driver-enable line around each request: on, the request written, off
    /// only once the UART reports its transmitter empty (`TIOCSERGETLSR`, or `tcdrain` where the
    /// driver has no LSR), plus `afterMicroseconds`.
    case gpio(any DigitalOutput, activeLow: Bool, beforeMicroseconds: Int, afterMicroseconds: Int)
    /// The adapter switches by itself (USB-RS485 bridges with auto-direction), or plain RS-232.
    case auto
}

/// A Modbus client through libmodbus: RTU on a serial port (with the profile's RS-485 direction
/// control and the t3.5 silence between frames) or TCP. Owns the `modbus_t`.
public final class LinuxModbusClient: ModbusClient {
    private let context: OpaquePointer
    public let name: String
    private let isRTU: Bool
    private let interFrameNanoseconds: Int64
    /// One character on the line (start, data, parity, stop bits), ns.
    private let characterNanoseconds: Int64
    /// The longest silence allowed inside one reply (0 on TCP: libmodbus then uses the response timeout).
    private let byteGapNanoseconds: Int64
    private var lastFrameEnd: Int64 = 0
    private var driverEnable: DriverEnable?
    /// The kernel's RS-485 settings as read back after they were applied (`.kernel` only).
    public private(set) var kernelRS485: vigil_rs485?
    /// What the UART's driver changed of the RS-485 settings asked for (nil: it took them all).
    /// The board refuses to start on it: a transceiver switched late loses replies.
    public private(set) var kernelRS485Mismatch: String?
    public var responseTimeoutNanoseconds: Int64 = 500_000_000 {
        didSet { applyTimeout() }
    }

    /// Opens a Modbus RTU port.
    public init(rtuDevice device: String, baud: Int, parity: SerialParity, dataBits: Int, stopBits: Int,
                direction: RS485Direction) throws(HALError) {
        guard let ctx = modbus_new_rtu(device, Int32(baud), CChar(bitPattern: parity.letter), Int32(dataBits), Int32(stopBits)) else {
            throw HALError(errno: errno, operation: "modbus rtu open")
        }
        context = ctx
        name = device
        isRTU = true
        let bits = 1 + dataBits + (parity == .none ? 0 : 1) + stopBits
        characterNanoseconds = Int64(Double(bits) * 1e9 / Double(max(1, baud)))
        // t3.5: 3.5 character times (11 bits each); the specification fixes 1.75 ms above 19 200 baud.
        interFrameNanoseconds = baud > 19200 ? 1_750_000 : Int64(3.5 * 11 * 1e9 / Double(baud))
        byteGapNanoseconds = Self.byteTimeoutNanoseconds(baud: baud)
        // From here on `deinit` closes and frees the context, also when this initializer throws.
        // libmodbus opens the port raw (no echo, no canonical mode, no flow control: CRTSCTS and
        // IXON off) and sets INPCK when a parity is given; `serialSettings` reads that back.
        if modbus_connect(ctx) < 0 { throw HALError(errno: errno, operation: "modbus rtu connect") }
        // Whatever the line held before we opened it (a half frame, noise at power-up) must not
        // be read as the first reply.
        _ = modbus_flush(ctx)
        switch direction {
        case .kernel(let activeLow, let before, let after):
            var wanted = Self.kernelSettings(activeLow: activeLow, beforeMicroseconds: before, afterMicroseconds: after)
            var got = vigil_rs485()
            if vigil_serial_set_rs485(modbus_get_socket(ctx), &wanted, &got) < 0 {
                let e = errno
                throw HALError(.unsupported, code: e, operation: "modbus rtu: the UART refused kernel RS-485 mode (TIOCSRS485); use direction = \"gpio\" or \"auto\"")
            }
            kernelRS485 = got
            kernelRS485Mismatch = Self.mismatch(want: wanted, got: got)
        case .gpio(let line, let activeLow, let before, let after):
            let de = DriverEnable(line: line, activeLow: activeLow, beforeNanoseconds: Int64(before) * 1000, afterNanoseconds: Int64(after) * 1000)
            driverEnable = de
            // Receiving until the first request.
            try de.set(false)
        case .auto:
            break
        }
        applyTimeout()
    }

    /// The kernel's RS-485 settings for a profile's polarity and turnaround times: the driver
    /// level while sending and after it, and the delays rounded up to whole milliseconds (the
    /// unit of struct serial_rs485; a transceiver needs at least what the profile asks).
    public static func kernelSettings(activeLow: Bool, beforeMicroseconds: Int, afterMicroseconds: Int) -> vigil_rs485 {
        func ms(_ us: Int) -> UInt32 { UInt32((max(0, us) + 999) / 1000) }
        return vigil_rs485(enabled: 1, rts_on_send: activeLow ? 0 : 1, rts_after_send: activeLow ? 1 : 0,
                           delay_before_send_ms: ms(beforeMicroseconds), delay_after_send_ms: ms(afterMicroseconds))
    }

    /// What the driver changed of the settings asked for, if anything.
    public static func mismatch(want: vigil_rs485, got: vigil_rs485) -> String? {
        var problems: [String] = []
        if got.enabled == 0 { problems.append("RS-485 mode off") }
        if got.rts_on_send != want.rts_on_send || got.rts_after_send != want.rts_after_send {
            problems.append("RTS \(got.rts_on_send != 0 ? "high" : "low") while sending, the profile wants \(want.rts_on_send != 0 ? "high" : "low")")
        }
        if got.delay_before_send_ms < want.delay_before_send_ms { problems.append("delay before send \(got.delay_before_send_ms) ms < \(want.delay_before_send_ms) ms") }
        if got.delay_after_send_ms < want.delay_after_send_ms { problems.append("delay after send \(got.delay_after_send_ms) ms < \(want.delay_after_send_ms) ms") }
        return problems.isEmpty ? nil : problems.joined(separator: "; ")
    }

    /// Connects to a Modbus TCP server.
    public init(tcpHost host: String, port: Int) throws(HALError) {
        guard let ctx = modbus_new_tcp(host, Int32(port)) else { throw HALError(errno: errno, operation: "modbus tcp open") }
        context = ctx
        name = "\(host):\(port)"
        isRTU = false
        interFrameNanoseconds = 0
        characterNanoseconds = 0
        byteGapNanoseconds = 0
        if modbus_connect(ctx) < 0 { throw HALError(errno: errno, operation: "modbus tcp connect") }
        applyTimeout()
    }

    deinit {
        modbus_close(context)
        modbus_free(context)
    }

    /// Driver-enable transitions made so far (for the self-test: RS-485 direction works).
    public var driverEnableToggles: Int { driverEnable?.toggles ?? 0 }
    /// How the last request's end was found: by the UART's transmitter-empty bit, or by tcdrain.
    public var lastDrainMethod: DrainMethod? { driverEnable?.lastDrain }
    public enum DrainMethod: Sendable { case transmitterEmpty, tcdrain }

    private func applyTimeout() {
        let ns = max(responseTimeoutNanoseconds, 1_000_000)
        modbus_set_response_timeout(context, UInt32(ns / 1_000_000_000), UInt32(ns % 1_000_000_000 / 1000))
        if byteGapNanoseconds > 0 {
            modbus_set_byte_timeout(context, UInt32(byteGapNanoseconds / 1_000_000_000), UInt32(byteGapNanoseconds % 1_000_000_000 / 1000))
        }
    }

    /// The byte timeout for `baud`: how long a reply may pause between two bytes before it counts
    /// as broken off. The specification's t1.5 (1.5 character times) is shorter than Linux can
    /// promise: USB serial bridges hand received bytes over in bursts up to their latency timer
    /// apart (16 ms by default on FTDI parts), so 16 ms plus t3.5 at the port's rate. libmodbus's
    /// own default is 500 ms, so a reply cut short cost half a second of the port's time.
    public static func byteTimeoutNanoseconds(baud: Int) -> Int64 {
        16_000_000 + Int64(3.5 * 11 * 1e9 / Double(max(1, baud)))
    }

    /// The timeouts libmodbus holds now (read back from the context), ns.
    public var timeoutsInEffect: (response: Int64, byte: Int64) {
        var sec: UInt32 = 0, usec: UInt32 = 0
        modbus_get_response_timeout(context, &sec, &usec)
        let response = Int64(sec) * 1_000_000_000 + Int64(usec) * 1000
        modbus_get_byte_timeout(context, &sec, &usec)
        return (response, Int64(sec) * 1_000_000_000 + Int64(usec) * 1000)
    }

    /// The port's terminal settings as libmodbus left them (RTU only).
    public func serialSettings() throws(HALError) -> termios {
        var t = termios()
        guard isRTU, tcgetattr(modbus_get_socket(context), &t) == 0 else { throw HALError(errno: errno, operation: "tcgetattr") }
        return t
    }

    /// Waits out the bus's silent interval, selects the slave, and classifies failures.
    private func transact(unit: UInt8, operation: StaticString, _ body: () -> Int32) throws(HALError) {
        if isRTU {
            let earliest = lastFrameEnd + interFrameNanoseconds
            if vigil_monotonic_ns() < earliest { _ = vigil_sleep_until_monotonic_ns(earliest) }
        }
        guard modbus_set_slave(context, Int32(unit)) == 0 else { throw HALError(.invalidArgument, code: errno, operation: operation) }
        let result = body()
        let e = errno
        lastFrameEnd = vigil_monotonic_ns()
        if result < 0 {
            // Drop whatever is left of a broken reply so it cannot be taken for the next one.
            if isRTU { modbus_flush(context) }
            throw Self.error(errno: e, operation: operation)
        }
    }

    /// One request on a port whose driver-enable vigil switches. libmodbus's own RTS path sleeps a
    /// computed frame time after write() returns, so a late wake-up held the driver on into the
    /// slave's reply (and an early one cut the frame's end). Here the driver goes off when the UART
    /// says the last bit has left, then libmodbus reads the reply. Returns the reply ADU (unit,
    /// function, data; its CRC checked by libmodbus) after the unit and exception checks libmodbus
    /// makes on its own path.
    private func transactDriven(_ de: DriverEnable, request: [UInt8], operation: StaticString) throws(HALError) -> ArraySlice<UInt8> {
        let earliest = lastFrameEnd + interFrameNanoseconds
        if vigil_monotonic_ns() < earliest { _ = vigil_sleep_until_monotonic_ns(earliest) }
        guard modbus_set_slave(context, Int32(request[0])) == 0 else { throw HALError(.invalidArgument, code: errno, operation: operation) }
        try de.set(true)
        if de.beforeNanoseconds > 0 { _ = vigil_sleep_until_monotonic_ns(vigil_monotonic_ns() + de.beforeNanoseconds) }
        let sent = request.withUnsafeBufferPointer { modbus_send_raw_request(context, $0.baseAddress, Int32($0.count)) }
        let sendErrno = errno
        // The frame on the wire: the request and its CRC; the deadline leaves a slow UART room.
        let frame = Int64(request.count + 2) * characterNanoseconds
        let drained = sent < 0 ? -1 : vigil_serial_wait_sent(modbus_get_socket(context), max(20_000, characterNanoseconds / 4),
                                                             vigil_monotonic_ns() + 2 * frame + 20_000_000)
        let drainErrno = errno
        if de.afterNanoseconds > 0 { _ = vigil_sleep_until_monotonic_ns(vigil_monotonic_ns() + de.afterNanoseconds) }
        de.lastDrain = drained == 0 ? .transmitterEmpty : drained == 1 ? .tcdrain : nil
        // Off even when the send failed: a driver left on jams the bus for every other slave.
        try de.set(false)
        if sent < 0 { throw Self.error(errno: sendErrno, operation: operation) }
        if drained < 0 { throw HALError(errno: drainErrno, operation: operation) }
        var reply = [UInt8](repeating: 0, count: 260)
        let length = reply.withUnsafeMutableBufferPointer { modbus_receive_confirmation(context, $0.baseAddress) }
        let e = errno
        lastFrameEnd = vigil_monotonic_ns()
        if length < 0 {
            modbus_flush(context)
            throw Self.error(errno: e, operation: operation)
        }
        // libmodbus returns 0 for a reply from another unit (it skips the CRC then).
        guard length >= 5, reply[0] == request[0] else {
            modbus_flush(context)
            throw HALError(.badData, code: vigil_modbus_error_bad_slave(), operation: operation)
        }
        let function = request[1]
        if reply[1] == function | 0x80 { throw HALError(.modbusException, code: Int32(reply[2]), operation: operation) }
        guard reply[1] == function else { throw HALError(.badData, code: vigil_modbus_error_bad_data(), operation: operation) }
        return reply[0..<(Int(length) - 2)]
    }

    /// A read request's ADU without its CRC: unit, function, start, count.
    private static func readRequest(unit: UInt8, function: UInt8, address: UInt16, count: Int) -> [UInt8] {
        [unit, function, UInt8(address >> 8), UInt8(address & 0xFF), UInt8(count >> 8), UInt8(count & 0xFF)]
    }

    /// libmodbus reports exceptions and its own errors as errno values above MODBUS_ENOBASE.
    static func error(errno e: Int32, operation: StaticString) -> HALError {
        let base = vigil_modbus_error_base()
        if e == vigil_modbus_error_bad_crc() { return HALError(.crc, code: e, operation: operation) }
        if e == vigil_modbus_error_bad_slave() || e == vigil_modbus_error_bad_data() || e == vigil_modbus_error_too_much_data() {
            return HALError(.badData, code: e, operation: operation)
        }
        if e > base && e < base + 12 { return HALError(.modbusException, code: e - base, operation: operation) }
        if e > base { return HALError(.badData, code: e, operation: operation) }
        return HALError(errno: e, operation: operation)
    }

    public func readRegisters(unit: UInt8, table: ModbusTable, address: UInt16, into buffer: UnsafeMutableBufferPointer<UInt16>) throws(HALError) {
        guard !table.isBitTable, (1...modbusMaximumRegisterCount).contains(buffer.count) else {
            throw HALError(.invalidArgument, code: 22, operation: "modbus read registers")
        }
        if let de = driverEnable {
            let function: UInt8 = table == .holdingRegisters ? 0x03 : 0x04
            let reply = try transactDriven(de, request: Self.readRequest(unit: unit, function: function, address: address, count: buffer.count),
                                           operation: "modbus read registers")
            let base = reply.startIndex
            guard reply.count == 3 + 2 * buffer.count, Int(reply[base + 2]) == 2 * buffer.count else {
                throw HALError(.badData, code: vigil_modbus_error_bad_data(), operation: "modbus read registers")
            }
            for i in 0..<buffer.count { buffer[i] = UInt16(reply[base + 3 + 2 * i]) << 8 | UInt16(reply[base + 4 + 2 * i]) }
            return
        }
        try transact(unit: unit, operation: "modbus read registers") {
            table == .holdingRegisters
                ? modbus_read_registers(context, Int32(address), Int32(buffer.count), buffer.baseAddress)
                : modbus_read_input_registers(context, Int32(address), Int32(buffer.count), buffer.baseAddress)
        }
    }

    public func readBits(unit: UInt8, table: ModbusTable, address: UInt16, into buffer: UnsafeMutableBufferPointer<UInt8>) throws(HALError) {
        guard table.isBitTable, (1...modbusMaximumBitCount).contains(buffer.count) else {
            throw HALError(.invalidArgument, code: 22, operation: "modbus read bits")
        }
        if let de = driverEnable {
            let function: UInt8 = table == .coils ? 0x01 : 0x02
            let reply = try transactDriven(de, request: Self.readRequest(unit: unit, function: function, address: address, count: buffer.count),
                                           operation: "modbus read bits")
            let base = reply.startIndex, bytes = (buffer.count + 7) / 8
            guard reply.count == 3 + bytes, Int(reply[base + 2]) == bytes else {
                throw HALError(.badData, code: vigil_modbus_error_bad_data(), operation: "modbus read bits")
            }
            for i in 0..<buffer.count { buffer[i] = (reply[base + 3 + i / 8] >> UInt8(i % 8)) & 1 }
            return
        }
        try transact(unit: unit, operation: "modbus read bits") {
            table == .coils
                ? modbus_read_bits(context, Int32(address), Int32(buffer.count), buffer.baseAddress)
                : modbus_read_input_bits(context, Int32(address), Int32(buffer.count), buffer.baseAddress)
        }
    }

    public func writeRegister(unit: UInt8, address: UInt16, value: UInt16) throws(HALError) {
        if let de = driverEnable {
            try writeSingle(de, unit: unit, function: 0x06, address: address, value: value, operation: "modbus write register")
            return
        }
        try transact(unit: unit, operation: "modbus write register") { modbus_write_register(context, Int32(address), value) }
    }

    public func writeCoil(unit: UInt8, address: UInt16, value: Bool) throws(HALError) {
        if let de = driverEnable {
            try writeSingle(de, unit: unit, function: 0x05, address: address, value: value ? 0xFF00 : 0, operation: "modbus write coil")
            return
        }
        try transact(unit: unit, operation: "modbus write coil") { modbus_write_bit(context, Int32(address), value ? 1 : 0) }
    }

    /// Functions 05 and 06: the slave echoes the request.
    private func writeSingle(_ de: DriverEnable, unit: UInt8, function: UInt8, address: UInt16, value: UInt16, operation: StaticString) throws(HALError) {
        let request = [unit, function, UInt8(address >> 8), UInt8(address & 0xFF), UInt8(value >> 8), UInt8(value & 0xFF)]
        let reply = try transactDriven(de, request: request, operation: operation)
        guard Array(reply) == request else { throw HALError(.badData, code: vigil_modbus_error_bad_data(), operation: operation) }
    }
}

/// A GPIO driver-enable line and its timing. A failed write fails the request: a driver that
/// cannot be switched off jams the bus, one that cannot be switched on sends nothing.
final class DriverEnable {
    let line: any DigitalOutput
    let activeLow: Bool
    let beforeNanoseconds: Int64
    let afterNanoseconds: Int64
    var lastDrain: LinuxModbusClient.DrainMethod?
    private(set) var toggles = 0

    init(line: any DigitalOutput, activeLow: Bool, beforeNanoseconds: Int64, afterNanoseconds: Int64) {
        self.line = line
        self.activeLow = activeLow
        self.beforeNanoseconds = beforeNanoseconds
        self.afterNanoseconds = afterNanoseconds
    }

    func set(_ driving: Bool) throws(HALError) {
        do { try line.write(driving != activeLow) } catch {
            throw HALError(error.kind, code: error.code, operation: driving ? "RS-485 driver-enable on" : "RS-485 driver-enable off")
        }
        toggles += 1
    }
}
