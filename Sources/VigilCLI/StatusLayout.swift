import VigilAgent
import VigilBoard
import VigilUplink

/// What `vigil status` and `vigil watch` show, in the order a technician needs it (issue 21):
/// first the node, the interlock's state with its reasons, the outputs and any system fault; then
/// what is wrong (rules that are not normal, channels that are not good); then the rest.
enum StatusLayout {
    /// Always on screen: the node, the interlock's state with its first reason, the outputs and
    /// any system fault.
    static func head(_ s: StatusReport) -> [String] {
        var out = ["node \(s.node) on board \(s.board), up \(AgeDisplay.text(milliseconds: Int64(s.uptimeSeconds * 1000))), clock \(s.clockSync)"]
        out.append("interlock: \(s.interlock.state.uppercased())" + (s.interlock.why.isEmpty ? "" : " — \(s.interlock.why[0])"))
        out.append("outputs: " + s.interlock.outputs.map { "\($0.name)=\($0.on ? "ON" : "off")" }.joined(separator: "  "))
        if !s.interlock.systemFaults.isEmpty { out.append("SYSTEM FAULT: " + s.interlock.systemFaults.joined(separator: ", ")) }
        return out
    }

    /// The interlock's further reasons, one line each.
    static func reasons(_ s: StatusReport) -> [String] { s.interlock.why.dropFirst().map { "  why: \($0)" } }

    static func isWrong(_ r: RuleStatus) -> Bool { r.state != "normal" }
    static func isWrong(_ c: ChannelStatus) -> Bool { c.quality != "good" }

    static func rule(_ r: RuleStatus) -> String {
        "  \(pad(r.name, 30)) \(pad(r.state, 22)) \(pad(r.value.map { fmt($0) } ?? "-", 10)) \(r.comparison) \(fmt(r.limit)) \(r.unit) → \(r.action)"
    }

    static func channel(_ c: ChannelStatus) -> String {
        let value = c.display ?? c.value.map { fmt($0) } ?? "-"
        return "  \(pad(c.name, 34)) \(pad(value, 10)) \(pad(c.unit, 6)) \(pad(c.quality, 14)) \(AgeDisplay.text(milliseconds: c.ageMilliseconds))"
    }

    /// What is wrong now: rules that are not normal, then channels that are not good.
    static func attention(_ s: StatusReport, channels: [ChannelStatus]) -> [String] {
        let rules = s.interlock.rules.filter(isWrong), bad = channels.filter(isWrong)
        var out = reasons(s)
        if !rules.isEmpty { out.append("rules not normal:"); out += rules.map(rule) }
        if !bad.isEmpty { out.append("channels not good:"); out += bad.map(channel) }
        return out
    }

    /// The rest: normal rules, good channels, loop, uplink and store, recent events.
    static func rest(_ s: StatusReport, channels: [ChannelStatus]) -> [String] {
        var out: [String] = []
        let rules = s.interlock.rules.filter { !isWrong($0) }, good = channels.filter { !isWrong($0) }
        if !rules.isEmpty { out.append("rules:"); out += rules.map(rule) }
        if !good.isEmpty { out.append("channels:"); out += good.map(channel) }
        let l = s.loop
        out.append("loop: \(l.periodMicroseconds) µs, \(l.scheduler), lateness p50 \(l.latenessP50Microseconds) µs p99 \(l.latenessP99Microseconds) µs max \(l.latenessMaxMicroseconds) µs, overruns \(l.overruns), cycles \(l.cycles)")
        let u = s.uplink
        out.append("uplink: \(u.transport) \(u.connected ? "connected" : "DISCONNECTED")\(u.lastError.map { " (\($0))" } ?? ""), frames built \(u.framesBuilt), delivered \(u.framesDelivered)")
        if let why = u.storeFallback {
            out.append("store: \(u.store.uppercased()) — the spool could not open: \(why)")
        }
        let lost = u.losses
        out.append("lost before the store: updates \(lost.droppedUpdates), event reports \(lost.droppedEvents), unencodable \(lost.encodeFailures), backlog overflow \(lost.backlogOverflow) (memory backlog \(u.memoryBacklog)), QoS 0 possibly lost \(lost.qos0PossiblyLost)")
        if let sp = u.spool {
            out.append("\(u.storeFallback == nil ? "spool" : "memory store"): \(sp.pendingRecords) frames pending (\(sp.pendingBytes) B), dropped data \(sp.droppedData) events \(sp.droppedEvents), torn \(sp.tornRecords), damaged \(sp.corruptRecords), unsynced at an fsync error \(sp.unsyncedAtFsyncError)")
            for problem in [sp.syncProblem, sp.cursorProblem].compactMap({ $0 }) { out.append("spool problem: \(problem)") }
        }
        if !s.recentEvents.isEmpty {
            out.append("recent events:")
            for e in s.recentEvents.suffix(8) {
                out.append("  \(e.kind)\(e.rule.map { " \($0)" } ?? "")\(e.value.map { " value \(fmt($0))" } ?? "")\(e.limit.map { " limit \(fmt($0))" } ?? "")")
            }
        }
        return out
    }

    static func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
    static func fmt(_ v: Double) -> String {
        let r = (v * 1000).rounded() / 1000
        return r == r.rounded() && abs(r) < 1e12 ? String(Int64(r)) : "\(r)"
    }

    /// `*` matches any run of characters; anything else matches itself. A pattern without `*`
    /// matches names that contain it.
    static func matches(_ name: String, _ pattern: String) -> Bool {
        guard pattern.contains("*") else { return name.contains(pattern) }
        let parts = pattern.split(separator: "*", omittingEmptySubsequences: false).map(String.init)
        var rest = Substring(name)
        for (i, part) in parts.enumerated() {
            if part.isEmpty { continue }
            if i == 0 {
                guard rest.hasPrefix(part) else { return false }
                rest = rest.dropFirst(part.count)
            } else if i == parts.count - 1 {
                return rest.hasSuffix(part)
            } else {
                guard let r = rest.firstRange(of: part) else { return false }
                rest = rest[r.upperBound...]
            }
        }
        return true
    }
}

/// `vigil watch` on a terminal of `width` × `height`: the head always, then what is wrong, then
/// the rest from `scroll` on as space allows, with a last line saying how many lines were left out
/// and how to see them. Every line is cut to the width, never wrapped.
struct WatchScreen {
    var width: Int
    var height: Int
    var scroll = 0
    var channelPattern: String?

    /// The screen's lines, and the largest useful scroll offset.
    func render(_ s: StatusReport) -> (lines: [String], maximumScroll: Int) {
        let channels = channelPattern.map { p in s.channels.filter { StatusLayout.matches($0.name, p) } } ?? s.channels
        let head = StatusLayout.head(s)
        let attention = StatusLayout.attention(s, channels: channels)
        let rest = StatusLayout.rest(s, channels: channels)
        let rows = max(1, height)
        var lines = Array(head.prefix(rows))
        let room = rows - lines.count
        var maximumScroll = 0
        if attention.count + rest.count <= room {
            lines += attention + rest
        } else if room > 0 {
            // What is wrong stays at the top of the body (its own tail cut if even it does not
            // fit) while the rest scrolls beneath it; the last row says what was left out.
            let pinned = Array(attention.prefix(room - 1))
            let free = room - 1 - pinned.count
            maximumScroll = max(0, rest.count - free)
            let start = min(max(0, scroll), maximumScroll)
            let shown = Array(rest.dropFirst(start).prefix(free))
            lines += pinned + shown
            let hidden = attention.count + rest.count - pinned.count - shown.count
            lines.append("… \(hidden) more line\(hidden == 1 ? "" : "s"): --channels PATTERN, ↑↓ or j k to scroll, q to quit")
        }
        return (lines.map { Self.cut($0, width) }, maximumScroll)
    }

    static func cut(_ line: String, _ width: Int) -> String {
        line.count <= width ? line : String(line.prefix(max(0, width)))
    }
}
