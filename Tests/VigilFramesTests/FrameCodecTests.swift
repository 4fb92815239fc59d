import Testing
import VigilBase
@testable import VigilFrames

/// Round trips, the size target and the decoder's refusals.
@Suite struct FrameCodecTests {
    static func header(_ type: FrameType, seq: UInt32 = 7) -> FrameHeader {
        FrameHeader(type: type, session: 0xDEAD_BEEF, sequence: seq, wallClockMilliseconds: 1_795_000_000_123, monotonicMilliseconds: 86_400_000,
                    clockSync: .synchronized)
    }

    static let birth = Frame(header: header(.birth, seq: 0), body: .birth(BirthBody(
        firmware: "vigil 0.1.0", asset: "plant/hall/line/fan-7/node-1", profileName: "simulator", profileHash: Array(0..<32),
        channels: [ChannelInfo(id: 1, name: "bearing.x.velocity_rms", quantity: 5, unit: "mm/s", resolution: 0.01, updateIntervalMilliseconds: 1000, isSpectrum: false),
                   ChannelInfo(id: 8, name: "bearing.x.bands", quantity: 8, unit: "g", resolution: 0.0001, updateIntervalMilliseconds: 1000, isSpectrum: true)])))

    @Test func everyFrameTypeRoundTrips() throws {
        let frames: [Frame] = [
            Self.birth,
            Frame(header: Self.header(.data), body: .data([DataValue(channel: 1, quality: [], raw: 114), DataValue(channel: 3, quality: [.stale, .clipped], raw: -5),
                                                           DataValue(channel: 300, quality: .noValue, raw: Int64.min), DataValue(channel: 301, quality: [], raw: Int64.max)])),
            Frame(header: Self.header(.spectrum), body: .spectrum(SpectrumBody(channel: 8, quality: .underRange, orderBands: true, start: 500, width: 1000, raw: [5, 6, 7, 300, 0, UInt64.max]))),
            Frame(header: Self.header(.event), body: .event(EventBody(kind: 3, reason: 2, rule: -1, channel: 0, value: 4.75, limit: 4.5))),
            Frame(header: Self.header(.death, seq: 0), body: .death(.cleanStop)),
        ]
        for f in frames {
            let bytes = try f.encoded()
            #expect(FrameDecoder.decode(bytes) == .frame(f, length: bytes.count), "\(f.header.type)")
            #expect(bytes.count == FrameFormat.headerLength + (Int(bytes[4]) | Int(bytes[5]) << 8) + 4)
        }
    }

    @Test func historicalFlagSurvivesRemarkingAndCRC() throws {
        var bytes = try Frame(header: Self.header(.event), body: .event(EventBody(kind: 1, reason: 0, rule: 0, channel: 1, value: 1, limit: 2))).encoded()
        #expect(FrameDecoder.markHistorical(&bytes))
        guard case .frame(let f, _) = FrameDecoder.decode(bytes) else { Issue.record("not a frame"); return }
        #expect(f.header.historical)
    }

    /// Issue 18 (4): a frame damaged in the spool is not re-signed as good when marked historical.
    @Test func aDamagedFrameIsNotReSignedWhenMarkedHistorical() throws {
        var bytes = try Frame(header: Self.header(.event), body: .event(EventBody(kind: 1, reason: 0, rule: 0, channel: 1, value: 1, limit: 2))).encoded()
        bytes[FrameFormat.headerLength + 2] ^= 0x40
        let damaged = bytes
        #expect(!FrameDecoder.markHistorical(&bytes))
        #expect(bytes == damaged)
        guard case .frame = FrameDecoder.decode(bytes) else { return }
        Issue.record("a damaged frame decodes")
    }

    /// Issue 7's size target: 12 scalar channels and 32 band energies in ≤ 140 bytes.
    @Test func snapshotOfTwelveChannelsAndThirtyTwoBandsFitsIn140Bytes() throws {
        let snapshot = SnapshotFixture.make()
        let data = try snapshot.data.encoded()
        let spectrum = try snapshot.spectrum.encoded()
        let json = SnapshotFixture.json(snapshot)
        print("FRAMES snapshot_bytes=\(data.count + spectrum.count) data=\(data.count) spectrum=\(spectrum.count) json_bytes=\(json.utf8.count)")
        #expect(data.count + spectrum.count <= 140)
        #expect(json.utf8.count > 4 * (data.count + spectrum.count))
    }

    @Test func shortInputMeansNeedMoreDataNotAnError() throws {
        let bytes = try Self.birth.encoded()
        for cut in [0, 1, 5, 6, 23, 24, bytes.count - 1] {
            guard case .needMoreData(let n) = FrameDecoder.decode(Array(bytes.prefix(cut))) else {
                Issue.record("cut at \(cut) was not need-more-data"); continue
            }
            #expect(n > cut)
        }
    }

    @Test(arguments: [
        (0, UInt8(0x57), FrameError.Reason.badMagic),
        (1, UInt8(0x20), .unsupportedVersion),
        (2, UInt8(0x09), .unknownType),
        (2, UInt8(0x12), .reservedBits),
        (3, UInt8(0x08), .reservedBits),
        (3, UInt8(0x06), .reservedBits),
        (5, UInt8(0xFF), .bodyTooLong),
        (30, UInt8(0xAA), .crcMismatch),
    ])
    func firstReasonAFrameIsInvalid(offset: Int, byte: UInt8, reason: FrameError.Reason) throws {
        var bytes = try Self.birth.encoded()
        bytes[offset] = byte
        guard case .invalid(let e) = FrameDecoder.decode(bytes) else { Issue.record("accepted"); return }
        #expect(e.reason == reason, "\(e)")
    }

    /// With a valid CRC, the body's own rules still apply: each problem is named with its offset.
    /// A frame with a valid CRC around `body`, built by hand.
    func frame(_ type: FrameType, _ body: [UInt8], minor: UInt8 = 0) -> [UInt8] {
        var b: [UInt8] = [0x56, 0x10 | minor, type.rawValue, 0, UInt8(body.count & 0xFF), UInt8(body.count >> 8)]
        b += [UInt8](repeating: 1, count: 18) + body
        let crc = CRC32C.checksum(b)
        for i in 0..<4 { b.append(UInt8(truncatingIfNeeded: crc >> (8 * UInt32(i)))) }
        return b
    }

    @Test func bodyErrorsAreNamedWithTheirOffset() {
        func reason(_ bytes: [UInt8]) -> FrameError.Reason? {
            if case .invalid(let e) = FrameDecoder.decode(bytes) { return e.reason }
            return nil
        }
        #expect(reason(frame(.data, [2, 2, 0, 0, 0])) == .channelOrder)       // second id delta 0
        #expect(reason(frame(.data, [1, 3, 0x80, 0x40])) == .reservedBits)     // quality bit 7
        #expect(reason(frame(.data, [5, 2, 0])) == .badLength)                 // 5 values in 3 bytes
        #expect(reason(frame(.data, [1, 2, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F])) == .badVarint)
        #expect(reason(frame(.data, [1, 2, 0, 9])) == .trailingBytes)
        #expect(reason(frame(.death, [7])) == .badValue)
        #expect(reason(frame(.birth, [1, 2, 0xC3, 0x28])) == .badUTF8)
        #expect(reason(frame(.birth, [4, 3, 1, 2, 3])) == .badLength)          // a 3-byte hash
        #expect(reason(frame(.spectrum, [1, 0x08, 0, 0, 0])) == .reservedBits)
        // A newer minor version may append fields: accepted, extra bytes ignored.
        if case .frame(let f, _) = FrameDecoder.decode(frame(.data, [1, 2, 0, 9, 9, 9], minor: 2)) {
            #expect(f.body == .data([DataValue(channel: 1, quality: [], raw: 0)]))
        } else {
            Issue.record("a minor-2 frame with appended bytes was refused")
        }
        // Unknown birth fields are skipped.
        if case .frame(let f, _) = FrameDecoder.decode(frame(.birth, [1, 1, 0x41, 99, 2, 0, 0])) {
            #expect(f.body == .birth(BirthBody(firmware: "A", asset: "", profileName: "", profileHash: [], channels: [])))
        } else {
            Issue.record("an unknown birth tag was not skipped")
        }
    }

    /// The birth's loss counters (tag 6) round-trip, reach JSON by name, and a cause from a newer
    /// version is skipped, not refused.
    @Test func birthLossCountersRoundTripAndUnknownCausesAreSkipped() throws {
        var frame = Self.birth
        guard case .birth(var b) = frame.body else { Issue.record("not a birth"); return }
        b.losses = [LossCount(.droppedUpdates, 3), LossCount(.evictedData, 300), LossCount(.memoryStoreOnly, 1)]
        frame.body = .birth(b)
        let bytes = try frame.encoded()
        guard case .frame(let back, _) = FrameDecoder.decode(bytes) else { Issue.record("did not decode"); return }
        #expect(back == frame)
        let json = FrameJSON.line(back, channels: [:])
        #expect(json.contains("\"losses\":{\"dropped_updates\":3,\"evicted_data\":300,\"memory_store_only\":1}"), "\(json)")
        // Cause 200 is unknown here: skipped, the known one after it kept.
        if case .frame(let f, _) = FrameDecoder.decode(self.frame(.birth, [1, 1, 0x41, 6, 5, 200, 7, 1, 0x81, 0x01])) {
            #expect(f.body == .birth(BirthBody(firmware: "A", asset: "", profileName: "", profileHash: [], channels: [], losses: [LossCount(.droppedUpdates, 129)])))
        } else {
            Issue.record("a birth with an unknown loss cause was refused")
        }
    }

    /// Minor 1: a death carries the loss counters after its reason; a death without them (minor 0)
    /// still decodes.
    @Test func deathLossCountersRoundTripAndAMinorZeroDeathStillDecodes() throws {
        let death = Frame(header: Self.header(.death, seq: 3), body: .death(.cleanStop, losses: [LossCount(.encodeFailures, 2), LossCount(.qos0PossiblyLost, 40)]))
        guard case .frame(let back, _) = FrameDecoder.decode(try death.encoded()) else { Issue.record("did not decode"); return }
        #expect(back == death)
        #expect(FrameJSON.line(back).contains("\"losses\":{\"encode_failures\":2,\"qos0_possibly_lost\":40}"), "\(FrameJSON.line(back))")
        if case .frame(let f, _) = FrameDecoder.decode(frame(.death, [1], minor: 0)) {
            #expect(f.body == .death(.cleanStop))
        } else {
            Issue.record("a minor-0 death was refused")
        }
        // A pair cut short is an error with its offset, not a guess.
        if case .invalid(let e) = FrameDecoder.decode(frame(.death, [1, 3, 0x80], minor: 1)) { #expect(e.reason == .truncatedField || e.reason == .badVarint, "\(e)") } else { Issue.record("a cut pair was accepted") }
    }

    @Test func trackerDropsDuplicatesAndFindsGaps() throws {
        var t = FrameSessionTracker()
        func f(_ seq: UInt32) -> Frame { Frame(header: Self.header(.data, seq: seq), body: .data([])) }
        _ = t.observe(Self.birth)
        #expect(t.observe(f(1)).gapBefore == 0)
        #expect(t.observe(f(4)).gapBefore == 2)
        #expect(t.observe(f(4)).duplicate)
        #expect(t.missing(session: 0xDEAD_BEEF) == [2, 3])
        _ = t.observe(f(2)); _ = t.observe(f(3))
        #expect(t.missing(session: 0xDEAD_BEEF).isEmpty)
        #expect(t.duplicates == 1)
        #expect(t.channels(session: 0xDEAD_BEEF)[8]?.name == "bearing.x.bands")
    }
}

/// The snapshot of issue 7: 3-axis velocity RMS, 3-axis acceleration peak, 3-axis crest factor,
/// temperature, shaft speed and interlock state, plus 32 band energies, with timestamps and quality.
enum SnapshotFixture {
    struct Snapshot {
        var data: Frame
        var spectrum: Frame
        var values: [(String, Double, String)]
        var bands: [Double]
    }

    static func make() -> Snapshot {
        let names: [(String, Double, Double, String)] = [
            ("bearing.x.velocity_rms", 1.14, 0.01, "mm/s"), ("bearing.y.velocity_rms", 1.12, 0.01, "mm/s"), ("bearing.z.velocity_rms", 0.41, 0.01, "mm/s"),
            ("bearing.x.accel_peak", 0.047, 0.001, "g"), ("bearing.y.accel_peak", 0.043, 0.001, "g"), ("bearing.z.accel_peak", 0.031, 0.001, "g"),
            ("bearing.x.crest_factor", 2.37, 0.01, "ratio"), ("bearing.y.crest_factor", 2.32, 0.01, "ratio"), ("bearing.z.crest_factor", 3.05, 0.01, "ratio"),
            ("motor.temperature", 42.37, 0.01, "degC"), ("shaft.rpm", 1480.2, 0.1, "rpm"), ("interlock.state", 0, 1, "state"),
        ]
        // Ids as the simulator's catalog spreads them (not adjacent).
        let ids = [5, 13, 21, 2, 10, 18, 3, 11, 19, 25, 38, 42]
        var values: [DataValue] = []
        for (i, n) in names.enumerated() { values.append(DataValue(channel: ids[i], quality: i == 9 ? .clockUnsynced : [], raw: Int64((n.1 / n.2).rounded()))) }
        values.sort { $0.channel < $1.channel }
        var bands: [Double] = [0.0178, 0.0063, 0.0043]
        var x: UInt64 = 7
        for _ in 3..<32 {
            x = x &* 6364136223846793005 &+ 1442695040888963407
            bands.append(0.0005 + Double(x >> 61) * 0.0001)
        }
        let header = FrameHeader(type: .data, session: 0x1234_5678, sequence: 1000, wallClockMilliseconds: 1_795_384_493_308, monotonicMilliseconds: 3_600_000, clockSync: .synchronized)
        var sh = header
        sh.type = .spectrum
        sh.sequence = 1001
        let spectrum = SpectrumBody(channel: 8, quality: [], orderBands: false, start: 0, width: 39_063, raw: bands.map { UInt64(($0 / 0.0001).rounded()) })
        return Snapshot(data: Frame(header: header, body: .data(values)), spectrum: Frame(header: sh, body: .spectrum(spectrum)),
                        values: names.map { ($0.0, $0.1, $0.3) }, bands: bands)
    }

    /// The same content as compact JSON with names, units, both timestamps and quality (what a
    /// naive JSON uplink would send).
    static func json(_ s: Snapshot) -> String {
        var parts: [String] = []
        for (name, value, unit) in s.values {
            parts.append("{\"name\":\"\(name)\",\"value\":\(value),\"unit\":\"\(unit)\",\"quality\":\"good\"}")
        }
        let head = "\"node\":\"sim-node-1\",\"session\":305419896,\"seq\":1000,\"ts\":1795384493308,\"mono_ms\":3600000,\"clock\":\"synchronized\""
        return "{\(head),\"values\":[\(parts.joined(separator: ","))],\"spectrum\":{\"name\":\"bearing.x.bands\",\"unit\":\"g\",\"start_hz\":0,\"width_hz\":39.0625,\"values\":["
            + s.bands.map { "\($0)" }.joined(separator: ",") + "]}}"
    }
}
