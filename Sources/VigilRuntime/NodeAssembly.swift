import CVigilSys
import VigilBase
import VigilBoard
import VigilDSP
import VigilDrivers
import VigilHAL
import VigilInterlock
import VigilLoop

/// One Modbus device of the profile, ready for a poller: which port, what to read, and which
/// channel each point feeds.
public struct ModbusAssignment {
    public var sensor: String
    public var port: String
    public var device: ModbusDevice
    public var intervalNanoseconds: Int64
    /// Channel index of each point, in `device.points` order.
    public var channels: [Int]
}

/// Builds a node's cycle from a validated profile and the backend's hardware. Generic over the
/// platform: the simulated and Linux boards differ only in the buses and chips they hand in.
public enum NodeAssembly {
    /// The Modbus devices a profile describes (polled off the real-time thread).
    public static func modbusAssignments(_ loaded: LoadedProfile) -> [ModbusAssignment] {
        var result: [ModbusAssignment] = []
        for sensor in loaded.profile.sensors {
            guard case .modbus(let m) = sensor.kind else { continue }
            var points: [ModbusPoint] = []
            var channels: [Int] = []
            for r in m.registers {
                points.append(modbusPoint(r))
                channels.append((loaded.channels["\(sensor.name).\(r.channel)"]?.id ?? 1) - 1)
            }
            let device = ModbusDevice(unit: UInt8(m.unit), points: points, timeoutNanoseconds: Int64(m.timeoutMilliseconds) * 1_000_000,
                                      retries: m.retries, maximumGap: 0)
            result.append(ModbusAssignment(sensor: sensor.name, port: m.port, device: device,
                                           intervalNanoseconds: Int64(m.pollMilliseconds) * 1_000_000, channels: channels))
        }
        return result
    }

    static func modbusPoint(_ r: ModbusRegisterSpec) -> ModbusPoint {
        let table: ModbusTable
        switch r.function {
        case .holding: table = .holdingRegisters
        case .input: table = .inputRegisters
        case .coil: table = .coils
        case .discrete: table = .discreteInputs
        }
        let type: ModbusPoint.ValueType
        switch r.type {
        case .int16: type = .int16
        case .uint16: type = .uint16
        case .int32: type = .int32
        case .uint32: type = .uint32
        case .float32: type = .float32
        case .bool: type = .bool
        }
        let order: ModbusPoint.ByteOrder
        switch r.order {
        case .abcd: order = .abcd
        case .cdab: order = .cdab
        case .badc: order = .badc
        case .dcba: order = .dcba
        }
        return ModbusPoint(table: table, address: UInt16(r.address), type: type, order: order, scale: r.scale, offset: r.offset)
    }

    /// The interlock's rules, channels resolved to indices and limits converted to channel units.
    public static func interlockRules(_ loaded: LoadedProfile) throws(NodeError) -> [InterlockRule] {
        let profile = loaded.profile
        var rules: [InterlockRule] = []
        for r in profile.rules {
            guard let channel = loaded.channels[r.channel] else { throw NodeError.profile("rule \(r.name): no channel \(r.channel)") }
            let wanted: OutputSpec.Kind = r.action == .trip ? .permissive : .warning
            let outputName = r.output ?? profile.outputs.first { $0.kind == wanted }?.name
            guard let name = outputName, let output = profile.outputs.firstIndex(where: { $0.name == name }) else {
                throw NodeError.profile("rule \(r.name): no \(wanted.rawValue) output to act on")
            }
            let limit = r.unit.convert(r.limit, to: channel.unit) ?? r.limit
            let release = r.unit.convert(r.release, to: channel.unit) ?? r.release
            let debounce: InterlockRule.Debounce
            switch r.debounce {
            case .count(let n): debounce = .evaluations(max(1, n))
            case .milliseconds(let ms): debounce = .nanoseconds(Int64(ms) * 1_000_000)
            }
            rules.append(InterlockRule(name: r.name, channel: channel.id - 1, comparison: r.comparison == .above ? .above : .below,
                                       limit: limit, release: release, debounce: debounce, action: r.action == .trip ? .trip : .warn,
                                       output: output, onFault: r.onFault == .trip ? .trip : .warn, latch: r.latch,
                                       requiresClockSync: r.requiresClockSync,
                                       maxAgeNanoseconds: Int64(channel.maxAgeMilliseconds) * 1_000_000))
        }
        return rules
    }

    static func bias(_ b: Bias) -> LineBias {
        switch b {
        case .asIs: return .asIs
        case .disabled: return .disabled
        case .pullUp: return .pullUp
        case .pullDown: return .pullDown
        }
    }

    /// Builds the cycle. `bus` and `chip` return the backend's object for a profile name.
    public static func build<P: NodePlatform>(
        _ loaded: LoadedProfile, platform: P.Type,
        bus: (String) throws(NodeError) -> P.Bus,
        chip: (String) throws(NodeError) -> P.Chip,
        watchdog: HardwareWatchdog? = nil,
        clockSync: @escaping () -> ClockSyncState,
        wallClock: @escaping () -> WallClockTime = { WallClockTime(microsecondsSinceEpoch: vigil_realtime_ns() / 1000) }
    ) throws(NodeError) -> NodeCycle<P> {
        let profile = loaded.profile
        let catalog = loaded.channels
        func index(_ name: String) throws(NodeError) -> Int {
            guard let c = catalog[name] else { throw NodeError.profile("no channel \(name)") }
            return c.id - 1
        }
        func offset(_ chip: P.Chip, _ ref: LineRef) throws(NodeError) -> Int {
            let found: Int?
            do { found = try chip.offset(ofLineNamed: ref.line) } catch { throw NodeError.hardware(what: "gpio line \(ref)", error) }
            guard let o = found else {
                throw NodeError.hardware(what: "gpio line \(ref)", HALError(.noDevice, code: 2, operation: "gpio find line by name"))
            }
            return o
        }
        func hal<T>(_ what: @autoclosure () -> String, _ body: () throws(HALError) -> T) throws(NodeError) -> T {
            do { return try body() } catch { throw NodeError.hardware(what: what(), error) }
        }

        var accelerometers: [AccelerometerPipeline<P.Bus>] = []
        var temperatures: [(sensor: TMP102<P.Bus>, channel: Int, intervalNanoseconds: Int64)] = []
        var inputs: [(input: DebouncedInput<P.Chip.Input>, channel: Int)] = []
        var tachometers: [(tachometer: Tachometer<P.Chip.Input>, channel: Int)] = []
        var chips: [String: P.Chip] = [:]
        func chipNamed(_ name: String) throws(NodeError) -> P.Chip {
            if let c = chips[name] { return c }
            let c = try chip(name)
            chips[name] = c
            return c
        }

        for sensor in profile.sensors {
            switch sensor.kind {
            case .accelerometer(let a):
                let b = try bus(a.bus)
                let driver: AccelerometerDriver<P.Bus>
                switch a.part {
                case .adxl345: driver = .adxl345(try hal("\(sensor.name)") { () throws(HALError) in try ADXL345(bus: b, address: UInt8(a.address), sampleRateHz: a.sampleRateHz, rangeG: a.rangeG) })
                case .lis3dh: driver = .lis3dh(try hal("\(sensor.name)") { () throws(HALError) in try LIS3DH(bus: b, address: UInt8(a.address), sampleRateHz: a.sampleRateHz, rangeG: a.rangeG) })
                }
                let spec = a.analysis
                let bands: VibrationAnalysisConfig.BandLayout = spec.bands.mode == .fixed
                    ? .fixed(count: spec.bands.count, fromHz: spec.bands.fromHz, toHz: spec.bands.toHz)
                    : .orders(count: spec.bands.count)
                let window: WindowKind = spec.window == .hann ? .hann : spec.window == .flatTop ? .flatTop : .rectangular
                let config = VibrationAnalysisConfig(
                    blockLength: spec.blockLength, sampleRateHz: a.sampleRateHz, fullScaleG: driver.fullScaleG, window: window,
                    velocityBandHz: spec.velocityBandHz[0]...spec.velocityBandHz[1],
                    highFrequencyBandHz: spec.highFrequencyBandHz[0]...spec.highFrequencyBandHz[1], bands: bands, peakCount: spec.peaks,
                    zones: .iso10816_3(group: spec.isoGroup == 1 ? .large : .medium, foundation: spec.isoFoundation == .rigid ? .rigid : .flexible))
                let axes = a.axes.sorted().map { $0 == .x ? 0 : $0 == .y ? 1 : 2 }
                var bases: [Int] = []
                for axis in a.axes.sorted() { bases.append(try index("\(sensor.name).\(axis.rawValue).accel_rms")) }
                do {
                    accelerometers.append(try AccelerometerPipeline(name: sensor.name, driver: driver, config: config, axes: axes, channelBases: bases,
                                                                    intervalNanoseconds: Int64(spec.intervalMilliseconds) * 1_000_000))
                } catch {
                    throw NodeError.profile("sensor \(sensor.name): analysis: \(error)")
                }
            case .temperature(let t):
                temperatures.append((TMP102(bus: try bus(t.bus), address: UInt8(t.address)), try index("\(sensor.name).temperature"),
                                     Int64(t.pollMilliseconds) * 1_000_000))
            case .digitalInput(let d):
                let c = try chipNamed(d.line.chip)
                let o = try offset(c, d.line)
                let line = try hal("input \(d.line)") { () throws(HALError) in
                    try c.requestInput(offset: o, consumer: "vigil", settings: InputLineSettings(activeLow: d.activeLow, bias: bias(d.bias)))
                }
                inputs.append((DebouncedInput(input: line, debounceNanoseconds: Int64(d.debounceMilliseconds) * 1_000_000), try index("\(sensor.name).state")))
            case .tachometer(let t):
                let c = try chipNamed(t.line.chip)
                let o = try offset(c, t.line)
                let line = try hal("tachometer \(t.line)") { () throws(HALError) in
                    try c.requestInput(offset: o, consumer: "vigil",
                                       settings: InputLineSettings(bias: bias(t.bias), edges: t.edge == .rising ? .rising : .falling))
                }
                tachometers.append((Tachometer(source: line, pulsesPerRevolution: t.pulsesPerRevolution, maxRPM: t.maxRPM,
                                               stallNanoseconds: Int64(t.stallMilliseconds) * 1_000_000), try index("\(sensor.name).rpm")))
            case .modbus:
                break // polled off the loop thread; see `modbusAssignments`
            }
        }

        // Outputs start de-energized: the machine may not run until the interlock says so.
        var outputs: [P.Chip.Output] = []
        var kinds: [Interlock.OutputKind] = []
        for o in profile.outputs {
            let c = try chipNamed(o.line.chip)
            let off = try offset(c, o.line)
            outputs.append(try hal("output \(o.name) (\(o.line))") { () throws(HALError) in
                try c.requestOutput(offset: off, consumer: "vigil", settings: OutputLineSettings(activeLow: o.activeLow, initialValue: false))
            })
            kinds.append(o.kind == .permissive ? .permissive : o.kind == .warning ? .warning : .heartbeat)
        }
        var resetInput: DebouncedInput<P.Chip.Input>?
        if let r = profile.reset {
            let c = try chipNamed(r.line.chip)
            let off = try offset(c, r.line)
            let line = try hal("reset input \(r.line)") { () throws(HALError) in
                try c.requestInput(offset: off, consumer: "vigil", settings: InputLineSettings(activeLow: r.activeLow, bias: bias(r.bias)))
            }
            resetInput = DebouncedInput(input: line, debounceNanoseconds: 20_000_000)
        }

        let interlock = Interlock(rules: try interlockRules(loaded), outputs: kinds)
        let shaft = catalog.channels.first { $0.quantity == .shaftSpeed }.map { $0.id - 1 }
        let modbusChannels = modbusAssignments(loaded).flatMap(\.channels)
        return NodeCycle<P>(
            channelCount: catalog.channels.count, rangeMin: catalog.channels.map(\.rangeMin), rangeMax: catalog.channels.map(\.rangeMax),
            accelerometers: accelerometers, temperatures: temperatures, inputs: inputs, tachometers: tachometers,
            modbusChannels: modbusChannels, interlock: interlock, outputs: outputs, resetInput: resetInput,
            interlockStateChannel: try index("interlock.state"), shaftChannel: shaft, watchdog: watchdog, clockSync: clockSync, wallClock: wallClock,
            snapshotIntervalNanoseconds: Int64(profile.uplink.snapshotIntervalMilliseconds) * 1_000_000,
            busErrorBurst: profile.realtime.busErrorBurst,
            busErrorWindowNanoseconds: Int64(profile.realtime.busErrorWindowMilliseconds) * 1_000_000)
    }
}
