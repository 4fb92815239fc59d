import VigilBase
import VigilFrames

/// A part vigil drives: the facts of its datasheet that its driver, its register-level model,
/// the profile validator, the channel catalog and the technician's commands share. One file per
/// part holds them (as Zephyr keeps one register header for a driver and its emulator); the file
/// holds facts, never behaviour: the driver and the model each follow the datasheet on their own.
public protocol SensorPart {
    /// The profile's `type` key, lower-case (`type = "…"` in a `[[sensors]]` table).
    static var typeName: String { get }
    /// The part as a technician names it: maker and part number.
    static var title: String { get }
    /// What kind of sensor it is, which decides how the node runs it.
    static var kind: PartKind { get }
}

/// The kinds of part the node cycle knows how to run. A new part of an existing kind is one file
/// per layer (facts, driver, model); a new kind is also a slot in the node cycle.
public enum PartKind: String, Sendable, CaseIterable {
    /// A 3-axis accelerometer with a FIFO, drained every cycle and analysed in blocks.
    case accelerometer
    /// A digital thermometer read at its poll interval.
    case thermometer
    /// An ADC reading a 4–20 mA current loop through a shunt, at its poll interval.
    case analogInput
}

/// A part on I2C.
public protocol I2CPart: SensorPart {
    /// The 7-bit addresses its address pin selects, the default first.
    static var addresses: [UInt8] { get }
    /// How `vigil i2c scan` and `vigil selftest` recognise it.
    static var identity: PartIdentity { get }
}

/// A register whose value tells what part answers at an address.
public struct PartIdentity: Sendable, Equatable {
    /// The register read with an SMBus read-byte (its first byte for a 16-bit register).
    public var register: UInt8
    /// The register's name in the datasheet (`DEVID`, `WHO_AM_I`).
    public var registerName: String
    /// Bits that identify the part.
    public var mask: UInt8
    /// Their value on this part.
    public var value: UInt8
    /// Whether the register is a real ID (true) or only bits that are fixed on this part and on
    /// others (false: "probably this part").
    public var isUnique: Bool

    public init(register: UInt8, registerName: String, mask: UInt8 = 0xFF, value: UInt8, isUnique: Bool) {
        self.register = register
        self.registerName = registerName
        self.mask = mask
        self.value = value
        self.isUnique = isUnique
    }

    /// Whether `byte`, read from `register`, is this part's.
    public func matches(_ byte: UInt8) -> Bool { byte & mask == value }
}

/// A channel a sensor produces, before the profile names its sensor: the suffix of its name,
/// what it measures, its unit and the defaults a profile's `[channels."…"]` may override.
public struct ChannelTemplate: Sendable, Equatable {
    /// The physical range; values outside it are faults, not measurements.
    public enum Range: Sendable, Equatable {
        case fixed(Double, Double)
        /// 0 to the sensor's full scale in its unit (an accelerometer's ± range in g).
        case zeroToFullScale
    }

    /// The last part of the channel's name (`velocity_rms` in `bearing.x.velocity_rms`).
    public var suffix: String
    public var quantity: ChannelQuantity
    public var unit: PhysicalUnit
    /// The step of the scaled integer a frame carries, in `unit`.
    public var resolution: Double
    /// The change that makes report-by-exception send a new value, in `unit`.
    public var deadband: Double
    public var range: Range

    public init(suffix: String, quantity: ChannelQuantity, unit: PhysicalUnit, resolution: Double, deadband: Double, range: Range) {
        self.suffix = suffix
        self.quantity = quantity
        self.unit = unit
        self.resolution = resolution
        self.deadband = deadband
        self.range = range
    }

    /// The range for a sensor whose full scale is `fullScale` (in `unit`).
    public func bounds(fullScale: Double) -> (Double, Double) {
        switch range {
        case .fixed(let lo, let hi): return (lo, hi)
        case .zeroToFullScale: return (0, fullScale)
        }
    }
}
