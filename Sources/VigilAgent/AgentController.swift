#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Synchronization
import VigilBase
import VigilBoard
import VigilDSP
import VigilFrames
import VigilHAL
import VigilInterlock
import VigilLoop
import VigilRuntime

/// Answers control-socket requests from the running node's shared state (mailboxes, atomics,
/// slots): it never takes a lock the loop could wait on.
final class AgentController<Board: NodeBoard>: @unchecked Sendable {
    let board: Board
    let loaded: LoadedProfile
    let cycle: NodeCycle<Board>
    let statistics: Mailbox<LoopStatistics>
    let grant: () -> RealtimeGrant?
    let uplink: UplinkWorker
    let start: Timestamp
    /// `chip:line` of every line the interlock and the sensors hold.
    let ownedLines: Set<String>
    /// Lines set by `vigil gpio set` through the agent, held until it exits (as gpioset does),
    /// with the level last set.
    private var heldLines: [String: (line: Board.Chip.Output, level: Int)] = [:]
    private var testRunning = false

    init(board: Board, cycle: NodeCycle<Board>, statistics: Mailbox<LoopStatistics>, grant: @escaping () -> RealtimeGrant?,
         uplink: UplinkWorker, start: Timestamp) {
        self.board = board
        loaded = board.loaded
        self.cycle = cycle
        self.statistics = statistics
        self.grant = grant
        self.uplink = uplink
        self.start = start
        var owned = Set<String>()
        let p = loaded.profile
        for o in p.outputs { owned.insert(o.line.description) }
        if let r = p.reset { owned.insert(r.line.description) }
        for s in p.sensors {
            switch s.kind {
            case .digitalInput(let d): owned.insert(d.line.description)
            case .tachometer(let t): owned.insert(t.line.description)
            case .accelerometer, .temperature, .modbus: break
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
        let now = SystemClock.timestamp()
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
        for (i, r) in p.rules.enumerated() {
            let code = RuleStateCode(rawValue: cycle.ruleStates.read(i)) ?? .starting
            rules.append(RuleStatus(name: r.name, channel: r.channel, action: r.action.rawValue, comparison: r.comparison.rawValue, limit: r.limit,
                                    release: r.release, unit: r.unit.rawValue, state: code.name, value: value(of: r)))
        }
        let summary = cycle.publishedSummary()
        let faults = SystemFault(rawValue: cycle.systemFaultBits.load(ordering: .acquiring))
        let stats = statistics.read()
        let grant = grant()
        let loopStatus = LoopStatus(
            periodMicroseconds: p.realtime.periodMicroseconds, cycles: stats.cycles, overruns: stats.overruns,
            latenessP50Microseconds: Int(stats.latenessP50Microseconds), latenessP99Microseconds: Int(stats.latenessP99Microseconds),
            latenessMaxMicroseconds: Int(stats.latenessMaxMicroseconds), executionP99Microseconds: Int(stats.executionP99Microseconds),
            scheduler: grant?.fifoPriority.map { "SCHED_FIFO \($0)" } ?? "SCHED_OTHER", memoryLocked: grant?.memoryLocked ?? false,
            refusals: grant?.refusals ?? [])
        let events = uplink.recentEvents.withLock { Array($0.suffix(20)) }
        return StatusReport(
            board: p.board.name, node: p.asset.node, profile: loaded.path, profileSHA256: loaded.sha256.hexString, pid: getpid(),
            uptimeSeconds: Double(now.monotonic.nanoseconds(since: start.monotonic)) / 1e9, clockSync: board.clockSyncState().name,
            interlock: InterlockStatus(state: summary.state.rawValue, tripped: summary.tripped, why: summary.reasons.map(describe), rules: rules,
                                       outputs: outputs, systemFaults: faults.names),
            channels: channelStatus, loop: loopStatus, uplink: uplink.status.withLock { $0 }, recentEvents: events)
    }

    /// A rule's channel's current value.
    private func value(of r: RuleSpec) -> Double? {
        guard let c = loaded.channels[r.channel] else { return nil }
        let v = cycle.latest.read(c.id - 1).value
        return v.isFinite ? v : nil
    }

    /// One line of `why` for a technician: names, values and units from the profile.
    private func describe(_ reason: InterlockSummary.Reason) -> String {
        let rules = loaded.profile.rules
        guard let i = reason.rule, i < rules.count else {
            switch reason.cause {
            case .systemFault(let faults, let latched):
                return latched ? "system fault cleared; it holds the permissive off until a local reset" : "system fault: \(faults.names.joined(separator: ", "))"
            case .restartPrevention:
                return "restart prevention: the permissive comes on after a local reset (`vigil interlock reset` or the reset button)"
            case .waitingForFirstInput:
                return "waiting for every rule's first healthy input"
            case .conditionPresent, .latched, .notReleased, .faulted:
                return "\(reason.action.rawValue)"
            }
        }
        let r = rules[i]
        let v = value(of: r).map { "\(($0 * 1000).rounded() / 1000)" } ?? "no value"
        switch reason.cause {
        case .latched:
            return "\(r.name): latched trip (\(r.channel) now \(v) \(r.unit.rawValue), limit \(r.comparison.rawValue) \(r.limit)); needs a local reset"
        case .notReleased:
            return "\(r.name): latched trip, \(r.channel) = \(v) \(r.unit.rawValue) not yet back at its release level \(r.release); a reset is refused until it is"
        case .faulted(let why):
            return "\(r.name): \(r.channel) \(why.name) → \(reason.action.rawValue) by on_fault policy"
        case .conditionPresent, .systemFault, .restartPrevention, .waitingForFirstInput:
            return "\(r.name): \(r.channel) = \(v) \(r.unit.rawValue), \(r.comparison.rawValue) \(r.limit) → \(reason.action.rawValue)"
        }
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
        let now = SystemClock.monotonic()
        return ok(SpectrumReport(
            channel: names[i], quality: s.blocks == 0 ? "no_value" : s.quality.summary,
            ageMilliseconds: s.blocks == 0 ? nil : now.nanoseconds(since: s.time) / 1_000_000, bandsIn: s.orderBands ? "orders" : "Hz",
            bandStart: s.bandStart, bandWidth: s.bandWidth, bandRMSG: s.bandRMSG,
            peaks: s.peaks.map { PeakReport(frequencyHz: $0.frequencyHz, amplitudeG: $0.amplitudeG) },
            isoZone: ISOZone(rawValue: s.zone)?.letter ?? "?", velocityRMS: s.velocityRMS, blocks: s.blocks))
    }

    // MARK: interlock

    func reset() -> String {
        let request = cycle.requestReset()
        // The loop takes the request within a period or two and publishes what it did.
        let period = UInt32(max(1000, loaded.profile.realtime.periodMicroseconds))
        let t0 = SystemClock.monotonic()
        var outcome: ResetOutcome?
        while outcome == nil && SystemClock.monotonic().nanoseconds(since: t0) < 2_000_000_000 {
            usleep(period)
            outcome = cycle.resetOutcome(of: request)
        }
        let why = status().interlock.why.joined(separator: "; ")
        switch outcome {
        case .armed?:
            return ok(InterlockActionReport(action: "reset", done: true, detail: "interlock armed"))
        case .refused?:
            return ControlJSON.encode(ControlResponse(exit: 5, error: "reset refused: a trip condition is still present (\(why))",
                                                      result: InterlockActionReport(action: "reset", done: false, detail: why)))
        case .notArmed?:
            return ControlJSON.encode(ControlResponse(exit: 5, error: "reset taken, but the permissive is still off (\(why))",
                                                      result: InterlockActionReport(action: "reset", done: false, detail: why)))
        case nil:
            return ControlJSON.encode(ControlResponse(exit: 1, error: "the loop did not take the reset within 2 s (\(why))",
                                                      result: InterlockActionReport(action: "reset", done: false, detail: why)))
        }
    }

    /// The proof test (``ProofTest``), one at a time.
    func proofTest(rule name: String, confirmed: Bool) -> String {
        guard !testRunning else { return fail(5, "a proof test is already running") }
        testRunning = true
        defer { testRunning = false }
        let test = ProofTest(cycle: cycle, loaded: loaded)
        let output = test.output(of: name)?.name
        switch test.run(rule: name, confirmed: confirmed) {
        case .notRun(let status, let reason):
            return fail(status, reason)
        case .failed(let within):
            let channel = loaded.profile.rules.first { $0.name == name }?.channel ?? "?"
            return ControlJSON.encode(ControlResponse(exit: 1, error: "FAILED: \(output ?? "the output") did not drop within \(within) ms of the excursion on \(channel)",
                                                      result: InterlockActionReport(action: "test", done: false, detail: "no trip", output: output)))
        case .passed(let trip, let excursion, let restored):
            let rule = loaded.profile.rules.first { $0.name == name }
            let channel = rule.flatMap { loaded.channels[$0.channel] }
            return ok(InterlockActionReport(action: "test", done: true,
                                            detail: "excursion \(excursion) \(channel?.unit.rawValue ?? "") on \(channel?.name ?? "?") tripped \(output ?? "?") in \(trip) ms",
                                            tripMilliseconds: trip, output: output, restored: restored))
        }
    }

    // MARK: gpio

    /// A held line's level: outputs from the cycle's output levels, inputs from their channel,
    /// lines `gpio set` holds from the level set.
    func ownedLevel(_ ref: String) -> Int? {
        let profile = loaded.profile
        if let i = profile.outputs.firstIndex(where: { $0.line.description == ref }) {
            return cycle.outputLevels.load(ordering: .acquiring) & (1 << UInt64(i)) != 0 ? 1 : 0
        }
        for s in profile.sensors {
            if case .digitalInput(let d) = s.kind, d.line.description == ref, let c = loaded.channels["\(s.name).state"] {
                let v = cycle.latest.read(c.id - 1).value
                return v.isNaN ? nil : Int(v)
            }
        }
        return heldLines[ref]?.level
    }

    func gpioInfo() -> [GPIOLineReport] {
        var rows: [GPIOLineReport] = []
        for (name, chip) in board.openChips {
            guard let infos = try? chip.allLineInfo() else { continue }
            for i in infos {
                let ref = "\(name):\(i.name)"
                rows.append(GPIOLineReport(chip: name, info: i, value: ownedLevel(ref), ownedByAgent: ownedLines.contains(ref)))
            }
        }
        return rows
    }

    private func find(_ line: String) -> (chip: String, name: String, Board.Chip, Int)? {
        let parts = line.split(separator: ":", maxSplits: 1).map(String.init)
        for (name, chip) in board.openChips {
            if parts.count == 2 && parts[0] != name { continue }
            let wanted = parts.count == 2 ? parts[1] : line
            if let o = try? chip.offset(ofLineNamed: wanted) { return (name, wanted, chip, o) }
        }
        return nil
    }

    func gpioGet(_ line: String) -> String {
        guard let (chipName, name, chip, offset) = find(line) else { return fail(2, "no GPIO line \(line) on the agent's chips (\(board.openChips.map(\.name).joined(separator: ", ")))") }
        let ref = "\(chipName):\(name)"
        if let v = ownedLevel(ref) { return ok(["line": ref, "value": String(v), "owner": ownedLines.contains(ref) || heldLines[ref] != nil ? "vigil" : "free"]) }
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
            let out: Board.Chip.Output
            if let held = heldLines[ref]?.line { out = held } else {
                out = try chip.requestOutput(offset: offset, consumer: "vigil-cli", settings: OutputLineSettings(initialValue: value == 1))
            }
            try out.write(value == 1)
            heldLines[ref] = (out, value)
            return ok(["line": ref, "value": String(value), "held": "until the agent stops"])
        } catch {
            return fail(error.kind == .busy ? 5 : 1, "gpio set \(ref): \(error)")
        }
    }
}
