import VigilBase
import VigilBoard
import VigilDSP

/// The machine a simulated node watches: a rotating shaft whose vibration is the sum of the
/// classic fault signatures, plus a motor temperature.
///
/// Every value is a pure function of time (and of the seeded noise sequence), computed with
/// IEEE-754 arithmetic and the DSP target's libm-free sine, so a run replays identically on every CPU.
public struct MachineScenario: Sendable, Equatable {
    /// The machine's parameters: the profile's `[simulation]` table (``SimulationSpec`` is their
    /// one home; its `defaults` fill what a profile leaves out).
    public var spec: SimulationSpec

    public init(_ spec: SimulationSpec) { self.spec = spec }

    public var shaftHz: Double { spec.shaftRPM / 60 }

    /// The vibration multiplier at `seconds` after the origin.
    public func rampMultiplier(atSeconds t: Double) -> Double {
        guard spec.rampDurationSeconds > 0, t > spec.rampStartSeconds else { return 1 }
        let progress = min(1, (t - spec.rampStartSeconds) / spec.rampDurationSeconds)
        return 1 + (spec.rampFactor - 1) * progress
    }

    /// The acceleration of each axis, in g, at `seconds` after the origin, without noise.
    /// z carries 1 g of gravity (the sensor is mounted flat).
    public func acceleration(atSeconds t: Double, extraFactor: Double = 1) -> (x: Double, y: Double, z: Double) {
        let m = rampMultiplier(atSeconds: t) * extraFactor
        let f1 = shaftHz
        // sin(2π f t) = sinPi(2 f t); cos is the sine a quarter turn later.
        let s1 = Trigonometry.sinPi(2 * f1 * t), c1 = Trigonometry.sinPi(2 * f1 * t + 0.5)
        let s2 = Trigonometry.sinPi(4 * f1 * t + 0.25), s3 = Trigonometry.sinPi(6 * f1 * t + 0.1)
        let sb = Trigonometry.sinPi(2 * spec.bearingDefectHz * t)
        let unbalance = spec.unbalanceG * m, misalignment = spec.misalignmentG * m, bearing = spec.bearingDefectG * m
        let x = unbalance * s1 + misalignment * (s2 + 0.5 * s3) + bearing * sb
        let y = unbalance * c1 + misalignment * (0.5 * s2 + 0.3 * s3) + 0.7 * bearing * sb
        let z = 1 + 0.3 * unbalance * s1 + 1.5 * misalignment * (s2 + s3) + 0.4 * bearing * sb
        return (x, y, z)
    }

    /// The motor temperature at `seconds` after the origin, °C; it rises with the vibration ramp
    /// (a failing bearing heats up).
    public func temperature(atSeconds t: Double) -> Double {
        spec.temperatureC + spec.temperatureDriftCPerMinute * t / 60 + 2 * (rampMultiplier(atSeconds: t) - 1)
    }

    /// A process transmitter's reading as a share of its range (a pressure swinging slowly about
    /// mid-range, rising with the machine's load): what a 4–20 mA loop on the machine carries.
    public func processFraction(atSeconds t: Double) -> Double {
        min(1, 0.5 + 0.05 * Trigonometry.sinPi(2 * t / 30) + 0.1 * (rampMultiplier(atSeconds: t) - 1))
    }
}

/// Noise for one simulated sensor: a seeded Gaussian sequence, drawn in pairs (the simulated
/// sensors sample it thousands of times a second inside the node's loop).
public struct NoiseSource: Sendable {
    private var generator: SplitMix64
    private var spare: Double?
    public let rmsG: Double
    public init(seed: UInt64, rmsG: Double) {
        generator = SplitMix64(seed: seed)
        self.rmsG = rmsG
    }
    public mutating func next() -> Double {
        guard rmsG != 0 else { return 0 }
        if let s = spare {
            spare = nil
            return rmsG * s
        }
        let (a, b) = generator.nextGaussianPair()
        spare = b
        return rmsG * a
    }
}
