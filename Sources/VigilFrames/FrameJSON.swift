import VigilJSON
import VigilBase
/// Renders decoded frames as one JSON object per line, the format of `vigil frame decode`.
/// Hand-written (no Foundation), keys in a fixed order so output is stable.
public enum FrameJSON {
    /// One frame as a JSON line. `channels` (from the session's birth) turns ids and raw integers
    /// into names and values in the channel's unit; without it ids and raw values are printed.
    public static func line(_ frame: Frame, channels: [Int: ChannelInfo] = [:], extra: [(String, String)] = []) -> String {
        let h = frame.header
        var o = JSONObject()
        o.string("type", h.type.name)
        o.raw("session", String(h.session))
        o.raw("seq", String(h.sequence))
        o.raw("wall_ms", String(h.wallClockMilliseconds))
        o.raw("mono_ms", String(h.monotonicMilliseconds))
        o.string("clock", h.clockSync.name)
        if h.historical { o.raw("historical", "true") }
        switch frame.body {
        case .birth(let b):
            o.string("firmware", b.firmware)
            o.string("asset", b.asset)
            o.string("profile", b.profileName)
            o.string("profile_sha256", b.profileHash.map { hex($0).lowercased() }.joined())
            var list: [String] = []
            for c in b.channels {
                var e = JSONObject()
                e.raw("id", String(c.id))
                e.string("name", c.name)
                e.string("unit", c.unit)
                e.raw("resolution", number(c.resolution))
                e.raw("quantity", String(c.quantity))
                e.raw("update_ms", String(c.updateIntervalMilliseconds))
                if c.isSpectrum { e.raw("spectrum", "true") }
                list.append(e.text)
            }
            o.raw("channels", "[" + list.joined(separator: ",") + "]")
            if !b.losses.isEmpty { o.raw("losses", lossesObject(b.losses)) }
        case .data(let values):
            var list: [String] = []
            for v in values {
                var e = JSONObject()
                if let c = channels[v.channel] {
                    e.string("channel", c.name)
                    // No value behind the flags: null, not a misleading zero.
                    let absent = !v.quality.isDisjoint(with: [.noValue, .commFault]) && v.raw == 0
                    e.raw("value", absent ? "null" : number(Double(v.raw) * c.resolution, resolution: c.resolution))
                    e.string("unit", c.unit)
                } else {
                    e.raw("id", String(v.channel))
                    e.raw("raw", String(v.raw))
                }
                e.string("quality", v.quality.summary)
                list.append(e.text)
            }
            o.raw("values", "[" + list.joined(separator: ",") + "]")
        case .spectrum(let s):
            let c = channels[s.channel]
            if let c { o.string("channel", c.name) } else { o.raw("id", String(s.channel)) }
            o.string("quality", s.quality.summary)
            o.string("bands_in", s.orderBands ? "orders" : "Hz")
            o.raw("start", number(Double(s.start) / 1000))
            o.raw("width", number(Double(s.width) / 1000))
            if let c {
                o.raw("values", "[" + s.raw.map { number(Double($0) * c.resolution, resolution: c.resolution) }.joined(separator: ",") + "]")
                o.string("unit", c.unit)
            } else {
                o.raw("raw", "[" + s.raw.map { String($0) }.joined(separator: ",") + "]")
            }
        case .event(let e):
            o.string("kind", EventKind.name(ofRaw: e.kind))
            o.raw("reason", String(e.reason))
            if e.kind == EventKind.reset.rawValue || e.kind == EventKind.resetRefused.rawValue, let source = ResetSource(code: e.reason) {
                // An interlock-wide reset request: who asked (for the socket, value and limit are
                // the caller's uid and pid).
                o.string("source", source.rawValue)
            }
            o.raw("rule", String(e.rule))
            if let c = channels[e.channel] { o.string("channel", c.name) } else { o.raw("channel_id", String(e.channel)) }
            o.raw("value", e.value.isFinite ? "\(e.value)" : "null")
            o.raw("limit", e.limit.isFinite ? "\(e.limit)" : "null")
        case .death(let reason, let losses):
            o.string("reason", reason == .cleanStop ? "clean_stop" : "connection_lost")
            if !losses.isEmpty { o.raw("losses", lossesObject(losses)) }
        }
        for (k, v) in extra { o.raw(k, v) }
        return o.text
    }

    /// `{"dropped_updates":3,…}` in the frame's order.
    static func lossesObject(_ losses: [LossCount]) -> String {
        var o = JSONObject()
        for l in losses { o.raw(l.cause.name, String(l.count)) }
        return o.text
    }

    /// A finite number in JSON; non-finite values become `null`. With a resolution, as many decimals as it has.
    public static func number(_ v: Double, resolution: Double? = nil) -> String {
        guard v.isFinite else { return "null" }
        if let r = resolution, r < 1 {
            var decimals = 0
            var step = r
            while step < 0.999_999 && decimals < 9 { step *= 10; decimals += 1 }
            return fixed(v, decimals: decimals)
        }
        if v == v.rounded() && abs(v) < 1e15 { return String(Int64(v)) }
        return "\(v)"
    }

    static func fixed(_ v: Double, decimals: Int) -> String {
        var p = 1.0
        for _ in 0..<decimals { p *= 10 }
        let scaled = (abs(v) * p).rounded()
        guard scaled < 9e18 else { return "\(v)" }
        let n = Int64(scaled)
        let whole = n / Int64(p)
        var frac = String(n % Int64(p))
        frac = String(repeating: "0", count: decimals - frac.count) + frac
        return (v < 0 && n != 0 ? "-" : "") + String(whole) + (decimals > 0 ? "." + frac : "")
    }

    /// A JSON string literal (VigilJSON's writer, the one home of JSON's escaping rules).
    public static func quoted(_ s: String) -> String { JSONValue.quoted(s) }
}

/// Builds one JSON object with keys in insertion order.
struct JSONObject {
    private var parts: [String] = []
    mutating func raw(_ key: String, _ value: String) { parts.append(FrameJSON.quoted(key) + ":" + value) }
    mutating func string(_ key: String, _ value: String) { raw(key, FrameJSON.quoted(value)) }
    var text: String { "{" + parts.joined(separator: ",") + "}" }
}

/// Tracks sessions, channel tables and sequence numbers across a stream of frames, as a gateway
/// would: duplicates (same session and sequence seen before) are dropped and gaps are reported.
public struct FrameSessionTracker: Sendable {
    public struct Verdict: Sendable, Equatable {
        /// Seen before (at-least-once delivery): a gateway drops it.
        public var duplicate: Bool
        /// Sequence numbers skipped just before this frame in its session (0 = none).
        public var gapBefore: Int
    }

    private var channelTables: [UInt32: [Int: ChannelInfo]] = [:]
    private var seen: [UInt32: Set<UInt32>] = [:]
    private var highest: [UInt32: UInt32] = [:]
    public private(set) var duplicates = 0
    public private(set) var gaps = 0

    public init() {}

    /// The channel table of `session`, from its birth.
    public func channels(session: UInt32) -> [Int: ChannelInfo] { channelTables[session] ?? [:] }

    /// Every sequence number seen in `session` (for tests and summaries).
    public func sequences(session: UInt32) -> Set<UInt32> { seen[session] ?? [] }

    /// Sequences between the lowest and highest seen in `session` that never arrived.
    public func missing(session: UInt32) -> [UInt32] {
        guard let s = seen[session], let lo = s.min(), let hi = s.max() else { return [] }
        return (lo...hi).filter { !s.contains($0) }
    }

    public mutating func observe(_ frame: Frame) -> Verdict {
        let h = frame.header
        if case .birth(let b) = frame.body {
            channelTables[h.session] = Dictionary(b.channels.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        }
        if h.type == .death { return Verdict(duplicate: false, gapBefore: 0) }
        if seen[h.session, default: []].contains(h.sequence) {
            duplicates += 1
            return Verdict(duplicate: true, gapBefore: 0)
        }
        seen[h.session, default: []].insert(h.sequence)
        var gap = 0
        if let top = highest[h.session] {
            if h.sequence > top {
                gap = Int(h.sequence - top - 1)
                highest[h.session] = h.sequence
            }
        } else {
            // The first frame seen of a session: nothing to compare with yet.
            highest[h.session] = h.sequence
        }
        if gap > 0 { gaps += 1 }
        return Verdict(duplicate: false, gapBefore: gap)
    }
}
