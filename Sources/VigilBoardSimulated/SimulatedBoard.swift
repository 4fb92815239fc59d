import VigilBase
import VigilBoard
import VigilHAL
import VigilLoop
import VigilParts
import VigilRuntime
import VigilSimulation
import VigilDrivers

/// A whole simulated sensor node built from a profile with `backend = "simulated"`: every bus,
/// chip and RS-485 port the profile names, with a register-level model of each sensor on it,
/// driven by the profile's `[simulation]` machine.
public final class SimulatedBoard: NodeBoard {
    public typealias Bus = SimulatedI2CBus
    public typealias Chip = SimulatedGPIOChip
    public typealias Modbus = SimulatedModbusClient
    public typealias Serial = SimulatedSerialPort

    public let loaded: LoadedProfile
    public let clock: SimulationClock
    public let scenario: MachineScenario
    public private(set) var buses: [String: SimulatedI2CBus] = [:]
    public private(set) var chips: [String: SimulatedGPIOChip] = [:]
    public private(set) var ports: [String: SimulatedModbusClient] = [:]
    /// Each I2C sensor's register model, by sensor name.
    public private(set) var models: [String: any I2CDeviceModel] = [:]
    /// The simulated kernel drivers' hwmon inputs, by `device/attribute` (tests unbind them).
    public private(set) var hwmonInputs: [String: SimulatedHwmonInput] = [:]
    public private(set) var modbusSlaves: [String: ModbusSlaveModel] = [:]
    /// Serial lines opened for a serial uplink, by device.
    public private(set) var serialLines: [String: SimulatedSerialPort] = [:]

    /// The clock of the simulated RS-485 ports: the loop's clock by default; tests that step the
    /// loop by hand give the ports their own, as the agent's Modbus thread has its own time line.
    public let modbusClock: SimulationClock
    /// The wall clock of a run on a manual clock: 2026-11-18T…, plus the manual clock's time.
    public static let manualEpochMicroseconds: Int64 = 1_795_000_000_000_000

    /// - Parameter adapterClockHz: the clock each named bus's adapter really runs at, as a device
    ///   tree would set it apart from the profile's `clock_hz`; a bus not named runs at the profile's.
    public init(_ loaded: LoadedProfile, clock: SimulationClock, modbusClock: SimulationClock? = nil, adapterClockHz: [String: Int] = [:]) {
        self.loaded = loaded
        self.clock = clock
        self.modbusClock = modbusClock ?? clock
        let profile = loaded.profile
        scenario = MachineScenario(profile.simulation ?? .defaults)
        let origin = clock.now
        let seed = scenario.spec.seed
        for b in profile.i2cBuses {
            buses[b.name] = SimulatedI2CBus(name: b.adapter ?? b.path ?? b.name, clock: clock, clockHz: adapterClockHz[b.name] ?? b.clockHz, seed: seed)
        }
        for c in profile.gpioChips {
            chips[c.name] = SimulatedGPIOChip(label: c.label, name: "gpiochip-\(c.name)", lineNames: c.lines, clock: clock)
        }
        for p in profile.serialPorts {
            ports[p.name] = SimulatedModbusClient(name: p.device, clock: self.modbusClock, baud: p.baud, seed: seed)
        }
        for t in profile.modbusTCP {
            ports[t.name] = SimulatedModbusClient(name: "\(t.host):\(t.port)", clock: self.modbusClock, baud: 115_200, seed: seed)
        }
        // A healthy relay: each output's monitoring contact follows its coil (same chip only).
        for o in profile.outputs {
            guard let f = o.feedback, f.chip == o.line.chip else { continue }
            try? chips[f.chip]?.connect(f.line, toOutput: o.line.line, inverted: o.activeLow != o.feedbackActiveLow)
        }
        for (i, sensor) in profile.sensors.enumerated() {
            let sensorSeed = seed &+ UInt64(i) &* 0x9E37_79B9
            switch sensor.kind {
            case .accelerometer(let a):
                attachModel(of: a.part, for: sensor.name, bus: a.bus, address: a.address, origin: origin, seed: sensorSeed)
            case .temperature(let t):
                attachModel(of: t.part, for: sensor.name, bus: t.bus, address: t.address, origin: origin, seed: sensorSeed)
            case .currentLoop(let c):
                attachModel(of: c.part, for: sensor.name, bus: c.bus, address: c.address, origin: origin, seed: sensorSeed)
                // A healthy transmitter on the loop: its current through the profile's shunt, on the
                // profile's input (a differential input sees it between its pair).
                if let adc = models[sensor.name] as? any AnalogInputModel {
                    let scenario = self.scenario, shunt = c.shuntOhms
                    let positive = Int(c.input.dropFirst(3).prefix(1)) ?? 0
                    adc.inputVolts = { now in
                        let milliamps = CurrentLoop.zeroMilliamps + CurrentLoop.spanMilliamps * scenario.processFraction(atSeconds: Double(now.nanoseconds(since: origin)) / 1e9)
                        var v = SIMD4<Double>.zero
                        v[min(3, positive)] = milliamps / 1000 * shunt
                        return v
                    }
                }
            case .hwmon(let h):
                // A kernel-driven sensor on the machine: a temperature follows the scenario's
                // (in millidegrees, as hwmon reports it); other inputs hold a mid-scale value.
                let scenario = self.scenario, clock = self.clock
                // An IIO channel reads in micro-units (vigil's IIO reader keeps the fraction).
                let isTemperature = h.input?.channel.unit == .degreesCelsius
                let unit: Double = h.interface == .iio ? 1_000_000 : 1000
                hwmonInputs["\(h.device)/\(h.attribute)"] = SimulatedHwmonInput {
                    Int64(((isTemperature ? scenario.temperature(atSeconds: Double(clock.now.nanoseconds(since: origin)) / 1e9) : 1) * unit).rounded())
                }
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

    private func attachModel(of part: String, for sensor: String, bus: String, address: Int, origin: MonotonicInstant, seed: UInt64) {
        guard let simulated = Parts.named(part) as? any SimulatedI2CPart.Type else { return }
        let model = simulated.makeModel(scenario: scenario, origin: origin, seed: seed)
        buses[bus]?.attach(model, at: UInt8(address))
        models[sensor] = model
    }

    /// The register model of sensor `name`, as its concrete type (tests push values past limits).
    public func model<Model: I2CDeviceModel>(_ name: String, as type: Model.Type) -> Model? { models[name] as? Model }

    /// A Modbus vibration/temperature sensor (QM30VT2-like): every register of the map holds the
    /// scenario's value for its channel name, encoded with the map's type, order and scale.
    static func modbusSensorModel(_ spec: ModbusDeviceSpec, scenario: MachineScenario, origin: MonotonicInstant) -> ModbusSlaveModel {
        let slave = ModbusSlaveModel(unit: UInt8(spec.unit))
        let points = spec.registers.map { (ModbusPoint($0), $0.channel) }
        func value(_ channel: String, _ t: Double) -> Double {
            if channel.contains("temperature") { return scenario.temperature(atSeconds: t) }
            if channel.contains("velocity") {
                // RMS velocity of the 1× unbalance tone, mm/s: a / (2π f) / √2.
                let a = scenario.spec.unbalanceG * scenario.rampMultiplier(atSeconds: t) * (channel.hasPrefix("z") ? 0.3 : 1) * 9806.65
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
        func store(_ w: UInt16, at address: UInt16) {
            if p.table == .inputRegisters { slave.inputRegisters[address] = w } else { slave.holdingRegisters[address] = w }
        }
        if let bit = p.bit {
            let old = (p.table == .inputRegisters ? slave.inputRegisters[p.address] : slave.holdingRegisters[p.address]) ?? 0
            store(value != 0 ? old | 1 << UInt16(bit) : old & ~(1 << UInt16(bit)), at: p.address)
            return
        }
        // A scaled register is written with the exponent a SunSpec meter typically uses: −2.
        var raw = (value - p.offset) / p.scale
        if let sf = p.scaleFactorAddress {
            store(UInt16(bitPattern: -2), at: sf)
            raw *= 100
        }
        var words: [UInt16]
        switch p.type {
        case .bool:
            if p.table == .coils { slave.coils[p.address] = raw != 0 } else { slave.discreteInputs[p.address] = raw != 0 }
            return
        case .int16: words = [UInt16(bitPattern: Int16(clamping: Int(raw.rounded())))]
        case .uint16: words = [UInt16(clamping: max(0, Int(raw.rounded())))]
        case .int32: words = split(UInt64(UInt32(bitPattern: Int32(clamping: Int(raw.rounded())))), words: 2)
        case .uint32: words = split(UInt64(UInt32(clamping: max(0, Int(raw.rounded())))), words: 2)
        case .float32: words = split(UInt64(Float(raw).bitPattern), words: 2)
        case .int64: words = split(UInt64(bitPattern: Int64(raw.rounded())), words: 4)
        case .uint64: words = split(UInt64(max(0, raw.rounded())), words: 4)
        case .float64: words = split(raw.bitPattern, words: 4)
        }
        switch p.order {
        case .abcd: break
        case .cdab: words.reverse()
        case .badc: words = words.map(\.byteSwapped)
        case .dcba: words = words.reversed().map(\.byteSwapped)
        }
        for (i, w) in words.enumerated() { store(w, at: p.address + UInt16(i)) }
    }

    /// The value's words, high word first.
    private static func split(_ v: UInt64, words: Int) -> [UInt16] { (0..<words).map { UInt16(truncatingIfNeeded: v >> (16 * UInt64(words - 1 - $0))) } }

    // MARK: NodeBoard

    public var openChips: [(name: String, chip: SimulatedGPIOChip)] { chips.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } }

    public func i2cBus(_ name: String) throws(NodeError) -> SimulatedI2CBus {
        guard let b = buses[name] else { throw NodeError.profile("no simulated bus \(name)") }
        return b
    }

    public func kernelInput(_ spec: HwmonSpec) throws(HALError) -> any HwmonInput { try hwmonInput(device: spec.device, attribute: spec.attribute) }

    public func hwmonInput(device: String, attribute: String) throws(HALError) -> any HwmonInput {
        guard let input = hwmonInputs["\(device)/\(attribute)"], !input.removed else {
            throw HALError(.noDevice, code: 2, operation: "hwmon device not found by name")
        }
        return input
    }

    /// A simulated adapter runs at the clock its profile gives it.
    public func i2cClockHz(_ name: String) -> Int? { buses[name]?.clockHz }

    public func gpioChip(_ name: String) throws(NodeError) -> SimulatedGPIOChip {
        guard let c = chips[name] else { throw NodeError.profile("no simulated chip \(name)") }
        return c
    }

    public func modbusClient(port name: String) throws(NodeError) -> SimulatedModbusClient {
        guard let p = ports[name] else { throw NodeError.profile("no simulated Modbus port \(name)") }
        return p
    }

    /// A simulated serial line: what the uplink writes is kept for tests to read.
    public func serialPort(device: String, baud: Int) throws(HALError) -> SimulatedSerialPort {
        let line = serialLines[device] ?? SimulatedSerialPort(name: device)
        serialLines[device] = line
        return line
    }

    public func monotonicNow() -> MonotonicInstant { clock.now }

    public func wallClock() -> WallClockTime {
        // A manual clock is a replayable run: its wall clock is a fixed epoch plus the run's time.
        clock.isManual ? WallClockTime(microsecondsSinceEpoch: Self.manualEpochMicroseconds + clock.now.nanoseconds / 1000) : SystemClock.wallClock()
    }

    public func clockSyncState() -> ClockSyncState { .synchronized }

    public func pollerTimestamp() -> Timestamp {
        Timestamp(monotonic: modbusClock.now, wallClock: .epoch, clockSync: .synchronized)
    }
}
