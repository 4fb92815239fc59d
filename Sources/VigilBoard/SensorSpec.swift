import VigilBase
import VigilDSP
import VigilFrames
import VigilHAL
import VigilParts

/// One sensor attached to the board. Its `name` prefixes the channels it produces.
public struct SensorSpec: Sendable, Equatable, Codable {
    public var name: String
    public var kind: Kind

    public enum Kind: Sendable, Equatable {
        case accelerometer(AccelerometerSpec)
        case temperature(TemperatureSensorSpec)
        case currentLoop(CurrentLoopSpec)
        case hwmon(HwmonSpec)
        case modbus(ModbusDeviceSpec)
        case digitalInput(DigitalInputSpec)
        case tachometer(TachometerSpec)
    }

    /// The `type` key's spelling.
    public var typeName: String {
        switch kind {
        case .accelerometer(let a): return a.part
        case .temperature(let t): return t.part
        case .currentLoop(let c): return c.part
        case .hwmon(let h): return h.interface.rawValue
        case .modbus: return "modbus"
        case .digitalInput: return "digital_input"
        case .tachometer: return "tachometer"
        }
    }

    enum CodingKeys: String, CodingKey { case name, type }

    public init(name: String, kind: Kind) {
        self.name = name
        self.kind = kind
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        let type = try c.decode(String.self, forKey: .type)
        let part = Parts.named(type)
        if part is any AccelerometerPart.Type {
            var spec = try AccelerometerSpec(from: decoder)
            spec.part = type
            kind = .accelerometer(spec)
        } else if part is any ThermometerPart.Type {
            var spec = try TemperatureSensorSpec(from: decoder)
            spec.part = type
            kind = .temperature(spec)
        } else if part is any AnalogInputPart.Type {
            var spec = try CurrentLoopSpec(from: decoder)
            spec.part = type
            kind = .currentLoop(spec)
        } else if let interface = HwmonSpec.Interface(rawValue: type) {
            var spec = try HwmonSpec(from: decoder)
            spec.interface = interface
            kind = .hwmon(spec)
        } else if type == "modbus" {
            kind = .modbus(try ModbusDeviceSpec(from: decoder))
        } else if type == "digital_input" {
            kind = .digitalInput(try DigitalInputSpec(from: decoder))
        } else if type == "tachometer" {
            kind = .tachometer(try TachometerSpec(from: decoder))
        } else {
            throw DecodingError.dataCorruptedError(forKey: .type, in: c, debugDescription: "unknown sensor type \(type)")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(typeName, forKey: .type)
        switch kind {
        case .accelerometer(let s): try s.encode(to: encoder)
        case .temperature(let s): try s.encode(to: encoder)
        case .currentLoop(let s): try s.encode(to: encoder)
        case .hwmon(let s): try s.encode(to: encoder)
        case .modbus(let s): try s.encode(to: encoder)
        case .digitalInput(let s): try s.encode(to: encoder)
        case .tachometer(let s): try s.encode(to: encoder)
        }
    }
}

/// An accelerometer on I2C whose samples vigil analyses (FFT, ISO velocity, bands, peaks).
public struct AccelerometerSpec: Sendable, Equatable, Codable {
    public typealias Axis = AccelerometerAxis

    /// The part's `type` key (one of ``Parts``' accelerometers).
    public var part: String
    /// The part's facts.
    public var partFacts: (any AccelerometerPart.Type)? { Parts.named(part) as? any AccelerometerPart.Type }
    /// The `[i2c.NAME]` bus.
    public var bus: String
    /// 7-bit address.
    public var address: Int
    /// Output data rate, Hz; must be one the part supports.
    public var sampleRateHz: Double
    /// Full-scale range, ± g.
    public var rangeG: Int
    public var axes: [Axis]
    public var analysis: AnalysisSpec

    enum CodingKeys: String, CodingKey {
        case bus, address, axes, analysis
        case sampleRateHz = "sample_rate_hz", rangeG = "range_g"
    }

    public init(part: String, bus: String, address: Int, sampleRateHz: Double, rangeG: Int, axes: [Axis], analysis: AnalysisSpec) {
        self.part = part
        self.bus = bus
        self.address = address
        self.sampleRateHz = sampleRateHz
        self.rangeG = rangeG
        self.axes = axes
        self.analysis = analysis
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        part = "" // set by SensorSpec from the `type` key
        bus = try c.decode(String.self, forKey: .bus)
        address = try c.decode(Int.self, forKey: .address)
        sampleRateHz = try c.decode(Double.self, forKey: .sampleRateHz)
        rangeG = try c.decode(Int.self, forKey: .rangeG)
        axes = try c.decode([Axis].self, forKey: .axes)
        analysis = try c.decode(AnalysisSpec.self, forKey: .analysis)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(bus, forKey: .bus)
        try c.encode(address, forKey: .address)
        try c.encode(sampleRateHz, forKey: .sampleRateHz)
        try c.encode(rangeG, forKey: .rangeG)
        try c.encode(axes, forKey: .axes)
        try c.encode(analysis, forKey: .analysis)
    }
}

/// How an accelerometer's blocks are analysed.
public struct AnalysisSpec: Sendable, Equatable, Codable {
    /// FFT length, a power of two from 64 to 8192.
    public var blockLength: Int
    /// How often a block is analysed, ms (blocks overlap when this is shorter than the block).
    public var intervalMilliseconds: Int
    public var window: WindowKind
    /// ISO 10816/20816 velocity band, Hz.
    public var velocityBandHz: [Double]
    /// High-frequency acceleration band (bearing faults), Hz.
    public var highFrequencyBandHz: [Double]
    public var bands: BandPlan
    /// How many spectral peaks to report.
    public var peaks: Int
    /// ISO 10816-3 / 20816-3 machine classification for the zone.
    public var isoGroup: ISOZoneBoundaries.MachineGroup
    public var isoFoundation: ISOZoneBoundaries.Foundation

    enum CodingKeys: String, CodingKey {
        case window, bands, peaks
        case blockLength = "block", intervalMilliseconds = "interval_ms"
        case velocityBandHz = "velocity_band_hz", highFrequencyBandHz = "hf_band_hz"
        case isoGroup = "iso_group", isoFoundation = "iso_foundation"
    }
}

/// The energy bands of a spectrum frame.
public struct BandPlan: Sendable, Equatable, Codable {
    public enum Mode: String, Sendable, Codable, CaseIterable {
        /// `count` equal bands between `from_hz` and `to_hz`.
        case fixed
        /// `count` bands of one shaft order each (0.5–1.5×, 1.5–2.5×, ...), from an rpm channel.
        case orders
    }
    public var mode: Mode
    public var count: Int
    public var fromHz: Double
    public var toHz: Double
    /// The rpm channel for `orders` (a tachometer's `NAME.rpm`).
    public var rpmChannel: String?

    enum CodingKeys: String, CodingKey {
        case mode, count
        case fromHz = "from_hz", toHz = "to_hz", rpmChannel = "rpm_channel"
    }
}

/// A digital temperature sensor on I2C.
public struct TemperatureSensorSpec: Sendable, Equatable, Codable {
    /// The part's `type` key (one of ``Parts``' thermometers).
    public var part: String
    /// The part's facts.
    public var partFacts: (any ThermometerPart.Type)? { Parts.named(part) as? any ThermometerPart.Type }
    public var bus: String
    public var address: Int
    /// How often the temperature is read, ms.
    public var pollMilliseconds: Int

    enum CodingKeys: String, CodingKey {
        case bus, address
        case pollMilliseconds = "poll_ms"
    }

    public init(part: String, bus: String, address: Int, pollMilliseconds: Int) {
        self.part = part
        self.bus = bus
        self.address = address
        self.pollMilliseconds = pollMilliseconds
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        part = "" // set by SensorSpec from the `type` key
        bus = try c.decode(String.self, forKey: .bus)
        address = try c.decode(Int.self, forKey: .address)
        pollMilliseconds = try c.decode(Int.self, forKey: .pollMilliseconds)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(bus, forKey: .bus)
        try c.encode(address, forKey: .address)
        try c.encode(pollMilliseconds, forKey: .pollMilliseconds)
    }
}

/// A 4–20 mA current loop read by an I2C ADC across a shunt resistor: the loop current (with
/// NAMUR NE 43's failure levels) and the process value it stands for.
public struct CurrentLoopSpec: Sendable, Equatable, Codable {
    /// The ADC's `type` key (one of ``Parts``' analog inputs).
    public var part: String
    public var partFacts: (any AnalogInputPart.Type)? { Parts.named(part) as? any AnalogInputPart.Type }
    public var bus: String
    public var address: Int
    /// The ADC input the shunt is on: `AIN0` … single-ended, `AIN0-AIN1` differential.
    public var input: String
    /// The gain amplifier's full-scale range, ± V.
    public var rangeVolts: Double
    public var dataRateSPS: Int
    /// Single-shot conversions (one per poll, the part idle between) or continuous.
    public var continuous: Bool
    /// The shunt the loop current flows through, Ω.
    public var shuntOhms: Double
    /// The process value at 4 mA and at 20 mA, in `unit`.
    public var low: Double
    public var high: Double
    public var unit: PhysicalUnit
    public var pollMilliseconds: Int

    enum CodingKeys: String, CodingKey {
        case part, bus, address, input, continuous, low, high, unit
        case rangeVolts = "range_v", dataRateSPS = "data_rate_sps", shuntOhms = "shunt_ohms", pollMilliseconds = "poll_ms"
    }

    /// The loop current a conversion result stands for, mA.
    public func milliamps(volts: Double) -> Double { volts / shuntOhms * 1000 }
}

/// A sensor the kernel already drives (a device-tree overlay bound `lm75`, `ina219`, `ads1015`,
/// …), read through its hwmon class attribute or its IIO channel instead of from its I2C address,
/// which the kernel owns.
public struct HwmonSpec: Sendable, Equatable, Codable {
    /// The hwmon or IIO device's `name` (the kernel driver's name for the chip).
    public var device: String
    /// hwmon: the input attribute (`temp1_input`, `in0_input`, `curr1_input`, `fan1_input`).
    /// IIO: the channel (`in_voltage0`, `in_voltage0-voltage1`, `in_current1`, `in_temp`).
    public var attribute: String
    public var pollMilliseconds: Int
    /// Which kernel interface: the profile's `type` (not encoded separately).
    public var interface: Interface = .hwmon

    public enum Interface: String, Sendable, Codable {
        /// `/sys/class/hwmon/hwmon*/`: integer attributes in milli-units.
        case hwmon
        /// `/sys/bus/iio/devices/iio:device*/`: `_raw` × `_scale` (+ `_offset`) or `_input`, in
        /// the IIO ABI's milli-units; vigil's reader returns micro-units, to keep the fraction.
        case iio
    }

    public init(device: String, attribute: String, pollMilliseconds: Int, interface: Interface = .hwmon) {
        self.device = device
        self.attribute = attribute
        self.pollMilliseconds = pollMilliseconds
        self.interface = interface
    }

    enum CodingKeys: String, CodingKey {
        case device, attribute
        case pollMilliseconds = "poll_ms"
    }

    /// What an input attribute carries, by the hwmon sysfs ABI (Documentation/hwmon/sysfs-interface):
    /// its channel, and the factor from the ABI's unit (milli-) to the channel's.
    public struct Input: Sendable, Equatable {
        public var prefix: String
        public var channel: ChannelTemplate
        public var scale: Double
    }

    public static let inputs: [Input] = [
        Input(prefix: "temp", channel: ChannelTemplate(suffix: "temperature", quantity: .temperature, unit: .degreesCelsius,
                                                        resolution: 0.01, deadband: 0.2, range: .fixed(-55, 150)), scale: 0.001),
        Input(prefix: "in", channel: ChannelTemplate(suffix: "voltage", quantity: .processValue, unit: .volt,
                                                      resolution: 0.001, deadband: 0.01, range: .fixed(-100, 100)), scale: 0.001),
        Input(prefix: "curr", channel: ChannelTemplate(suffix: "current", quantity: .processValue, unit: .ampere,
                                                        resolution: 0.001, deadband: 0.01, range: .fixed(-100, 100)), scale: 0.001),
        Input(prefix: "fan", channel: ChannelTemplate(suffix: "fan_speed", quantity: .shaftSpeed, unit: .revolutionsPerMinute,
                                                       resolution: 1, deadband: 10, range: .fixed(0, 100_000)), scale: 1),
    ]

    /// The input an attribute name is (`temp1_input` → temp), nil for one vigil does not read.
    public static func input(of attribute: String) -> Input? {
        guard attribute.hasSuffix("_input") else { return nil }
        let stem = attribute.dropLast("_input".count)
        return inputs.first { i in
            stem.hasPrefix(i.prefix) && !stem.dropFirst(i.prefix.count).isEmpty && stem.dropFirst(i.prefix.count).allSatisfy(\.isNumber)
        }
    }

    /// An IIO channel's input (Documentation/ABI/testing/sysfs-bus-iio: voltage in mV, current in
    /// mA, temperature in m°C, which vigil's reader returns ×1000): `in_voltageN`, a differential
    /// `in_voltageN-voltageM`, `in_currentN`, `in_temp` or `in_tempN`; nil for any other.
    public static func iioInput(of channel: String) -> Input? {
        for (prefix, hwmonPrefix) in [("in_voltage", "in"), ("in_current", "curr"), ("in_temp", "temp")] where channel.hasPrefix(prefix) {
            let rest = channel.dropFirst(prefix.count)
            let index = rest.prefix { $0.isNumber }
            let tail = rest.dropFirst(index.count)
            let differential = prefix == "in_voltage" && !index.isEmpty && tail.hasPrefix("-voltage") && tail.count > 8 && tail.dropFirst(8).allSatisfy(\.isNumber)
            guard tail.isEmpty && (!index.isEmpty || prefix == "in_temp") || differential else { return nil }
            guard var input = inputs.first(where: { $0.prefix == hwmonPrefix }) else { return nil }
            input.scale = 1e-6
            return input
        }
        return nil
    }

    public var input: Input? { interface == .iio ? Self.iioInput(of: attribute) : Self.input(of: attribute) }
}

/// A Modbus slave described entirely by its register map.
public struct ModbusDeviceSpec: Sendable, Equatable, Codable {
    /// A `[serial.NAME]` port (RTU) or a `[modbus_tcp.NAME]` server.
    public var port: String
    /// Slave address / unit id, 1–247.
    public var unit: Int
    public var pollMilliseconds: Int
    public var timeoutMilliseconds: Int
    /// Further attempts after a timeout or CRC error before the poll counts as failed.
    public var retries: Int
    public var registers: [ModbusRegisterSpec]

    enum CodingKeys: String, CodingKey {
        case port, unit, retries, registers
        case pollMilliseconds = "poll_ms", timeoutMilliseconds = "timeout_ms"
    }
}

/// One value in a Modbus register map.
public struct ModbusRegisterSpec: Sendable, Equatable, Codable {
    /// Channel name, local to the sensor (the full name is `SENSOR.CHANNEL`).
    public var channel: String
    /// Protocol (PDU) address, 0-based: holding register 40001 is address 0.
    public var address: Int
    /// The table: holding or input registers, coils or discrete inputs.
    public var function: ModbusTable
    public var type: ModbusValueType
    /// Byte order of the value's bytes (``ModbusByteOrder``).
    public var order: ModbusByteOrder
    /// `value = raw * scale + offset`.
    public var scale: Double
    public var offset: Double
    public var unit: PhysicalUnit
    /// One bit of a 16-bit register (0 = least significant): the value is 0 or 1.
    public var bit: Int?
    /// The register (same table) holding a power-of-ten exponent for the value (int16, SunSpec "sunssf").
    public var scaleFactorAddress: Int?

    enum CodingKeys: String, CodingKey {
        case channel, address, function, type, order, scale, offset, unit, bit
        case scaleFactorAddress = "scale_factor"
    }

    public init(channel: String, address: Int, function: ModbusTable, type: ModbusValueType, order: ModbusByteOrder,
                scale: Double, offset: Double, unit: PhysicalUnit, bit: Int? = nil, scaleFactorAddress: Int? = nil) {
        self.channel = channel
        self.address = address
        self.function = function
        self.type = type
        self.order = order
        self.scale = scale
        self.offset = offset
        self.unit = unit
        self.bit = bit
        self.scaleFactorAddress = scaleFactorAddress
    }

    /// The address after the last register (or bit) this value occupies.
    public var endAddress: Int { address + (function.isBitTable ? 1 : type.wordCount) }
}

/// A digital input: an e-stop feedback contact, a door switch, a machine-running signal.
public struct DigitalInputSpec: Sendable, Equatable, Codable {
    public var line: LineRef
    public var activeLow: Bool
    public var bias: LineBias
    /// Software debounce: a change counts once stable for this long, ms (0 = off).
    public var debounceMilliseconds: Int
    /// The debounce of a change towards a level that a rule on this input acts on (its trip or
    /// warn side), ms: 0 (the default) counts it at once, so a contact chattering faster than
    /// `debounceMilliseconds` cannot hold the healthy level; only the return to healthy waits for
    /// `debounceMilliseconds`.
    public var debounceTripMilliseconds: Int

    enum CodingKeys: String, CodingKey {
        case line, bias
        case activeLow = "active_low", debounceMilliseconds = "debounce_ms", debounceTripMilliseconds = "debounce_trip_ms"
    }
}

/// A pulse input turned into shaft speed from the kernel's edge timestamps.
public struct TachometerSpec: Sendable, Equatable, Codable {
    public var line: LineRef
    public var pulsesPerRevolution: Int
    public var edge: Edge
    public var bias: LineBias
    /// With no pulse for this long the shaft has stopped, or the sensor has, ms.
    public var stallMilliseconds: Int
    /// The highest speed the machine can run: pulses closer together than it allows make the
    /// channel out of range (never a smaller speed).
    public var maxRPM: Double
    /// Whether a stopped shaft is a state of the machine (0 rpm, a good value) or, as by default, a
    /// sensor that stopped (stale: a broken sensor must not read as a machine at rest).
    public var mayStandStill: Bool

    enum CodingKeys: String, CodingKey {
        case line, edge, bias
        case pulsesPerRevolution = "pulses_per_revolution", stallMilliseconds = "stall_ms", maxRPM = "max_rpm", mayStandStill = "may_stand_still"
    }
}
