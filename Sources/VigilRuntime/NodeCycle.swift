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
    let outputs: [Board.Chip.Output]
    let resetInput: DebouncedInput<Board.Chip.Input>?
    var resetWasActive = false
    let interlockStateChannel: Int
    let watchdog: HardwareWatchdog?
    let board: Board
    var clockSync: ClockSyncState = .unknown
    var nextClockCheck: MonotonicInstant = .zero
    let snapshotIntervalNanoseconds: Int64
    var nextSnapshot: MonotonicInstant = .zero
    /// Bus errors within the burst window, for the interlock's bus-error fault.
    var busErrorTimes: [Int64]
    var busErrorCursor = 0
    let busErrorWindow: Int64
    /// Reset requests taken so far (see ``requestReset()``).
    var resetRequestsTaken: UInt64 = 0

    /// Reset requests made by the CLI on the node (the control socket adds one; the loop takes
    /// them and answers in ``resetAnswer``).
    let resetRequests = Atomic<UInt64>(0)
    /// The last reset request the loop handled and its ``ResetOutcome``: `request << 8 | outcome`.
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
    /// Cycles run, and output writes that failed.
    public internal(set) var cycles: Int64 = 0
    public internal(set) var outputWriteErrors = 0

    init(board: Board, channelCount: Int, rangeMin: [Double], rangeMax: [Double], slots: [SensorSlot<Board>],
         interlock: Interlock, outputs: [Board.Chip.Output], resetInput: DebouncedInput<Board.Chip.Input>?,
         interlockStateChannel: Int, watchdog: HardwareWatchdog?,
         snapshotIntervalNanoseconds: Int64, busErrorBurst: Int, busErrorWindowNanoseconds: Int64) {
        self.board = board
        self.channelCount = channelCount
        samples = Array(repeating: .missing, count: channelCount)
        self.rangeMin = rangeMin
        self.rangeMax = rangeMax
        self.slots = slots.enumerated().sorted { ($0.element.phase, $0.offset) < ($1.element.phase, $1.offset) }.map(\.element)
        self.interlock = interlock
        self.outputs = outputs
        self.resetInput = resetInput
        self.interlockStateChannel = interlockStateChannel
        self.watchdog = watchdog
        self.snapshotIntervalNanoseconds = snapshotIntervalNanoseconds
        busErrorTimes = Array(repeating: .min, count: max(1, busErrorBurst))
        busErrorWindow = busErrorWindowNanoseconds
        updates = SPSCRing(capacity: 64 * channelCount, filler: ChannelUpdate(channel: 0, sample: .missing, wallClock: .epoch))
        events = SPSCRing(capacity: 1024, filler: InterlockEvent(kind: .armed, time: .zero, rule: 0, channel: 0, value: 0, limit: 0, reason: 0))
        latest = MailboxTable(count: channelCount, initial: .missing)
        ruleStates = MailboxTable(count: interlock.rules.count, initial: RuleStateCode.starting.rawValue)
        ruleInputs = MailboxTable(count: interlock.rules.count, initial: InputClass.fault.rawValue)
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

    /// Asks the loop for a local reset; returns the request's number, which ``resetOutcome(of:)``
    /// answers once the loop has handled it (within a period or two).
    @discardableResult
    public func requestReset() -> UInt64 {
        resetRequests.wrappingAdd(1, ordering: .acquiringAndReleasing).newValue
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

    /// Starts every sensor (part-ID checks, configuration). Errors name the sensor.
    public func startSensors() throws(NodeError) {
        for slot in slots {
            do {
                switch slot {
                case .accelerometer(let a): try a.start()
                case .thermometer(let t): try t.start()
                case .digitalInput, .tachometer, .modbus: break
                }
            } catch {
                throw NodeError.sensor(name: slot.name, error)
            }
        }
    }

    public func cycle(_ timing: CycleTiming) {
        let now = timing.wake
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

        // A local reset: the reset input's rising edge, or the CLI on the node.
        let requested = resetRequests.load(ordering: .acquiring)
        var reset = requested != resetRequestsTaken
        resetRequestsTaken = requested
        if let input = resetInput {
            let r = input.sample(at: stamp)
            let active = r.quality.isDisjoint(with: .unusable) && r.value == 1
            if active && !resetWasActive { reset = true }
            resetWasActive = active
        }

        samples.withUnsafeBufferPointer { s in
            interlock.evaluate(samples: s, now: now, clockSynchronised: clockSync == .synchronized, systemFaults: systemFaults, reset: reset)
        }
        if let outcome = interlock.resetOutcome {
            resetAnswer.store(resetRequestsTaken << 8 | UInt64(outcome.rawValue), ordering: .releasing)
        }
        var levels: UInt64 = 0
        for i in outputs.indices {
            let on = interlock.outputs[i]
            if on { levels |= 1 << UInt64(i) }
            do { try outputs[i].write(on) } catch { outputWriteErrors += 1 }
        }
        outputLevels.store(levels, ordering: .releasing)
        ruleStates.publish { RuleStateCode(interlock.states[$0]).rawValue }
        ruleInputs.publish { interlock.inputs[$0].rawValue }
        systemFaultBits.store(interlock.systemFaults.rawValue, ordering: .releasing)
        systemFaultLatched.store(interlock.systemFaultLatched, ordering: .releasing)
        samples[interlockStateChannel] = ChannelSample(value: interlock.isTripped ? 1 : 0, quality: [], time: now)
        for e in interlock.events { events.push(e) }

        if !timing.isWarmUp && timing.previousMetDeadline, let watchdog {
            do { try watchdog.keepAlive() } catch { busErrors += 1 }
        }

        samples.withUnsafeBufferPointer { latest.publish($0) }
        if now >= nextSnapshot {
            nextSnapshot = now.advanced(byNanoseconds: snapshotIntervalNanoseconds)
            for c in 0..<channelCount {
                updates.push(ChannelUpdate(channel: UInt16(c), sample: samples[c], wallClock: stamp.wallClock))
            }
        }
        cycles += 1
    }

    func noteBusError(at t: Int64) {
        busErrorTimes[busErrorCursor] = t
        busErrorCursor = (busErrorCursor + 1) % busErrorTimes.count
    }

    func busErrorBurst(at t: Int64) -> Bool {
        let oldest = busErrorTimes[busErrorCursor]
        return oldest != .min && t - oldest <= busErrorWindow
    }

    /// Drives every output to its safe (de-energized) level: the clean-stop path.
    public func driveSafeState() {
        for o in outputs {
            do { try o.write(false) } catch { outputWriteErrors += 1 }
        }
        outputLevels.store(0, ordering: .releasing)
    }
}
