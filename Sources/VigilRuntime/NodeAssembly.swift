import VigilBase
import VigilBoard
import VigilDSP
import VigilDrivers
import VigilHAL
import VigilInterlock
import VigilLoop
import VigilParts
import VigilFrames

/// A node ready to run: its cycle (for the real-time loop) and one Modbus worker per port (each
/// on its own thread), sharing the mailboxes through which Modbus values reach the cycle.
public struct Node<Board: NodeBoard> {
    public let cycle: NodeCycle<Board>
    public let modbusWorkers: [ModbusWorker<Board.Modbus>]
    /// Reads the kernel-driven (hwmon) sensors on its own thread; empty without any.
    public let hwmonWorker: HwmonWorker
    /// Drops the outputs if the loop stops completing cycles (started by the agent with the loop).
    public let supervisor: LoopSupervisor<Board.Chip.Output>
}

/// Builds a node from a validated profile and a board: the one place that turns a profile's
/// sensors, outputs and rules into drivers, slots and interlock rules. Generic over the board,
/// so the simulated and Linux boards differ only in what they hand in.
public enum NodeAssembly {
    /// The node for `board`'s profile. Buses, chips and ports are opened through the board.
    public static func assemble<Board: NodeBoard>(on board: Board, watchdog: HardwareWatchdog? = nil) throws(NodeError) -> Node<Board> {
        let loaded = board.loaded
        let profile = loaded.profile
        let catalog = loaded.channels
        func index(_ name: String) throws(NodeError) -> Int {
            guard let c = catalog[name] else { throw NodeError.profile("no channel \(name)") }
            return c.id - 1
        }
        func offset(_ chip: Board.Chip, _ ref: LineRef) throws(NodeError) -> Int {
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

        // Outputs first, at their safe level, before any bus or sensor is touched: a start-up
        // that fails later has already taken the lines from whatever held them and de-energized
        // them (the machine may not run until the interlock says so).
        var outputs: [OutputSlot<Board.Chip>] = []
        for o in profile.outputs {
            let chip = try board.gpioChip(o.line.chip)
            let off = try offset(chip, o.line)
            let line = try hal("output \(o.name) (\(o.line))") { () throws(HALError) in
                try chip.requestOutput(offset: off, consumer: "vigil", settings: OutputLineSettings(activeLow: o.activeLow, initialValue: false))
            }
            var feedback: Board.Chip.Input?
            if let f = o.feedback {
                let fchip = try board.gpioChip(f.chip)
                let foff = try offset(fchip, f)
                feedback = try hal("feedback of output \(o.name) (\(f))") { () throws(HALError) in
                    try fchip.requestInput(offset: foff, consumer: "vigil", settings: InputLineSettings(activeLow: o.feedbackActiveLow))
                }
            }
            outputs.append(OutputSlot(name: o.name, line: line, feedback: feedback, feedbackNanoseconds: Int64(o.feedbackMilliseconds) * 1_000_000))
        }

        // The sensors' bus time against the clock each adapter really runs at (a device tree can
        // say 100 kHz where the profile assumed 400 kHz): refuse to start rather than miss samples.
        try checkBusTime(profile, board: board)

        var slots: [SensorSlot<Board>] = []
        let hwmonWorker = HwmonWorker(now: { [board] in board.pollerTimestamp() })
        var workerDevices: [String: [ModbusWorker<Board.Modbus>.Device]] = [:]
        for sensor in profile.sensors {
            switch sensor.kind {
            case .accelerometer(let a):
                guard let part = a.partFacts as? any AccelerometerDriverPart.Type else {
                    throw NodeError.profile("sensor \(sensor.name): no driver for type \(a.part)")
                }
                let bus = try board.i2cBus(a.bus)
                let driver = try hal("\(sensor.name)") { () throws(HALError) in
                    try part.makeDriver(bus: bus, address: UInt8(a.address), sampleRateHz: a.sampleRateHz, rangeG: a.rangeG)
                }
                let spec = a.analysis
                let bands: VibrationAnalysisConfig.BandLayout = spec.bands.mode == .fixed
                    ? .fixed(count: spec.bands.count, fromHz: spec.bands.fromHz, toHz: spec.bands.toHz)
                    : .orders(count: spec.bands.count)
                let config = VibrationAnalysisConfig(
                    blockLength: spec.blockLength, sampleRateHz: a.sampleRateHz, fullScaleG: driver.fullScaleG, window: spec.window,
                    velocityBandHz: spec.velocityBandHz[0]...spec.velocityBandHz[1],
                    highFrequencyBandHz: spec.highFrequencyBandHz[0]...spec.highFrequencyBandHz[1], bands: bands, peakCount: spec.peaks,
                    zones: .iso10816_3(group: spec.isoGroup, foundation: spec.isoFoundation))
                var metricChannels: [[(metric: VibrationMetric, channel: Int)]] = []
                for axis in a.axes.sorted() {
                    var axisChannels: [(metric: VibrationMetric, channel: Int)] = []
                    for metric in VibrationMetric.allCases {
                        axisChannels.append((metric, try index("\(sensor.name).\(axis.rawValue).\(metric.channel.suffix)")))
                    }
                    metricChannels.append(axisChannels)
                }
                let rpm: Int?
                if spec.bands.mode == .orders, let name = spec.bands.rpmChannel { rpm = try index(name) } else { rpm = nil }
                do {
                    slots.append(.accelerometer(try AccelerometerSlot(
                        name: sensor.name, driver: driver, config: config, axes: a.axes.sorted().map(\.index), metricChannels: metricChannels,
                        rpmChannel: rpm, intervalNanoseconds: Int64(spec.intervalMilliseconds) * 1_000_000)))
                } catch {
                    throw NodeError.profile("sensor \(sensor.name): analysis: \(error)")
                }
            case .temperature(let t):
                guard let part = t.partFacts as? any ThermometerDriverPart.Type, let template = part.channels.first else {
                    throw NodeError.profile("sensor \(sensor.name): no driver for type \(t.part)")
                }
                let bus = try board.i2cBus(t.bus)
                slots.append(.thermometer(ThermometerSlot(name: sensor.name, driver: part.makeDriver(bus: bus, address: UInt8(t.address)),
                                                          channel: try index("\(sensor.name).\(template.suffix)"),
                                                          intervalNanoseconds: Int64(t.pollMilliseconds) * 1_000_000)))
            case .hwmon(let h):
                guard let input = h.input else { throw NodeError.profile("sensor \(sensor.name): attribute \(h.attribute) is not an input vigil reads") }
                let mailbox = Mailbox(ChannelSample.missing)
                hwmonWorker.add(open: { () throws(HALError) in try board.kernelInput(h) }, scale: input.scale,
                                intervalNanoseconds: Int64(h.pollMilliseconds) * 1_000_000, mailbox: mailbox)
                slots.append(.hwmon(HwmonSlot(name: sensor.name, mailbox: mailbox, channel: try index("\(sensor.name).\(input.channel.suffix)"))))
            case .currentLoop(let c):
                guard let part = c.partFacts as? any AnalogInputDriverPart.Type else {
                    throw NodeError.profile("sensor \(sensor.name): no driver for type \(c.part)")
                }
                let bus = try board.i2cBus(c.bus)
                let settings = AnalogInputSettings(input: c.input, fullScaleVolts: c.rangeVolts, dataRateSPS: c.dataRateSPS, continuous: c.continuous)
                let driver = try hal("\(sensor.name)") { () throws(HALError) in
                    try part.makeDriver(bus: bus, address: UInt8(c.address), settings: settings)
                }
                slots.append(.currentLoop(CurrentLoopSlot(
                    name: sensor.name, driver: driver, currentChannel: try index("\(sensor.name).\(CurrentLoop.currentChannel.suffix)"),
                    valueChannel: try index("\(sensor.name).\(CurrentLoop.valueSuffix)"), shuntOhms: c.shuntOhms, low: c.low, high: c.high,
                    intervalNanoseconds: Int64(c.pollMilliseconds) * 1_000_000)))
            case .digitalInput(let d):
                let chip = try board.gpioChip(d.line.chip)
                let o = try offset(chip, d.line)
                let line = try hal("input \(d.line)") { () throws(HALError) in
                    try chip.requestInput(offset: o, consumer: "vigil", settings: InputLineSettings(activeLow: d.activeLow, bias: d.bias))
                }
                // The levels a rule on this input acts on count after debounce_trip_ms (at once by
                // default); only the return to healthy waits the full debounce.
                let channel = "\(sensor.name).state"
                let (towardsActive, towardsInactive) = Self.inputDebounce(d, channel: channel, rules: profile.rules)
                slots.append(.digitalInput(LineSlot(name: sensor.name, sensor: DebouncedInput(input: line, towardsActive: towardsActive, towardsInactive: towardsInactive),
                                                    channel: try index(channel))))
            case .tachometer(let t):
                let chip = try board.gpioChip(t.line.chip)
                let o = try offset(chip, t.line)
                let line = try hal("tachometer \(t.line)") { () throws(HALError) in
                    try chip.requestInput(offset: o, consumer: "vigil", settings: InputLineSettings(bias: t.bias, edges: EdgeSelection(t.edge)))
                }
                slots.append(.tachometer(LineSlot(name: sensor.name, sensor: Tachometer(source: line, pulsesPerRevolution: t.pulsesPerRevolution, maxRPM: t.maxRPM,
                                                                                       stallNanoseconds: Int64(t.stallMilliseconds) * 1_000_000,
                                                                                       mayStandStill: t.mayStandStill),
                                                  channel: try index("\(sensor.name).rpm"))))
            case .modbus(let m):
                // Polled off the loop thread; values reach the cycle through one mailbox per point.
                var points: [ModbusPoint] = []
                var mailboxes: [(mailbox: Mailbox<ChannelSample>, channel: Int)] = []
                for r in m.registers {
                    points.append(ModbusPoint(r))
                    mailboxes.append((Mailbox(ChannelSample.missing), try index("\(sensor.name).\(r.channel)")))
                }
                let device = ModbusDevice(unit: UInt8(m.unit), points: points, timeoutNanoseconds: Int64(m.timeoutMilliseconds) * 1_000_000,
                                          retries: m.retries, maximumGap: 0)
                workerDevices[m.port, default: []].append(.init(device: device, intervalNanoseconds: Int64(m.pollMilliseconds) * 1_000_000,
                                                                mailboxes: mailboxes.map(\.mailbox)))
                slots.append(.modbus(ModbusSlot(name: sensor.name, points: mailboxes)))
            }
        }

        var button: DebouncedInput<Board.Chip.Input>?
        let r = profile.reset
        if let ref = r.line {
            let chip = try board.gpioChip(ref.chip)
            let off = try offset(chip, ref)
            let line = try hal("reset input \(ref)") { () throws(HALError) in
                try chip.requestInput(offset: off, consumer: "vigil", settings: InputLineSettings(activeLow: r.activeLow, bias: r.bias))
            }
            button = DebouncedInput(input: line, debounceNanoseconds: 20_000_000)
        }
        let reset = ResetPolicy(button: button, allowsButton: r.allows(.button), allowsSocket: r.allows(.socket),
                                minimumPressNanoseconds: Int64(r.minimumPressMilliseconds) * 1_000_000,
                                maximumPressNanoseconds: Int64(r.maximumPressMilliseconds) * 1_000_000)

        let interlock = Interlock(rules: try interlockRules(loaded), outputs: profile.outputs.map(\.kind))
        let watch = CycleWatch()
        let cycle = NodeCycle<Board>(
            board: board, channelCount: catalog.channels.count, rangeMin: catalog.channels.map(\.rangeMin), rangeMax: catalog.channels.map(\.rangeMax),
            slots: slots, interlock: interlock, outputs: outputs, reset: reset,
            interlockStateChannel: try index("interlock.state"),
            loopChannels: (try index("loop.lateness_p99_us"), try index("loop.overruns")), watchdog: watchdog, watch: watch,
            snapshotIntervalNanoseconds: Int64(profile.uplink.snapshotIntervalMilliseconds) * 1_000_000,
            busErrorBurst: profile.realtime.busErrorBurst,
            busErrorWindowNanoseconds: Int64(profile.realtime.busErrorWindowMilliseconds) * 1_000_000)
        var workers: [ModbusWorker<Board.Modbus>] = []
        for (port, devices) in workerDevices.sorted(by: { $0.key < $1.key }) {
            workers.append(ModbusWorker(client: try board.modbusClient(port: port), devices: devices, now: { [board] in board.pollerTimestamp() }))
        }
        let rt = profile.realtime
        let supervisor = LoopSupervisor(outputs: cycle.outputLines, watch: watch, maxStallNanoseconds: Int64(rt.maxStallMilliseconds) * 1_000_000,
                                        priority: rt.priority + 1)
        return Node(cycle: cycle, modbusWorkers: workers, hwmonWorker: hwmonWorker, supervisor: supervisor)
    }

    /// Refuses a profile whose sampling needs more bus time per period than the adapters' real
    /// clocks give, or a rate its part's datasheet allows only at a faster clock.
    static func checkBusTime<Board: NodeBoard>(_ profile: BoardProfile, board: Board) throws(NodeError) {
        func clock(_ b: I2CBusSpec) -> Int { board.i2cClockHz(b.name) ?? b.clockHz }
        for budget in I2CBudget.of(profile, clockHz: clock) where !budget.fits {
            throw NodeError.profile("i2c \(budget.bus): the adapter runs at \(budget.clockHz / 1000) kHz (profile: clock_hz = \(profile.i2cBuses.first { $0.name == budget.bus }?.clockHz ?? 0)); the sensors need \(budget.microsecondsPerPeriod) µs of each \(budget.periodMicroseconds) µs period (over \(Int(I2CBudget.maximumLoad * 100)) %); raise the adapter's clock in the device tree, lower the sample rate or lengthen the period")
        }
        for s in profile.sensors {
            guard case .accelerometer(let a) = s.kind, let part = a.partFacts, let spec = profile.i2cBuses.first(where: { $0.name == a.bus }) else { continue }
            let hz = clock(spec)
            if let minimum = part.minimumI2CClockHz(sampleRateHz: a.sampleRateHz), hz < minimum {
                throw NodeError.profile("sensor \(s.name): the \(part.title) at \(a.sampleRateHz) Hz needs an I2C clock of \(minimum / 1000) kHz or more, but adapter \(a.bus) runs at \(hz / 1000) kHz")
            }
        }
    }

    /// The debounce of a digital input towards each level (active, inactive), ns: a level some rule
    /// on `channel` acts on (its value lies beyond the rule's limit) takes `debounce_trip_ms`; the
    /// other takes `debounce_ms`.
    static func inputDebounce(_ d: DigitalInputSpec, channel: String, rules: [RuleSpec]) -> (Int64, Int64) {
        func actsOn(_ level: Double) -> Bool {
            rules.contains { r in
                r.channel == channel && (r.comparison == .above ? level > r.limit : level < r.limit)
            }
        }
        let slow = Int64(d.debounceMilliseconds) * 1_000_000
        let fast = Int64(d.debounceTripMilliseconds) * 1_000_000
        return (actsOn(1) ? fast : slow, actsOn(0) ? fast : slow)
    }

    /// The interlock's rules, channels resolved to indices and limits converted to channel units.
    public static func interlockRules(_ loaded: LoadedProfile) throws(NodeError) -> [InterlockRule] {
        let profile = loaded.profile
        var rules: [InterlockRule] = []
        for r in profile.rules {
            guard let channel = loaded.channels[r.channel] else { throw NodeError.profile("rule \(r.name): no channel \(r.channel)") }
            let wanted: OutputKind = r.action == .trip ? .permissive : .warning
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
            rules.append(InterlockRule(name: r.name, channel: channel.id - 1, comparison: r.comparison, limit: limit, release: release,
                                       debounce: debounce, action: r.action, output: output, onFault: r.onFault, latch: r.latch,
                                       requiresClockSync: r.requiresClockSync,
                                       maxAgeNanoseconds: Int64(channel.maxAgeMilliseconds) * 1_000_000))
        }
        return rules
    }
}

extension ModbusPoint {
    /// The point a profile's register entry describes.
    public init(_ r: ModbusRegisterSpec) {
        self.init(table: r.function, address: UInt16(r.address), type: r.type, order: r.order, scale: r.scale, offset: r.offset,
                  bit: r.bit, scaleFactorAddress: r.scaleFactorAddress.map(UInt16.init))
    }
}
