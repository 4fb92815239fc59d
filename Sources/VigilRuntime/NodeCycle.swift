import CVigilSys
import Synchronization
import VigilBase
import VigilDrivers
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
/// Modbus poller's latest values, evaluate the interlock, drive its outputs, pet the watchdog,
/// and hand channel updates and events to the uplink through bounded rings.
///
/// Everything is allocated in `init`; `cycle` allocates nothing, takes no lock of its own and
/// never waits on the network (the rings refuse when full and count the refusal).
public final class NodeCycle<Platform: NodePlatform>: LoopBody {
    typealias Input = Platform.Chip.Input

    let channelCount: Int
    private var samples: [ChannelSample]
    private let rangeMin: [Double]
    private let rangeMax: [Double]
    let accelerometers: [AccelerometerPipeline<Platform.Bus>]
    let temperatures: [(sensor: TMP102<Platform.Bus>, channel: Int, intervalNanoseconds: Int64)]
    private var temperatureDue: [MonotonicInstant]
    private var temperatureFailures: [Int]
    let inputs: [(input: DebouncedInput<Input>, channel: Int)]
    let tachometers: [(tachometer: Tachometer<Input>, channel: Int)]
    /// Modbus values arrive from the poller thread through these.
    let modbusMailboxes: [(mailbox: Mailbox<ChannelSample>, channel: Int)]
    private(set) var interlock: Interlock
    let outputs: [Platform.Chip.Output]
    let resetInput: DebouncedInput<Input>?
    private var resetWasActive = false
    let interlockStateChannel: Int
    let shaftChannel: Int?
    let watchdog: HardwareWatchdog?
    private let clockSyncSource: () -> ClockSyncState
    private let wallClockSource: () -> WallClockTime
    private var clockSync: ClockSyncState = .unknown
    private var nextClockCheck: MonotonicInstant = .zero
    private let snapshotIntervalNanoseconds: Int64
    private var nextSnapshot: MonotonicInstant = .zero
    /// Bus errors within the burst window, for the interlock's bus-error fault.
    private var busErrorTimes: [Int64]
    private var busErrorCursor = 0
    private let busErrorWindow: Int64

    /// A reset requested by the CLI on the node (the control socket sets it; the loop clears it).
    public let resetRequest = Atomic<Bool>(false)
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
    /// The interlock's system faults after the last cycle (``SystemFault`` bits).
    public let systemFaultBits = Atomic<UInt8>(0)
    /// Output levels after the last cycle, bit i = output i.
    public let outputLevels = Atomic<UInt64>(0)
    /// Cycles run, and output writes that failed.
    public private(set) var cycles: Int64 = 0
    public private(set) var outputWriteErrors = 0
    /// Consecutive failed reads after which a sensor's channels are faulty.
    public let failureLimit = 3

    init(channelCount: Int, rangeMin: [Double], rangeMax: [Double],
         accelerometers: [AccelerometerPipeline<Platform.Bus>],
         temperatures: [(sensor: TMP102<Platform.Bus>, channel: Int, intervalNanoseconds: Int64)],
         inputs: [(input: DebouncedInput<Input>, channel: Int)],
         tachometers: [(tachometer: Tachometer<Input>, channel: Int)],
         modbusChannels: [Int], interlock: Interlock, outputs: [Platform.Chip.Output], resetInput: DebouncedInput<Input>?,
         interlockStateChannel: Int, shaftChannel: Int?, watchdog: HardwareWatchdog?, clockSync: @escaping () -> ClockSyncState,
         wallClock: @escaping () -> WallClockTime,
         snapshotIntervalNanoseconds: Int64, busErrorBurst: Int, busErrorWindowNanoseconds: Int64) {
        self.channelCount = channelCount
        samples = Array(repeating: .missing, count: channelCount)
        self.rangeMin = rangeMin
        self.rangeMax = rangeMax
        self.accelerometers = accelerometers
        self.temperatures = temperatures
        temperatureDue = Array(repeating: .zero, count: temperatures.count)
        temperatureFailures = Array(repeating: 0, count: temperatures.count)
        self.inputs = inputs
        self.tachometers = tachometers
        modbusMailboxes = modbusChannels.map { (Mailbox(ChannelSample.missing), $0) }
        self.interlock = interlock
        self.outputs = outputs
        self.resetInput = resetInput
        self.interlockStateChannel = interlockStateChannel
        self.shaftChannel = shaftChannel
        self.watchdog = watchdog
        clockSyncSource = clockSync
        wallClockSource = wallClock
        self.snapshotIntervalNanoseconds = snapshotIntervalNanoseconds
        busErrorTimes = Array(repeating: .min, count: max(1, busErrorBurst))
        busErrorWindow = busErrorWindowNanoseconds
        updates = SPSCRing(capacity: 64 * channelCount, filler: ChannelUpdate(channel: 0, sample: .missing, wallClock: .epoch))
        events = SPSCRing(capacity: 1024, filler: InterlockEvent(kind: .armed, time: .zero, rule: 0, channel: 0, value: 0, limit: 0, reason: 0))
        latest = MailboxTable(count: channelCount, initial: .missing)
        ruleStates = MailboxTable(count: interlock.rules.count, initial: RuleStateCode.starting.rawValue)
    }

    /// The current value of a channel as the loop sees it (loop thread or tests stepping it).
    public func sample(_ channel: Int) -> ChannelSample { samples[channel] }
    public var interlockStates: [RuleState] { interlock.states }
    /// The latest spectrum of every analysed accelerometer axis.
    public var spectra: [SpectrumSlot] { accelerometers.flatMap(\.spectra) }
    public var isTripped: Bool { interlock.isTripped }

    /// Starts every sensor (part-ID checks, configuration). Errors name the sensor.
    public func startSensors() throws(NodeError) {
        for a in accelerometers {
            do { try a.start() } catch { throw NodeError.sensor(name: a.name, error) }
        }
        for t in temperatures {
            do { try t.sensor.start() } catch { throw NodeError.sensor(name: "tmp102@0x\(String(t.sensor.address, radix: 16))", error) }
        }
    }

    // The agent (another module) creates the cycle for a platform only known at run time, so the
    // generic body would run unspecialised: every driver call asking the runtime for metadata of
    // AccelerometerDriver<Bus> and friends, a hash lookup per call, 1000 times a second. Both
    // platforms live in this module; specialise for each.
    @_specialize(where Platform == SimulatedPlatform)
    @_specialize(where Platform == LinuxPlatform)
    public func cycle(_ timing: CycleTiming) {
        let now = timing.wake
        if now >= nextClockCheck {
            clockSync = clockSyncSource()
            nextClockCheck = now.advanced(byNanoseconds: 1_000_000_000)
        }
        let clockQuality: Quality = clockSync == .synchronized ? [] : .clockUnsynced
        let stamp = Timestamp(monotonic: now, wallClock: wallClockSource(), clockSync: clockSync)
        var busErrors = 0

        samples.withUnsafeMutableBufferPointer { s in
            for i in inputs.indices {
                let r = inputs[i].input.sample(at: stamp)
                s[inputs[i].channel] = ChannelSample(value: r.value, quality: r.quality, time: now)
                if r.error != nil { busErrors += 1 }
            }
            for i in tachometers.indices {
                let r = tachometers[i].tachometer.sample(at: stamp)
                s[tachometers[i].channel] = ChannelSample(value: r.value, quality: r.quality, time: now)
                if r.error != nil { busErrors += 1 }
            }
            let shaftHz: Double? = shaftChannel.flatMap { s[$0].quality.isDisjoint(with: .unusable) && s[$0].value > 0 ? s[$0].value / 60 : nil }
            for a in accelerometers {
                if !a.drain() {
                    busErrors += 1
                    if a.consecutiveFailures >= failureLimit { a.markFault(samples: s, now: now) }
                }
                a.analyseIfDue(now: now, samples: s, clockQuality: clockQuality, shaftHz: shaftHz)
            }
            for i in temperatures.indices where now >= temperatureDue[i] {
                temperatureDue[i] = now.advanced(byNanoseconds: temperatures[i].intervalNanoseconds)
                let c = temperatures[i].channel
                do {
                    let celsius = try temperatures[i].sensor.readCelsius()
                    temperatureFailures[i] = 0
                    s[c] = ChannelSample(value: celsius, quality: clockQuality, time: now)
                } catch {
                    busErrors += 1
                    temperatureFailures[i] += 1
                    if temperatureFailures[i] >= failureLimit { s[c] = ChannelSample(value: .nan, quality: .commFault, time: now) }
                }
            }
            for m in modbusMailboxes {
                let value = m.mailbox.read()
                if value.time != .zero || value.quality.contains(.commFault) { s[m.channel] = value }
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
        var reset = resetRequest.exchange(false, ordering: .acquiringAndReleasing)
        if let input = resetInput {
            let r = input.sample(at: stamp)
            let active = r.quality.isDisjoint(with: .unusable) && r.value == 1
            if active && !resetWasActive { reset = true }
            resetWasActive = active
        }

        samples.withUnsafeBufferPointer { s in
            interlock.evaluate(samples: s, now: now, clockSynchronised: clockSync == .synchronized, systemFaults: systemFaults, reset: reset)
        }
        var levels: UInt64 = 0
        for i in outputs.indices {
            let on = interlock.outputs[i]
            if on { levels |= 1 << UInt64(i) }
            do { try outputs[i].write(on) } catch { outputWriteErrors += 1 }
        }
        outputLevels.store(levels, ordering: .releasing)
        ruleStates.publish { RuleStateCode(interlock.states[$0]).rawValue }
        systemFaultBits.store(interlock.systemFaults.rawValue, ordering: .releasing)
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

    private func noteBusError(at t: Int64) {
        busErrorTimes[busErrorCursor] = t
        busErrorCursor = (busErrorCursor + 1) % busErrorTimes.count
    }

    private func busErrorBurst(at t: Int64) -> Bool {
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

/// Why a node could not be assembled or started.
public enum NodeError: Error, CustomStringConvertible {
    case sensor(name: String, HALError)
    case hardware(what: String, HALError)
    case profile(String)

    public var description: String {
        switch self {
        case .sensor(let name, let e): return "sensor \(name): \(e)"
        case .hardware(let what, let e): return "\(what): \(e)"
        case .profile(let text): return text
        }
    }
}

/// A rule's state as one byte, for readers on other threads: 0…4 as below, 16 + reason for faulted.
public enum RuleStateCode: RawRepresentable, Sendable, Equatable {
    case starting, normal, debouncing, active, latched
    case faulted(FaultReason)

    public init(_ state: RuleState) {
        switch state {
        case .starting: self = .starting
        case .normal: self = .normal
        case .debouncing: self = .debouncing
        case .active: self = .active
        case .latched: self = .latched
        case .faulted(let r): self = .faulted(r)
        }
    }

    public init?(rawValue: UInt8) {
        switch rawValue {
        case 0: self = .starting
        case 1: self = .normal
        case 2: self = .debouncing
        case 3: self = .active
        case 4: self = .latched
        default:
            guard rawValue >= 16, let r = FaultReason(rawValue: rawValue - 16) else { return nil }
            self = .faulted(r)
        }
    }

    public var rawValue: UInt8 {
        switch self {
        case .starting: return 0
        case .normal: return 1
        case .debouncing: return 2
        case .active: return 3
        case .latched: return 4
        case .faulted(let r): return 16 + r.rawValue
        }
    }

    /// `starting`, `normal`, …, `faulted:stale`.
    public var name: String {
        switch self {
        case .starting: return "starting"
        case .normal: return "normal"
        case .debouncing: return "debouncing"
        case .active: return "active"
        case .latched: return "latched"
        case .faulted(let r): return "faulted:\(r.name)"
        }
    }
}

extension FaultReason {
    public var name: String {
        switch self {
        case .missing: return "missing"
        case .stale: return "stale"
        case .communication: return "communication"
        case .outOfRange: return "out_of_range"
        case .clockUnsynchronised: return "clock_unsynchronised"
        case .timeInFuture: return "time_in_future"
        }
    }
}
