import CVigilSys
import VigilBase
import VigilBoard
import VigilDrivers
import VigilHAL
import VigilInterlock
import VigilLoop
import VigilSimulation

/// The simulated backend's types.
public enum SimulatedPlatform: NodePlatform {
    public typealias Bus = SimulatedI2CBus
    public typealias Chip = SimulatedGPIOChip
    public typealias Modbus = SimulatedModbusClient
}

/// A whole simulated sensor node built from a profile with `backend = "simulated"`: every bus,
/// chip and RS-485 port the profile names, with a register-level model of each sensor on it,
/// driven by the profile's `[simulation]` machine.
public final class SimulatedBoard {
    public let clock: SimulationClock
    public let scenario: MachineScenario
    public private(set) var buses: [String: SimulatedI2CBus] = [:]
    public private(set) var chips: [String: SimulatedGPIOChip] = [:]
    public private(set) var ports: [String: SimulatedModbusClient] = [:]
    public private(set) var accelerometers: [String: ADXL345Model] = [:]
    public private(set) var lis3dhs: [String: LIS3DHModel] = [:]
    public private(set) var thermometers: [String: TMP102Model] = [:]
    public private(set) var modbusSlaves: [String: ModbusSlaveModel] = [:]

    /// The clock of the simulated RS-485 ports: the loop's clock by default; tests that step the
    /// loop by hand give the ports their own, as the agent's Modbus thread has its own time line.
    public let modbusClock: SimulationClock
    /// The wall clock of a run on a manual clock: 2026-11-18T…, plus the manual clock's time.
    public static let manualEpochMicroseconds: Int64 = 1_795_000_000_000_000

    public init(_ loaded: LoadedProfile, clock: SimulationClock, modbusClock: SimulationClock? = nil) {
        self.clock = clock
        self.modbusClock = modbusClock ?? clock
        let profile = loaded.profile
        let s = profile.simulation
        scenario = MachineScenario(
            seed: s?.seed ?? 1, shaftRPM: s?.shaftRPM ?? 1480, unbalanceG: s?.unbalanceG ?? 0.025, misalignmentG: s?.misalignmentG ?? 0.008,
            bearingDefectHz: s?.bearingDefectHz ?? 87.3, bearingDefectG: s?.bearingDefectG ?? 0.006, noiseG: s?.noiseG ?? 0.004,
            temperatureC: s?.temperatureC ?? 40, temperatureDriftCPerMinute: s?.temperatureDriftCPerMinute ?? 0,
            rampStartSeconds: s?.rampStartSeconds ?? 0, rampDurationSeconds: s?.rampDurationSeconds ?? 0, rampFactor: s?.rampFactor ?? 1)
        let origin = clock.now
        let seed = scenario.seed
        for b in profile.i2cBuses {
            buses[b.name] = SimulatedI2CBus(name: b.adapter ?? b.path ?? b.name, clock: clock, clockHz: b.clockHz, seed: seed)
        }
        for c in profile.gpioChips {
            chips[c.name] = SimulatedGPIOChip(label: c.label, name: "gpiochip-\(c.name)", lineNames: c.lines, clock: clock)
        }
        for p in profile.serialPorts {
            ports[p.name] = SimulatedModbusClient(name: p.device, clock: self.modbusClock, baud: p.baud, seed: seed)
        }
        for (i, sensor) in profile.sensors.enumerated() {
            let sensorSeed = seed &+ UInt64(i) &* 0x9E37_79B9
            switch sensor.kind {
            case .accelerometer(let a):
                switch a.part {
                case .adxl345:
                    let m = ADXL345Model(scenario: scenario, origin: origin, seed: sensorSeed)
                    buses[a.bus]?.attach(m, at: UInt8(a.address))
                    accelerometers[sensor.name] = m
                case .lis3dh:
                    let m = LIS3DHModel(scenario: scenario, origin: origin, seed: sensorSeed)
                    buses[a.bus]?.attach(m, at: UInt8(a.address))
                    lis3dhs[sensor.name] = m
                }
            case .temperature(let t):
                let m = TMP102Model(scenario: scenario, origin: origin)
                buses[t.bus]?.attach(m, at: UInt8(t.address))
                thermometers[sensor.name] = m
            case .modbus(let m):
                let slave = Self.modbusSensorModel(m, scenario: scenario, origin: origin)
                ports[m.port]?.attach(slave)
                modbusSlaves[sensor.name] = slave
            case .digitalInput(let d):
                // Healthy machine: e-stop chain closed, door closed, machine running.
                try? chips[d.line.chip]?.drive(d.line.line, to: !d.activeLow)
            case .tachometer(let t):
                try? chips[t.line.chip]?.setPulseTrain(t.line.line, hz: scenario.shaftHz * Double(t.pulsesPerRevolution))
            }
        }
    }

    /// A Modbus vibration/temperature sensor (QM30VT2-like): every register of the map holds the
    /// scenario's value for its channel name, encoded with the map's type, order and scale.
    static func modbusSensorModel(_ spec: ModbusDeviceSpec, scenario: MachineScenario, origin: MonotonicInstant) -> ModbusSlaveModel {
        let slave = ModbusSlaveModel(unit: UInt8(spec.unit))
        let points = spec.registers.map { (NodeAssembly.modbusPoint($0), $0.channel) }
        func value(_ channel: String, _ t: Double) -> Double {
            if channel.contains("temperature") { return scenario.temperature(atSeconds: t) }
            if channel.contains("velocity") {
                // RMS velocity of the 1× unbalance tone, mm/s: a / (2π f) / √2.
                let a = scenario.unbalanceG * scenario.rampMultiplier(atSeconds: t) * (channel.hasPrefix("z") ? 0.3 : 1) * 9806.65
                return a / (2 * Double.pi * scenario.shaftHz) / 2.0.squareRoot()
            }
            return 0
        }
        slave.update = { model, now in
            let t = Double(now.nanoseconds(since: origin)) / 1e9
            for (p, channel) in points { encode(value(channel, t), as: p, into: model) }
        }
        slave.update?(slave, origin)
        return slave
    }

    /// Writes `value` into a slave's tables the way `point` decodes it.
    static func encode(_ value: Double, as p: ModbusPoint, into slave: ModbusSlaveModel) {
        let raw = (value - p.offset) / p.scale
        var words: [UInt16]
        switch p.type {
        case .bool:
            if p.table == .coils { slave.coils[p.address] = raw != 0 } else { slave.discreteInputs[p.address] = raw != 0 }
            return
        case .int16: words = [UInt16(bitPattern: Int16(clamping: Int(raw.rounded())))]
        case .uint16: words = [UInt16(clamping: max(0, Int(raw.rounded())))]
        case .int32: words = split(UInt32(bitPattern: Int32(clamping: Int(raw.rounded()))))
        case .uint32: words = split(UInt32(clamping: max(0, Int(raw.rounded()))))
        case .float32: words = split(Float(raw).bitPattern)
        }
        switch p.order {
        case .abcd: break
        case .cdab: words.reverse()
        case .badc: words = words.map(\.byteSwapped)
        case .dcba: words = words.reversed().map(\.byteSwapped)
        }
        for (i, w) in words.enumerated() {
            if p.table == .inputRegisters { slave.inputRegisters[p.address + UInt16(i)] = w } else { slave.holdingRegisters[p.address + UInt16(i)] = w }
        }
    }

    private static func split(_ v: UInt32) -> [UInt16] { [UInt16(v >> 16), UInt16(v & 0xFFFF)] }

    /// Assembles the node's cycle on this board.
    public func makeCycle(_ loaded: LoadedProfile) throws(NodeError) -> NodeCycle<SimulatedPlatform> {
        try NodeAssembly.build(loaded, platform: SimulatedPlatform.self,
                               bus: { (name) throws(NodeError) in
                                   guard let b = buses[name] else { throw NodeError.profile("no simulated bus \(name)") }
                                   return b
                               },
                               chip: { (name) throws(NodeError) in
                                   guard let c = chips[name] else { throw NodeError.profile("no simulated chip \(name)") }
                                   return c
                               },
                               clockSync: { .synchronized },
                               wallClock: { [clock] in
                                   // A manual clock is a replayable run: its wall clock is a fixed epoch plus the run's time.
                                   clock.isManual ? WallClockTime(microsecondsSinceEpoch: SimulatedBoard.manualEpochMicroseconds + clock.now.nanoseconds / 1000)
                                                  : WallClockTime(microsecondsSinceEpoch: vigil_realtime_ns() / 1000)
                               })
    }

    /// The Modbus workers for this board's ports, publishing into `cycle`'s mailboxes.
    public func makeModbusWorkers(_ loaded: LoadedProfile, cycle: NodeCycle<SimulatedPlatform>) -> [ModbusWorker<SimulatedModbusClient>] {
        var workers: [ModbusWorker<SimulatedModbusClient>] = []
        var mailboxIndex = 0
        var byPort: [String: [(ModbusDevice, intervalNanoseconds: Int64, mailboxes: [Mailbox<ChannelSample>])]] = [:]
        for a in NodeAssembly.modbusAssignments(loaded) {
            let boxes = (0..<a.channels.count).map { cycle.modbusMailboxes[mailboxIndex + $0].mailbox }
            mailboxIndex += a.channels.count
            byPort[a.port, default: []].append((a.device, a.intervalNanoseconds, boxes))
        }
        let clock = modbusClock
        for (port, devices) in byPort.sorted(by: { $0.key < $1.key }) {
            guard let client = ports[port] else { continue }
            workers.append(ModbusWorker(client: client, devices: devices, now: {
                Timestamp(monotonic: clock.now, wallClock: .epoch, clockSync: .synchronized)
            }))
        }
        return workers
    }
}
