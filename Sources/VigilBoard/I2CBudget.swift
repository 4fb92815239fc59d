import VigilParts

/// The I2C bus time a profile's sensors need in the busiest loop period, per bus: what the
/// validator checks against the profile's `clock_hz`, `vigil board show` prints, and the agent
/// checks again at start-up against the clock the adapter really runs at. The transfers are the
/// ones the drivers make (``I2CBusTime``): each accelerometer's status reads and one sample read
/// per sample due, one configuration read-back, and each thermometer's read.
public struct I2CBudget: Sendable, Equatable {
    public var bus: String
    public var clockHz: Int
    /// Bit times in the busiest period.
    public var bitsPerPeriod: Int
    public var periodMicroseconds: Int

    /// The time those bits take at `clockHz`, µs.
    public var microsecondsPerPeriod: Int { Int((Double(bitsPerPeriod) * 1e6 / Double(max(1, clockHz))).rounded()) }
    /// The share of the period the bus is busy.
    public var load: Double { Double(microsecondsPerPeriod) / Double(max(1, periodMicroseconds)) }
    /// More than this share of a period on one bus leaves no room for a retry or a slow part.
    public static let maximumLoad = 0.8
    public var fits: Bool { load <= Self.maximumLoad }

    /// Every I2C bus the profile's sensors use, at `clockHz(bus)` (the profile's clock by default).
    public static func of(_ profile: BoardProfile, clockHz: (I2CBusSpec) -> Int = { $0.clockHz }) -> [I2CBudget] {
        let period = Double(profile.realtime.periodMicroseconds) * 1e-6
        var bits: [String: Double] = [:]
        for s in profile.sensors {
            switch s.kind {
            case .accelerometer(let a):
                guard let part = a.partFacts, part.outputDataRatesHz.contains(a.sampleRateHz) else { continue }
                // Samples due per period, rounded up: the busiest period takes the extra one.
                let samples = (a.sampleRateHz * period).rounded(.up)
                bits[a.bus, default: 0] += part.drainBits(samples: samples) + Double(I2CBusTime.registerReadBits(count: 1))
            case .temperature(let t):
                guard let part = t.partFacts else { continue }
                bits[t.bus, default: 0] += Double(I2CBusTime.registerReadBits(count: part.readBytes))
            case .currentLoop(let c):
                guard let part = c.partFacts else { continue }
                // One result read per poll, and in single-shot mode the config write that starts the
                // next conversion; counted in every period (the busiest one takes it).
                bits[c.bus, default: 0] += Double(I2CBusTime.registerReadBits(count: part.readBytes)
                    + (c.continuous ? 0 : I2CBusTime.registerWriteBits(count: 2) + I2CBusTime.registerReadBits(count: 2)))
            case .hwmon:
                // Read through sysfs: the kernel's driver makes the transfer on its own time, not in the loop's period.
                continue
            case .modbus, .digitalInput, .tachometer:
                continue
            }
        }
        return profile.i2cBuses.compactMap { b in
            guard let used = bits[b.name] else { return nil }
            return I2CBudget(bus: b.name, clockHz: clockHz(b), bitsPerPeriod: Int(used.rounded(.up)), periodMicroseconds: profile.realtime.periodMicroseconds)
        }
    }

    /// One line for a technician.
    public var summary: String {
        "bus \(bus): \(microsecondsPerPeriod) µs of each \(periodMicroseconds) µs period at \(clockHz / 1000) kHz (\(Int((load * 100).rounded())) %, limit \(Int(Self.maximumLoad * 100)) %)"
    }
}
