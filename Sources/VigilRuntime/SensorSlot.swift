import VigilBase
import VigilDrivers
import VigilHAL
import VigilInterlock
import VigilLoop
import VigilParts

/// One sensor's place in the node cycle: a closed list with one case per kind of sensor, so the
/// cycle dispatches with a switch (no existential) and a new kind shows in every place it must
/// be handled. Within a kind the part's driver is a subclass of the kind's driver class.
///
/// The cycle visits slots in ``phase`` order: levels and edges first (timestamped at the wake),
/// then FIFO drains, then polled sensors, then the Modbus mailboxes.
enum SensorSlot<Board: NodeBoard> {
    case digitalInput(LineSlot<DebouncedInput<Board.Chip.Input>>)
    case tachometer(LineSlot<Tachometer<Board.Chip.Input>>)
    case accelerometer(AccelerometerSlot<Board.Bus>)
    case thermometer(ThermometerSlot<Board.Bus>)
    case currentLoop(CurrentLoopSlot<Board.Bus>)
    case hwmon(HwmonSlot)
    case modbus(ModbusSlot)

    var phase: Int {
        switch self {
        case .digitalInput: return 0
        case .tachometer: return 1
        case .accelerometer: return 2
        case .thermometer, .currentLoop, .hwmon: return 3
        case .modbus: return 4
        }
    }

    /// The profile's name of the sensor.
    var name: String {
        switch self {
        case .digitalInput(let s): return s.name
        case .tachometer(let s): return s.name
        case .accelerometer(let s): return s.name
        case .thermometer(let s): return s.name
        case .currentLoop(let s): return s.name
        case .hwmon(let s): return s.name
        case .modbus(let s): return s.name
        }
    }
}

/// One failure policy for every sensor the loop reads: each failed read counts as a bus error;
/// `limit` failures in a row make the sensor's channels faulty (a GPIO line at once, an I2C part
/// after three: a single NACK on a shared bus is noise); one good read heals it.
struct SensorHealth {
    let limit: Int
    var consecutiveFailures = 0
    var lastError: HALError?

    init(limit: Int) { self.limit = limit }

    mutating func succeeded() { consecutiveFailures = 0 }

    /// Counts a failure; true when the sensor's channels must now read as faulty.
    mutating func failed(_ error: HALError) -> Bool {
        consecutiveFailures += 1
        lastError = error
        return consecutiveFailures >= limit
    }

    /// Failures in a row after which an I2C part's channels are faulty.
    static let i2cFailureLimit = 3
}

/// When an I2C sensor that is not running (it failed to start, or stopped answering) is tried
/// again: after 100 ms, then twice as long each time up to 30 s. While it is down its channels
/// read as faults, and its failures are not bus errors of the node: one dead part must not make
/// a node-wide bus-error burst out of its retries.
struct SensorRetry {
    private(set) var isRunning = false
    private(set) var nextAttempt = MonotonicInstant.zero
    private var backoffNanoseconds = SensorRetry.firstBackoffNanoseconds
    private(set) var lastError: HALError?
    /// Starts that succeeded after the first (a part re-initialised after it was lost).
    private(set) var restarts = 0
    private var started = false

    static let firstBackoffNanoseconds: Int64 = 100_000_000
    static let longestBackoffNanoseconds: Int64 = 30_000_000_000

    func isDue(at now: MonotonicInstant) -> Bool { now >= nextAttempt }

    /// Runs `start` and records the outcome (`now` nil: at set-up); the error, if it failed.
    mutating func attempt(at now: MonotonicInstant?, _ start: () throws(HALError) -> Void) -> HALError? {
        do {
            try start()
            startSucceeded()
            return nil
        } catch {
            startFailed(error, at: now)
            return error
        }
    }

    mutating func startSucceeded() {
        if started { restarts += 1 }
        started = true
        isRunning = true
        backoffNanoseconds = Self.firstBackoffNanoseconds
    }

    /// A start failed at `now` (nil: at set-up, before the cycle's clock runs).
    mutating func startFailed(_ error: HALError, at now: MonotonicInstant?) {
        isRunning = false
        lastError = error
        guard let now else { return } // the first cycle tries again
        nextAttempt = now.advanced(byNanoseconds: backoffNanoseconds)
        backoffNanoseconds = min(2 * backoffNanoseconds, Self.longestBackoffNanoseconds)
    }

    /// The running sensor was lost (failed reads, no samples, configuration gone): start it again
    /// after the first back-off.
    mutating func lost(_ error: HALError?, at now: MonotonicInstant) {
        isRunning = false
        if let error { lastError = error }
        backoffNanoseconds = Self.firstBackoffNanoseconds
        nextAttempt = now.advanced(byNanoseconds: backoffNanoseconds)
    }
}

/// A sensor on one GPIO line (a debounced digital input, a tachometer): sampled every cycle at
/// the wake, one channel.
final class LineSlot<Sensor: LineSensor> {
    let name: String
    let sensor: Sensor
    let channel: Int
    var health = SensorHealth(limit: 1)

    init(name: String, sensor: Sensor, channel: Int) {
        self.name = name
        self.sensor = sensor
        self.channel = channel
    }

    func sample(at stamp: Timestamp, into samples: UnsafeMutableBufferPointer<ChannelSample>, busErrors: inout Int) {
        let r = sensor.sample(at: stamp)
        samples[channel] = ChannelSample(value: r.value, quality: r.quality, time: stamp.monotonic)
        if let e = r.error { busErrors += 1; _ = health.failed(e) } else { health.succeeded() }
    }
}

/// A thermometer read at its poll interval; started again with back-off when it stops answering.
final class ThermometerSlot<Bus: I2CBus> {
    let name: String
    let driver: ThermometerDriver<Bus>
    let channel: Int
    let intervalNanoseconds: Int64
    var due = MonotonicInstant.zero
    var health = SensorHealth(limit: SensorHealth.i2cFailureLimit)
    var retry = SensorRetry()

    init(name: String, driver: ThermometerDriver<Bus>, channel: Int, intervalNanoseconds: Int64) {
        self.name = name
        self.driver = driver
        self.channel = channel
        self.intervalNanoseconds = intervalNanoseconds
    }

    /// Starts the part at set-up; the error, if any (the cycle tries again).
    func start() -> HALError? { retry.attempt(at: nil) { () throws(HALError) in try driver.start() } }

    func sample(at now: MonotonicInstant, clockQuality: Quality, into samples: UnsafeMutableBufferPointer<ChannelSample>, busErrors: inout Int) {
        if !retry.isRunning {
            guard retry.isDue(at: now) else { return }
            guard retry.attempt(at: now, { () throws(HALError) in try driver.start() }) == nil else {
                samples[channel] = ChannelSample(value: .nan, quality: .commFault, time: now)
                return
            }
            health.succeeded()
            due = now
        }
        guard now >= due else { return }
        due = now.advanced(byNanoseconds: intervalNanoseconds)
        do {
            let celsius = try driver.readCelsius()
            health.succeeded()
            samples[channel] = ChannelSample(value: celsius, quality: clockQuality, time: now)
        } catch {
            busErrors += 1
            if health.failed(error) {
                samples[channel] = ChannelSample(value: .nan, quality: .commFault, time: now)
                retry.lost(error, at: now)
            }
        }
    }
}

/// A 4–20 mA loop through an ADC: the loop current and the process value, classified by NAMUR
/// NE 43. A failure signal (an open loop reads 0 mA) is a fault of both channels, not a value;
/// a current outside the measuring range but short of one is out of range.
final class CurrentLoopSlot<Bus: I2CBus> {
    let name: String
    let driver: AnalogInputDriver<Bus>
    let currentChannel: Int
    let valueChannel: Int
    let shuntOhms: Double
    let low: Double
    let high: Double
    let intervalNanoseconds: Int64
    var due = MonotonicInstant.zero
    var health = SensorHealth(limit: SensorHealth.i2cFailureLimit)
    var retry = SensorRetry()

    init(name: String, driver: AnalogInputDriver<Bus>, currentChannel: Int, valueChannel: Int, shuntOhms: Double, low: Double, high: Double,
         intervalNanoseconds: Int64) {
        self.name = name
        self.driver = driver
        self.currentChannel = currentChannel
        self.valueChannel = valueChannel
        self.shuntOhms = shuntOhms
        self.low = low
        self.high = high
        self.intervalNanoseconds = intervalNanoseconds
    }

    func start() -> HALError? { retry.attempt(at: nil) { () throws(HALError) in try driver.start() } }

    func sample(at now: MonotonicInstant, clockQuality: Quality, into samples: UnsafeMutableBufferPointer<ChannelSample>, busErrors: inout Int) {
        if !retry.isRunning {
            guard retry.isDue(at: now) else { return }
            guard retry.attempt(at: now, { () throws(HALError) in try driver.start() }) == nil else {
                publish(.nan, .commFault, now, into: samples)
                return
            }
            health.succeeded()
            // The first single-shot result is one conversion away: read it at the next poll.
            due = now.advanced(byNanoseconds: intervalNanoseconds)
            return
        }
        guard now >= due else { return }
        due = now.advanced(byNanoseconds: intervalNanoseconds)
        do {
            let milliamps = try driver.readVolts() / shuntOhms * 1000
            health.succeeded()
            switch CurrentLoop.classify(milliamps: milliamps) {
            case .measurement: publish(milliamps, clockQuality, now, into: samples)
            case .outOfRange: publish(milliamps, clockQuality.union(.outOfRange), now, into: samples)
            case .failure:
                // The current is real (it says why); the process value is not.
                samples[currentChannel] = ChannelSample(value: milliamps, quality: clockQuality.union(.outOfRange), time: now)
                samples[valueChannel] = ChannelSample(value: .nan, quality: .commFault, time: now)
            }
        } catch {
            busErrors += 1
            if health.failed(error) {
                publish(.nan, .commFault, now, into: samples)
                retry.lost(error, at: now)
            }
        }
    }

    private func publish(_ milliamps: Double, _ quality: Quality, _ now: MonotonicInstant, into samples: UnsafeMutableBufferPointer<ChannelSample>) {
        samples[currentChannel] = ChannelSample(value: milliamps, quality: quality, time: now)
        let value = milliamps.isFinite ? CurrentLoop.value(milliamps: milliamps, low: low, high: high) : .nan
        samples[valueChannel] = ChannelSample(value: value, quality: quality, time: now)
    }
}

/// An input of a device the kernel drives, through hwmon: read by the ``HwmonWorker`` on its own
/// thread (a sysfs read runs the kernel driver's bus transfer), taken here from its mailbox.
final class HwmonSlot {
    let name: String
    let mailbox: Mailbox<ChannelSample>
    let channel: Int

    init(name: String, mailbox: Mailbox<ChannelSample>, channel: Int) {
        self.name = name
        self.mailbox = mailbox
        self.channel = channel
    }

    func sample(into samples: UnsafeMutableBufferPointer<ChannelSample>) {
        // Bounded, as a Modbus mailbox: the channel keeps its previous value (which ages) meanwhile.
        guard let value = mailbox.read(attempts: ModbusSlot.readAttempts) else { return }
        samples[channel] = value
    }
}

/// A Modbus device's channels: its poller, on its own thread, publishes each point's reading
/// through a mailbox; the cycle takes the newest.
final class ModbusSlot {
    let name: String
    let points: [(mailbox: Mailbox<ChannelSample>, channel: Int)]

    init(name: String, points: [(mailbox: Mailbox<ChannelSample>, channel: Int)]) {
        self.name = name
        self.points = points
    }

    func sample(into samples: UnsafeMutableBufferPointer<ChannelSample>) {
        for m in points {
            // Bounded: a poller pre-empted mid-publish must not hold the loop; the channel keeps
            // its previous value (which ages) until the next cycle.
            guard let value = m.mailbox.read(attempts: Self.readAttempts) else { continue }
            if value.time != .zero || value.quality.contains(.commFault) { samples[m.channel] = value }
        }
    }

    /// Tries per mailbox and cycle (each a few loads; the publish they wait for takes less).
    static let readAttempts = 64
}
