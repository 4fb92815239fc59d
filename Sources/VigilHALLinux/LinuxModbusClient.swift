import CModbus
import CVigilModbus
import CVigilSys
import Glibc
import VigilHAL

/// How an RS-485 transceiver's driver is switched for a Modbus RTU port.
public enum RS485Direction {
    /// The UART toggles RTS itself (`TIOCSRS485`). Fails with a clear error if the driver refuses.
    case kernel
    /// vigil toggles a GPIO driver-enable line around each request.
    case gpio(any DigitalOutput, turnaroundMicroseconds: Int)
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
    /// The longest silence allowed inside one reply (0 on TCP: libmodbus then uses the response timeout).
    private let byteGapNanoseconds: Int64
    private var lastFrameEnd: Int64 = 0
    private var driverEnable: DriverEnableBox?
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
        case .kernel:
            if modbus_rtu_set_serial_mode(ctx, Int32(MODBUS_RTU_RS485)) < 0 {
                let e = errno
                throw HALError(.unsupported, code: e, operation: "modbus rtu: the UART refused kernel RS-485 mode (TIOCSRS485); use direction = \"gpio\" or \"auto\"")
            }
        case .gpio(let line, let turnaround):
            let box = DriverEnableBox(line)
            driverEnable = box
            let status = vigil_modbus_use_driver_enable(ctx, { context, on in
                guard let context else { return }
                let box = Unmanaged<DriverEnableBox>.fromOpaque(context).takeUnretainedValue()
                box.set(on != 0)
            }, Unmanaged.passUnretained(box).toOpaque(), Int32(turnaround))
            if status < 0 { throw HALError(errno: errno, operation: "modbus rtu driver-enable line") }
        case .auto:
            break
        }
        applyTimeout()
    }

    /// Connects to a Modbus TCP server.
    public init(tcpHost host: String, port: Int) throws(HALError) {
        guard let ctx = modbus_new_tcp(host, Int32(port)) else { throw HALError(errno: errno, operation: "modbus tcp open") }
        context = ctx
        name = "\(host):\(port)"
        isRTU = false
        interFrameNanoseconds = 0
        byteGapNanoseconds = 0
        if modbus_connect(ctx) < 0 { throw HALError(errno: errno, operation: "modbus tcp connect") }
        applyTimeout()
    }

    deinit {
        vigil_modbus_forget(context)
        modbus_close(context)
        modbus_free(context)
    }

    /// Driver-enable transitions made so far (for the self-test: RS-485 direction works).
    public var driverEnableToggles: Int { driverEnable?.toggles ?? 0 }
    /// The last driver-enable failure, if driving the line ever failed.
    public var driverEnableError: HALError? { driverEnable?.lastError }

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
        try transact(unit: unit, operation: "modbus read bits") {
            table == .coils
                ? modbus_read_bits(context, Int32(address), Int32(buffer.count), buffer.baseAddress)
                : modbus_read_input_bits(context, Int32(address), Int32(buffer.count), buffer.baseAddress)
        }
    }

    public func writeRegister(unit: UInt8, address: UInt16, value: UInt16) throws(HALError) {
        try transact(unit: unit, operation: "modbus write register") { modbus_write_register(context, Int32(address), value) }
    }

    public func writeCoil(unit: UInt8, address: UInt16, value: Bool) throws(HALError) {
        try transact(unit: unit, operation: "modbus write coil") { modbus_write_bit(context, Int32(address), value ? 1 : 0) }
    }
}

/// The driver-enable line libmodbus's RTS callback reaches through an opaque pointer.
final class DriverEnableBox {
    let line: any DigitalOutput
    private(set) var toggles = 0
    private(set) var lastError: HALError?
    init(_ line: any DigitalOutput) { self.line = line }
    func set(_ on: Bool) {
        do { try line.write(on) } catch { lastError = error }
        toggles += 1
    }
}
