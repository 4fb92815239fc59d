import VigilBase
import VigilFrames

/// Who the node is in Sparkplug's topic namespace (Sparkplug 3.0 §4.1): group and edge node ids,
/// one device per sensor of the profile, and the rules whose latest events are node metrics.
public struct SparkplugIdentity: Sendable, Equatable {
    public var groupID: String
    public var edgeNodeID: String
    /// Sensor names in profile order; a channel `SENSOR.rest` belongs to device `SENSOR`.
    public var devices: [String]
    public var rules: [String]
    public init(groupID: String, edgeNodeID: String, devices: [String], rules: [String]) {
        self.groupID = groupID
        self.edgeNodeID = edgeNodeID
        self.devices = devices
        self.rules = rules
    }

    /// The namespace's first element (§4.1.1).
    public static let namespace = "spBv1.0"
    public func nodeTopic(_ type: String) -> String { "\(Self.namespace)/\(groupID)/\(type)/\(edgeNodeID)" }
    public func deviceTopic(_ type: String, _ device: String) -> String { "\(Self.namespace)/\(groupID)/\(type)/\(edgeNodeID)/\(device)" }
    /// The primary host's state topic (§4.1.3, Sparkplug 3.0 form).
    public static func stateTopic(host: String) -> String { "\(namespace)/STATE/\(host)" }
}

/// One MQTT message to publish.
public struct SparkplugMessage: Sendable, Equatable {
    public var topic: String
    public var payload: [UInt8]
    public init(topic: String, payload: [UInt8]) {
        self.topic = topic
        self.payload = payload
    }
}

/// What a host's command asked for, after vigil's policy: a rebirth is honoured; every write is
/// refused (nothing from the network touches the interlock, an output or a reset).
public struct SparkplugCommandOutcome: Sendable, Equatable {
    public var rebirth = false
    /// One sentence per refused metric or payload, for the log.
    public var refused: [String] = []
}

/// Renders vigil frames as a Sparkplug B edge node's messages (Sparkplug 3.0 §6.4): NBIRTH and a
/// DBIRTH per sensor from a birth frame, NDATA/DDATA from data, spectrum and event frames, NDEATH
/// from a death frame; keeps `seq` (0–255 over every message of a session, NBIRTH at 0) and the
/// latest value of each metric for the next birth. Pure: the MQTT session and the stored bdSeq
/// belong to the uplink.
///
/// Aliases: a channel's metric has its channel id; the node's own metrics have fixed aliases from
/// 65 536 up (``Alias``), so no two metrics of the node share one.
public final class SparkplugEdgeNode {
    public let identity: SparkplugIdentity
    private var seq: UInt64 = 0
    private var places: [Int: Place] = [:]
    private var current: [UInt64: (value: SparkplugValue, properties: [SparkplugProperty], timestamp: UInt64)] = [:]
    private var sentQuality: [UInt64: Quality] = [:]
    /// The wall clock's sync state as the host last saw it (every frame's header carries it).
    private var sentClock: ClockSyncState?

    /// The node's own metrics' aliases.
    public enum Alias {
        public static let rebirth: UInt64 = 0x1_0000
        public static let firmware: UInt64 = 0x1_0001
        public static let asset: UInt64 = 0x1_0002
        public static let profile: UInt64 = 0x1_0003
        public static let profileSHA256: UInt64 = 0x1_0004
        public static let clockState: UInt64 = 0x1_0005
        public static func loss(_ cause: LossCause) -> UInt64 { 0x1_0100 + UInt64(cause.rawValue) }
        public static func ruleEvent(_ rule: Int) -> UInt64 { 0x2_0000 + UInt64(rule) }
        public static let interlockEvent: UInt64 = 0x2_FFFF
    }

    public static let rebirthMetric = "Node Control/Rebirth"

    /// Where a channel's metric lives and how its value is typed.
    struct Place {
        var device: Int?
        var name: String
        var unit: String
        var resolution: Double
        var isSpectrum: Bool
        /// Whole steps of 1 are integers (states, counts); the rest are doubles in the unit.
        var isInteger: Bool { !isSpectrum && resolution == 1 }
    }

    public init(identity: SparkplugIdentity) {
        self.identity = identity
    }

    private func nextSeq() -> UInt64 {
        defer { seq = (seq + 1) & 0xFF }
        return seq
    }

    /// The metric name of a channel: the part after the device, with `/` as Sparkplug's folder
    /// separator (`bearing.x.velocity_rms` → device `bearing`, metric `x/velocity_rms`; a node
    /// channel `loop.overruns` → `loop/overruns`).
    func place(_ c: ChannelInfo) -> Place {
        let parts = c.name.split(separator: ".", maxSplits: 1).map(String.init)
        let device = parts.count == 2 ? identity.devices.firstIndex(of: parts[0]) : nil
        let rest = device != nil ? parts[1] : c.name
        let name = String(rest.map { $0 == "." ? "/" : $0 })
        return Place(device: device, name: name, unit: c.unit, resolution: c.resolution, isSpectrum: c.isSpectrum)
    }

    // MARK: Births

    /// NBIRTH (seq 0) and one DBIRTH per device: every metric with name, alias, datatype, the
    /// latest value known (null before the first), engineering unit and quality.
    public func births(_ frame: Frame, bdSeq: UInt64) -> [SparkplugMessage] {
        guard case .birth(let body) = frame.body else { return [] }
        seq = 0
        sentQuality.removeAll()
        places.removeAll()
        for c in body.channels { places[c.id] = place(c) }
        let t = Self.milliseconds(frame.header)
        func fixed(_ name: String, _ alias: UInt64?, _ value: SparkplugValue) -> SparkplugMetric {
            SparkplugMetric(name: name, alias: alias, timestampMilliseconds: t, value: value)
        }
        var node: [SparkplugMetric] = [
            fixed("bdSeq", nil, .uint64(bdSeq)),
            fixed(Self.rebirthMetric, Alias.rebirth, .boolean(false)),
            fixed("Properties/Firmware", Alias.firmware, .string(body.firmware)),
            fixed("Properties/Asset", Alias.asset, .string(body.asset)),
            fixed("Properties/Profile", Alias.profile, .string(body.profileName)),
            fixed("Properties/Profile SHA-256", Alias.profileSHA256, .string(body.profileHash.map { Self.hex($0) }.joined())),
            fixed("clock/state", Alias.clockState, .string(frame.header.clockSync.name)),
        ]
        sentClock = frame.header.clockSync
        for cause in LossCause.allCases {
            let count = body.losses.first { $0.cause == cause }?.count ?? 0
            node.append(fixed("Losses/\(cause.name)", Alias.loss(cause), .uint64(count)))
        }
        var devices = [[SparkplugMetric]](repeating: [], count: identity.devices.count)
        for c in body.channels {
            guard let p = places[c.id] else { continue }
            let alias = UInt64(c.id)
            var m: SparkplugMetric
            if let known = current[alias] {
                m = SparkplugMetric(name: p.name, alias: alias, timestampMilliseconds: known.timestamp, value: known.value, properties: known.properties)
                m.properties.insert(SparkplugProperty("engUnit", .string(p.unit)), at: 0)
            } else {
                let empty: SparkplugValue = .null(p.isSpectrum ? .floatArray : p.isInteger ? .int64 : .double)
                m = SparkplugMetric(name: p.name, alias: alias, timestampMilliseconds: t, value: empty,
                                    properties: [SparkplugProperty("engUnit", .string(p.unit))] + Self.qualityProperties(.noValue))
            }
            if let d = p.device { devices[d].append(m) } else { node.append(m) }
        }
        for (i, rule) in identity.rules.enumerated() { node.append(eventMetric("rules/\(rule)/last_event", Alias.ruleEvent(i), t)) }
        node.append(eventMetric("interlock/last_event", Alias.interlockEvent, t))
        var out = [SparkplugMessage(topic: identity.nodeTopic("NBIRTH"),
                                    payload: SparkplugPayload(timestampMilliseconds: t, metrics: node, seq: nextSeq()).encoded())]
        for (i, metrics) in devices.enumerated() where !metrics.isEmpty {
            out.append(SparkplugMessage(topic: identity.deviceTopic("DBIRTH", identity.devices[i]),
                                        payload: SparkplugPayload(timestampMilliseconds: t, metrics: metrics, seq: nextSeq()).encoded()))
        }
        return out
    }

    private func eventMetric(_ name: String, _ alias: UInt64, _ t: UInt64) -> SparkplugMetric {
        if let known = current[alias] {
            return SparkplugMetric(name: name, alias: alias, timestampMilliseconds: known.timestamp, value: known.value, properties: known.properties)
        }
        return SparkplugMetric(name: name, alias: alias, timestampMilliseconds: t, value: .null(.string))
    }

    /// NDEATH: the timestamp and the bdSeq of the session's NBIRTH, no seq (§6.4.19).
    public func death(bdSeq: UInt64, timestampMilliseconds: UInt64) -> SparkplugMessage {
        SparkplugMessage(topic: identity.nodeTopic("NDEATH"),
                         payload: SparkplugPayload(timestampMilliseconds: timestampMilliseconds,
                                                   metrics: [SparkplugMetric(name: "bdSeq", alias: nil, timestampMilliseconds: timestampMilliseconds, value: .uint64(bdSeq))],
                                                   seq: nil).encoded())
    }

    // MARK: Data

    /// The messages of a data, spectrum or event frame (a birth or death frame renders through
    /// ``births(_:bdSeq:)`` and ``death(bdSeq:timestampMilliseconds:)``). Aliases only, no names
    /// or datatypes; a replayed frame's metrics are `is_historical` and do not change what the
    /// next birth reports as current.
    public func render(_ frame: Frame) -> [SparkplugMessage] {
        let t = Self.milliseconds(frame.header)
        let historical = frame.header.historical
        var node: [SparkplugMetric] = []
        var devices: [Int: [SparkplugMetric]] = [:]
        func put(_ device: Int?, _ m: SparkplugMetric) {
            if let device { devices[device, default: []].append(m) } else { node.append(m) }
        }
        switch frame.body {
        case .data(let values):
            for v in values {
                guard let p = places[v.channel] else { continue }
                let value: SparkplugValue = p.isInteger ? .int64(v.raw) : .double(Double(v.raw) * p.resolution)
                put(p.device, metric(alias: UInt64(v.channel), value: value, quality: v.quality, extra: [], t: t, historical: historical))
            }
        case .spectrum(let s):
            guard let p = places[s.channel] else { break }
            let scale = 1.0 / 1000
            let extra = [SparkplugProperty("bandStart", .double(Double(s.start) * scale)), SparkplugProperty("bandWidth", .double(Double(s.width) * scale)),
                         SparkplugProperty("bandUnit", .string(s.orderBands ? "order" : "Hz"))]
            let bands = s.raw.map { Float(Double($0) * p.resolution) }
            put(p.device, metric(alias: UInt64(s.channel), value: .floatArray(bands), quality: s.quality, extra: extra, t: t, historical: historical))
        case .event(let e):
            let alias = e.rule >= 0 && e.rule < identity.rules.count ? Alias.ruleEvent(e.rule) : Alias.interlockEvent
            var extra = [SparkplugProperty("reason", .int32(Int32(e.reason)))]
            if let why = Self.reasonName(e) { extra.append(SparkplugProperty("reasonName", .string(why))) }
            if e.value.isFinite { extra.append(SparkplugProperty("value", .double(Double(e.value)))) }
            if e.limit.isFinite { extra.append(SparkplugProperty("limit", .double(Double(e.limit)))) }
            if e.rule >= 0 && e.rule < identity.rules.count { extra.append(SparkplugProperty("rule", .string(identity.rules[e.rule]))) }
            if let c = places[e.channel] {
                extra.append(SparkplugProperty("channel", .string(c.device.map { "\(identity.devices[$0])/\(c.name)" } ?? c.name)))
            }
            var m = SparkplugMetric(name: nil, alias: alias, timestampMilliseconds: t, value: .string(EventKind.name(ofRaw: e.kind)), properties: extra)
            m.includesDataType = false
            m.isHistorical = historical
            if !historical { current[alias] = (m.value, m.properties, t) }
            node.append(m)
        case .birth, .death:
            return []
        }
        if !historical && frame.header.clockSync != sentClock {
            var m = SparkplugMetric(name: nil, alias: Alias.clockState, timestampMilliseconds: t, value: .string(frame.header.clockSync.name))
            m.includesDataType = false
            node.append(m)
            sentClock = frame.header.clockSync
        }
        var out: [SparkplugMessage] = []
        if !node.isEmpty {
            out.append(SparkplugMessage(topic: identity.nodeTopic("NDATA"), payload: SparkplugPayload(timestampMilliseconds: t, metrics: node, seq: nextSeq()).encoded()))
        }
        for d in devices.keys.sorted() {
            out.append(SparkplugMessage(topic: identity.deviceTopic("DDATA", identity.devices[d]),
                                        payload: SparkplugPayload(timestampMilliseconds: t, metrics: devices[d]!, seq: nextSeq()).encoded()))
        }
        return out
    }

    /// A data metric: the alias and value, with the quality properties when the quality differs
    /// from what the host last saw for it (every birth carries them).
    private func metric(alias: UInt64, value: SparkplugValue, quality: Quality, extra: [SparkplugProperty], t: UInt64, historical: Bool) -> SparkplugMetric {
        var m = SparkplugMetric(name: nil, alias: alias, timestampMilliseconds: t, value: value, properties: extra)
        m.includesDataType = false
        m.isHistorical = historical
        let quality = quality == .good ? Quality.good : quality
        if sentQuality[alias] != quality || !quality.isGood {
            m.properties += Self.qualityProperties(quality)
            if !historical { sentQuality[alias] = quality }
        }
        if !historical { current[alias] = (value, extra + Self.qualityProperties(quality), t) }
        return m
    }

    // MARK: Commands

    /// What an NCMD or DCMD payload asks for. `Node Control/Rebirth` = true in an NCMD (by name
    /// or alias) is a rebirth; every other metric, every DCMD and every payload that does not
    /// decode is refused with a sentence saying what.
    public func command(topic: String, payload: [UInt8]) -> SparkplugCommandOutcome {
        var outcome = SparkplugCommandOutcome()
        let isNode = topic == identity.nodeTopic("NCMD")
        let metrics: [SparkplugCommandMetric]
        do { metrics = try SparkplugPayload.commandMetrics(payload) } catch {
            outcome.refused.append("\(topic): \(payload.count)-byte payload is not a Sparkplug payload (\(error)); ignored")
            return outcome
        }
        for m in metrics {
            let label = m.name ?? m.alias.map { "alias \($0)" } ?? "a metric without name or alias"
            if isNode && (m.name == Self.rebirthMetric || (m.name == nil && m.alias == Alias.rebirth)) && m.booleanValue == true {
                outcome.rebirth = true
            } else {
                outcome.refused.append("\(topic): write to \(label) refused; vigil takes no commands from the network except \(Self.rebirthMetric)")
            }
        }
        if metrics.isEmpty { outcome.refused.append("\(topic): a command without metrics; ignored") }
        return outcome
    }

    // MARK: Helpers

    static func milliseconds(_ h: FrameHeader) -> UInt64 { UInt64(max(0, h.wallClockMilliseconds)) }

    static func hex(_ b: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(b >> 4)], digits[Int(b & 15)]])
    }

    /// `Quality` as an OPC DA quality code (the convention SCADA hosts such as Ignition read:
    /// 192 good, 64–127 uncertain, 0–63 bad), and vigil's own flags as `qualityFlags`.
    static func qualityProperties(_ q: Quality) -> [SparkplugProperty] {
        [SparkplugProperty("Quality", .int32(opcQuality(q))), SparkplugProperty("qualityFlags", .string(q.summary))]
    }

    /// The worst flag decides: no value 0 (bad), comm fault 24 (bad, comm failure), stale 68
    /// (uncertain, last usable value), out of range 84 (uncertain, engineering units exceeded),
    /// clipped or under range 80 (uncertain, sensor not accurate), clock unsynced 64 (uncertain).
    static func opcQuality(_ q: Quality) -> Int32 {
        if q.contains(.noValue) { return 0 }
        if q.contains(.commFault) { return 24 }
        if q.contains(.stale) { return 68 }
        if q.contains(.outOfRange) { return 84 }
        if q.contains(.clipped) || q.contains(.underRange) { return 80 }
        if q.contains(.clockUnsynced) { return 64 }
        return 192
    }

    static func reasonName(_ e: EventBody) -> String? {
        switch EventKind(rawValue: e.kind) {
        case .fault: return FaultReason(rawValue: e.reason)?.name
        case .systemFault: return SystemFault(rawValue: e.reason).names.joined(separator: "+")
        case .reset, .resetRefused: return ResetSource(code: e.reason)?.rawValue
        default: return nil
        }
    }
}

/// A primary host's `STATE` message (Sparkplug 3.0 §4.1.3): `{"online": BOOL, "timestamp": MS}`,
/// read with a scan bounded to 1 KiB rather than a JSON library.
public struct SparkplugHostState: Sendable, Equatable {
    public var online: Bool
    public var timestampMilliseconds: UInt64

    public init(online: Bool, timestampMilliseconds: UInt64) {
        self.online = online
        self.timestampMilliseconds = timestampMilliseconds
    }

    public init?(_ payload: [UInt8]) {
        guard payload.count <= 1024 else { return nil }
        let bytes = payload.filter { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }
        func value(_ key: String) -> String? {
            let needle = Array("\"\(key)\":".utf8)
            guard bytes.count >= needle.count else { return nil }
            for i in 0...(bytes.count - needle.count) where Array(bytes[i..<(i + needle.count)]) == needle {
                let rest = bytes[(i + needle.count)...].prefix { $0 != UInt8(ascii: ",") && $0 != UInt8(ascii: "}") }
                return String(decoding: rest, as: UTF8.self)
            }
            return nil
        }
        guard let online = value("online"), online == "true" || online == "false" else { return nil }
        self.online = online == "true"
        timestampMilliseconds = value("timestamp").flatMap { UInt64($0) } ?? 0
    }
}
