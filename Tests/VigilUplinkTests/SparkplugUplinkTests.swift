#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization
import Testing
import TestSupport
import VigilBase
import VigilFrames
import VigilSparkplug
@testable import VigilUplink

/// The Sparkplug B uplink against a real mosquitto and an independent Sparkplug host from PyPI
/// (pysparkplug): what the host decodes, not what vigil's own code thinks it sent.
@Suite(.serialized) struct SparkplugUplinkTests {
    static let channels = [
        ChannelInfo(id: 1, name: "bearing.x.velocity_rms", quantity: 5, unit: "mm/s", resolution: 0.001, updateIntervalMilliseconds: 1000, isSpectrum: false),
        ChannelInfo(id: 2, name: "bearing.x.iso_zone", quantity: 7, unit: "state", resolution: 1, updateIntervalMilliseconds: 1000, isSpectrum: false),
        ChannelInfo(id: 3, name: "bearing.x.bands", quantity: 8, unit: "g", resolution: 0.00001, updateIntervalMilliseconds: 1000, isSpectrum: true),
        ChannelInfo(id: 4, name: "motor.temperature", quantity: 9, unit: "degC", resolution: 0.01, updateIntervalMilliseconds: 1000, isSpectrum: false),
        ChannelInfo(id: 5, name: "interlock.state", quantity: 13, unit: "state", resolution: 1, updateIntervalMilliseconds: 1, isSpectrum: false),
        ChannelInfo(id: 6, name: "loop.overruns", quantity: 15, unit: "count", resolution: 1, updateIntervalMilliseconds: 1000, isSpectrum: false),
    ]
    static let identity = SparkplugIdentity(groupID: "plant", edgeNodeID: "press-7", devices: ["bearing", "motor"], rules: ["bearing-trip", "motor-hot"])

    static func header(_ type: FrameType, _ seq: UInt32, historical: Bool = false) -> FrameHeader {
        FrameHeader(type: type, session: 9, sequence: seq, wallClockMilliseconds: 1_795_000_000_000 + Int64(seq), monotonicMilliseconds: seq,
                    clockSync: .synchronized, historical: historical)
    }
    static func birth(losses: [LossCount] = [LossCount(.evictedData, 3)]) -> Frame {
        Frame(header: header(.birth, 0), body: .birth(BirthBody(firmware: "vigil 0.1.0", asset: "s/a/l/m/press-7", profileName: "test",
                                                               profileHash: Array(repeating: 0xAB, count: 32), channels: channels, losses: losses)))
    }
    static func death() -> Frame { Frame(header: header(.death, 0), body: .death(.connectionLost)) }
    static func data(_ seq: UInt32, _ values: [DataValue], historical: Bool = false) -> Frame {
        Frame(header: header(.data, seq, historical: historical), body: .data(values))
    }

    struct Bench {
        let directory = TestPaths.makeTemporaryDirectory("sparkplug")
        let broker: Mosquitto
        let host: SparkplugHost
        init() throws {
            broker = try Mosquitto(directory: directory)
            host = try SparkplugHost(port: broker.port)
        }
        func settings(primaryHost: String? = nil, qos: Int = 0) -> SparkplugSettings {
            let connection = MQTTConnection(broker: broker.uri, clientID: "vigil-sp-\(getpid())-\(Int.random(in: 0..<1_000_000))", version: 5,
                                            keepAliveSeconds: 10, connectTimeoutMilliseconds: 3000)
            return SparkplugSettings(connection: connection, identity: SparkplugUplinkTests.identity, primaryHostID: primaryHost, dataQoS: qos,
                                     bdSeqFile: "\(directory)/sparkplug-bdseq")
        }
    }

    /// NBIRTH (seq 0, bdSeq, node metrics) and a DBIRTH per sensor, every metric with its name,
    /// alias, datatype, unit and quality; then DDATA/NDATA by alias only, which the host resolves
    /// through the births to the values vigil sent.
    @Test func theHostDecodesBirthsAndDataWithEveryMetric() throws {
        let b = try Bench()
        defer { TestPaths.removeTree(b.directory) }
        let uplink = SparkplugUplink(b.settings())
        try uplink.connect(birth: Self.birth(), death: Self.death())
        let values = [DataValue(channel: 1, quality: [], raw: 1364), DataValue(channel: 2, quality: [], raw: 1),
                      DataValue(channel: 4, quality: .stale, raw: 4321), DataValue(channel: 5, quality: [], raw: 2)]
        let spectrum = Frame(header: Self.header(.spectrum, 2), body: .spectrum(SpectrumBody(channel: 3, quality: [], orderBands: false, start: 0, width: 39_063, raw: [2123, 705, 426])))
        let event = Frame(header: Self.header(.event, 3), body: .event(EventBody(kind: EventKind.tripped.rawValue, reason: 0, rule: 0, channel: 1, value: 7.5, limit: 4.5)))
        #expect(try uplink.send([Self.data(1, values), spectrum, event]) == 3)
        #expect(b.host.waitFor(seconds: 10) { m in m.contains { $0.string("type") == "NDATA" && $0.metrics.contains { $0.string("name") == "rules/bearing-trip/last_event" } } })
        let all = b.host.messages
        #expect(all.allSatisfy { $0["error"] == nil }, "\(all.filter { $0["error"] != nil })")
        let nbirth = try #require(b.host.messages("NBIRTH").first)
        #expect(nbirth.int("seq") == 0)
        #expect(nbirth.string("topic") == "spBv1.0/plant/NBIRTH/press-7")
        let nodeMetrics = Dictionary(uniqueKeysWithValues: nbirth.metrics.map { ($0.string("name") ?? "?", $0) })
        #expect(nodeMetrics["bdSeq"]?.int("value") == Int(uplink.bdSeq))
        #expect(nodeMetrics["bdSeq"]?.string("datatype") == "UINT64")
        #expect(nodeMetrics["Node Control/Rebirth"]?.string("datatype") == "BOOLEAN")
        #expect(nodeMetrics["Properties/Firmware"]?.string("value") == "vigil 0.1.0")
        #expect(nodeMetrics["Properties/Profile SHA-256"]?.string("value") == String(repeating: "ab", count: 32))
        #expect(nodeMetrics["Losses/evicted_data"]?.int("value") == 3)
        #expect(nodeMetrics["interlock/state"]?.string("datatype") == "INT64")
        #expect(nodeMetrics["clock/state"]?.string("value") == "synchronized")
        #expect(nodeMetrics["loop/overruns"] != nil && nodeMetrics["rules/motor-hot/last_event"] != nil && nodeMetrics["interlock/last_event"] != nil)
        let dbirths = b.host.messages("DBIRTH")
        #expect(dbirths.map { $0.string("device") } == ["bearing", "motor"])
        #expect(dbirths.map { $0.int("seq") } == [1, 2])
        let bearing = Dictionary(uniqueKeysWithValues: dbirths[0].metrics.map { ($0.string("name") ?? "?", $0) })
        #expect(Set(bearing.keys) == ["x/velocity_rms", "x/iso_zone", "x/bands"])
        #expect(bearing["x/velocity_rms"]?.int("alias") == 1)
        #expect(bearing["x/velocity_rms"]?.string("datatype") == "DOUBLE")
        #expect(bearing["x/bands"]?.string("datatype") == "FLOAT_ARRAY")
        let props = bearing["x/velocity_rms"]?["properties"] as? [String: Any]
        #expect(props?["engUnit"] as? String == "mm/s")
        #expect((props?["Quality"] as? NSNumber)?.intValue == 0, "no value yet: bad quality")
        // Every alias is unique across the node and its devices.
        let aliases = (nbirth.metrics + dbirths.flatMap(\.metrics)).compactMap { $0.int("alias") }
        #expect(Set(aliases).count == aliases.count)
        #expect(aliases.count == nbirth.metrics.count - 1 + dbirths.flatMap(\.metrics).count, "every metric but bdSeq has an alias")

        let ddata = b.host.messages("DDATA")
        let bearingData = try #require(ddata.first { $0.string("device") == "bearing" && $0.metrics.contains { $0.string("name") == "x/velocity_rms" } })
        let v = try #require(bearingData.metrics.first { $0.string("name") == "x/velocity_rms" })
        #expect(abs(((v["value"] as? NSNumber)?.doubleValue ?? 0) - 1.364) < 1e-9)
        #expect(bearingData.metrics.first { $0.string("name") == "x/iso_zone" }?.int("value") == 1)
        let motor = try #require(ddata.first { $0.string("device") == "motor" }?.metrics.first)
        #expect(abs(((motor["value"] as? NSNumber)?.doubleValue ?? 0) - 43.21) < 1e-9)
        #expect(((motor["properties"] as? [String: Any])?["qualityFlags"] as? String) == "stale")
        let bands = try #require(ddata.first { $0.metrics.contains { $0.string("name") == "x/bands" } }?.metrics.first { $0.string("name") == "x/bands" })
        let floats = (bands["value"] as? [Any])?.compactMap { ($0 as? NSNumber)?.doubleValue } ?? []
        #expect(floats.count == 3 && abs(floats[0] - 0.02123) < 1e-6, "\(bands)")
        let ndata = b.host.messages("NDATA")
        #expect(ndata.flatMap(\.metrics).contains { $0.string("name") == "interlock/state" && $0.int("value") == 2 })
        #expect(!ndata.flatMap(\.metrics).contains { $0.string("name") == "clock/state" }, "the clock state is sent only when it changes")
        // The clock losing its sync is a node metric at once.
        var unsynced = Self.data(4, [DataValue(channel: 5, quality: [], raw: 2)])
        unsynced.header.clockSync = .unsynchronized
        #expect(try uplink.send([unsynced]) == 1)
        #expect(b.host.waitFor(seconds: 5) { m in m.flatMap(\.metrics).contains { $0.string("name") == "clock/state" && $0.string("value") == "unsynchronized" } })
        let tripped = try #require(ndata.flatMap(\.metrics).first { $0.string("name") == "rules/bearing-trip/last_event" })
        #expect(tripped.string("value") == "tripped")
        let eventProps = tripped["properties"] as? [String: Any]
        #expect((eventProps?["limit"] as? NSNumber)?.doubleValue == 4.5 && (eventProps?["value"] as? NSNumber)?.doubleValue == 7.5)
        #expect(eventProps?["channel"] as? String == "bearing/x/velocity_rms")
        uplink.disconnect(death: Self.death())
        #expect(b.host.waitFor(seconds: 5) { $0.contains { $0.string("type") == "NDEATH" } })
        #expect(b.host.messages("NDEATH").first?.int("bdSeq") == Int(uplink.bdSeq))
    }

    /// `seq` runs 0–255 over every node and device message of a session and wraps to 0.
    @Test func seqWrapsPast255() throws {
        let b = try Bench()
        defer { TestPaths.removeTree(b.directory) }
        let uplink = SparkplugUplink(b.settings())
        try uplink.connect(birth: Self.birth(), death: Self.death())
        // Alternate devices and the node so every kind of message takes a seq.
        let frames = (1...300).map { i in Self.data(UInt32(i), [DataValue(channel: i % 2 == 0 ? 1 : 5, quality: [], raw: Int64(i))]) }
        var sent = 0
        while sent < frames.count { sent += try uplink.send(Array(frames[sent..<min(frames.count, sent + 32)])) }
        #expect(b.host.waitFor(seconds: 10) { $0.filter { ["NDATA", "DDATA"].contains($0.string("type") ?? "") }.count == 300 })
        let seqs = b.host.messages.filter { $0.string("type") != "NDEATH" }.compactMap { $0.int("seq") }
        #expect(seqs.count == 303)
        #expect(seqs.first == 0)
        #expect(zip(seqs, seqs.dropFirst()).allSatisfy { ($0 + 1) % 256 == $1 }, "\(seqs)")
        #expect(seqs.filter { $0 == 0 }.count == 2, "the NBIRTH's 0 and one wrap")
        uplink.disconnect(death: Self.death())
    }

    /// `Node Control/Rebirth` yields NBIRTH and every DBIRTH on the same connection: seq from 0
    /// again, bdSeq unchanged. Every other command (a write to any metric, a DCMD, a payload that
    /// is not protobuf) is refused and logged.
    @Test func aRebirthComesWithoutAReconnectAndEveryWriteIsRefused() throws {
        let b = try Bench()
        defer { TestPaths.removeTree(b.directory) }
        let uplink = SparkplugUplink(b.settings())
        let logged = Mutex<[String]>([])
        uplink.log = { line in logged.withLock { $0.append(line) } }
        try uplink.connect(birth: Self.birth(), death: Self.death())
        _ = try uplink.send([Self.data(1, [DataValue(channel: 1, quality: [], raw: 5)])])
        #expect(b.host.command("ncmd plant press-7 Interlock/Reset true"))
        #expect(b.host.command("ncmd plant press-7 Node Control/Rebirth false"))
        #expect(b.host.command("dcmd plant press-7 bearing x/velocity_rms 0"))
        #expect(b.host.command("garbage plant press-7"))
        usleep(300_000)
        #expect(!uplink.takeRebirthRequest(), "a write was taken for a rebirth")
        #expect(logged.withLock { $0 }.filter { $0.contains("refused") || $0.contains("not a Sparkplug payload") }.count == 4, "\(logged.withLock { $0 })")
        #expect(logged.withLock { $0 }.contains { $0.contains("Interlock/Reset") })

        #expect(b.host.command("ncmd plant press-7 Node Control/Rebirth true"))
        var asked = false
        let deadline = monotonicSeconds() + 5
        while !asked && monotonicSeconds() < deadline { asked = uplink.takeRebirthRequest(); usleep(20_000) }
        #expect(asked)
        #expect(try uplink.send([Self.birth()]) == 1)
        _ = try uplink.send([Self.data(2, [DataValue(channel: 4, quality: [], raw: 100)])])
        #expect(b.host.waitFor(seconds: 5) { $0.filter { $0.string("type") == "NBIRTH" }.count == 2 })
        let births = b.host.messages("NBIRTH")
        let bdSeqs = births.map { b in b.metrics.first { $0.string("name") == "bdSeq" }?.int("value") }
        #expect(bdSeqs[0] == bdSeqs[1])
        #expect(births.map { $0.int("seq") } == [0, 0])
        #expect(b.host.messages("DBIRTH").count == 4)
        // The birth after the rebirth carries the value last sent: the host's view is current.
        let second = b.host.messages("DBIRTH")[2].metrics.first { $0.string("name") == "x/velocity_rms" }
        #expect(abs(((second?["value"] as? NSNumber)?.doubleValue ?? 0) - 0.005) < 1e-12)
        #expect(uplink.connections == 1)
        #expect(b.host.messages("NDEATH").isEmpty)
        uplink.disconnect(death: Self.death())
    }

    /// bdSeq is kept on disk: +1 per MQTT session, 255 wraps to 0, and the will carries the bdSeq
    /// of the session's NBIRTH.
    @Test func bdSeqAdvancesPerSessionAcrossRestarts() throws {
        let b = try Bench()
        defer { TestPaths.removeTree(b.directory) }
        let first = SparkplugUplink(b.settings())
        try first.connect(birth: Self.birth(), death: Self.death())
        let a = first.bdSeq
        first.disconnect(death: Self.death())
        let second = SparkplugUplink(b.settings())   // a restarted agent
        try second.connect(birth: Self.birth(), death: Self.death())
        #expect(second.bdSeq == (a + 1) & 0xFF)
        second.disconnect(death: Self.death())
        TestPaths.writeFile(b.settings().bdSeqFile, "255\n")
        let third = SparkplugUplink(b.settings())
        try third.connect(birth: Self.birth(), death: Self.death())
        #expect(third.bdSeq == 0)
        third.disconnect(death: Self.death())
        #expect(b.host.waitFor(seconds: 5) { $0.filter { $0.string("type") == "NDEATH" }.count == 3 })
        let births = b.host.messages("NBIRTH").map { m in m.metrics.first { $0.string("name") == "bdSeq" }?.int("value") ?? -1 }
        let deaths = b.host.messages("NDEATH").map { $0.int("bdSeq") ?? -2 }
        #expect(births == [Int(a), Int((a + 1) & 0xFF), 0])
        #expect(deaths == births)
        // A file that cannot be written stops the connect (a bdSeq a restart could repeat).
        var s = b.settings()
        s.bdSeqFile = "\(b.directory)/no-such-dir/bdseq"
        #expect(throws: UplinkError.self) { try SparkplugUplink(s).connect(birth: Self.birth(), death: Self.death()) }
    }

    /// With a primary host, births wait until its STATE says online; an offline STATE ends the
    /// session with an NDEATH, and frames wait (in the caller's spool) for the next one.
    @Test func thePrimaryHostsStateGatesBirths() throws {
        let b = try Bench()
        defer { TestPaths.removeTree(b.directory) }
        var s = b.settings(primaryHost: "scada")
        s.hostWaitMilliseconds = 300
        let uplink = SparkplugUplink(s)
        let unknown = #expect(throws: UplinkError.self) { try uplink.connect(birth: Self.birth(), death: Self.death()) }
        #expect(unknown?.message.contains("scada") == true && unknown?.retryAfterNanoseconds != nil)
        #expect(b.host.command("state scada offline"))
        #expect(throws: UplinkError.self) { try uplink.connect(birth: Self.birth(), death: Self.death()) }
        #expect(b.host.messages("NBIRTH").isEmpty)
        #expect(b.host.command("state scada online"))
        try uplink.connect(birth: Self.birth(), death: Self.death())
        #expect(uplink.connections == 1, "waiting for the host kept the one MQTT session")
        #expect(b.host.waitFor(seconds: 5) { $0.contains { $0.string("type") == "NBIRTH" } })
        #expect(b.host.command("state scada offline"))
        usleep(300_000)
        #expect(throws: UplinkError.self) { try uplink.send([Self.data(1, [DataValue(channel: 1, quality: [], raw: 1)])]) }
        #expect(!uplink.isConnected)
        #expect(b.host.waitFor(seconds: 5) { $0.contains { $0.string("type") == "NDEATH" } })
        #expect(b.host.messages("DDATA").isEmpty, "data went out while the host was offline")
        // Back online: a new session (new bdSeq), births, and replayed frames marked historical.
        #expect(b.host.command("state scada online"))
        try uplink.connect(birth: Self.birth(), death: Self.death())
        #expect(try uplink.send([Self.data(1, [DataValue(channel: 1, quality: [], raw: 1)], historical: true)]) == 1)
        #expect(b.host.waitFor(seconds: 5) { $0.contains { $0.string("type") == "DDATA" } })
        #expect(b.host.messages("DDATA").first?.metrics.first?["is_historical"] as? Bool == true)
        uplink.disconnect(death: Self.death())
    }

    /// Command payloads come from the network: 20 000 seeded random and mutated payloads decode
    /// or fail with an offset, never trap, and never read as a rebirth unless they say so.
    @Test func hostileCommandPayloadsNeverTrap() {
        let node = SparkplugEdgeNode(identity: Self.identity)
        let rebirth = SparkplugPayload(timestampMilliseconds: 1, metrics: [SparkplugMetric(name: SparkplugEdgeNode.rebirthMetric, alias: nil, timestampMilliseconds: 1, value: .boolean(true))], seq: nil).encoded()
        #expect(node.command(topic: Self.identity.nodeTopic("NCMD"), payload: rebirth).rebirth)
        #expect(!node.command(topic: Self.identity.deviceTopic("DCMD", "bearing"), payload: rebirth).rebirth, "a DCMD is never a rebirth")
        var rng = SplitMix(seed: 20_261_203)
        var rebirths = 0
        for i in 0..<20_000 {
            var bytes = i % 2 == 0 ? rebirth : (0..<Int(rng.next() % 64)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            if i % 2 == 0 { for _ in 0..<3 { bytes[Int(rng.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: rng.next()) } }
            let outcome = node.command(topic: Self.identity.nodeTopic("NCMD"), payload: bytes)
            if outcome.rebirth { rebirths += 1 } else { #expect(!outcome.refused.isEmpty) }
        }
        #expect(rebirths < 10_000, "mutations that break the rebirth metric must not read as one")
    }
}

/// A small seeded generator (SplitMix64), so a failing payload can be replayed.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
