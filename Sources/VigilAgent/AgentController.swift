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
    let supervisor: LoopSupervisor<Board.Chip.Output>
    let statistics: Mailbox<LoopStatistics>
    let grant: () -> RealtimeGrant?
    let uplink: UplinkWorker
    let start: Timestamp
    /// `chip:line` of every line the interlock and the sensors hold.
    let ownedLines: Set<String>
    /// Who may read and who may act; the system's groups as they were at start.
    var access = ControlAccess.system()
    /// Lines set by `vigil gpio set` through the agent, held until it exits (as gpioset does),
    /// with the level last set.
    private var heldLines: [String: (line: Board.Chip.Output, level: Int)] = [:]
    private var testRunning = false

    init(board: Board, cycle: NodeCycle<Board>, supervisor: LoopSupervisor<Board.Chip.Output>, statistics: Mailbox<LoopStatistics>,
         grant: @escaping () -> RealtimeGrant?, uplink: UplinkWorker, start: Timestamp) {
        self.board = board
        loaded = board.loaded
        self.cycle = cycle
        self.supervisor = supervisor
        self.statistics = statistics
        self.grant = grant
        self.uplink = uplink
        self.start = start
        var owned = Set<String>()
        let p = loaded.profile
        for o in p.outputs {
            owned.insert(o.line.description)
            if let f = o.feedback { owned.insert(f.description) }
        }
        if let r = p.reset.line { owned.insert(r.description) }
        for s in p.sensors {
            switch s.kind {
            case .digitalInput(let d): owned.insert(d.line.description)
            case .tachometer(let t): owned.insert(t.line.description)
            case .accelerometer, .temperature, .currentLoop, .hwmon, .modbus: break
            }
        }
        for port in p.serialPorts { if let de = port.driverEnable { owned.insert(de.description) } }
        ownedLines = owned
    }

    func handle(_ line: String, from peer: PeerCredentials = .current) -> String {
        guard let request = try? ControlJSON.decode(ControlRequest.self, line) else {
            return fail(2, "malformed request: expected one JSON object with a \"command\" key")
        }
        let need = ControlAccess.need(request.command)
        let refusal = access.refusal(need, peer)
        if need == .act || refusal != nil {
            // Every action is on record with who asked, allowed or not.
            let what = "control: uid \(peer.uid) pid \(peer.pid): \(request.command)\(request.rule.map { " rule \($0)" } ?? "")\(request.line.map { " line \($0)" } ?? "")"
            if let refusal {
                Log.warning("\(what) refused: \(refusal)")
                return fail(4, refusal)
            }
            Log.notice(what)
        }
        switch request.command {
        case "ping": return ok(["pong": "vigil \(AgentVersion.string)"])
        case "status": return ok(status())
        case "spectrum": return spectrum(request.channel ?? "")
        case "interlock-reset": return reset(from: peer)
        case "interlock-test": return proofTest(rule: request.rule ?? "", confirmed: request.confirm ?? false)
        case "interlock-test-supervisor": return supervisorTest(confirmed: request.confirm ?? false, hangMilliseconds: request.value)
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
                                               quality: s.time == .zero ? "no_value" : s.quality.summary, ageMilliseconds: age,
                                               display: c.display(s.time == .zero ? nil : s.value), resolution: c.resolution))
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
            statusFormat: 2, board: p.board.name, node: p.asset.node, profile: loaded.path, profileSHA256: loaded.sha256.hexString, pid: getpid(),
            uptimeSeconds: Double(now.monotonic.nanoseconds(since: start.monotonic)) / 1e9, clockSync: board.clockSyncState().name,
            interlock: InterlockStatus(state: summary.state.rawValue, tripped: summary.tripped, why: summary.reasons.map(describe), rules: rules,
                                       outputs: outputs, systemFaults: faults.names),
            channels: channelStatus, loop: loopStatus, safety: safetyStatus(), uplink: uplink.status.withLock { $0 }, recentEvents: events)
    }

    func safetyStatus() -> SafetyStatus {
        let p = loaded.profile
        let stalls = cycle.watch.stalls.load(ordering: .acquiring)
        return SafetyStatus(
            watchdog: p.watchdog.device, watchdogErrors: cycle.watchdogErrors.load(ordering: .relaxed),
            maxStallMilliseconds: p.realtime.maxStallMilliseconds, stalls: stalls,
            lastStallReactionMilliseconds: stalls > 0 ? Double(supervisor.lastStallReactionNanoseconds.load(ordering: .relaxed)) / 1e6 : nil,
            outputWriteErrors: cycle.outputWriteErrors.load(ordering: .relaxed) + supervisor.writeErrors.load(ordering: .relaxed),
            feedbackFaults: cycle.feedbackFaults.load(ordering: .relaxed), resetSources: p.reset.sources.map(\.rawValue),
            sensorsDown: cycle.sensorsDown().map { SensorDown(name: $0.name, error: $0.error.map { "\($0)" } ?? "not started") })
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
                return "restart prevention: the permissive comes on after a local reset (\(ResetWording.how(loaded.profile.reset)))"
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

    func reset(from peer: PeerCredentials) -> String {
        let request = cycle.requestReset(uid: peer.uid, pid: peer.pid)
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
        case .sourceNotAllowed?:
            let sources = loaded.profile.reset.sources.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
            let detail = "this profile lets only the reset button reset the interlock ([reset] sources = [\(sources)]); press it at the machine"
            return ControlJSON.encode(ControlResponse(exit: 5, error: "reset refused: \(detail)",
                                                      result: InterlockActionReport(action: "reset", done: false, detail: detail)))
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
        case .failed(let within, let commandedOff):
            let channel = loaded.profile.rules.first { $0.name == name }?.channel ?? "?"
            let what = commandedOff ? "was commanded off but its line still reads on" : "did not drop"
            return ControlJSON.encode(ControlResponse(exit: 1, error: "FAILED: \(output ?? "the output") \(what) within \(within) ms of the excursion on \(channel)",
                                                      result: InterlockActionReport(action: "test", done: false, detail: commandedOff ? "line still on" : "no trip", output: output)))
        case .passed(let trip, let excursion, let released):
            let rule = loaded.profile.rules.first { $0.name == name }
            let channel = rule.flatMap { loaded.channels[$0.channel] }
            let after = released == nil ? "" : released == true
                ? "; the rule is latched: the permissive stays off until a local reset"
                : "; the channel is not yet back within its release level, so a reset would be refused"
            return ok(InterlockActionReport(action: "test", done: true,
                                            detail: "excursion \(excursion) \(channel?.unit.rawValue ?? "") on \(channel?.name ?? "?") tripped \(output ?? "?") in \(trip) ms (read back from the line)\(after)",
                                            tripMilliseconds: trip, output: output, released: released))
        }
    }

    /// The supervisor's proof test: the loop is made to hang for longer than `max_stall_ms`; the
    /// supervisor must drop every output (read back from the lines) while it hangs.
    func supervisorTest(confirmed: Bool, hangMilliseconds: Int?) -> String {
        let bound = loaded.profile.realtime.maxStallMilliseconds
        let stallMs = min(60_000, max(2 * bound + 100, hangMilliseconds ?? 0))
        guard confirmed else {
            return fail(5, "refused: the supervisor test stalls the loop for \(stallMs) ms, which drops every output and stops the machine; run it with --confirm when a stop is acceptable")
        }
        guard !testRunning else { return fail(5, "a proof test is already running") }
        testRunning = true
        defer { testRunning = false }
        let before = cycle.watch.stalls.load(ordering: .acquiring)
        let t0 = SystemClock.monotonic()
        cycle.watch.stallRequestMilliseconds.store(stallMs, ordering: .releasing)
        var acted = false
        while SystemClock.monotonic().nanoseconds(since: t0) < Int64(stallMs) * 1_000_000 {
            if cycle.watch.stalls.load(ordering: .acquiring) != before { acted = true; break }
            usleep(200)
        }
        let reaction = Double(supervisor.lastStallReactionNanoseconds.load(ordering: .relaxed)) / 1e6
        // While the loop still hangs, every line must read back off.
        let stillOn = loaded.profile.outputs.indices.filter { (try? cycle.readBack(output: $0)) != false }.map { loaded.profile.outputs[$0].name }
        guard acted else {
            return ControlJSON.encode(ControlResponse(exit: 1, error: "FAILED: the loop hung for \(stallMs) ms and the supervisor did not act (bound \(bound) ms)",
                                                      result: InterlockActionReport(action: "test-supervisor", done: false, detail: "no reaction")))
        }
        guard stillOn.isEmpty else {
            return ControlJSON.encode(ControlResponse(exit: 1, error: "FAILED: the supervisor acted but \(stillOn.joined(separator: ", ")) still read(s) on",
                                                      result: InterlockActionReport(action: "test-supervisor", done: false, detail: "outputs still on")))
        }
        // Once the loop runs again it must see the stall and latch it.
        var latched = false
        while SystemClock.monotonic().nanoseconds(since: t0) < Int64(stallMs + 3000) * 1_000_000 {
            if SystemFault(rawValue: cycle.systemFaultBits.load(ordering: .acquiring)).contains(.loopStall) || cycle.systemFaultLatched.load(ordering: .acquiring) {
                latched = true
                break
            }
            usleep(1000)
        }
        guard latched else {
            return ControlJSON.encode(ControlResponse(exit: 1, error: "FAILED: the supervisor acted, but the loop did not latch the stall once it ran again",
                                                      result: InterlockActionReport(action: "test-supervisor", done: false, detail: "stall not latched")))
        }
        return ok(InterlockActionReport(action: "test-supervisor", done: true,
                                        detail: "the loop hung; the supervisor drove every output off \(reaction) ms after its last cycle (max_stall_ms = \(bound)); the loop_stall fault holds the permissive off until a local reset",
                                        tripMilliseconds: reaction))
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

/// How a technician resets this profile's interlock, in words.
enum ResetWording {
    static func how(_ reset: ResetSpec) -> String {
        var ways: [String] = []
        if reset.allows(.button) { ways.append("the reset button: press and release within \(reset.minimumPressMilliseconds)–\(reset.maximumPressMilliseconds) ms") }
        if reset.allows(.socket) { ways.append("`vigil interlock reset`") }
        return ways.joined(separator: " or ")
    }
}
