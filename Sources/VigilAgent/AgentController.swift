#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import VigilBase
import VigilBoard
import VigilDSP
import VigilFrames
import VigilHAL
import VigilInterlock
import VigilLoop
import VigilRuntime
import Synchronization

/// Answers control-socket requests from the running node's shared state (mailboxes, atomics,
/// slots): it never takes a lock the loop could wait on.
final class AgentController<P: NodePlatform>: @unchecked Sendable {
    let loaded: LoadedProfile
    let cycle: NodeCycle<P>
    let loop: PeriodicLoop<NodeCycle<P>>
    let uplink: UplinkWorker
    let gpio: GPIOAccess
    let start: Timestamp
    /// `chip:line` of every line the interlock and the sensors hold.
    let ownedLines: Set<String>
    /// Lines set by `vigil gpio set` through the agent, held until it exits (as gpioset does).
    private var heldLines: [String: any DigitalOutput] = [:]
    private var testRunning = false

    init(loaded: LoadedProfile, cycle: NodeCycle<P>, loop: PeriodicLoop<NodeCycle<P>>, uplink: UplinkWorker, gpio: GPIOAccess, start: Timestamp) {
        self.loaded = loaded
        self.cycle = cycle
        self.loop = loop
        self.uplink = uplink
        self.gpio = gpio
        self.start = start
        var owned = Set<String>()
        let p = loaded.profile
        for o in p.outputs { owned.insert(o.line.description) }
        if let r = p.reset { owned.insert(r.line.description) }
        for s in p.sensors {
            switch s.kind {
            case .digitalInput(let d): owned.insert(d.line.description)
            case .tachometer(let t): owned.insert(t.line.description)
            default: break
            }
        }
        for port in p.serialPorts { if let de = port.driverEnable { owned.insert(de.description) } }
        ownedLines = owned
    }

    func handle(_ line: String) -> String {
        guard let request = try? ControlJSON.decode(ControlRequest.self, line) else {
            return fail(2, "malformed request: expected one JSON object with a \"command\" key")
        }
        switch request.command {
        case "ping": return ok(["pong": "vigil \(AgentVersion.string)"])
        case "status": return ok(status())
        case "spectrum": return spectrum(request.channel ?? "")
        case "interlock-reset": return reset()
        case "interlock-test": return proofTest(rule: request.rule ?? "", confirmed: request.confirm ?? false)
        case "gpio-info": return ok(gpioInfo())
        case "gpio-get": return gpioGet(request.line ?? "")
        case "gpio-set": return gpioSet(request.line ?? "", request.value ?? -1)
        default: return fail(2, "unknown command \(request.command)")
        }
    }

    private func ok<T: Codable & Sendable>(_ result: T) -> String { ControlJSON.encode(ControlResponse(exit: 0, error: nil, result: result)) }
    private func fail(_ exit: Int32, _ message: String) -> String { ControlJSON.encode(ControlResponse<String>(exit: exit, error: message, result: nil)) }

    // MARK: status

    func status() -> StatusReport {
        let now = ClockSync.timestamp()
        let p = loaded.profile
        let channels = loaded.channels.channels
        var channelStatus: [ChannelStatus] = []
        for (i, c) in channels.enumerated() where !c.isSpectrum {
            let s = cycle.latest.read(i)
            let age: Int64? = s.time == .zero ? nil : now.monotonic.nanoseconds(since: s.time) / 1_000_000
            channelStatus.append(ChannelStatus(name: c.name, value: s.value.isFinite ? s.value : nil, unit: c.unit.rawValue,
                                               quality: s.time == .zero ? "no_value" : s.quality.summary, ageMilliseconds: age))
        }
        let levels = cycle.outputLevels.load(ordering: .acquiring)
        let outputs = p.outputs.enumerated().map { i, o in
            OutputStatus(name: o.name, kind: o.kind.rawValue, line: o.line.description, on: levels & (1 << UInt64(i)) != 0)
        }
        var rules: [RuleStatus] = []
        var why: [String] = []
        var anyStarting = false
        var tripped = false
        for (i, r) in p.rules.enumerated() {
            let code = RuleStateCode(rawValue: cycle.ruleStates.read(i)) ?? .starting
            let channel = loaded.channels[r.channel]
            let sample = channel.map { cycle.latest.read($0.id - 1) }
            let value = sample.flatMap { $0.value.isFinite ? $0.value : nil }
            rules.append(RuleStatus(name: r.name, channel: r.channel, action: r.action.rawValue, comparison: r.comparison.rawValue, limit: r.limit,
                                    release: r.release, unit: r.unit.rawValue, state: code.name, value: value))
            let inForce: RuleSpec.Action?
            switch code {
            case .normal, .debouncing: inForce = nil
            case .active, .latched: inForce = r.action
            case .faulted, .starting: inForce = r.onFault
            }
            if code == .starting { anyStarting = true }
            if let action = inForce, code != .starting {
                // A condition present now trips; a latched trip only waits for a reset.
                if action == .trip && code != .latched { tripped = true }
                let v = value.map { "\(($0 * 1000).rounded() / 1000)" } ?? "no value"
                switch code {
                case .latched: why.append("\(r.name): latched trip (\(r.channel) now \(v) \(r.unit.rawValue), limit \(r.comparison.rawValue) \(r.limit)); needs a local reset")
                case .faulted(let reason): why.append("\(r.name): \(r.channel) \(reason.name) → \(action.rawValue) by on_fault policy")
                default: why.append("\(r.name): \(r.channel) = \(v) \(r.unit.rawValue), \(r.comparison.rawValue) \(r.limit) → \(action.rawValue)")
                }
            }
        }
        let faults = SystemFault(rawValue: cycle.systemFaultBits.load(ordering: .acquiring))
        var faultNames: [String] = []
        if faults.contains(.deadlineBurst) { faultNames.append("deadline_burst") }
        if faults.contains(.busErrorBurst) { faultNames.append("bus_error_burst") }
        if faults.contains(.watchdog) { faultNames.append("watchdog") }
        if !faultNames.isEmpty { tripped = true; why.append("system fault: \(faultNames.joined(separator: ", "))") }
        let permissiveOn = p.outputs.enumerated().filter { $0.element.kind == .permissive }.allSatisfy { levels & (1 << UInt64($0.offset)) != 0 }
        let state: String
        if tripped { state = "tripped" } else if permissiveOn { state = "armed" } else if anyStarting {
            state = "starting"
            why.append("waiting for every rule's first healthy input")
        } else {
            state = "waiting_for_reset"
            why.append("restart prevention: the permissive comes on after a local reset (`vigil interlock reset` or the reset button)")
        }
        let stats = loop.statistics.read()
        let grant = loop.grant
        let loopStatus = LoopStatus(
            periodMicroseconds: p.realtime.periodMicroseconds, cycles: stats.cycles, overruns: stats.overruns,
            latenessP50Microseconds: Int(stats.latenessP50Microseconds), latenessP99Microseconds: Int(stats.latenessP99Microseconds),
            latenessMaxMicroseconds: Int(stats.latenessMaxMicroseconds), executionP99Microseconds: Int(stats.executionP99Microseconds),
            scheduler: grant?.fifoPriority.map { "SCHED_FIFO \($0)" } ?? "SCHED_OTHER", memoryLocked: grant?.memoryLocked ?? false,
            refusals: grant?.refusals ?? [])
        let events = uplink.recentEvents.withLock { Array($0.suffix(20)) }
        return StatusReport(
            board: p.board.name, node: p.asset.node, profile: loaded.path, profileSHA256: loaded.sha256.hexString, pid: getpid(),
            uptimeSeconds: Double(now.monotonic.nanoseconds(since: start.monotonic)) / 1e9, clockSync: ClockSync.current().name,
            interlock: InterlockStatus(state: state, tripped: tripped, why: why, rules: rules, outputs: outputs, systemFaults: faultNames),
            channels: channelStatus, loop: loopStatus, uplink: uplink.status.withLock { $0 }, recentEvents: events)
    }

    // MARK: spectrum

    func spectrum(_ name: String) -> String {
        let slots = cycle.spectra
        let names = slots.map { loaded.channels.channels[$0.read().channel].name }
        // `bearing.x`, `bearing.x.bands` or the sensor alone (`bearing`: its first axis).
        guard let i = names.firstIndex(where: { $0 == name || $0 == name + ".bands" || ($0.hasPrefix(name + ".") && !name.contains(".")) }) else {
            return fail(2, "no spectrum channel \(name); spectra: \(names.map { String($0.dropLast(6)) }.joined(separator: ", "))")
        }
        let s = slots[i].read()
        let now = ClockSync.timestamp().monotonic
        let zones = ["A", "B", "C", "D"]
        return ok(SpectrumReport(
            channel: names[i], quality: s.blocks == 0 ? "no_value" : s.quality.summary,
            ageMilliseconds: s.blocks == 0 ? nil : now.nanoseconds(since: s.time) / 1_000_000, bandsIn: s.orderBands ? "orders" : "Hz",
            bandStart: s.bandStart, bandWidth: s.bandWidth, bandRMSG: s.bandRMSG,
            peaks: s.peaks.map { PeakReport(frequencyHz: $0.frequencyHz, amplitudeG: $0.amplitudeG) },
            isoZone: s.zone < zones.count ? zones[s.zone] : "?", velocityRMS: s.velocityRMS, blocks: s.blocks))
    }

    // MARK: interlock

    func reset() -> String {
        let before = cycle.events.count
        _ = before
        cycle.resetRequest.store(true, ordering: .releasing)
        // The loop takes the request within a period or two.
        let period = UInt32(max(1000, loaded.profile.realtime.periodMicroseconds))
        for _ in 0..<50 {
            usleep(period)
            if !cycle.resetRequest.load(ordering: .acquiring) { break }
        }
        usleep(period * 2)
        let report = status()
        if report.interlock.state != "armed" {
            return ControlJSON.encode(ControlResponse(exit: 5, error: "reset refused: a trip condition is still present (\(report.interlock.why.joined(separator: "; ")))",
                                                      result: InterlockActionReport(action: "reset", done: false, detail: report.interlock.why.joined(separator: "; "))))
        }
        return ok(InterlockActionReport(action: "reset", done: true, detail: "interlock \(report.interlock.state)"))
    }

    /// The proof test: a synthetic excursion on one trip rule's channel, the output change timed,
    /// then the real value restored and the interlock reset.
    func proofTest(rule name: String, confirmed: Bool) -> String {
        let p = loaded.profile
        guard let ruleIndex = p.rules.firstIndex(where: { $0.name == name }) else {
            return fail(2, "no rule \(name); rules: \(p.rules.map(\.name).joined(separator: ", "))")
        }
        let rule = p.rules[ruleIndex]
        guard rule.action == .trip else { return fail(2, "rule \(name) warns; the proof test exercises trip rules") }
        guard confirmed else {
            return fail(5, "refused: the proof test trips \(rule.output ?? "the permissive") and stops the machine; run it with --confirm when a stop is acceptable")
        }
        if let shaft = loaded.channels.channels.first(where: { $0.quantity == .shaftSpeed }) {
            let s = cycle.latest.read(shaft.id - 1)
            if s.quality.isDisjoint(with: .unusable) && s.value >= 30 {
                return fail(5, "refused: the machine is turning (\(shaft.name) = \(Int(s.value)) rpm); stop it first, the proof test is for a machine at standstill")
            }
        }
        guard let channel = loaded.channels[rule.channel] else { return fail(1, "rule \(name) has no channel") }
        guard let outputIndex = p.outputs.firstIndex(where: { $0.name == (rule.output ?? "") }) ?? p.outputs.firstIndex(where: { $0.kind == .permissive }) else {
            return fail(1, "rule \(name) has no output")
        }
        guard !testRunning else { return fail(5, "a proof test is already running") }
        testRunning = true
        defer { testRunning = false }
        let bit = UInt64(1) << UInt64(outputIndex)
        let wasOn = cycle.outputLevels.load(ordering: .acquiring) & bit != 0
        // Beyond the limit by 10 % of the hysteresis band plus the limit's own size.
        let limit = rule.unit.convert(rule.limit, to: channel.unit) ?? rule.limit
        let excursion = rule.comparison == .above ? limit + max(abs(limit) * 0.2, channel.resolution * 10) : limit - max(abs(limit) * 0.2, channel.resolution * 10)
        let t0 = ClockSync.timestamp().monotonic
        cycle.testValueBits.store(excursion.bitPattern, ordering: .releasing)
        cycle.testChannel.store(channel.id - 1, ordering: .releasing)
        var tripMs: Double?
        let limitNs: Int64 = 5_000_000_000 + Int64(max(0, p.realtime.periodMicroseconds)) * 1000 * 100
        while ClockSync.timestamp().monotonic.nanoseconds(since: t0) < limitNs {
            if cycle.outputLevels.load(ordering: .acquiring) & bit == 0 && RuleStateCode(rawValue: cycle.ruleStates.read(ruleIndex)) == .active {
                tripMs = Double(ClockSync.timestamp().monotonic.nanoseconds(since: t0)) / 1e6
                break
            }
            usleep(100)
        }
        cycle.testChannel.store(-1, ordering: .releasing)
        guard let trip = tripMs else {
            return ControlJSON.encode(ControlResponse(exit: 1, error: "FAILED: \(p.outputs[outputIndex].name) did not drop within \(limitNs / 1_000_000) ms of the excursion on \(channel.name)",
                                                      result: InterlockActionReport(action: "test", done: false, detail: "no trip", output: p.outputs[outputIndex].name)))
        }
        // Restore: the sensor's next real value replaces the excursion (up to one update interval
        // plus a block), the rule's condition ends, and a local reset re-arms a healthy machine.
        var restored = false
        if wasOn {
            let wait = Int64(channel.updateIntervalMilliseconds + channel.maxAgeMilliseconds + 1000) * 1_000_000
            let t1 = ClockSync.timestamp().monotonic
            while ClockSync.timestamp().monotonic.nanoseconds(since: t1) < wait {
                if RuleStateCode(rawValue: cycle.ruleStates.read(ruleIndex)) == .latched { break }
                usleep(5000)
            }
            // A reset is refused while any condition holds the permissive off (the excursion's
            // value until the sensor's next update, a deadline burst on a loaded node): ask again
            // every 10 periods for up to 3 s.
            let t2 = ClockSync.timestamp().monotonic
            while ClockSync.timestamp().monotonic.nanoseconds(since: t2) < 3_000_000_000 {
                cycle.resetRequest.store(true, ordering: .releasing)
                usleep(UInt32(max(1000, p.realtime.periodMicroseconds)) * 10)
                if cycle.outputLevels.load(ordering: .acquiring) & bit != 0 { restored = true; break }
            }
        }
        return ok(InterlockActionReport(action: "test", done: true,
                                        detail: "excursion \(excursion) \(channel.unit.rawValue) on \(channel.name) tripped \(p.outputs[outputIndex].name) in \(trip) ms",
                                        tripMilliseconds: trip, output: p.outputs[outputIndex].name, restored: wasOn ? restored : nil))
    }

    // MARK: gpio

    func gpioInfo() -> [GPIOLineReport] {
        var rows: [GPIOLineReport] = []
        for (name, chip) in gpio.chips {
            guard let infos = try? chip.allLineInfo() else { continue }
            for i in infos {
                let ref = "\(name):\(i.name)"
                rows.append(GPIOLineReport(chip: name, offset: i.offset, name: i.name, consumer: i.consumer, direction: i.direction.rawValue,
                                           activeLow: i.activeLow, bias: "\(i.bias)", value: gpio.ownedLevel(ref), ownedByAgent: ownedLines.contains(ref)))
            }
        }
        return rows
    }

    private func find(_ line: String) -> (chip: String, name: String, any GPIOChip, Int)? {
        let parts = line.split(separator: ":", maxSplits: 1).map(String.init)
        for (name, chip) in gpio.chips {
            if parts.count == 2 && parts[0] != name { continue }
            let wanted = parts.count == 2 ? parts[1] : line
            if let o = try? chip.offset(ofLineNamed: wanted) { return (name, wanted, chip, o) }
        }
        return nil
    }

    func gpioGet(_ line: String) -> String {
        guard let (chipName, name, chip, offset) = find(line) else { return fail(2, "no GPIO line \(line) on the agent's chips (\(gpio.chips.map(\.name).joined(separator: ", ")))") }
        let ref = "\(chipName):\(name)"
        if let v = gpio.ownedLevel(ref) { return ok(["line": ref, "value": String(v), "owner": ownedLines.contains(ref) ? "vigil" : "free"]) }
        do {
            let input = try chip.requestInput(offset: offset, consumer: "vigil-cli", settings: InputLineSettings())
            let v = try input.read()
            return ok(["line": ref, "value": v ? "1" : "0", "owner": "free"])
        } catch {
            return fail(error.kind == .busy ? 5 : 1, "gpio get \(ref): \(error)")
        }
    }

    func gpioSet(_ line: String, _ value: Int) -> String {
        guard value == 0 || value == 1 else { return fail(2, "gpio set needs a value of 0 or 1") }
        guard let (chipName, name, chip, offset) = find(line) else { return fail(2, "no GPIO line \(line) on the agent's chips") }
        let ref = "\(chipName):\(name)"
        if ownedLines.contains(ref) {
            return fail(5, "refused: \(ref) is held by the running agent (interlock output, sensor input or RS-485 direction); stop the agent to drive it by hand")
        }
        do {
            let out: any DigitalOutput
            if let held = heldLines[ref] { out = held } else {
                out = try chip.requestOutput(offset: offset, consumer: "vigil-cli", settings: OutputLineSettings(initialValue: value == 1))
                heldLines[ref] = out
            }
            try out.write(value == 1)
            return ok(["line": ref, "value": String(value), "held": "until the agent stops"])
        } catch {
            return fail(error.kind == .busy ? 5 : 1, "gpio set \(ref): \(error)")
        }
    }
}
