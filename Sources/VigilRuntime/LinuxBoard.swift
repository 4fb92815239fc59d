import CVigilSys
import VigilBase
import VigilBoard
import VigilDrivers
import VigilHAL
import VigilHALLinux
import VigilInterlock
import VigilLoop

/// The Linux backend's types.
public enum LinuxPlatform: NodePlatform {
    public typealias Bus = LinuxI2CBus
    public typealias Chip = LinuxGPIOChip
    public typealias Modbus = LinuxModbusClient
}

/// A real board: the kernel's GPIO chips (by label), I2C adapters (by sysfs name or stable path)
/// and serial ports named by a profile with `backend = "linux"`. Opening fails with the device
/// and the reason (absent, permission: join group `vigil` from the udev rules).
public final class LinuxBoard {
    private var chips: [String: LinuxGPIOChip] = [:]
    private var buses: [String: LinuxI2CBus] = [:]
    let loaded: LoadedProfile

    public init(_ loaded: LoadedProfile) { self.loaded = loaded }

    /// The chips opened so far, by profile name.
    public var openChips: [(name: String, chip: LinuxGPIOChip)] { chips.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } }

    func chip(_ name: String) throws(NodeError) -> LinuxGPIOChip {
        if let c = chips[name] { return c }
        guard let spec = loaded.profile.gpioChips.first(where: { $0.name == name }) else { throw NodeError.profile("no [gpio.\(name)] in the profile") }
        do {
            let c = try LinuxGPIOChip.open(label: spec.label)
            chips[name] = c
            return c
        } catch {
            throw NodeError.hardware(what: "gpio chip \(name) (label \"\(spec.label)\")", error)
        }
    }

    func bus(_ name: String) throws(NodeError) -> LinuxI2CBus {
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

    /// Assembles the node's cycle on this board.
    public func makeCycle(watchdog: HardwareWatchdog?) throws(NodeError) -> NodeCycle<LinuxPlatform> {
        try NodeAssembly.build(loaded, platform: LinuxPlatform.self,
                               bus: { (name) throws(NodeError) in try bus(name) },
                               chip: { (name) throws(NodeError) in try chip(name) },
                               watchdog: watchdog,
                               clockSync: { ClockSync.current() })
    }

    /// Opens the Modbus port (RTU or TCP) a profile names.
    public func modbusClient(port: String) throws(NodeError) -> LinuxModbusClient {
        let profile = loaded.profile
        if let s = profile.serialPorts.first(where: { $0.name == port }) {
            let direction: RS485Direction
            switch s.direction {
            case .kernel: direction = .kernel
            case .auto: direction = .auto
            case .gpio:
                guard let de = s.driverEnable else { throw NodeError.profile("serial \(port): direction gpio needs de_line") }
                let c = try chip(de.chip)
                let offset: Int?
                do { offset = try c.offset(ofLineNamed: de.line) } catch { throw NodeError.hardware(what: "gpio line \(de)", error) }
                guard let o = offset else { throw NodeError.hardware(what: "gpio line \(de)", HALError(.noDevice, code: 2, operation: "gpio find line by name")) }
                do {
                    let line = try c.requestOutput(offset: o, consumer: "vigil-rs485", settings: OutputLineSettings(initialValue: false))
                    direction = .gpio(line, turnaroundMicroseconds: max(s.turnaroundBeforeMicroseconds, s.turnaroundAfterMicroseconds))
                } catch {
                    throw NodeError.hardware(what: "RS-485 driver-enable \(de)", error)
                }
            }
            let parity: UInt8 = s.parity == .none ? UInt8(ascii: "N") : s.parity == .even ? UInt8(ascii: "E") : UInt8(ascii: "O")
            do {
                return try LinuxModbusClient(rtuDevice: s.device, baud: s.baud, parity: parity, dataBits: s.dataBits, stopBits: s.stopBits, direction: direction)
            } catch {
                throw NodeError.hardware(what: "serial \(port) (\(s.device))", error)
            }
        }
        if let t = profile.modbusTCP.first(where: { $0.name == port }) {
            do { return try LinuxModbusClient(tcpHost: t.host, port: t.port) } catch { throw NodeError.hardware(what: "modbus_tcp \(port) (\(t.host):\(t.port))", error) }
        }
        throw NodeError.profile("no serial port or modbus_tcp named \(port)")
    }

    /// The Modbus workers for this board's ports, publishing into `cycle`'s mailboxes.
    public func makeModbusWorkers(cycle: NodeCycle<LinuxPlatform>) throws(NodeError) -> [ModbusWorker<LinuxModbusClient>] {
        var byPort: [String: [(ModbusDevice, intervalNanoseconds: Int64, mailboxes: [Mailbox<ChannelSample>])]] = [:]
        var mailboxIndex = 0
        for a in NodeAssembly.modbusAssignments(loaded) {
            let boxes = (0..<a.channels.count).map { cycle.modbusMailboxes[mailboxIndex + $0].mailbox }
            mailboxIndex += a.channels.count
            byPort[a.port, default: []].append((a.device, a.intervalNanoseconds, boxes))
        }
        var workers: [ModbusWorker<LinuxModbusClient>] = []
        for (port, devices) in byPort.sorted(by: { $0.key < $1.key }) {
            let client = try modbusClient(port: port)
            workers.append(ModbusWorker(client: client, devices: devices, now: { ClockSync.timestamp() }))
        }
        return workers
    }
}

/// The kernel's view of the wall clock.
public enum ClockSync {
    public static func current() -> ClockSyncState {
        switch vigil_clock_sync_state() {
        case 2: return .synchronized
        case 1: return .unsynchronized
        default: return .unknown
        }
    }

    public static func timestamp() -> Timestamp {
        Timestamp(monotonic: MonotonicInstant(nanoseconds: vigil_monotonic_ns()),
                  wallClock: WallClockTime(microsecondsSinceEpoch: vigil_realtime_ns() / 1000), clockSync: current())
    }
}
