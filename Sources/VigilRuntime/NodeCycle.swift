import CVigilSys
import Synchronization
import VigilBase
import VigilDrivers
import VigilFrames
import VigilHAL
import VigilInterlock
import VigilLoop

/// A channel value as the loop hands it to the uplink and status readers.
public struct ChannelUpdate: Sendable, Equatable, BitwiseCopyable {
    /// Index into the channel catalog (id − 1).
    public var channel: UInt16
    public var sample: ChannelSample
    public var wallClock: WallClockTime

    public init(channel: UInt16, sample: ChannelSample, wallClock: WallClockTime) {
        self.channel = channel
        self.sample = sample
        self.wallClock = wallClock
    }
}

/// The work of one loop period on a node, in order: read due sensors, run due analyses, take the
/// Modbus pollers' latest values, evaluate the interlock, drive its outputs, pet the watchdog,
/// and hand channel updates and events to the uplink through bounded rings.
///
/// Everything is allocated in `init`; `cycle` allocates nothing, takes no lock of its own and
/// never waits on the network (the rings refuse when full and count the refusal). Generic over
/// the board: the agent specialises it for each board it can run (see `VigilAgent.NodeLoopBody`),
/// so the body calls drivers without runtime generic lookups.
public final class NodeCycle<Board: NodeBoard>: LoopBody {
    let channelCount: Int
    var samples: [ChannelSample]
    let rangeMin: [Double]
    let rangeMax: [Double]
    /// Every sensor, in phase order (see ``SensorSlot``).
    let slots: [SensorSlot<Board>]
    var interlock: Interlock
    let outputs: [OutputSlot<Board.Chip>]
    let reset: ResetPolicy<Board.Chip.Input>
    let interlockStateChannel: Int
    /// `loop.lateness_p99_us` and `loop.overruns`: filled from the loop's figures each cycle.
    let loopChannels: (lateness: Int, overruns: Int)?
    private(set) var watchdog: HardwareWatchdog?
    /// A keep-alive failed: a system fault in the next evaluation.
    var watchdogFailed = false
    /// An output could not be driven, or its feedback disagreed too long: a system fault in the
    /// next evaluation (the interlock latches it).
    var outputFaultPresent = false
    /// What the loop shares with its supervisor.
    public let watch: CycleWatch
    var stallsSeen = 0
    let board: Board
    var clockSync: ClockSyncState = .unknown
    var nextClockCheck: MonotonicInstant = .zero
    let snapshotIntervalNanoseconds: Int64
    var nextSnapshot: MonotonicInstant = .zero
    /// Bus errors within the burst window, for the interlock's bus-error fault.
    var busErrorTimes: [Int64]
    var busErrorCursor = 0
    let busErrorWindow: Int64
    /// The last control-socket reset request the loop took (see ``requestReset(uid:pid:)``).
    var socketResetTaken: UInt64 = 0
    /// Control-socket reset requests, numbered, with the caller (the socket's thread writes, the
    /// loop reads).
    let socketReset = Mailbox(SocketResetRequest(number: 0, uid: 0, pid: 0))
    private let socketResetNumbering = Mutex<UInt64>(0)
    /// The last socket reset request the loop handled and its ``ResetOutcome``: `request << 8 | outcome`.
    let resetAnswer = Atomic<UInt64>(0)
    /// The proof test's synthetic excursion: while ≥ 0, this channel reads `testValueBits` (a
    /// Double's bit pattern) with good quality, in place of its sensor, before the interlock.
    public let testChannel = Atomic<Int>(-1)
    public let testValueBits = Atomic<UInt64>(0)
    /// Channel updates for the uplink and status (every channel once per snapshot interval).
    public let updates: SPSCRing<ChannelUpdate>
    /// Interlock events, in order.
    public let events: SPSCRing<InterlockEvent>
    /// The newest sample of every channel, for status readers, indexed by channel.
    public let latest: MailboxTable<ChannelSample>
    /// Each rule's state after the last cycle, as ``RuleStateCode`` raw values (for status readers).
    public let ruleStates: MailboxTable<UInt8>
    /// How each rule saw its input in the last cycle, as ``InputClass`` raw values.
    public let ruleInputs: MailboxTable<UInt8>
    /// The interlock's system faults after the last cycle (``SystemFault`` bits).
    public let systemFaultBits = Atomic<UInt8>(0)
    /// Whether a cleared system fault still holds the permissives off until a reset.
    public let systemFaultLatched = Atomic<Bool>(false)
    /// Output levels after the last cycle, bit i = output i.
    public let outputLevels = Atomic<UInt64>(0)
    /// Cycles run.
    public internal(set) var cycles: Int64 = 0
    /// Output writes that failed, feedback disagreements past their bound, and failed watchdog
    /// keep-alives, since start (status readers).
    public let outputWriteErrors = Atomic<Int>(0)
    public let feedbackFaults = Atomic<Int>(0)
    public let watchdogErrors = Atomic<Int>(0)

    init(board: Board, channelCount: Int, rangeMin: [Double], rangeMax: [Double], slots: [SensorSlot<Board>],
         interlock: Interlock, outputs: [OutputSlot<Board.Chip>], reset: ResetPolicy<Board.Chip.Input>,
         interlockStateChannel: Int, loopChannels: (lateness: Int, overruns: Int)? = nil, watchdog: HardwareWatchdog?, watch: CycleWatch,
         snapshotIntervalNanoseconds: Int64, busErrorBurst: Int, busErrorWindowNanoseconds: Int64) {
        self.board = board
        self.channelCount = channelCount
        samples = Array(repeating: .missing, count: channelCount)
        self.rangeMin = rangeMin
        self.rangeMax = rangeMax
        self.slots = slots.enumerated().sorted { ($0.element.phase, $0.offset) < ($1.element.phase, $1.offset) }.map(\.element)
        self.interlock = interlock
        self.outputs = outputs
        self.reset = reset
        self.interlockStateChannel = interlockStateChannel
        self.loopChannels = loopChannels
        self.watchdog = watchdog
        self.watch = watch
        self.snapshotIntervalNanoseconds = snapshotIntervalNanoseconds
        busErrorTimes = Array(repeating: .min, count: max(1, busErrorBurst))
        busErrorWindow = busErrorWindowNanoseconds
        updates = SPSCRing(capacity: 64 * channelCount, filler: ChannelUpdate(channel: 0, sample: .missing, wallClock: .epoch))
        events = SPSCRing(capacity: 1024, filler: InterlockEvent(kind: .armed, time: .zero, rule: 0, channel: 0, value: 0, limit: 0, reason: 0))
        latest = MailboxTable(count: channelCount, initial: .missing)
        ruleStates = MailboxTable(count: interlock.rules.count, initial: RuleStateCode.starting.rawValue)
        ruleInputs = MailboxTable(count: interlock.rules.count, initial: InputClass.fault.rawValue)
        slotHealth = MailboxTable(count: slots.count, initial: SlotHealth(running: true, error: nil))
    }

    /// The current value of a channel as the loop sees it (loop thread or tests stepping it).
    public func sample(_ channel: Int) -> ChannelSample { samples[channel] }
    public var interlockStates: [RuleState] { interlock.states }
    /// The interlock's rules, channels as catalog indices and limits in channel units.
    public var rules: [InterlockRule] { interlock.rules }
    /// The latest spectrum of every analysed accelerometer axis.
    public var spectra: [SpectrumSlot] {
        slots.flatMap { slot -> [SpectrumSlot] in
            if case .accelerometer(let a) = slot { return a.spectra }
            return []
        }
    }
    public var isTripped: Bool { interlock.isTripped }

    /// Asks the loop for a local reset from the control socket (`uid` and `pid`: the caller, as
    /// the socket's peer credentials tell them); returns the request's number, which
    /// ``resetOutcome(of:)`` answers once the loop has handled it (within a period or two).
    @discardableResult
    public func requestReset(uid: UInt32 = 0, pid: Int32 = 0) -> UInt64 {
        socketResetNumbering.withLock { number in
            number += 1
            socketReset.publish(SocketResetRequest(number: number, uid: uid, pid: pid))
            return number
        }
    }

    /// What the loop did with reset request `request` (or a later one), nil until it has handled it.
    public func resetOutcome(of request: UInt64) -> ResetOutcome? {
        let answer = resetAnswer.load(ordering: .acquiring)
        guard answer >> 8 >= request else { return nil }
        return ResetOutcome(rawValue: UInt8(truncatingIfNeeded: answer))
    }

    /// The summary of the interlock's state as status readers see it (from what the loop published).
    public func publishedSummary() -> InterlockSummary {
        let rules = interlock.rules
        let codes = (0..<rules.count).map { RuleStateCode(rawValue: ruleStates.read($0)) ?? .starting }
        let inputs = (0..<rules.count).map { InputClass(rawValue: ruleInputs.read($0)) ?? .fault }
        return InterlockSummary(rules: rules, codes: codes, inputs: inputs, systemFaults: SystemFault(rawValue: systemFaultBits.load(ordering: .acquiring)),
                                systemFaultLatched: systemFaultLatched.load(ordering: .acquiring))
    }

    /// Starts every sensor (part-ID checks, configuration). A sensor that fails does not stop the
    /// others: its channels read as faults (its rules act by their `on_fault`), and the cycle
    /// retries it with back-off. Returns one error per sensor that failed, naming it.
    @discardableResult
    public func startSensors() -> [NodeError] {
        var failures: [NodeError] = []
        for slot in slots {
            let error: HALError?
            switch slot {
            case .accelerometer(let a): error = a.start()
            case .thermometer(let t): error = t.start()
            case .currentLoop(let c): error = c.start()
            case .digitalInput, .tachometer, .modbus, .hwmon: error = nil
            }
            if let error { failures.append(NodeError.sensor(name: slot.name, error)) }
        }
        return failures
    }

    /// The sensors that are not running now (failed to start or lost), with their last error, as
    /// the loop last published them (once per snapshot interval).
    public func sensorsDown() -> [(name: String, error: HALError?)] {
        (0..<slots.count).compactMap { i in
            let h = slotHealth.read(i)
            return h.running ? nil : (slots[i].name, h.error)
        }
    }

    /// Per slot: whether an I2C sensor is running, and its last error.
    let slotHealth: MailboxTable<SlotHealth>

    public func cycle(_ timing: CycleTiming) {
        let now = timing.wake
        let stallMs = watch.stallRequestMilliseconds.exchange(0, ordering: .acquiringAndReleasing)
        if stallMs > 0 {
            // The supervisor's proof test (and its test hook): this cycle hangs, as one blocked
            // in an I2C transfer would.
            _ = vigil_sleep_until_monotonic_ns(vigil_monotonic_ns() + Int64(stallMs) * 1_000_000)
        }
        if now >= nextClockCheck {
            clockSync = board.clockSyncState()
            nextClockCheck = now.advanced(byNanoseconds: 1_000_000_000)
        }
        let clockQuality: Quality = clockSync == .synchronized ? [] : .clockUnsynced
        let stamp = Timestamp(monotonic: now, wallClock: board.wallClock(), clockSync: clockSync)
        var busErrors = 0

        samples.withUnsafeMutableBufferPointer { s in
            for slot in slots {
                switch slot {
                case .digitalInput(let d): d.sample(at: stamp, into: s, busErrors: &busErrors)
                case .tachometer(let t): t.sample(at: stamp, into: s, busErrors: &busErrors)
                case .accelerometer(let a): a.sample(at: now, clockQuality: clockQuality, into: s, busErrors: &busErrors)
                case .thermometer(let t): t.sample(at: now, clockQuality: clockQuality, into: s, busErrors: &busErrors)
                case .currentLoop(let c): c.sample(at: now, clockQuality: clockQuality, into: s, busErrors: &busErrors)
                case .hwmon(let h): h.sample(into: s)
                case .modbus(let m): m.sample(into: s)
                }
            }
            let injected = testChannel.load(ordering: .acquiring)
            if injected >= 0 && injected < channelCount {
                s[injected] = ChannelSample(value: Double(bitPattern: testValueBits.load(ordering: .acquiring)), quality: [], time: now)
            }
            // A value outside its channel's physical range is a fault, not a measurement.
            for c in 0..<channelCount where !s[c].value.isNaN && (s[c].value < rangeMin[c] || s[c].value > rangeMax[c]) {
                s[c].quality.insert(.outOfRange)
            }
        }

        for _ in 0..<busErrors { noteBusError(at: now.nanoseconds) }
        var systemFaults: SystemFault = []
        if timing.deadlineBurst { systemFaults.insert(.deadlineBurst) }
        if busErrorBurst(at: now.nanoseconds) { systemFaults.insert(.busErrorBurst) }
        if watchdogFailed { systemFaults.insert(.watchdog) }
        if outputFaultPresent { systemFaults.insert(.outputFault) }
        let stalls = watch.stalls.load(ordering: .acquiring)
        if stalls != stallsSeen {
            stallsSeen = stalls
            systemFaults.insert(.loopStall)
        }

        // A local reset: the button's release after a press of the right length, or the control
        // socket, each only if the profile allows it.
        var request: ResetRequest?
        let refusedSocket = takeSocketReset(into: &request)
        if request == nil, reset.button(at: stamp) { request = .button }

        // The samples were taken through the cycle (Modbus mailboxes last): judge their age at
        // the time of the decision, so none is newer than "now".
        let decisionTime = max(now, board.monotonicNow())
        samples.withUnsafeBufferPointer { s in
            interlock.evaluate(samples: s, now: decisionTime, clockSynchronised: clockSync == .synchronized, systemFaults: systemFaults, reset: request)
        }
        if request?.source == .socket, let outcome = interlock.resetOutcome {
            resetAnswer.store(socketResetTaken << 8 | UInt64(outcome.rawValue), ordering: .releasing)
        }
        driveOutputs(at: now)
        ruleStates.publish { RuleStateCode(interlock.states[$0]).rawValue }
        ruleInputs.publish { interlock.inputs[$0].rawValue }
        systemFaultBits.store(interlock.systemFaults.rawValue, ordering: .releasing)
        systemFaultLatched.store(interlock.systemFaultLatched, ordering: .releasing)
        samples[interlockStateChannel] = ChannelSample(value: interlock.isTripped ? 1 : 0, quality: [], time: now)
        if let c = loopChannels, let f = timing.figures {
            samples[c.lateness] = ChannelSample(value: Double(f.latenessP99Microseconds), quality: [], time: now)
            samples[c.overruns] = ChannelSample(value: Double(f.overruns), quality: [], time: now)
        }
        if let refusedSocket { events.push(refusedSocket) }
        for e in interlock.events { events.push(e) }

        if !timing.isWarmUp && timing.previousMetDeadline, let watchdog {
            do {
                try watchdog.keepAlive()
                watchdogFailed = false
            } catch {
                watchdogFailed = true
                watchdogErrors.add(1, ordering: .relaxed)
            }
        }

        samples.withUnsafeBufferPointer { latest.publish($0) }
        if now >= nextSnapshot {
            nextSnapshot = now.advanced(byNanoseconds: snapshotIntervalNanoseconds)
            for c in 0..<channelCount {
                updates.push(ChannelUpdate(channel: UInt16(c), sample: samples[c], wallClock: stamp.wallClock))
            }
            slotHealth.publish { i in
                switch slots[i] {
                case .accelerometer(let a): return SlotHealth(running: a.retry.isRunning, error: a.retry.lastError)
                case .thermometer(let t): return SlotHealth(running: t.retry.isRunning, error: t.retry.lastError)
                case .currentLoop(let c): return SlotHealth(running: c.retry.isRunning, error: c.retry.lastError)
                case .digitalInput, .tachometer, .modbus, .hwmon: return SlotHealth(running: true, error: nil)
                }
            }
        }
        cycles += 1
        // A cycle completed: the supervisor's clock restarts (warm-up cycles are not supervised).
        if !timing.isWarmUp { watch.lastCycleEnd.store(max(1, vigil_monotonic_ns()), ordering: .releasing) }
    }

    /// Takes a new control-socket reset request: into `request` when the profile lets the socket
    /// reset, or answered as not allowed (returned as its event) when it does not.
    private func takeSocketReset(into request: inout ResetRequest?) -> InterlockEvent? {
        guard let asked = socketReset.read(attempts: 16), asked.number != socketResetTaken else { return nil }
        socketResetTaken = asked.number
        guard reset.allowsSocket else {
            resetAnswer.store(asked.number << 8 | UInt64(ResetOutcome.sourceNotAllowed.rawValue), ordering: .releasing)
            return InterlockEvent(kind: .resetRefused, time: board.monotonicNow(), rule: -1, channel: -1, value: Double(asked.uid),
                                  limit: Double(asked.pid), reason: ResetSource.socket.code)
        }
        request = ResetRequest(source: .socket, uid: asked.uid, pid: asked.pid)
        return nil
    }

    /// Drives each output to the interlock's level (or safe, once a stop or a stall forces it),
    /// checks its feedback, and publishes the levels. A failed write or a feedback disagreement
    /// past its bound is an output fault in the next evaluation.
    private func driveOutputs(at now: MonotonicInstant) {
        var levels: UInt64 = 0
        var fault = false
        let forced = watch.forcedSafe.load(ordering: .acquiring)
        let stallsBefore = watch.stalls.load(ordering: .acquiring)
        for i in outputs.indices {
            let on = interlock.outputs[i] && !forced
            if on { levels |= 1 << UInt64(i) }
            if !outputs[i].drive(on, at: now) {
                fault = true
                outputWriteErrors.add(1, ordering: .relaxed)
            }
            if outputs[i].feedbackDisagrees(at: now) {
                fault = true
                feedbackFaults.add(1, ordering: .relaxed)
            }
        }
        // The supervisor acted while these writes went out (this cycle was the stalled one): its
        // safe state stands until the loop has seen the stall.
        if watch.stalls.load(ordering: .acquiring) != stallsBefore || watch.forcedSafe.load(ordering: .acquiring) != forced {
            for o in outputs { _ = o.drive(false, at: now) }
            levels = 0
        }
        outputFaultPresent = fault
        outputLevels.store(levels, ordering: .releasing)
    }

    func noteBusError(at t: Int64) {
        busErrorTimes[busErrorCursor] = t
        busErrorCursor = (busErrorCursor + 1) % busErrorTimes.count
    }

    func busErrorBurst(at t: Int64) -> Bool {
        let oldest = busErrorTimes[busErrorCursor]
        return oldest != .min && t - oldest <= busErrorWindow
    }

    /// Drives every output to its safe (de-energized) level from the calling thread and holds it
    /// there: the stop path (the loop, if it still runs, writes the safe level too from now on).
    public func driveSafeState() {
        watch.forcedSafe.store(true, ordering: .releasing)
        let now = board.monotonicNow()
        for o in outputs where !o.drive(false, at: now) { outputWriteErrors.add(1, ordering: .relaxed) }
        outputLevels.store(0, ordering: .releasing)
    }

    /// Hands the cycle the hardware watchdog to pet (before the loop starts: the agent opens the
    /// device only once the node is assembled, so a start-up that fails does not reboot the board).
    public func attach(watchdog: HardwareWatchdog) {
        self.watchdog = watchdog
    }

    /// The output lines, for the supervisor.
    public var outputLines: [Board.Chip.Output] { outputs.map { $0.line } }

    /// The level output `index` really has: its feedback contact if it has one, else the line read
    /// back from the chip (the proof test judges by this, not by what was commanded).
    public func readBack(output index: Int) throws(HALError) -> Bool {
        try outputs[index].readBack()
    }
}

/// An I2C sensor's state as the loop publishes it.
struct SlotHealth: BitwiseCopyable {
    var running: Bool
    var error: HALError?
}

/// A control-socket reset request as the socket's thread hands it to the loop.
struct SocketResetRequest: BitwiseCopyable {
    var number: UInt64
    var uid: UInt32
    var pid: Int32
}
