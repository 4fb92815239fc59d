import VigilBase
import VigilBoard
import VigilHAL
import VigilHALLinux
import VigilLoop
import VigilRuntime

/// A real board: the kernel's GPIO chips (by label), I2C adapters (by sysfs name or stable path)
/// and serial ports named by a profile with `backend = "linux"`. Opening fails with the device
/// and the reason (absent, permission: join group `vigil` from the udev rules).
public final class LinuxBoard: NodeBoard {
    public typealias Bus = LinuxI2CBus
    /// A kernel GPIO chip, or piControl's process image (a Revolution Pi's own I/O).
    public typealias Chip = GPIOChipChoice<LinuxGPIOChip, PiControlChip<LinuxPiControlImage>>
    public typealias Modbus = LinuxModbusClient
    public typealias Serial = LinuxSerialPort

    public let loaded: LoadedProfile
    private var chips: [String: Chip] = [:]
    private var buses: [String: LinuxI2CBus] = [:]

    public init(_ loaded: LoadedProfile) { self.loaded = loaded }

    public var openChips: [(name: String, chip: Chip)] { chips.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } }

    public func gpioChip(_ name: String) throws(NodeError) -> Chip {
        if let c = chips[name] { return c }
        guard let spec = loaded.profile.gpioChips.first(where: { $0.name == name }) else { throw NodeError.profile("no [gpio.\(name)] in the profile") }
        if spec.driver == .picontrol {
            let device = spec.device ?? LinuxPiControlImage.defaultPath
            do {
                let image = try LinuxPiControlImage(path: device)
                let c = Chip(.second(PiControlChip(image: image, name: name, outputWatchdogMilliseconds: spec.outputWatchdogMilliseconds ?? 0)))
                chips[name] = c
                return c
            } catch {
                throw NodeError.hardware(what: "piControl chip \(name) (\(device); is KUNBUS's piControl driver loaded and PiCtory's configuration saved?)", error)
            }
        }
        do {
            let c = Chip(.first(try LinuxGPIOChip.open(label: spec.label)))
            chips[name] = c
            return c
        } catch {
            throw NodeError.hardware(what: "gpio chip \(name) (label \"\(spec.label)\")", error)
        }
    }

    public func i2cBus(_ name: String) throws(NodeError) -> LinuxI2CBus {
        if let b = buses[name] { return b }
        guard let spec = loaded.profile.i2cBuses.first(where: { $0.name == name }) else { throw NodeError.profile("no [i2c.\(name)] in the profile") }
        do {
            let b: LinuxI2CBus
            if let adapter = spec.adapter { b = try LinuxI2CBus.openAdapter(named: adapter) } else { b = try LinuxI2CBus(path: spec.path ?? "") }
            buses[name] = b
            return b
        } catch {
            throw NodeError.hardware(what: "i2c bus \(name) (\(spec.adapter.map { "adapter \"\($0)\"" } ?? spec.path ?? "?"))", error)
        }
    }

    public func i2cClockHz(_ name: String) -> Int? {
        guard let spec = loaded.profile.i2cBuses.first(where: { $0.name == name }) else { return nil }
        if let adapter = spec.adapter {
            return LinuxI2CBus.adapterNumber(named: adapter).flatMap { LinuxI2CBus.clockHz(adapter: $0) }
        }
        return spec.path.flatMap { LinuxI2CBus.clockHz(path: $0) }
    }

    /// Opens the Modbus port (RTU or TCP) a profile names.
    public func modbusClient(port: String) throws(NodeError) -> LinuxModbusClient {
        let profile = loaded.profile
        if let s = profile.serialPorts.first(where: { $0.name == port }) {
            let direction: RS485Direction
            switch s.direction {
            case .kernel: direction = .kernel(activeLow: s.driverEnableActiveLow, beforeMicroseconds: s.turnaroundBeforeMicroseconds,
                                              afterMicroseconds: s.turnaroundAfterMicroseconds)
            case .auto: direction = .auto
            case .gpio:
                guard let de = s.driverEnable else { throw NodeError.profile("serial \(port): direction gpio needs de_line") }
                let c = try gpioChip(de.chip)
                let offset: Int?
                do { offset = try c.offset(ofLineNamed: de.line) } catch { throw NodeError.hardware(what: "gpio line \(de)", error) }
                guard let o = offset else { throw NodeError.hardware(what: "gpio line \(de)", HALError(.noDevice, code: 2, operation: "gpio find line by name")) }
                do {
                    let line = try c.requestOutput(offset: o, consumer: "vigil-rs485", settings: OutputLineSettings(initialValue: false))
                    direction = .gpio(line, activeLow: s.driverEnableActiveLow, beforeMicroseconds: s.turnaroundBeforeMicroseconds,
                                      afterMicroseconds: s.turnaroundAfterMicroseconds)
                } catch {
                    throw NodeError.hardware(what: "RS-485 driver-enable \(de)", error)
                }
            }
            let client: LinuxModbusClient
            do {
                client = try LinuxModbusClient(rtuDevice: s.device, baud: s.baud, parity: s.parity, dataBits: s.dataBits, stopBits: s.stopBits, direction: direction)
            } catch {
                throw NodeError.hardware(what: "serial \(port) (\(s.device))", error)
            }
            if let mismatch = client.kernelRS485Mismatch {
                throw NodeError.profile("serial \(port) (\(s.device)): the UART's driver did not take the profile's RS-485 settings: \(mismatch)")
            }
            return client
        }
        if let t = profile.modbusTCP.first(where: { $0.name == port }) {
            do { return try LinuxModbusClient(tcpHost: t.host, port: t.port) } catch { throw NodeError.hardware(what: "modbus_tcp \(port) (\(t.host):\(t.port))", error) }
        }
        throw NodeError.profile("no serial port or modbus_tcp named \(port)")
    }

    public func hwmonInput(device: String, attribute: String) throws(HALError) -> any HwmonInput {
        try LinuxHwmonInput(device: device, attribute: attribute)
    }

    public func kernelInput(_ spec: HwmonSpec) throws(HALError) -> any HwmonInput {
        switch spec.interface {
        case .hwmon: return try LinuxHwmonInput(device: spec.device, attribute: spec.attribute)
        case .iio: return try LinuxIIOInput(device: spec.device, channel: spec.attribute)
        }
    }

    public func serialPort(device: String, baud: Int) throws(HALError) -> LinuxSerialPort {
        try LinuxSerialPort(path: device, baud: baud)
    }

    public func monotonicNow() -> MonotonicInstant { SystemClock.monotonic() }
    public func wallClock() -> WallClockTime { SystemClock.wallClock() }
    public func clockSyncState() -> ClockSyncState { SystemClock.syncState() }
    public func pollerTimestamp() -> Timestamp { SystemClock.timestamp() }
}
