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
    /// Channel updates for the uplink and status (every channel once per snapshot interval).
    public let updates: SPSCRing<ChannelUpdate>
    /// Interlock events, in order.
    public let events: SPSCRing<InterlockEvent>
    /// The newest sample of every channel, for status readers (one mailbox per channel).
    public let latest: [Mailbox<ChannelSample>]
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
        self.snapshotIntervalNanoseconds = snapshotIntervalNanoseconds
        busErrorTimes = Array(repeating: .min, count: max(1, busErrorBurst))
        busErrorWindow = busErrorWindowNanoseconds
        updates = SPSCRing(capacity: 64 * channelCount, filler: ChannelUpdate(channel: 0, sample: .missing, wallClock: .epoch))
        events = SPSCRing(capacity: 1024, filler: InterlockEvent(kind: .armed, time: .zero, rule: 0, channel: 0, value: 0, limit: 0, reason: 0))
        latest = (0..<channelCount).map { _ in Mailbox(ChannelSample.missing) }
    }

    /// The current value of a channel as the loop sees it (loop thread or tests stepping it).
    public func sample(_ channel: Int) -> ChannelSample { samples[channel] }
    public var interlockStates: [RuleState] { interlock.states }
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

    public func cycle(_ timing: CycleTiming) {
        let now = timing.wake
        if now >= nextClockCheck {
            clockSync = clockSyncSource()
            nextClockCheck = now.advanced(byNanoseconds: 1_000_000_000)
        }
        let clockQuality: Quality = clockSync == .synchronized ? [] : .clockUnsynced
        let stamp = Timestamp(monotonic: now, wallClock: WallClockTime(microsecondsSinceEpoch: vigil_realtime_ns() / 1000), clockSync: clockSync)
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
        samples[interlockStateChannel] = ChannelSample(value: interlock.isTripped ? 1 : 0, quality: [], time: now)
        for e in interlock.events { events.push(e) }

        if !timing.isWarmUp && timing.previousMetDeadline, let watchdog {
            do { try watchdog.keepAlive() } catch { busErrors += 1 }
        }

        for c in 0..<channelCount { latest[c].publish(samples[c]) }
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
