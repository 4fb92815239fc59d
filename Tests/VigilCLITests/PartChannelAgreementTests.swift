import Testing
import TestSupport
import VigilAgent
import VigilBase
import VigilBoard
import VigilBoardSimulated
import VigilDrivers
import VigilFrames
import VigilInterlock
import VigilLoop
import VigilParts
import VigilRuntime
import VigilSimulation
@testable import VigilAgent

/// Every registered part, run on a simulated board of its own: the channel list its part file
/// gives, the profile's channel catalog, what the node cycle writes and what the frame encoder
/// carries all agree (names, units, quantities, order).
@Suite(.serialized) struct PartChannelAgreementTests {
    /// The channels a sensor named `sensor` of `part` produces, from the part's facts alone.
    static func expectedChannels(_ part: any SensorPart.Type, sensor: String) -> [(name: String, template: ChannelTemplate)] {
        switch part {
        case let accelerometer as any AccelerometerPart.Type:
            _ = accelerometer
            return AccelerometerAxis.allCases.flatMap { axis in
                VibrationMetric.allCases.map { ("\(sensor).\(axis.rawValue).\($0.channel.suffix)", $0.channel) }
            }
        case let thermometer as any ThermometerPart.Type:
            return thermometer.channels.map { ("\(sensor).\($0.suffix)", $0) }
        case is any AnalogInputPart.Type:
            // The loop current, then the process value in the profile's unit (0–16 bar: one code
            // of the 16 mA span is 0.001 bar).
            let value = ChannelTemplate(suffix: CurrentLoop.valueSuffix, quantity: .processValue, unit: .bar, resolution: 0.001, deadband: 0.01,
                                        range: .fixed(0, 16))
            return [("\(sensor).\(CurrentLoop.currentChannel.suffix)", CurrentLoop.currentChannel), ("\(sensor).\(value.suffix)", value)]
        default:
            return []
        }
    }

    /// A simulated board with one sensor of `part` and nothing else.
    static func profile(_ part: any SensorPart.Type) -> String {
        var sensor = "[[sensors]]\nname = \"probe\"\ntype = \"\(part.typeName)\"\nbus = \"sensors\"\n"
        if let i2c = part as? any I2CPart.Type { sensor += "address = \(i2c.addresses[0])\n" }
        if part is any AccelerometerPart.Type { sensor += "[sensors.analysis]\nblock = 1024\ninterval_ms = 250\n" }
        if part is any AnalogInputPart.Type { sensor += "input = \"AIN0\"\nshunt_ohms = 150\nlow = 0\nhigh = 16\nunit = \"bar\"\n" }
        return """
        schema = 1
        [board]
        name = "agreement"
        models = []
        backend = "simulated"
        [asset]
        site = "s"
        area = "a"
        line = "l"
        machine = "m"
        node = "n"
        [i2c.sensors]
        adapter = "sim"
        clock_hz = 400000
        \(sensor)
        """
    }

    @Test(arguments: Parts.all.map { $0.typeName })
    func thePartsChannelsAreTheCatalogsTheCyclesAndTheFramesChannels(typeName: String) throws {
        let part = try #require(Parts.named(typeName))
        #expect(part is any SimulatedI2CPart.Type, "\(typeName) has no register model")
        #expect(part is any AccelerometerDriverPart.Type || part is any ThermometerDriverPart.Type || part is any AnalogInputDriverPart.Type,
                "\(typeName) has no driver")
        let loaded = try BoardProfileLoader.load(bytes: Array(Self.profile(part).utf8), path: "\(typeName).toml")
        let expected = Self.expectedChannels(part, sensor: "probe")
        #expect(!expected.isEmpty)

        // The catalog: the part's channels first, in its order, with its units and quantities.
        let catalog = Array(loaded.channels.channels.prefix(expected.count))
        #expect(catalog.map(\.name) == expected.map(\.name))
        #expect(catalog.map(\.unit) == expected.map(\.template.unit))
        #expect(catalog.map(\.quantity) == expected.map(\.template.quantity))
        #expect(catalog.map(\.resolution) == expected.map(\.template.resolution))
        #expect(loaded.channels.channels.dropFirst(expected.count).allSatisfy { $0.sensor == "interlock" || $0.sensor == "loop" })

        // The cycle writes every one of them, with a value.
        let clock = SimulationClock.manual()
        let board = SimulatedBoard(loaded, clock: clock)
        let node = try NodeAssembly.assemble(on: board)
        let body = NodeLoopBody(node.cycle)
        try node.cycle.startSensors()
        for index in 0..<Int64(1500) {
            let now = clock.now
            body.cycle(CycleTiming(deadline: now, wake: now, index: index, isWarmUp: false, deadlineBurst: false, previousMetDeadline: true))
            let next = now.nanoseconds + 1_000_000
            if clock.now.nanoseconds < next { clock.advance(byNanoseconds: next - clock.now.nanoseconds) }
        }
        for (i, c) in catalog.enumerated() {
            let s = node.cycle.sample(i)
            #expect(s.time != .zero && s.value.isFinite && s.quality.isDisjoint(with: .unusable), "\(c.name): \(s)")
        }

        // The frames: the birth's channel table is the catalog's; a data frame carries every
        // scalar channel and encodes and decodes to itself.
        let producer = FrameProducer(loaded: loaded, session: 1, sessionStart: .zero)
        let stamp = Timestamp(monotonic: clock.now, wallClock: board.wallClock(), clockSync: .synchronized)
        let birth = producer.birth(at: stamp)
        guard case .birth(let table) = birth.body else { Issue.record("not a birth"); return }
        #expect(Array(table.channels.prefix(expected.count).map(\.name)) == expected.map(\.name))
        #expect(Array(table.channels.prefix(expected.count).map(\.unit)) == expected.map(\.template.unit.rawValue))
        #expect(Array(table.channels.prefix(expected.count).map(\.quantity)) == expected.map(\.template.quantity.rawValue))
        var updates: [ChannelUpdate] = []
        while let u = node.cycle.updates.pop() { updates.append(u) }
        let last = updates.suffix(loaded.channels.channels.count)
        let data = try #require(producer.data(last, at: stamp))
        guard case .data(let values) = data.body else { Issue.record("not data"); return }
        let scalars = catalog.filter { !$0.isSpectrum }.map(\.id)
        #expect(scalars.allSatisfy { id in values.contains { $0.channel == id } }, "data frame ids \(values.map(\.channel)), scalars \(scalars)")
        for frame in [birth, data] {
            let bytes = try frame.encoded()
            guard case .frame(let decoded, let n) = FrameDecoder.decode(bytes) else { Issue.record("\(frame.header.type) does not decode"); continue }
            #expect(n == bytes.count && decoded == frame)
        }
    }
}
