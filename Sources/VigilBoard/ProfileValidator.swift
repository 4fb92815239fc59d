import VigilBase
import VigilHAL
import VigilParts
import VigilFrames
import VigilInterlock

/// Cross-checks a parsed profile: names that must resolve, things that must not be used twice,
/// limits that must make sense together, and the timing budget of the loop.
struct ProfileValidator {
    let context: ProfileContext
    let profile: BoardProfile

    private var map: ProfileContext.SourceMap { context.sourceMap }

    private func sensorPath(_ i: Int) -> ProfileKeyPath { ProfileKeyPath.root.appending("sensors").appending(index: map.sensors[i]) }
    private func outputPath(_ i: Int) -> ProfileKeyPath { ProfileKeyPath.root.appending("outputs").appending(index: map.outputs[i]) }
    private func rulePath(_ i: Int) -> ProfileKeyPath { ProfileKeyPath.root.appending("rules").appending(index: map.rules[i]) }
    private func registerPath(_ sensor: Int, _ register: Int) -> ProfileKeyPath {
        sensorPath(sensor).appending("registers").appending(index: map.registers[sensor][register])
    }

    /// Runs every check and returns the channel catalog (with settings applied).
    func validate() -> ChannelCatalog {
        checkSensorNames()
        checkBusReferences()
        checkLines()
        checkModbus()
        var (catalog, duplicates) = ChannelCatalog.derive(from: profile)
        for dup in duplicates where dup.sensorIndex >= 0 {
            let path = dup.registerIndex.map { registerPath(dup.sensorIndex, $0).appending("channel") } ?? sensorPath(dup.sensorIndex).appending("name")
            context.error(path, "channel \"\(dup.name)\" is defined twice; channel names must be unique")
        }
        for name in catalog.apply(profile.channelSettings) {
            var message = "no channel is named \"\(name)\""
            if let close = closestMatch(name, among: catalog.names) { message += "; did you mean \"\(close)\"?" }
            context.error(ProfileKeyPath.root.appending("channels").appending(name), message)
        }
        for (i, s) in profile.channelSettings.enumerated() {
            if let c = catalog[s.name], c.rangeMin >= c.rangeMax {
                _ = i
                context.error(ProfileKeyPath.root.appending("channels").appending(s.name).appending("range"), "the range must have min below max")
            }
        }
        checkOutputsAndRules(catalog)
        checkAnalysis(catalog)
        checkTiming()
        checkUplink()
        checkFailSafe(catalog)
        return catalog
    }

    private func checkSensorNames() {
        var seen: [String: Int] = [:]
        for (i, s) in profile.sensors.enumerated() {
            if let first = seen[s.name] {
                context.error(sensorPath(i).appending("name"), "sensor name \"\(s.name)\" is already used by sensors[\(map.sensors[first])] (line \(context.line(of: sensorPath(first)) ?? 0))")
            } else if ["interlock", "loop", "node"].contains(s.name) {
                context.error(sensorPath(i).appending("name"), "\"\(s.name)\" is reserved for the node's own channels")
            } else {
                seen[s.name] = i
            }
        }
    }

    private func checkBusReferences() {
        let i2cNames = profile.i2cBuses.map(\.name)
        let serialNames = profile.serialPorts.map(\.name)
        let tcpNames = profile.modbusTCP.map(\.name)
        var addressUse: [String: (Int, String)] = [:] // "bus@addr" -> sensor
        for (i, s) in profile.sensors.enumerated() {
            var bus: String?
            var address: Int?
            switch s.kind {
            case .accelerometer(let a): bus = a.bus; address = a.address
            case .temperature(let t): bus = t.bus; address = t.address
            case .currentLoop(let c): bus = c.bus; address = c.address
            case .hwmon: break // the kernel owns the device's address
            case .modbus(let m):
                if !serialNames.contains(m.port) && !tcpNames.contains(m.port) {
                    var message = "names port \"\(m.port)\", but there is no [serial.\(m.port)] or [modbus_tcp.\(m.port)]"
                    if let close = closestMatch(m.port, among: serialNames + tcpNames) { message += "; did you mean \"\(close)\"?" }
                    else if !(serialNames + tcpNames).isEmpty { message += " (defined: \((serialNames + tcpNames).joined(separator: ", ")))" }
                    context.error(sensorPath(i).appending("port"), message)
                }
            case .digitalInput, .tachometer: break
            }
            if let bus {
                if !i2cNames.contains(bus) {
                    var message = "names I2C bus \"\(bus)\", but there is no [i2c.\(bus)]"
                    if let close = closestMatch(bus, among: i2cNames) { message += "; did you mean \"\(close)\"?" }
                    context.error(sensorPath(i).appending("bus"), message)
                } else if let address {
                    let key = "\(bus)@\(address)"
                    if let (other, otherName) = addressUse[key] {
                        context.error(sensorPath(i).appending("address"), "address \(hex(address)) on bus \"\(bus)\" is already used by sensor \"\(otherName)\" (sensors[\(map.sensors[other])])")
                    } else {
                        addressUse[key] = (i, s.name)
                    }
                }
            }
        }
    }

    /// Every GPIO line reference: it must name a known chip (and, on simulated chips, a known line),
    /// and no line may be claimed twice.
    private func checkLines() {
        var uses: [(LineRef, ProfileKeyPath, String)] = []
        for (i, s) in profile.sensors.enumerated() {
            switch s.kind {
            case .digitalInput(let d): uses.append((d.line, sensorPath(i).appending("line"), "sensor \"\(s.name)\""))
            case .tachometer(let t): uses.append((t.line, sensorPath(i).appending("line"), "sensor \"\(s.name)\""))
            default: break
            }
        }
        for (i, o) in profile.outputs.enumerated() { uses.append((o.line, outputPath(i).appending("line"), "output \"\(o.name)\"")) }
        for (i, o) in profile.outputs.enumerated() {
            if let f = o.feedback { uses.append((f, outputPath(i).appending("feedback"), "the feedback of output \"\(o.name)\"")) }
        }
        if let line = profile.reset.line { uses.append((line, ProfileKeyPath.root.appending("reset").appending("line"), "the reset input")) }
        for p in profile.serialPorts {
            if let de = p.driverEnable { uses.append((de, ProfileKeyPath.root.appending("serial").appending(p.name).appending("de_line"), "the driver-enable of serial port \"\(p.name)\"")) }
        }
        var claimed: [LineRef: (ProfileKeyPath, String)] = [:]
        let chips = Dictionary(profile.gpioChips.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        // piControl exchanges its image with the hardware once per I/O cycle (a few ms) and has
        // no edge events: fine for relays, lamps, contacts and buttons, not for counting pulses or
        // timing a transceiver.
        for (i, s) in profile.sensors.enumerated() {
            if case .tachometer(let t) = s.kind, chips[t.line.chip]?.driver == .picontrol {
                context.error(sensorPath(i).appending("line"), "is on piControl chip \"\(t.line.chip)\", which has no edge events; a tachometer needs a kernel GPIO chip")
            }
        }
        for p in profile.serialPorts {
            if let de = p.driverEnable, chips[de.chip]?.driver == .picontrol {
                context.error(ProfileKeyPath.root.appending("serial").appending(p.name).appending("de_line"), "is on piControl chip \"\(de.chip)\", whose I/O cycle is far too slow to time a transceiver")
            }
        }
        for (ref, path, owner) in uses {
            guard let chip = chips[ref.chip] else {
                var message = "names GPIO chip \"\(ref.chip)\", but there is no [gpio.\(ref.chip)]"
                if let close = closestMatch(ref.chip, among: Array(chips.keys)) { message += "; did you mean \"\(close)\"?" }
                context.error(path.appending("chip"), message)
                continue
            }
            if chip.driver == .picontrol && PiControlLineName(ref.line) == nil {
                context.error(path.appending("line"), "\"\(ref.line)\" is not a piControl line; expected a PiCtory variable of one bit (\"RelayOutput_1\") or NAME.N for bit N of a wider one (\"RevPiOutput.0\"), with a name of at most \(PiControlLineName.maximumNameBytes) bytes")
            }
            if !chip.lines.isEmpty && !chip.lines.contains(ref.line) {
                var message = "line \"\(ref.line)\" is not one of chip \"\(ref.chip)\"'s lines"
                if let close = closestMatch(ref.line, among: chip.lines) { message += "; did you mean \"\(close)\"?" }
                context.error(path.appending("line"), message)
            }
            if let (firstPath, firstOwner) = claimed[ref] {
                context.error(path, "line \(ref.chip):\(ref.line) is already used by \(firstOwner) (\(firstPath), line \(context.line(of: firstPath) ?? 0)); a line can have one user")
            } else {
                claimed[ref] = (path, owner)
            }
        }
    }

    private func checkModbus() {
        var unitsOnPort: [String: (Int, String)] = [:]
        for (i, s) in profile.sensors.enumerated() {
            guard case .modbus(let m) = s.kind else { continue }
            let key = "\(m.port)#\(m.unit)"
            if let (_, otherName) = unitsOnPort[key] {
                context.error(sensorPath(i).appending("unit"), "unit \(m.unit) on port \"\(m.port)\" is already used by sensor \"\(otherName)\"; each slave on a port needs its own address")
            } else {
                unitsOnPort[key] = (i, s.name)
            }
            // Registers that share addresses in one function's address space overlap.
            for (a, ra) in m.registers.enumerated() {
                for b in 0..<a {
                    let rb = m.registers[b]
                    guard ra.function == rb.function else { continue }
                    // Different bits of one status register are different values.
                    if let x = ra.bit, let y = rb.bit, x != y { continue }
                    if ra.address < rb.endAddress && rb.address < ra.endAddress {
                        context.error(registerPath(i, a).appending("address"),
                                      "\(ra.function.rawValue) \(Self.span(ra)) overlaps \"\(rb.channel)\" at \(Self.span(rb)) (line \(context.line(of: registerPath(i, b)) ?? 0))")
                    }
                }
            }
            if m.timeoutMilliseconds * (m.retries + 1) >= m.pollMilliseconds * 4 {
                context.error(sensorPath(i).appending("timeout_ms"), "timeout_ms × (retries + 1) = \(m.timeoutMilliseconds * (m.retries + 1)) ms is far longer than poll_ms = \(m.pollMilliseconds); one silent slave would hold up the port")
            }
        }
    }


    private static func span(_ r: ModbusRegisterSpec) -> String {
        r.endAddress - r.address > 1 ? "\(r.address)–\(r.endAddress - 1)" : "\(r.address)"
    }

    private func checkOutputsAndRules(_ catalog: ChannelCatalog) {
        var outputs: [String: (Int, OutputSpec)] = [:]
        for (i, o) in profile.outputs.enumerated() {
            if outputs[o.name] != nil {
                context.error(outputPath(i).appending("name"), "output name \"\(o.name)\" is already used")
            } else {
                outputs[o.name] = (i, o)
            }
        }
        var ruleNames: [String: Int] = [:]
        var watch: [String: Int] = [:] // output|channel|comparison -> rule
        for (i, r) in profile.rules.enumerated() {
            let path = rulePath(i)
            if let first = ruleNames[r.name] {
                context.error(path.appending("name"), "rule name \"\(r.name)\" is already used by rules[\(map.rules[first])]")
            } else {
                ruleNames[r.name] = i
            }
            if let channel = catalog[r.channel] {
                if channel.isSpectrum {
                    context.error(path.appending("channel"), "\"\(r.channel)\" is a spectrum, not a value; use a scalar such as \"\(r.channel.replacingSuffix("bands", with: "velocity_rms"))\"")
                } else if channel.quantity == .interlockState {
                    context.error(path.appending("channel"), "a rule cannot watch the interlock's own state")
                } else if !r.unit.isConvertible(to: channel.unit) {
                    context.error(path.appending("unit"), "is \"\(r.unit.rawValue)\" (\(r.unit.dimension.rawValue)) but channel \"\(r.channel)\" is in \"\(channel.unit.rawValue)\" (\(channel.unit.dimension.rawValue)); the limit cannot be compared")
                } else if let limit = r.unit.convert(r.limit, to: channel.unit), limit < channel.rangeMin || limit > channel.rangeMax {
                    context.error(path.appending(r.comparison.rawValue), "limit \(formatNumber(r.limit)) \(r.unit.rawValue) is outside the channel's range \(formatNumber(channel.rangeMin))…\(formatNumber(channel.rangeMax)) \(channel.unit.rawValue); it can never be reached")
                }
            } else {
                var message = "no channel is named \"\(r.channel)\""
                if let close = closestMatch(r.channel, among: catalog.names) { message += "; did you mean \"\(close)\"?" }
                else { message += " (`vigil board show` lists the channels)" }
                context.error(path.appending("channel"), message)
            }
            if let outputName = r.output {
                if let (_, output) = outputs[outputName] {
                    switch (r.action, output.kind) {
                    case (.trip, .permissive), (.warn, .warning): break
                    case (.trip, _):
                        context.error(path.appending("output"), "output \"\(outputName)\" is a \(output.kind.rawValue) output; a trip rule drops a permissive output")
                    case (.warn, _):
                        context.error(path.appending("output"), "output \"\(outputName)\" is a \(output.kind.rawValue) output; a warn rule drives a warning output")
                    }
                    let key = "\(outputName)|\(r.channel)|\(r.comparison.rawValue)"
                    if let first = watch[key] {
                        context.error(path, "rules \"\(profile.rules[first].name)\" and \"\(r.name)\" both watch \(r.channel) \(r.comparison.rawValue) a limit on output \"\(outputName)\"; merge them into one rule (two limits on one output and channel are ambiguous)")
                    } else {
                        watch[key] = i
                    }
                } else {
                    var message = "no output is named \"\(outputName)\""
                    if let close = closestMatch(outputName, among: Array(outputs.keys)) { message += "; did you mean \"\(close)\"?" }
                    context.error(path.appending("output"), message)
                }
            }
        }
        for (i, o) in profile.outputs.enumerated() where o.kind == .permissive {
            if !profile.rules.contains(where: { $0.output == o.name }) {
                context.error(outputPath(i), "permissive output \"\(o.name)\" has no rule; it would be held on unconditionally")
            }
        }
    }

    private func checkAnalysis(_ catalog: ChannelCatalog) {
        for (i, s) in profile.sensors.enumerated() {
            guard case .accelerometer(let a) = s.kind else { continue }
            if a.analysis.bands.mode == .orders, let rpm = a.analysis.bands.rpmChannel {
                let path = sensorPath(i).appending("analysis").appending("bands").appending("rpm_channel")
                if let c = catalog[rpm] {
                    if c.unit.dimension != .frequency { context.error(path, "\"\(rpm)\" is in \(c.unit.rawValue), not a shaft speed") }
                } else {
                    var message = "no channel is named \"\(rpm)\""
                    if let close = closestMatch(rpm, among: catalog.names) { message += "; did you mean \"\(close)\"?" }
                    context.error(path, message)
                }
            }
        }
    }

    /// The loop must fit its sensor reads into its period, and accelerometer FIFOs must not overflow
    /// between two reads. Modbus polls must fit a round trip at the port's baud rate.
    private func checkTiming() {
        let period = Double(profile.realtime.periodMicroseconds) * 1e-6
        let periodKey = ProfileKeyPath.root.appending("realtime").appending("period_us")
        let periodWritten = context.locator.exactLine(for: periodKey) != nil
        var firstSensorOnBus: [String: Int] = [:]
        for (i, s) in profile.sensors.enumerated() {
            switch s.kind {
            case .accelerometer(let a):
                let perPeriod = a.sampleRateHz * period
                // A rate the part does not have is reported once, where it is written; its timing is not judged.
                guard let part = a.partFacts, part.outputDataRatesHz.contains(a.sampleRateHz),
                      let bus = profile.i2cBuses.first(where: { $0.name == a.bus }) else { continue }
                if firstSensorOnBus[a.bus] == nil { firstSensorOnBus[a.bus] = i }
                if perPeriod > Double(part.fifoDepth) * 0.75 {
                    context.error(periodWritten ? periodKey : sensorPath(i).appending("sample_rate_hz"),
                                  "realtime.period_us = \(profile.realtime.periodMicroseconds) µs is too long: \(s.name) fills \(formatNumber((perPeriod * 10).rounded() / 10)) of its \(part.fifoDepth) FIFO entries per period at \(formatNumber(a.sampleRateHz)) Hz and would overflow; shorten the period")
                }
                // The part's own rule for I2C (its datasheet's serial-communication limits).
                switch part.minimumI2CClockHz(sampleRateHz: a.sampleRateHz) {
                case nil:
                    let allowed = part.outputDataRatesHz.filter { part.minimumI2CClockHz(sampleRateHz: $0) != nil }.max() ?? 0
                    context.error(sensorPath(i).appending("sample_rate_hz"),
                                  "is \(formatNumber(a.sampleRateHz)) Hz; the \(part.title)'s datasheet allows that rate only on SPI, which vigil does not drive; on I2C use \(formatNumber(allowed)) Hz or less")
                case let minimum? where bus.clockHz < minimum:
                    context.error(sensorPath(i).appending("sample_rate_hz"),
                                  "is \(formatNumber(a.sampleRateHz)) Hz, which the \(part.title)'s datasheet allows only at an I2C clock of \(minimum / 1000) kHz or more; [i2c.\(bus.name)] clock_hz is \(bus.clockHz)")
                default:
                    break
                }
            case .temperature(let t):
                guard profile.i2cBuses.contains(where: { $0.name == t.bus }) else { continue }
                if firstSensorOnBus[t.bus] == nil { firstSensorOnBus[t.bus] = i }
            case .currentLoop(let c):
                guard profile.i2cBuses.contains(where: { $0.name == c.bus }) else { continue }
                if firstSensorOnBus[c.bus] == nil { firstSensorOnBus[c.bus] = i }
            case .modbus(let m):
                guard let port = profile.serialPorts.first(where: { $0.name == m.port }) else { continue }
                let bitsPerChar = Double(1 + port.dataBits + (port.parity == .none ? 0 : 1) + port.stopBits)
                let charTime = bitsPerChar / Double(port.baud)
                let silence = port.baud > 19200 ? 0.00175 : 3.5 * charTime
                var words = 0
                for r in m.registers { words += r.function.isBitTable ? 1 : r.type.wordCount }
                let roundTrip = Double(8 + 5 + 2 * words) * charTime + 2 * silence + Double(port.turnaroundBeforeMicroseconds + port.turnaroundAfterMicroseconds) * 1e-6
                if roundTrip * 1000 > Double(m.timeoutMilliseconds) {
                    context.error(sensorPath(i).appending("timeout_ms"), "is \(m.timeoutMilliseconds) ms, shorter than one round trip (\(formatNumber((roundTrip * 10000).rounded() / 10)) ms) at \(port.baud) baud")
                }
                if roundTrip * 1000 > Double(m.pollMilliseconds) {
                    context.error(sensorPath(i).appending("poll_ms"), "is \(m.pollMilliseconds) ms, shorter than one round trip (\(formatNumber((roundTrip * 10000).rounded() / 10)) ms) at \(port.baud) baud")
                }
            default: break
            }
        }
        for budget in I2CBudget.of(profile) where !budget.fits {
            let path = periodWritten ? periodKey : sensorPath(firstSensorOnBus[budget.bus] ?? 0)
            context.error(path,
                          "realtime.period_us = \(profile.realtime.periodMicroseconds) µs is shorter than the sensors' read time: bus \"\(budget.bus)\" needs about \(budget.microsecondsPerPeriod) µs per period (over \(Int(I2CBudget.maximumLoad * 100)) %); lengthen the period, lower the sample rate or raise [i2c.\(budget.bus)] clock_hz")
        }
    }

    /// What keeps a machine safe when vigil itself fails, and protections a profile can switch off.
    private func checkFailSafe(_ catalog: ChannelCatalog) {
        // A killed or hung agent cannot drop its outputs itself, and what the kernel does with a
        // released line varies (Raspberry Pi OS keeps its level): something outside vigil must.
        let heartbeat = profile.outputs.contains { $0.kind == .heartbeat }
        if !heartbeat && profile.watchdog.device == nil {
            // piControl's output watchdog is such a thing: the driver zeroes the image's outputs
            // when vigil stops writing and when vigil's handle closes.
            let guardedByPiControl = Set(profile.gpioChips.filter { $0.driver == .picontrol && ($0.outputWatchdogMilliseconds ?? 0) > 0 }.map(\.name))
            for (i, o) in profile.outputs.enumerated() where o.kind == .permissive && !guardedByPiControl.contains(o.line.chip) {
                context.error(outputPath(i), "permissive output \"\(o.name)\" has no way to drop without vigil: if the agent is killed or hangs, the kernel may keep the line at its last level (Raspberry Pi OS does) and the machine keeps running; add a heartbeat output (kind = \"heartbeat\", wired to an external watchdog relay) or a hardware watchdog ([watchdog] device = \"/dev/watchdog\")")
            }
        }
        for (i, r) in profile.rules.enumerated() where r.action == .trip {
            if r.onFault == .warn {
                context.error(rulePath(i).appending("on_fault"), "is \"warn\" on a trip rule; a trip rule's fault action is trip (with warn the permissive would come on before any sample and a fault would pass for a healthy input); remove on_fault, or make the rule action = \"warn\"")
            }
            if !r.latch {
                context.warning(rulePath(i).appending("latch"), "is false: the trip clears by itself when the condition ends and the machine restarts without anyone at it; keep latch = true unless the machine's own control prevents a restart")
            }
            let explicitAge = profile.channelSettings.contains { $0.name == r.channel && $0.maxAgeMilliseconds != nil }
            if let c = catalog[r.channel], c.maxAgeMilliseconds > 60_000, !explicitAge { // an explicit setting has its own warning
                context.warning(rulePath(i).appending("channel"), "\(r.channel) may be \(c.maxAgeMilliseconds / 1000) s old before rule \"\(r.name)\" counts it as stale; a trip rule should see a dead sensor within a minute")
            }
        }
        for s in profile.channelSettings {
            if let age = s.maxAgeMilliseconds, age > 60_000 {
                context.warning(ProfileKeyPath.root.appending("channels").appending(s.name).appending("max_age_ms"),
                                "is \(age) ms: a value this old still counts as fresh, so a dead sensor goes unnoticed for over a minute")
            }
        }
        let rt = ProfileKeyPath.root.appending("realtime")
        if profile.realtime.overrunBurst > 100 {
            context.warning(rt.appending("overrun_burst"), "is \(profile.realtime.overrunBurst): that many missed deadlines pass before the loop's timing counts as a fault (more than 100 hides a loop that cannot keep up)")
        }
        if profile.realtime.busErrorBurst > 100 {
            context.warning(rt.appending("bus_error_burst"), "is \(profile.realtime.busErrorBurst): that many bus errors pass before they count as a fault (more than 100 hides a failing bus)")
        }
        if profile.reset.sources == [.socket] && profile.outputs.contains(where: { $0.kind == .permissive }) {
            let path = context.locator.exactLine(for: ProfileKeyPath.root.appending("reset")) != nil ? ProfileKeyPath.root.appending("reset") : ProfileKeyPath.root
            context.warning(path, "the only reset is the control socket: the machine is re-armed by whoever can reach the node, not by someone at it; wire a reset button ([reset] line) and list \"button\" in sources")
        }
    }

    private func checkUplink() {
        if let serial = profile.uplink.serial, let port = profile.serialPorts.first(where: { $0.device == serial.device }) {
            context.error(ProfileKeyPath.root.appending("uplink").appending("serial").appending("device"),
                          "\(serial.device) is already Modbus port \"\(port.name)\"; the uplink needs its own serial line")
        }
    }
}

extension String {
    func replacingSuffix(_ suffix: String, with replacement: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) + replacement : self
    }
}
