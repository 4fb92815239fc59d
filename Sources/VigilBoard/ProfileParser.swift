import VigilBase
import VigilDSP
import VigilFrames
import VigilHAL
import VigilInterlock
import VigilParts

/// Turns the TOML tree of a profile into a `BoardProfile`, filling defaults and recording every
/// problem it can find without stopping at the first.
struct ProfileParser {
    let context: ProfileContext

    func parse(_ root: TOMLNode) -> BoardProfile? {
        guard case .table(let entries) = root else { return nil }
        var top = TableReader(context: context, path: .root, entries: entries)

        let schema = top.int("schema", required: true, expected: "the profile format version (schema = \(BoardProfile.currentSchema))")
        if let schema, schema != BoardProfile.currentSchema {
            top.error("schema", "is \(schema); this vigil reads schema \(BoardProfile.currentSchema)")
        }
        let board = parseBoard(&top)
        let backend = board?.backend ?? .linux
        let asset = parseAsset(&top)
        let gpio = top.namedTables("gpio", expected: "GPIO chips ([gpio.NAME])").compactMap { parseChip($0.name, $0.reader, backend: backend) }
        let i2c = top.namedTables("i2c", expected: "I2C buses ([i2c.NAME])").compactMap { parseI2C($0.name, $0.reader) }
        let serial = top.namedTables("serial", expected: "serial ports ([serial.NAME])").compactMap { parseSerial($0.name, $0.reader) }
        let tcp = top.namedTables("modbus_tcp", expected: "Modbus TCP servers ([modbus_tcp.NAME])").compactMap { parseModbusTCP($0.name, $0.reader) }
        var sensors: [SensorSpec] = []
        for (i, reader) in top.arrayOfTables("sensors", expected: "a sensor table").enumerated() {
            context.currentRegisterSource = []
            if let s = parseSensor(reader) {
                sensors.append(s)
                context.sourceMap.sensors.append(i)
                context.sourceMap.registers.append(context.currentRegisterSource)
            }
        }
        let channels = top.namedTables("channels", expected: "channel settings ([channels.\"SENSOR.CHANNEL\"])").compactMap { parseChannelSettings($0.name, $0.reader) }
        var outputs: [OutputSpec] = []
        for (i, reader) in top.arrayOfTables("outputs", expected: "an output table").enumerated() {
            if let o = parseOutput(reader) { outputs.append(o); context.sourceMap.outputs.append(i) }
        }
        var rules: [RuleSpec] = []
        for (i, reader) in top.arrayOfTables("rules", expected: "a rule table").enumerated() {
            if let r = parseRule(reader) { rules.append(r); context.sourceMap.rules.append(i) }
        }
        var reset = ResetSpec(line: nil)
        if var r = top.table("reset") { reset = parseReset(&r); r.finish() }
        let realtime = parseRealtime(&top)
        let watchdog = parseWatchdog(&top)
        let uplink = parseUplink(&top, asset: asset)
        let spool = parseSpool(&top)
        let control = parseControl(&top)
        var simulation: SimulationSpec?
        if var s = top.table("simulation") {
            simulation = parseSimulation(&s)
            s.finish()
        } else if backend == .simulated {
            simulation = SimulationSpec.defaults
        }
        if backend == .linux, top.contains("simulation") {
            top.error("simulation", "is only used with backend = \"simulated\"; remove it or change [board] backend")
        }
        top.finish()

        guard let schema, let board, let asset, let realtime, let watchdog, let uplink, let spool, let control else { return nil }
        return BoardProfile(
            schema: schema, board: board, asset: asset, gpioChips: gpio, i2cBuses: i2c, serialPorts: serial,
            modbusTCP: tcp, sensors: sensors, channelSettings: channels, outputs: outputs, rules: rules, reset: reset,
            realtime: realtime, watchdog: watchdog, uplink: uplink, spool: spool, control: control, simulation: simulation
        )
    }

    // MARK: - Identity

    private func parseBoard(_ top: inout TableReader) -> BoardIdentity? {
        guard var t = top.table("board", required: true, expected: "a [board] table with name, models and backend") else { return nil }
        defer { t.finish() }
        let name = t.string("name", required: true, expected: "the board's short name")
        let description = t.string("description") ?? ""
        let models = t.stringArray("models", expected: "device-tree model strings") ?? []
        let compatible = t.stringArray("compatible", expected: "device-tree compatible strings, one of which the board must list") ?? []
        let backend = t.choice("backend", as: BoardIdentity.Backend.self) ?? .linux
        if backend == .linux && models.isEmpty && t.contains("models") == false {
            t.error("models", "missing; expected the /proc/device-tree/model strings of this board (used by `vigil board detect`)")
        }
        guard let name else { return nil }
        if !isIdentifier(name) { t.error("name", "is \"\(name)\"; expected letters, digits, '-' and '_' only") }
        return BoardIdentity(name: name, description: description, models: models, compatible: compatible, backend: backend)
    }

    private func parseAsset(_ top: inout TableReader) -> Asset? {
        guard var t = top.table("asset", required: true, expected: "an [asset] table (site, area, line, machine, node)") else { return nil }
        defer { t.finish() }
        var fields: [String] = []
        for key in ["site", "area", "line", "machine", "node"] {
            guard let v = t.string(key, required: true, expected: "a name used in MQTT topics and frames") else { fields.append(""); continue }
            if let bad = v.unicodeScalars.first(where: { "/+#".unicodeScalars.contains($0) || $0.value < 0x21 || $0.value == 0x7F }) {
                t.error(key, "is \"\(v)\"; it must not contain '\(bad.escaped(asASCII: true))' (spaces, '/', '+', '#' and control characters break MQTT topics)")
            }
            fields.append(v)
        }
        if fields.contains("") { return nil }
        return Asset(site: fields[0], area: fields[1], line: fields[2], machine: fields[3], node: fields[4])
    }

    // MARK: - Buses

    private func parseChip(_ name: String, _ reader: TableReader, backend: BoardIdentity.Backend) -> GPIOChipSpec? {
        var t = reader
        defer { t.finish() }
        let driver = t.choice("driver", as: GPIOChipSpec.Driver.self) ?? .gpiochip
        if driver == .picontrol {
            if backend == .simulated {
                t.error("driver", "is \"picontrol\", which needs backend = \"linux\" (the simulated board has no piControl; give the chip `lines` instead)")
            }
            if t.contains("label") { _ = t.string("label"); t.error("label", "is not used with driver = \"picontrol\" (the process image has no chip label)") }
            if t.contains("lines") { _ = t.stringArray("lines"); t.error("lines", "is not used with driver = \"picontrol\" (PiCtory's configuration names the variables)") }
            let device = t.string("device", expected: "piControl's device node, e.g. \"/dev/piControl0\"") ?? "/dev/piControl0"
            let watchdog = t.int("output_watchdog_ms", expected: "milliseconds without a write after which piControl zeroes every output") ?? 100
            if !(10...10_000).contains(watchdog) {
                t.error("output_watchdog_ms", "is \(watchdog); expected 10 to 10000 ms (piControl zeroes every output when vigil writes none for this long)")
            }
            return GPIOChipSpec(name: name, driver: .picontrol, label: "", lines: [], device: device, outputWatchdogMilliseconds: watchdog)
        }
        let label = t.string("label", required: true, expected: "the chip label that gpiodetect prints, e.g. \"pinctrl-bcm2711\"")
        let lines = t.stringArray("lines", expected: "the names of the simulated chip's lines") ?? []
        if backend == .simulated && lines.isEmpty {
            t.error("lines", "missing; a simulated chip needs the names of its lines")
        }
        var seen: [String: Int] = [:]
        for (i, line) in lines.enumerated() {
            if let first = seen[line] {
                context.error(t.path.appending("lines").appending(index: i), "line name \"\(line)\" is listed twice (first at index \(first))")
            }
            seen[line] = i
        }
        guard let label else { return nil }
        return GPIOChipSpec(name: name, label: label, lines: lines)
    }

    private func parseI2C(_ name: String, _ reader: TableReader) -> I2CBusSpec? {
        var t = reader
        defer { t.finish() }
        let adapter = t.string("adapter", expected: "the adapter's sysfs name (cat /sys/bus/i2c/devices/i2c-N/name)")
        let path = t.string("path", expected: "a stable device path such as /dev/i2c-hat")
        let clock = t.int("clock_hz", range: 10_000...3_400_000) ?? 100_000
        if adapter == nil && path == nil && !t.contains("adapter") && !t.contains("path") {
            t.error("missing adapter or path; expected adapter = \"<sysfs name>\" or path = \"/dev/...\"")
            return nil
        }
        if adapter != nil && path != nil {
            t.error("path", "give either adapter or path, not both")
        }
        if let path, !path.hasPrefix("/dev/") { t.error("path", "is \"\(path)\"; expected a device path under /dev/") }
        return I2CBusSpec(name: name, adapter: adapter, path: path, clockHz: clock)
    }

    private func parseSerial(_ name: String, _ reader: TableReader) -> SerialPortSpec? {
        var t = reader
        defer { t.finish() }
        let device = t.string("device", required: true, expected: "a device path such as /dev/vigil-rs485")
        let baud = t.int("baud", expected: "a baud rate") ?? 19200
        if !standardBaudRates.contains(baud) {
            let rates = standardBaudRates.map(String.init).joined(separator: ", ")
            t.error("baud", "is \(baud); a Linux UART can be set to \(rates)")
        }
        let parity = t.choice("parity", as: SerialParity.self) ?? .even
        let dataBits = t.int("data_bits", range: 7...8) ?? 8
        // The Modbus serial-line spec wants 11 bits per character (2 stop bits without parity), but
        // many field devices ship as 8N1; the profile states what the slave does.
        let stopBits = t.int("stop_bits", range: 1...2) ?? 1
        let direction = t.choice("direction", as: SerialPortSpec.DirectionControl.self) ?? .auto
        var de: LineRef?
        if t.contains("de_line") { de = parseLineRef(&t, "de_line") } else { t.allow("de_line") }
        if direction == .gpio && de == nil && !t.contains("de_line") {
            t.error("de_line", "missing; direction = \"gpio\" needs the driver-enable line, e.g. de_line = { chip = \"header\", line = \"GPIO17\" }")
        }
        if direction != .gpio && de != nil {
            t.error("de_line", "is only used with direction = \"gpio\" (direction is \"\(direction.rawValue)\")")
        }
        let before = t.int("turnaround_before_us", range: 0...100_000) ?? 0
        let after = t.int("turnaround_after_us", range: 0...100_000) ?? 0
        let activeLow = t.bool("de_active_low") ?? false
        if direction == .auto && (t.contains("turnaround_before_us") || t.contains("turnaround_after_us") || t.contains("de_active_low")) {
            t.error("direction", "is \"auto\": the adapter switches by itself, so turnaround_before_us, turnaround_after_us and de_active_low do not apply")
        }
        if let device, !device.hasPrefix("/dev/") { t.error("device", "is \"\(device)\"; expected a path under /dev/") }
        guard let device else { return nil }
        return SerialPortSpec(name: name, device: device, baud: baud, parity: parity, dataBits: dataBits, stopBits: stopBits,
                              direction: direction, driverEnable: de, driverEnableActiveLow: activeLow,
                              turnaroundBeforeMicroseconds: before, turnaroundAfterMicroseconds: after)
    }

    private func parseModbusTCP(_ name: String, _ reader: TableReader) -> ModbusTCPSpec? {
        var t = reader
        defer { t.finish() }
        let host = t.string("host", required: true, expected: "a host name or address")
        let port = t.int("port", range: 1...65535) ?? 502
        guard let host else { return nil }
        return ModbusTCPSpec(name: name, host: host, port: port)
    }

    func parseLineRef(_ t: inout TableReader, _ key: String) -> LineRef? {
        guard var r = t.table(key, required: true, expected: "{ chip = \"NAME\", line = \"LINE\" }") else { return nil }
        defer { r.finish() }
        let chip = r.string("chip", required: true, expected: "the name of a [gpio.NAME] table")
        let line = r.string("line", required: true, expected: "the line's name as gpioinfo prints it")
        guard let chip, let line else { return nil }
        return LineRef(chip: chip, line: line)
    }

    // MARK: - Sensors

    /// Every `type` a sensor may have: the registered parts, then the kinds the profile describes itself.
    private static let sensorTypes = Parts.typeNames + ["hwmon", "iio", "modbus", "digital_input", "tachometer"]

    private func parseSensor(_ reader: TableReader) -> SensorSpec? {
        var t = reader
        defer { t.finish() }
        let name = t.string("name", required: true, expected: "the sensor's name (it prefixes its channels)")
        guard let type = t.string("type", required: true, expected: "one of \(Self.sensorTypes.joined(separator: ", "))") else { return nil }
        if let name, !isIdentifier(name) {
            t.error("name", "is \"\(name)\"; expected letters, digits, '-' and '_' only (it is part of channel names)")
        }
        let kind: SensorSpec.Kind?
        let part = Parts.named(type)
        if let part = part as? any AccelerometerPart.Type {
            kind = parseAccelerometer(&t, part: part).map { .accelerometer($0) }
        } else if let part = part as? any ThermometerPart.Type {
            kind = parseTemperature(&t, part: part).map { .temperature($0) }
        } else if let part = part as? any AnalogInputPart.Type {
            kind = parseCurrentLoop(&t, part: part).map { .currentLoop($0) }
        } else if type == "hwmon" {
            kind = parseHwmon(&t).map { .hwmon($0) }
        } else if type == "iio" {
            kind = parseIIO(&t).map { .hwmon($0) }
        } else if type == "modbus" {
            kind = parseModbusDevice(&t).map { .modbus($0) }
        } else if type == "digital_input" {
            kind = parseDigitalInput(&t).map { .digitalInput($0) }
        } else if type == "tachometer" {
            kind = parseTachometer(&t).map { .tachometer($0) }
        } else {
            var message = "is \"\(type)\"; expected one of \(Self.sensorTypes.joined(separator: ", "))"
            if let close = closestMatch(type, among: Self.sensorTypes) { message += " (did you mean \"\(close)\"?)" }
            t.error("type", message)
            // Accept every key so that the unknown type is the only message for this table.
            for key in t.keys { t.allow(key) }
            return nil
        }
        guard let name, let kind else { return nil }
        return SensorSpec(name: name, kind: kind)
    }

    private func parseAccelerometer(_ t: inout TableReader, part: any AccelerometerPart.Type) -> AccelerometerSpec? {
        let bus = t.string("bus", required: true, expected: "the name of an [i2c.NAME] table")
        let address = parseAddress(&t, part: part)
        let rates = part.outputDataRatesHz
        let rate = t.double("sample_rate_hz", range: 0.01...100_000) ?? part.defaultSampleRateHz
        if !rates.contains(where: { abs($0 - rate) < 0.005 }) {
            let list = rates.map(formatNumber).joined(separator: ", ")
            t.error("sample_rate_hz", "is \(formatNumber(rate)); the \(part.typeName) can sample at \(list) Hz")
        }
        let range = t.int("range_g") ?? part.defaultRangeG
        if !part.rangesG.contains(range) {
            t.error("range_g", "is \(range); the \(part.typeName) has ranges of \(sentence(part.rangesG.map { "±\($0)" })) g")
        }
        var axes: [AccelerometerSpec.Axis] = [.x, .y, .z]
        if let names = t.stringArray("axes", expected: "a subset of [\"x\", \"y\", \"z\"]") {
            var parsed: [AccelerometerSpec.Axis] = []
            for (i, n) in names.enumerated() {
                guard let axis = AccelerometerSpec.Axis(rawValue: n) else {
                    context.error(t.path.appending("axes").appending(index: i), "is \"\(n)\"; expected \"x\", \"y\" or \"z\"")
                    continue
                }
                if parsed.contains(axis) {
                    context.error(t.path.appending("axes").appending(index: i), "axis \"\(n)\" is listed twice")
                }
                parsed.append(axis)
            }
            if names.isEmpty { t.error("axes", "is empty; expected at least one of \"x\", \"y\", \"z\"") }
            axes = Array(Set(parsed)).sorted()
        }
        var analysis = Self.defaultAnalysis(sampleRateHz: rate)
        if var a = t.table("analysis", expected: "an [sensors.analysis] table") {
            analysis = parseAnalysis(&a, sampleRateHz: rate)
            a.finish()
        }
        guard let bus else { return nil }
        return AccelerometerSpec(part: part.typeName, bus: bus, address: address, sampleRateHz: rate, rangeG: range, axes: axes, analysis: analysis)
    }

    /// The `address` key of a part on I2C: one its address pin can select (the first by default).
    private func parseAddress(_ t: inout TableReader, part: any I2CPart.Type) -> Int {
        let addresses = part.addresses.map(Int.init)
        let address = t.int("address", range: 0...0x7F, expected: "a 7-bit I2C address") ?? addresses[0]
        if t.contains("address") && !addresses.contains(address) {
            t.error("address", "is \(hex(address)); the \(part.typeName) answers at \(sentence(addresses.map(hex), or: true)) (set by its address pin)")
        }
        return address
    }

    /// Defaults follow ISO practice: velocity 10–1000 Hz, never closer to Nyquist than fs/2.56.
    static func defaultAnalysis(sampleRateHz fs: Double) -> AnalysisSpec {
        let usable = fs / 2.56
        let velocityHigh = min(1000, usable)
        let velocityLow = min(10, velocityHigh / 2)
        return AnalysisSpec(
            blockLength: 4096, intervalMilliseconds: 1000, window: .hann,
            velocityBandHz: [velocityLow, velocityHigh],
            highFrequencyBandHz: [roundTo(0.4 * fs / 2, 1), roundTo(0.8 * fs / 2, 1)],
            bands: BandPlan(mode: .fixed, count: 32, fromHz: 0, toHz: roundTo(usable, 1), rpmChannel: nil),
            peaks: 5, isoGroup: .medium, isoFoundation: .rigid
        )
    }

    private func parseAnalysis(_ t: inout TableReader, sampleRateHz fs: Double) -> AnalysisSpec {
        var a = Self.defaultAnalysis(sampleRateHz: fs)
        let nyquist = fs / 2
        if let block = t.int("block", expected: "a power of two from 64 to 8192") {
            if block < 64 || block > 8192 || block & (block - 1) != 0 {
                t.error("block", "is \(block); expected a power of two from 64 to 8192")
            } else {
                a.blockLength = block
            }
        }
        if let interval = t.int("interval_ms", range: 10...3_600_000) { a.intervalMilliseconds = interval }
        if let window = t.choice("window", as: WindowKind.self) { a.window = window }
        if let (lo, hi) = t.numberPair("velocity_band_hz", expected: "the velocity band [low, high] in Hz") {
            if hi > nyquist {
                t.error("velocity_band_hz", "upper edge \(formatNumber(hi)) Hz is above the Nyquist frequency \(formatNumber(nyquist)) Hz at sample_rate_hz = \(formatNumber(fs))")
            } else if lo <= 0 {
                t.error("velocity_band_hz", "lower edge must be above 0 Hz (integration to velocity divides by frequency)")
            } else {
                a.velocityBandHz = [lo, hi]
            }
        }
        if let (lo, hi) = t.numberPair("hf_band_hz", expected: "the high-frequency band [low, high] in Hz") {
            if hi > nyquist {
                t.error("hf_band_hz", "upper edge \(formatNumber(hi)) Hz is above the Nyquist frequency \(formatNumber(nyquist)) Hz at sample_rate_hz = \(formatNumber(fs))")
            } else {
                a.highFrequencyBandHz = [lo, hi]
            }
        }
        if var b = t.table("bands", expected: "{ mode = \"fixed\", count = 32, from_hz = 0, to_hz = 1250 }") {
            if let mode = b.choice("mode", as: BandPlan.Mode.self) { a.bands.mode = mode }
            if let count = b.int("count", range: 1...64) { a.bands.count = count }
            if let from = b.double("from_hz", range: 0...1e6) { a.bands.fromHz = from }
            if let to = b.double("to_hz", range: 0...1e6) { a.bands.toHz = to }
            a.bands.rpmChannel = b.string("rpm_channel", expected: "a tachometer channel such as \"shaft.rpm\"")
            if a.bands.mode == .fixed {
                if a.bands.fromHz >= a.bands.toHz { b.error("to_hz", "is \(formatNumber(a.bands.toHz)) Hz; it must be above from_hz (\(formatNumber(a.bands.fromHz)) Hz)") }
                if a.bands.toHz > nyquist { b.error("to_hz", "is \(formatNumber(a.bands.toHz)) Hz, above the Nyquist frequency \(formatNumber(nyquist)) Hz") }
                if a.bands.rpmChannel != nil { b.error("rpm_channel", "is only used with mode = \"orders\"") }
            } else if a.bands.rpmChannel == nil && !b.contains("rpm_channel") {
                b.error("rpm_channel", "missing; mode = \"orders\" needs the shaft speed channel, e.g. \"shaft.rpm\"")
            }
            b.finish()
        }
        if let peaks = t.int("peaks", range: 0...16) { a.peaks = peaks }
        if let group = t.int("iso_group", range: 1...2, expected: "1 (large machines, 300 kW–50 MW) or 2 (medium, 15–300 kW)"),
           let g = ISOZoneBoundaries.MachineGroup(rawValue: group) { a.isoGroup = g }
        if let foundation = t.choice("iso_foundation", as: ISOZoneBoundaries.Foundation.self) { a.isoFoundation = foundation }
        return a
    }

    private func parseTemperature(_ t: inout TableReader, part: any ThermometerPart.Type) -> TemperatureSensorSpec? {
        let bus = t.string("bus", required: true, expected: "the name of an [i2c.NAME] table")
        let address = parseAddress(&t, part: part)
        let poll = t.int("poll_ms", range: 1...3_600_000) ?? part.defaultPollMilliseconds
        let minimum = part.minimumPollMilliseconds
        if poll < minimum {
            t.error("poll_ms", "is \(poll); the \(part.typeName) converts at most \(formatNumber(1000 / Double(minimum))) times a second, so poll_ms must be at least \(minimum)")
        }
        guard let bus else { return nil }
        return TemperatureSensorSpec(part: part.typeName, bus: bus, address: address, pollMilliseconds: poll)
    }

    private func parseCurrentLoop(_ t: inout TableReader, part: any AnalogInputPart.Type) -> CurrentLoopSpec? {
        let bus = t.string("bus", required: true, expected: "the name of an [i2c.NAME] table")
        let address = parseAddress(&t, part: part)
        let input = t.string("input", required: true, expected: "the ADC input the shunt is on: \(part.inputs.joined(separator: ", "))")
        if let input, !part.inputs.contains(input) {
            t.error("input", "is \"\(input)\"; the \(part.typeName) has \(part.inputs.joined(separator: ", "))")
        }
        let range = t.double("range_v") ?? 4.096
        if !part.fullScaleVolts.contains(range) {
            t.error("range_v", "is \(formatNumber(range)); the \(part.typeName)'s gain amplifier offers ±\(part.fullScaleVolts.map(formatNumber).joined(separator: ", ±")) V")
        }
        let rate = t.int("data_rate_sps") ?? 128
        if !part.dataRatesSPS.contains(rate) {
            t.error("data_rate_sps", "is \(rate); the \(part.typeName) converts at \(part.dataRatesSPS.map(String.init).joined(separator: ", ")) samples per second")
        }
        let mode = t.string("mode", expected: "\"single_shot\" or \"continuous\"") ?? "single_shot"
        if mode != "single_shot" && mode != "continuous" { t.error("mode", "is \"\(mode)\"; expected \"single_shot\" or \"continuous\"") }
        let shunt = t.double("shunt_ohms", required: true, range: 1...10_000, expected: "the shunt resistor the loop current flows through, Ω (e.g. 150)")
        let low = t.double("low", required: true, expected: "the process value at 4 mA")
        let high = t.double("high", required: true, expected: "the process value at 20 mA")
        var unit = PhysicalUnit.count
        if let symbol = t.string("unit", required: true, expected: "the process value's unit, e.g. \"bar\"") {
            if let u = PhysicalUnit(symbol: symbol) { unit = u } else { t.error("unit", "is \"\(symbol)\"; expected a known unit (\(PhysicalUnit.allCases.map(\.rawValue).joined(separator: ", ")))") }
        }
        if let low, let high, low == high { t.error("high", "equals low (\(formatNumber(low))): 4 mA and 20 mA would mean the same value") }
        let poll = t.int("poll_ms", range: 10...3_600_000) ?? 100
        // A single-shot conversion takes up to 1.1 / DR; a poll shorter than that reads the last one again.
        let conversionMs = 1000 * 1.1 / Double(rate)
        if mode == "single_shot", part.dataRatesSPS.contains(rate), Double(poll) < conversionMs {
            t.error("poll_ms", "is \(poll); a single-shot conversion at \(rate) samples/s takes up to \(formatNumber((conversionMs * 10).rounded(.up) / 10)) ms, so poll_ms must be at least that")
        }
        if let shunt, part.fullScaleVolts.contains(range) {
            // The ADC must see a failure signal above 21 mA, and the input must survive it.
            let atFailure = CurrentLoop.failureAboveMilliamps / 1000 * shunt
            if atFailure > range {
                t.error("shunt_ohms", "is \(formatNumber(shunt)) Ω: 21 mA makes \(formatNumber((atFailure * 1000).rounded() / 1000)) V, past the ±\(formatNumber(range)) V range, so a transmitter's high failure signal (NAMUR NE 43) would clip unseen; use a smaller shunt or a larger range_v")
            } else if atFailure > part.maximumInputVolts {
                t.error("shunt_ohms", "is \(formatNumber(shunt)) Ω: 21 mA makes \(formatNumber((atFailure * 1000).rounded() / 1000)) V, over the input's absolute maximum (\(formatNumber(part.maximumInputVolts)) V)")
            }
        }
        guard let bus, let input, let shunt, let low, let high else { return nil }
        return CurrentLoopSpec(part: part.typeName, bus: bus, address: address, input: input, rangeVolts: range, dataRateSPS: rate,
                               continuous: mode == "continuous", shuntOhms: shunt, low: low, high: high, unit: unit, pollMilliseconds: poll)
    }

    private func parseHwmon(_ t: inout TableReader) -> HwmonSpec? {
        let device = t.string("device", required: true, expected: "the hwmon device's name, as /sys/class/hwmon/hwmon*/name gives it (e.g. \"lm75\")")
        let attribute = t.string("attribute", expected: "an input attribute such as \"temp1_input\"") ?? "temp1_input"
        if HwmonSpec.input(of: attribute) == nil {
            t.error("attribute", "is \"\(attribute)\"; vigil reads \(HwmonSpec.inputs.map { "\($0.prefix)N_input" }.joined(separator: ", "))")
        }
        let poll = t.int("poll_ms", range: 100...3_600_000, expected: "how often to read it, ms (at least 100: a hwmon read may take the kernel a bus transfer)") ?? 1000
        guard let device else { return nil }
        return HwmonSpec(device: device, attribute: attribute, pollMilliseconds: poll)
    }

    private func parseIIO(_ t: inout TableReader) -> HwmonSpec? {
        let device = t.string("device", required: true, expected: "the IIO device's name, as /sys/bus/iio/devices/iio:device*/name gives it (e.g. \"ads1015\" for Linux's ti-ads1015 driver)")
        let channel = t.string("channel", required: true, expected: "an IIO channel such as \"in_voltage0\"")
        if let channel, HwmonSpec.iioInput(of: channel) == nil {
            t.error("channel", "is \"\(channel)\"; vigil reads in_voltageN, in_voltageN-voltageM, in_currentN and in_temp[N] (the files CHANNEL_raw and CHANNEL_scale, or CHANNEL_input)")
        }
        let poll = t.int("poll_ms", range: 100...3_600_000, expected: "how often to read it, ms (at least 100: an IIO read may take the kernel a conversion)") ?? 1000
        guard let device, let channel else { return nil }
        return HwmonSpec(device: device, attribute: channel, pollMilliseconds: poll, interface: .iio)
    }

    private func parseModbusDevice(_ t: inout TableReader) -> ModbusDeviceSpec? {
        let port = t.string("port", required: true, expected: "the name of a [serial.NAME] or [modbus_tcp.NAME] table")
        let unit = t.int("unit", required: true, range: 1...247, expected: "a slave address from 1 to 247")
        let poll = t.int("poll_ms", range: 10...3_600_000) ?? 1000
        let timeout = t.int("timeout_ms", range: 10...60_000) ?? 200
        let retries = t.int("retries", range: 0...5) ?? 1
        var registers: [ModbusRegisterSpec] = []
        let tables = t.arrayOfTables("registers", expected: "a register table")
        if tables.isEmpty && !t.contains("registers") {
            t.error("registers", "missing; a modbus sensor needs at least one [[sensors.registers]] entry")
        }
        for (i, reader) in tables.enumerated() {
            var r = reader
            if let reg = parseRegister(&r) { registers.append(reg); context.currentRegisterSource.append(i) }
            r.finish()
        }
        guard let port, let unit else { return nil }
        return ModbusDeviceSpec(port: port, unit: unit, pollMilliseconds: poll, timeoutMilliseconds: timeout, retries: retries, registers: registers)
    }

    private func parseRegister(_ r: inout TableReader) -> ModbusRegisterSpec? {
        let channel = r.string("channel", required: true, expected: "the channel name for this value")
        let address = r.int("address", required: true, range: 0...65535, expected: "a 0-based register address from 0 to 65535")
        let function = r.choice("function", as: ModbusTable.self) ?? .holdingRegisters
        let type = r.choice("type", as: ModbusValueType.self) ?? (function.isBitTable ? .bool : .uint16)
        let order = r.choice("order", as: ModbusByteOrder.self) ?? .abcd
        let scale = r.double("scale") ?? 1
        let offset = r.double("offset") ?? 0
        let bit = r.int("bit", range: 0...15, expected: "a bit number from 0 (least significant) to 15")
        let scaleFactor = r.int("scale_factor", range: 0...65535, expected: "the 0-based address of the register holding the power-of-ten exponent")
        var unit = PhysicalUnit.count
        if let symbol = r.string("unit", expected: "a unit such as \"mm/s\", \"degC\", \"g\"") {
            if let u = PhysicalUnit(symbol: symbol) { unit = u } else {
                var message = "is \"\(symbol)\"; expected a known unit (\(PhysicalUnit.allCases.map(\.rawValue).joined(separator: ", ")))"
                if let close = closestMatch(symbol, among: PhysicalUnit.allCases.map(\.rawValue)) { message = "is \"\(symbol)\"; did you mean \"\(close)\"?" }
                r.error("unit", message)
            }
        } else if !function.isBitTable && !r.contains("unit") && bit == nil {
            r.error("unit", "missing; expected the unit of the scaled value, e.g. unit = \"mm/s\"")
        }
        if function.isBitTable && type != .bool {
            r.error("type", "is \"\(type.rawValue)\"; \(function.rawValue)s are single bits, so type must be \"bool\"")
        }
        if !function.isBitTable && type == .bool {
            r.error("type", "is \"bool\"; \(function.rawValue) registers are 16-bit words (use \(ModbusValueType.registerTypeList), or bit = N for one bit of a word)")
        }
        if bit != nil {
            if function.isBitTable { r.error("bit", "is for one bit of a register; \(function.rawValue)s are bits already") }
            else if type.wordCount != 1 { r.error("bit", "needs a 16-bit register (type = \"uint16\" or \"int16\"); type is \"\(type.rawValue)\"") }
            if r.contains("scale") || r.contains("offset") || scaleFactor != nil {
                r.error("bit", "reads as 0 or 1: scale, offset and scale_factor do not apply to it")
            }
        }
        if let sf = scaleFactor {
            if function.isBitTable { r.error("scale_factor", "applies to registers; \(function.rawValue)s are bits") }
            else if type == .float32 || type == .float64 { r.error("scale_factor", "applies to integer registers; a \(type.rawValue) carries its own exponent") }
            if let address, sf >= address && sf < address + type.wordCount {
                r.error("scale_factor", "is \(sf), inside the value's own registers (\(address)…\(address + type.wordCount - 1))")
            }
        }
        if scale == 0 { r.error("scale", "is 0; every value would read as the offset") }
        if let channel, !isIdentifier(channel) {
            r.error("channel", "is \"\(channel)\"; expected letters, digits, '-' and '_' only")
        }
        guard let channel, let address else { return nil }
        if address + type.wordCount > 65536 {
            r.error("address", "\(address) plus \(type.wordCount) registers runs past the end of the register space (65535)")
        }
        return ModbusRegisterSpec(channel: channel, address: address, function: function, type: type, order: order, scale: scale, offset: offset,
                                  unit: function.isBitTable || bit != nil ? .state : unit, bit: bit, scaleFactorAddress: scaleFactor)
    }

    private func parseDigitalInput(_ t: inout TableReader) -> DigitalInputSpec? {
        let line = parseLineRef(&t, "line")
        let activeLow = t.bool("active_low") ?? false
        let bias = t.choice("bias", as: LineBias.self) ?? .asIs
        let debounce = t.int("debounce_ms", range: 0...10_000) ?? 10
        let debounceTrip = t.int("debounce_trip_ms", range: 0...10_000) ?? 0
        if debounceTrip > debounce {
            t.error("debounce_trip_ms", "is \(debounceTrip), longer than debounce_ms (\(debounce)); the change towards a rule's trip side must count at least as fast as the return to healthy")
        }
        guard let line else { return nil }
        return DigitalInputSpec(line: line, activeLow: activeLow, bias: bias, debounceMilliseconds: debounce, debounceTripMilliseconds: debounceTrip)
    }

    private func parseTachometer(_ t: inout TableReader) -> TachometerSpec? {
        let line = parseLineRef(&t, "line")
        let ppr = t.int("pulses_per_revolution", range: 1...10_000) ?? 1
        let edge = t.choice("edge", as: Edge.self) ?? .rising
        let bias = t.choice("bias", as: LineBias.self) ?? .asIs
        let stall = t.int("stall_ms", range: 10...600_000) ?? 2000
        let maxRPM = t.double("max_rpm", range: 1...1_000_000) ?? 12_000
        let mayStandStill = t.bool("may_stand_still") ?? false
        guard let line else { return nil }
        return TachometerSpec(line: line, pulsesPerRevolution: ppr, edge: edge, bias: bias, stallMilliseconds: stall, maxRPM: maxRPM,
                              mayStandStill: mayStandStill)
    }

    private func parseChannelSettings(_ name: String, _ reader: TableReader) -> ChannelSettings? {
        var t = reader
        defer { t.finish() }
        var s = ChannelSettings(name: name)
        s.deadband = t.double("deadband", range: 0...1e12)
        s.resolution = t.double("resolution", range: 1e-9...1e9)
        if let (lo, hi) = t.numberPair("range", expected: "the physical range [min, max]") {
            s.rangeMin = lo
            s.rangeMax = hi
        }
        s.maxAgeMilliseconds = t.int("max_age_ms", range: 1...86_400_000)
        return s
    }

    // MARK: - Interlock

    private func parseOutput(_ reader: TableReader) -> OutputSpec? {
        var t = reader
        defer { t.finish() }
        let name = t.string("name", required: true, expected: "the output's name")
        let line = parseLineRef(&t, "line")
        let kind = t.choice("kind", as: OutputKind.self) ?? .permissive
        let activeLow = t.bool("active_low") ?? false
        var feedback: LineRef?
        if t.contains("feedback") { feedback = parseLineRef(&t, "feedback") } else { t.allow("feedback") }
        let feedbackActiveLow = t.bool("feedback_active_low") ?? false
        let feedbackMs = t.int("feedback_ms", range: 1...10_000, expected: "how long the feedback may disagree, ms") ?? OutputSpec.defaultFeedbackMilliseconds
        if feedback == nil {
            for key in ["feedback_active_low", "feedback_ms"] where t.contains(key) {
                t.error(key, "is only used with feedback = { chip = \"NAME\", line = \"LINE\" }")
            }
        } else if kind == .heartbeat {
            t.error("feedback", "a heartbeat output toggles every cycle, faster than a relay contact follows; monitor the relay it feeds instead")
        } else if kind == .statusLED || kind == .faultLED {
            t.error("feedback", "an indicator LED has no contact to monitor; feedback is for relays")
        }
        guard let name, let line else { return nil }
        return OutputSpec(name: name, line: line, kind: kind, activeLow: activeLow, feedback: feedback, feedbackActiveLow: feedbackActiveLow,
                          feedbackMilliseconds: feedbackMs)
    }

    private func parseRule(_ reader: TableReader) -> RuleSpec? {
        var t = reader
        defer { t.finish() }
        let name = t.string("name", required: true, expected: "the rule's name")
        let channel = t.string("channel", required: true, expected: "a channel name such as \"bearing.x.velocity_rms\"")
        let above = t.double("above", expected: "the limit, a number in the rule's unit")
        let below = t.double("below", expected: "the limit, a number in the rule's unit")
        var comparison: InterlockRule.Comparison?
        var limit: Double?
        switch (above, below) {
        case (let a?, nil): comparison = .above; limit = a
        case (nil, let b?): comparison = .below; limit = b
        case (_?, _?): t.error("below", "give either above or below, not both (one rule compares one way)")
        case (nil, nil):
            if !t.contains("above") && !t.contains("below") {
                t.error("missing the limit; expected above = <number> or below = <number>")
            }
        }
        let release = t.double("release", expected: "the level at which the condition clears (hysteresis)")
        var unit: PhysicalUnit?
        if let symbol = t.string("unit", required: true, expected: "the unit of the limit, e.g. \"mm/s\"") {
            unit = PhysicalUnit(symbol: symbol)
            if unit == nil {
                var message = "is \"\(symbol)\"; expected a known unit"
                if let close = closestMatch(symbol, among: PhysicalUnit.allCases.map(\.rawValue)) { message += " (did you mean \"\(close)\"?)" }
                t.error("unit", message)
            }
        }
        let count = t.int("debounce", range: 1...10_000, expected: "consecutive evaluations, 1 to 10000")
        let ms = t.int("debounce_ms", range: 1...600_000, expected: "milliseconds, 1 to 600000")
        var debounce = RuleSpec.Debounce.count(1)
        if let count, ms != nil { t.error("debounce_ms", "give either debounce (evaluations) or debounce_ms, not both"); debounce = .count(count) }
        else if let count { debounce = .count(count) }
        else if let ms { debounce = .milliseconds(ms) }
        let action = t.choice("action", as: InterlockAction.self) ?? .trip
        let output = t.string("output", expected: "the name of an [[outputs]] entry")
        let onFault = t.choice("on_fault", as: InterlockAction.self) ?? action
        let latch = t.bool("latch") ?? (action == .trip)
        let requiresSync = t.bool("requires_clock_sync") ?? false

        var effectiveRelease = limit
        if let limit, let comparison {
            if let release {
                switch comparison {
                case .above where release > limit:
                    t.error("release", "is \(formatNumber(release)), above the limit \(formatNumber(limit)); with above = \(formatNumber(limit)) the release level must be at or below it, or the condition never clears")
                case .below where release < limit:
                    t.error("release", "is \(formatNumber(release)), below the limit \(formatNumber(limit)); with below = \(formatNumber(limit)) the release level must be at or above it, or the condition never clears")
                default: break
                }
                effectiveRelease = release
            }
        }
        if action == .trip && output == nil && !t.contains("output") {
            t.error("output", "missing; a trip rule needs the permissive output it drops, e.g. output = \"run-permit\"")
        }
        if action == .warn && onFault == .trip && t.contains("on_fault") == false {
            // warn rules default to warning on faults too; nothing to report
        }
        guard let name, let channel, let comparison, let limit, let unit, let effectiveRelease else { return nil }
        return RuleSpec(name: name, channel: channel, comparison: comparison, limit: limit, release: effectiveRelease, unit: unit,
                        debounce: debounce, action: action, output: output, onFault: onFault, latch: latch, requiresClockSync: requiresSync)
    }

    private func parseReset(_ t: inout TableReader) -> ResetSpec {
        var line: LineRef?
        if t.contains("line") { line = parseLineRef(&t, "line") } else { t.allow("line") }
        let activeLow = t.bool("active_low") ?? true
        let bias = t.choice("bias", as: LineBias.self) ?? .pullUp
        var sources: [ResetSource]?
        if let names = t.stringArray("sources", expected: "who may reset: [\"button\"], [\"button\", \"socket\"] or [\"socket\"]") {
            var parsed: [ResetSource] = []
            for (i, n) in names.enumerated() {
                let path = t.path.appending("sources").appending(index: i)
                guard let s = ResetSource(rawValue: n) else {
                    context.error(path, "is \"\(n)\"; expected \(ResetSource.spellings)")
                    continue
                }
                if parsed.contains(s) { context.error(path, "\"\(n)\" is listed twice") }
                parsed.append(s)
            }
            if names.isEmpty { t.error("sources", "is empty; nobody could reset the interlock after a trip") }
            if parsed.contains(.button) && line == nil && !t.contains("line") {
                t.error("sources", "names the button, but [reset] has no line; add line = { chip = \"NAME\", line = \"LINE\" }")
            }
            if !parsed.contains(.button) && t.contains("line") {
                t.error("sources", "does not list \"button\", but a reset button is wired (line); add \"button\" or remove the line")
            }
            sources = parsed
        }
        let minimum = t.int("min_press_ms", range: 10...10_000, expected: "the shortest press that resets, ms") ?? 50
        let maximum = t.int("max_press_ms", range: 100...60_000, expected: "the longest press that resets, ms") ?? 5000
        if minimum >= maximum { t.error("max_press_ms", "is \(maximum); it must be above min_press_ms (\(minimum))") }
        if line == nil {
            for key in ["active_low", "bias", "min_press_ms", "max_press_ms"] where t.contains(key) {
                t.error(key, "is only used with a reset button (line = { chip = \"NAME\", line = \"LINE\" })")
            }
        }
        return ResetSpec(line: line, activeLow: activeLow, bias: bias, sources: sources, minimumPressMilliseconds: minimum, maximumPressMilliseconds: maximum)
    }

    // MARK: - System

    private func parseRealtime(_ top: inout TableReader) -> RealtimeSpec? {
        var spec = RealtimeSpec(periodMicroseconds: 1000, priority: 80, cpu: nil, lockMemory: true, overrunBurst: 5,
                                overrunWindowMilliseconds: 1000, busErrorBurst: 5, busErrorWindowMilliseconds: 1000,
                                maxStallMilliseconds: RealtimeSpec.defaultMaxStallMilliseconds(periodMicroseconds: 1000))
        guard var t = top.table("realtime") else { return spec }
        defer { t.finish() }
        if let v = t.int("period_us", range: 100...1_000_000, expected: "the loop period in µs, 100 to 1000000") { spec.periodMicroseconds = v }
        if let v = t.int("priority", range: 1...99, expected: "a SCHED_FIFO priority from 1 to 99") { spec.priority = v }
        spec.cpu = t.int("cpu", range: 0...1023, expected: "a CPU number")
        if let v = t.bool("lock_memory") { spec.lockMemory = v }
        if let v = t.int("overrun_burst", range: 1...10_000) { spec.overrunBurst = v }
        if let v = t.int("overrun_window_ms", range: 1...3_600_000) { spec.overrunWindowMilliseconds = v }
        if let v = t.int("bus_error_burst", range: 1...10_000) { spec.busErrorBurst = v }
        if let v = t.int("bus_error_window_ms", range: 1...3_600_000) { spec.busErrorWindowMilliseconds = v }
        spec.maxStallMilliseconds = t.int("max_stall_ms", range: 2...60_000, expected: "how long the loop may go without a cycle before the supervisor drops the outputs, ms")
            ?? RealtimeSpec.defaultMaxStallMilliseconds(periodMicroseconds: spec.periodMicroseconds)
        if spec.maxStallMilliseconds * 1000 < 2 * spec.periodMicroseconds {
            t.error("max_stall_ms", "is \(spec.maxStallMilliseconds) ms, shorter than two loop periods (\(spec.periodMicroseconds) µs each); every cycle would count as a stall")
        }
        return spec
    }

    private func parseWatchdog(_ top: inout TableReader) -> WatchdogSpec? {
        var spec = WatchdogSpec(device: nil, timeoutSeconds: 10)
        guard var t = top.table("watchdog") else { return spec }
        defer { t.finish() }
        spec.device = t.string("device", expected: "the watchdog device, e.g. /dev/watchdog")
        if let v = t.int("timeout_s", range: 1...600) { spec.timeoutSeconds = v }
        if let d = spec.device, !d.hasPrefix("/dev/") { t.error("device", "is \"\(d)\"; expected a path under /dev/") }
        return spec
    }

    private func parseUplink(_ top: inout TableReader, asset: Asset?) -> UplinkSpec? {
        var spec = UplinkSpec(kind: .none, snapshotIntervalMilliseconds: 1000, heartbeatSeconds: 60)
        guard var t = top.table("uplink") else { return spec }
        defer { t.finish() }
        spec.kind = t.choice("kind", as: UplinkSpec.Kind.self, required: true) ?? .none
        if let v = t.int("snapshot_interval_ms", range: 10...3_600_000) { spec.snapshotIntervalMilliseconds = v }
        if let v = t.int("heartbeat_s", range: 1...86_400) { spec.heartbeatSeconds = v }
        let sections: [(String, UplinkSpec.Kind)] = [("mqtt", .mqtt), ("sparkplug", .sparkplug), ("udp", .udp), ("serial", .serial), ("file", .file)]
        for (key, kind) in sections where t.contains(key) && spec.kind != kind {
            t.error(key, "is configured but kind = \"\(spec.kind.rawValue)\"; remove it or set kind = \"\(key)\"")
        }
        switch spec.kind {
        case .mqtt:
            guard var m = t.table("mqtt", required: true, expected: "an [uplink.mqtt] table with broker") else { return nil }
            defer { m.finish() }
            spec.mqtt = parseBrokerConnection(&m, asset: asset, topicPrefix: true)
        case .sparkplug:
            guard var m = t.table("sparkplug", required: true, expected: "an [uplink.sparkplug] table with broker and group_id") else { return nil }
            defer { m.finish() }
            let connection = parseBrokerConnection(&m, asset: asset, topicPrefix: false)
            // Sparkplug 3.0 §4.1.1: ids are UTF-8 without MQTT's reserved + / #.
            func sparkplugID(_ key: String, required: Bool = false, default value: String? = nil) -> String? {
                guard let id = m.string(key, required: required, expected: "a Sparkplug id (UTF-8, no + / #)") ?? value else { return nil }
                if id.isEmpty || id.unicodeScalars.contains(where: { $0 == "+" || $0 == "/" || $0 == "#" || $0 == "\u{0}" }) {
                    m.error(key, "is \"\(id)\"; Sparkplug ids must be non-empty and must not contain +, / or # (Sparkplug 3.0 §4.1.1)")
                }
                return id
            }
            let group = sparkplugID("group_id", required: true)
            let edge = sparkplugID("edge_node_id", default: asset?.node)
            let host = sparkplugID("primary_host_id")
            let bdSeqFile = m.string("bdseq_file", expected: "a file path for the last bdSeq")
            spec.sparkplug = SparkplugSpec(mqtt: connection, groupID: group ?? "", edgeNodeID: edge ?? "", primaryHostID: host, bdSeqFile: bdSeqFile)
        case .udp:
            guard var u = t.table("udp", required: true, expected: "an [uplink.udp] table with host and port") else { return nil }
            defer { u.finish() }
            let host = u.string("host", required: true)
            let port = u.int("port", required: true, range: 1...65535)
            guard let host, let port else { return nil }
            spec.udp = UDPSpec(host: host, port: port)
        case .serial:
            guard var s = t.table("serial", required: true, expected: "an [uplink.serial] table with device and baud") else { return nil }
            defer { s.finish() }
            let device = s.string("device", required: true)
            let baud = s.int("baud") ?? 115200
            if !standardBaudRates.contains(baud) {
                s.error("baud", "is \(baud); a Linux UART can be set to \(standardBaudRates.map(String.init).joined(separator: ", "))")
            }
            let framing = s.choice("framing", as: LineFraming.self) ?? .cobs
            guard let device else { return nil }
            spec.serial = SerialUplinkSpec(device: device, baud: baud, framing: framing)
        case .file:
            guard var f = t.table("file", required: true, expected: "an [uplink.file] table with path") else { return nil }
            defer { f.finish() }
            guard let path = f.string("path", required: true, expected: "a file path, or \"-\" for standard output") else { return nil }
            spec.file = FileSinkSpec(path: path)
        case .none:
            break
        }
        return spec
    }

    /// The broker connection of `[uplink.mqtt]` or `[uplink.sparkplug]`: URI, client id, version,
    /// keep-alive, data QoS, TLS files and credentials, each checked against the others.
    private func parseBrokerConnection(_ m: inout TableReader, asset: Asset?, topicPrefix: Bool) -> MQTTSpec {
        let broker = m.string("broker", required: true, expected: "a broker URI such as tcp://127.0.0.1:1883 or ssl://gateway:8883")
        if let broker, !(broker.hasPrefix("tcp://") || broker.hasPrefix("ssl://") || broker.hasPrefix("mqtt://") || broker.hasPrefix("mqtts://")) {
            m.error("broker", "is \"\(broker)\"; expected tcp://HOST:PORT or ssl://HOST:PORT")
        }
        let mqtt = MQTTSpec(
            // The site too: two sites' nodes named alike must not knock each other off a shared broker.
            broker: broker ?? "", clientID: m.string("client_id") ?? MQTTSpec.defaultClientID(site: asset?.site, node: asset?.node),
            topicPrefix: topicPrefix ? m.string("topic_prefix") ?? "vigil" : "",
            version: m.choice("version", as: MQTTSpec.Version.self) ?? .v5,
            keepAliveSeconds: m.int("keepalive_s", range: 5...3600) ?? 30,
            // Sparkplug 3.0 prescribes QoS 0 for births and data; vigil's frames default to 1.
            dataQoS: m.int("data_qos", range: 0...1, expected: "0 or 1") ?? (topicPrefix ? 1 : 0),
            caFile: m.string("ca_file"), certificateFile: m.string("cert_file"), keyFile: m.string("key_file"),
            usernameFile: m.string("username_file"), passwordFile: m.string("password_file"))
        if topicPrefix, let prefix = m.string("topic_prefix") {
            // MQTT 3.1.1 §4.7: `+` and `#` are wildcards, never part of a topic name; NUL is
            // forbidden in any MQTT string (§1.5.3); `$` topics are the broker's own (§4.7.2).
            if let bad = prefix.unicodeScalars.first(where: { $0 == "+" || $0 == "#" || $0 == "\u{0}" }) {
                m.error("topic_prefix", "contains \(bad == "\u{0}" ? "a NUL character" : "'\(bad)'"), which MQTT does not allow in a topic name (+ and # are wildcards)")
            } else if prefix.isEmpty || prefix.hasPrefix("/") || prefix.hasSuffix("/") {
                m.error("topic_prefix", "is \"\(prefix)\"; expected topic levels such as \"vigil\" or \"plant/vigil\", without a leading or trailing /")
            } else if prefix.hasPrefix("$") {
                m.error("topic_prefix", "starts with $; those topics belong to the broker ($SYS)")
            }
        }
        if (mqtt.certificateFile == nil) != (mqtt.keyFile == nil) {
            m.error(mqtt.certificateFile == nil ? "cert_file" : "key_file", "a client certificate needs both cert_file and key_file")
        }
        let plaintext = broker?.hasPrefix("tcp://") == true || broker?.hasPrefix("mqtt://") == true
        let scheme = broker?.hasPrefix("mqtt://") == true ? "mqtt://" : "tcp://"
        if (mqtt.caFile != nil || mqtt.certificateFile != nil) && plaintext {
            m.error("broker", "uses \(scheme) but TLS files are set; use ssl://HOST:PORT")
        }
        let allowPlaintextPassword = m.bool("allow_plaintext_password") ?? false
        if plaintext && mqtt.passwordFile != nil && !allowPlaintextPassword {
            m.error("password_file", "would be sent in clear text over \(scheme); use ssl://HOST:PORT, or set allow_plaintext_password = true for a network where that is acceptable")
        }
        if (mqtt.usernameFile == nil) != (mqtt.passwordFile == nil) && mqtt.passwordFile != nil {
            m.error("username_file", "missing; password_file needs a username_file")
        }
        return mqtt
    }

    private func parseSpool(_ top: inout TableReader) -> SpoolSpec? {
        var spec = SpoolSpec(directory: "/var/lib/vigil/spool", maxBytes: 16 << 20, segmentBytes: 256 << 10, fsyncIntervalMilliseconds: 1000)
        guard var t = top.table("spool") else { return spec }
        defer { t.finish() }
        if let v = t.string("directory", expected: "a directory path") { spec.directory = v }
        if let v = t.int("max_bytes", range: 65_536...(1 << 40), expected: "a size in bytes, at least 65536") { spec.maxBytes = v }
        if let v = t.int("segment_bytes", range: 4096...(64 << 20), expected: "a size in bytes from 4096 to 67108864") { spec.segmentBytes = v }
        if let v = t.int("fsync_interval_ms", range: 0...3_600_000) { spec.fsyncIntervalMilliseconds = v }
        if spec.segmentBytes * 4 > spec.maxBytes {
            t.error("segment_bytes", "is \(spec.segmentBytes); max_bytes (\(spec.maxBytes)) must hold at least 4 segments so eviction can keep recent data")
        }
        return spec
    }

    private func parseControl(_ top: inout TableReader) -> ControlSpec? {
        var spec = ControlSpec(socket: "/run/vigil/control.sock")
        guard var t = top.table("control") else { return spec }
        defer { t.finish() }
        if let v = t.string("socket", expected: "a Unix socket path") {
            if v.utf8.count > 107 { t.error("socket", "is \(v.utf8.count) bytes long; Unix socket paths are limited to 107 bytes") }
            spec.socket = v
        }
        return spec
    }

    private func parseSimulation(_ t: inout TableReader) -> SimulationSpec {
        var s = SimulationSpec.defaults
        if let v = t.int("seed", range: 0...Int.max) { s.seed = UInt64(v) }
        if let v = t.double("shaft_rpm", range: 0...100_000) { s.shaftRPM = v }
        if let v = t.double("unbalance_g", range: 0...100) { s.unbalanceG = v }
        if let v = t.double("misalignment_g", range: 0...100) { s.misalignmentG = v }
        if let v = t.double("bearing_defect_hz", range: 0...100_000) { s.bearingDefectHz = v }
        if let v = t.double("bearing_defect_g", range: 0...100) { s.bearingDefectG = v }
        if let v = t.double("noise_g", range: 0...100) { s.noiseG = v }
        if let v = t.double("temperature_c", range: -40...125) { s.temperatureC = v }
        if let v = t.double("temperature_drift_c_per_min", range: -100...100) { s.temperatureDriftCPerMinute = v }
        if let v = t.double("ramp_start_s", range: 0...86_400) { s.rampStartSeconds = v }
        if let v = t.double("ramp_duration_s", range: 0...86_400) { s.rampDurationSeconds = v }
        if let v = t.double("ramp_factor", range: 0...1000) { s.rampFactor = v }
        return s
    }
}

extension ChannelSettings {
    init(name: String) {
        self.init(name: name, deadband: nil, resolution: nil, rangeMin: nil, rangeMax: nil, maxAgeMilliseconds: nil)
    }
}

/// Letters, digits, `-` and `_`: safe in channel names, topics and file names.
func isIdentifier(_ s: String) -> Bool {
    !s.isEmpty && s.unicodeScalars.allSatisfy { c in
        (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || c == "-" || c == "_"
    }
}

/// `a, b, c and d` (or `… or d`).
func sentence(_ items: [String], or: Bool = false) -> String {
    guard items.count > 1 else { return items.first ?? "" }
    return items.dropLast().joined(separator: ", ") + (or ? " or " : " and ") + items.last!
}

func hex(_ value: Int) -> String {
    let digits = String(value, radix: 16)
    return "0x" + (digits.count < 2 ? "0" + digits : digits)
}

func roundTo(_ value: Double, _ step: Double) -> Double { (value / step).rounded() * step }
