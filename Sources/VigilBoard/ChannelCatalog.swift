import VigilBase
import VigilHAL
import VigilFrames
import VigilParts

/// One channel of the node: a named, unit-bearing value stream with a small id for frames.
public struct ChannelDescriptor: Sendable, Equatable, Codable {
    /// 1-based id carried by data frames instead of the name.
    public var id: Int
    public var name: String
    /// The sensor that produces it (`interlock` and `loop` for the node's own channels).
    public var sensor: String
    public var quantity: ChannelQuantity
    public var axis: AccelerometerSpec.Axis?
    public var unit: PhysicalUnit
    /// Step of the scaled integer in frames, in `unit`.
    public var resolution: Double
    public var rangeMin: Double
    public var rangeMax: Double
    /// A value older than this is stale (a fault for the interlock), ms.
    public var maxAgeMilliseconds: Int
    /// Report-by-exception deadband, in `unit` (0: every change is sent).
    public var deadband: Double
    /// How often a new value is produced, ms.
    public var updateIntervalMilliseconds: Int
    /// Whether this is a spectrum (band energies) rather than a scalar.
    public var isSpectrum: Bool { quantity == .bandEnergies }

    enum CodingKeys: String, CodingKey {
        case id, name, sensor, quantity, axis, unit, resolution, deadband
        case rangeMin = "range_min", rangeMax = "range_max", maxAgeMilliseconds = "max_age_ms"
        case updateIntervalMilliseconds = "update_interval_ms"
    }
}

/// Every channel a profile's sensors produce, in a stable order (sensors in file order, then the
/// node's own channels), with per-channel settings applied.
public struct ChannelCatalog: Sendable, Equatable, Codable {
    public var channels: [ChannelDescriptor]

    public init(channels: [ChannelDescriptor]) { self.channels = channels }

    public subscript(name: String) -> ChannelDescriptor? { channels.first { $0.name == name } }
    public func channel(id: Int) -> ChannelDescriptor? { id >= 1 && id <= channels.count ? channels[id - 1] : nil }
    public var names: [String] { channels.map(\.name) }

    /// Derives the catalog from a profile's sensors (settings are not applied).
    public static func derive(from profile: BoardProfile) -> (catalog: ChannelCatalog, duplicates: [(name: String, sensorIndex: Int, registerIndex: Int?)]) {
        var list: [ChannelDescriptor] = []
        var duplicates: [(String, Int, Int?)] = []
        let periodMs = max(1, profile.realtime.periodMicroseconds / 1000)
        func add(_ name: String, _ sensor: String, _ quantity: ChannelQuantity, _ axis: AccelerometerSpec.Axis?, _ unit: PhysicalUnit,
                 resolution: Double, range: (Double, Double), update: Int, maxAge: Int, deadband: Double, sensorIndex: Int, registerIndex: Int? = nil) {
            if list.contains(where: { $0.name == name }) {
                duplicates.append((name, sensorIndex, registerIndex))
                return
            }
            list.append(ChannelDescriptor(id: list.count + 1, name: name, sensor: sensor, quantity: quantity, axis: axis, unit: unit,
                                          resolution: resolution, rangeMin: range.0, rangeMax: range.1, maxAgeMilliseconds: maxAge,
                                          deadband: deadband, updateIntervalMilliseconds: update))
        }
        func add(_ name: String, _ sensor: String, _ t: ChannelTemplate, axis: AccelerometerSpec.Axis? = nil, fullScale: Double = 0,
                 update: Int, maxAge: Int, sensorIndex: Int) {
            add(name, sensor, t.quantity, axis, t.unit, resolution: t.resolution, range: t.bounds(fullScale: fullScale), update: update,
                maxAge: maxAge, deadband: t.deadband, sensorIndex: sensorIndex)
        }
        for (index, sensor) in profile.sensors.enumerated() {
            let n = sensor.name
            switch sensor.kind {
            case .accelerometer(let a):
                let interval = a.analysis.intervalMilliseconds
                let blockMs = Int((Double(a.analysis.blockLength) / a.sampleRateHz * 1000).rounded(.up))
                let age = 3 * max(interval, 1) + blockMs
                for axis in a.axes {
                    for metric in VibrationMetric.allCases {
                        add("\(n).\(axis.rawValue).\(metric.channel.suffix)", n, metric.channel, axis: axis, fullScale: Double(a.rangeG),
                            update: interval, maxAge: age, sensorIndex: index)
                    }
                }
            case .temperature(let t):
                for channel in t.partFacts?.channels ?? [] {
                    add("\(n).\(channel.suffix)", n, channel, update: t.pollMilliseconds, maxAge: max(3 * t.pollMilliseconds, 500), sensorIndex: index)
                }
            case .hwmon(let h):
                guard let input = h.input else { continue }
                add("\(n).\(input.channel.suffix)", n, input.channel, update: h.pollMilliseconds, maxAge: max(3 * h.pollMilliseconds, 500), sensorIndex: index)
            case .currentLoop(let c):
                let age = max(3 * c.pollMilliseconds, 500)
                let current = CurrentLoop.currentChannel
                add("\(n).\(current.suffix)", n, current, update: c.pollMilliseconds, maxAge: age, sensorIndex: index)
                // The process value's range: what 3.8–20.5 mA (NE 43's measuring range) stands for.
                let a = CurrentLoop.value(milliamps: CurrentLoop.measuringRange.lowerBound, low: c.low, high: c.high)
                let b = CurrentLoop.value(milliamps: CurrentLoop.measuringRange.upperBound, low: c.low, high: c.high)
                let resolution = Self.defaultResolution(scale: abs(c.high - c.low) / 16000, type: .int32)
                add("\(n).\(CurrentLoop.valueSuffix)", n, .processValue, nil, c.unit, resolution: resolution, range: (min(a, b), max(a, b)),
                    update: c.pollMilliseconds, maxAge: age, deadband: resolution * 10, sensorIndex: index)
            case .modbus(let m):
                let age = 3 * m.pollMilliseconds + (m.retries + 1) * m.timeoutMilliseconds
                for (ri, r) in m.registers.enumerated() {
                    let range = Self.naturalRange(r)
                    let bit = r.function.isBitTable || r.bit != nil
                    // A scale factor moves the step with the device's sf: 0.001 of the unit is fine enough.
                    let resolution = bit ? 1 : r.scaleFactorAddress != nil ? 0.001 : Self.defaultResolution(scale: r.scale, type: r.type)
                    add("\(n).\(r.channel)", n, bit ? .digitalState : .modbusValue, nil, r.unit,
                        resolution: resolution, range: range, update: m.pollMilliseconds, maxAge: age,
                        deadband: bit ? 0 : resolution * 10, sensorIndex: index, registerIndex: ri)
                }
            case .digitalInput(let d):
                add("\(n).state", n, .digitalState, nil, .state, resolution: 1, range: (0, 1), update: periodMs,
                    maxAge: max(100, 20 * periodMs + d.debounceMilliseconds), deadband: 0, sensorIndex: index)
            case .tachometer(let t):
                add("\(n).rpm", n, .shaftSpeed, nil, .revolutionsPerMinute, resolution: 0.1, range: (0, t.maxRPM),
                    update: periodMs, maxAge: max(100, 20 * periodMs), deadband: 5, sensorIndex: index)
            }
        }
        add("interlock.state", "interlock", .interlockState, nil, .state, resolution: 1, range: (0, 3), update: periodMs,
            maxAge: 1000, deadband: 0, sensorIndex: -1)
        add("loop.lateness_p99_us", "loop", .loopLatenessP99, nil, .microseconds, resolution: 1, range: (0, 1e9), update: 1000,
            maxAge: 5000, deadband: 50, sensorIndex: -1)
        add("loop.overruns", "loop", .loopOverruns, nil, .count, resolution: 1, range: (0, 1e15), update: 1000,
            maxAge: 5000, deadband: 0, sensorIndex: -1)
        return (ChannelCatalog(channels: list), duplicates)
    }

    /// Applies `[channels."NAME"]` settings; returns the names that match no channel.
    mutating func apply(_ settings: [ChannelSettings]) -> [String] {
        var unknown: [String] = []
        for s in settings {
            guard let i = channels.firstIndex(where: { $0.name == s.name }) else { unknown.append(s.name); continue }
            if let v = s.deadband { channels[i].deadband = v }
            if let v = s.resolution { channels[i].resolution = v }
            if let v = s.rangeMin { channels[i].rangeMin = v }
            if let v = s.rangeMax { channels[i].rangeMax = v }
            if let v = s.maxAgeMilliseconds { channels[i].maxAgeMilliseconds = v }
        }
        return unknown
    }

    /// The values a register can hold after scaling.
    static func naturalRange(_ r: ModbusRegisterSpec) -> (Double, Double) {
        let raw: (Double, Double)
        switch r.type {
        case .int16: raw = (-32768, 32767)
        case .uint16: raw = (0, 65535)
        case .int32: raw = (-2_147_483_648, 2_147_483_647)
        case .uint32: raw = (0, 4_294_967_295)
        case .float32: raw = (-3.4e38, 3.4e38)
        case .int64: raw = (-9.223372036854775808e18, 9.223372036854775807e18)
        case .uint64: raw = (0, 1.8446744073709551615e19)
        case .float64: raw = (-1.7e308, 1.7e308)
        case .bool: raw = (0, 1)
        }
        if r.bit != nil { return (0, 1) }
        // A scale factor may be as large as 10^10 (SunSpec's range).
        if r.scaleFactorAddress != nil {
            let a = raw.0 * 1e10 * abs(r.scale) + r.offset, b = raw.1 * 1e10 * abs(r.scale) + r.offset
            return (min(a, b), max(a, b))
        }
        let a = raw.0 * r.scale + r.offset, b = raw.1 * r.scale + r.offset
        return (min(a, b), max(a, b))
    }

    /// One raw step of the register, rounded to a power of ten (frames carry decimal steps).
    static func defaultResolution(scale: Double, type: ModbusValueType) -> Double {
        if type == .float32 || type == .float64 { return 0.001 }
        var step = 1.0
        let target = abs(scale)
        while step > target * 1.0000001 && step > 1e-9 { step /= 10 }
        while step * 10 <= target * 1.0000001 { step *= 10 }
        return step
    }
}
