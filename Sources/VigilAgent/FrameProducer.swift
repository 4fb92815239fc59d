import VigilBase
import VigilBoard
import VigilFrames
import VigilInterlock
import VigilRuntime

/// Turns the loop's channel snapshots, spectra and events into frames: report by exception
/// (a channel is sent when it moved by its deadband, its quality changed, or its heartbeat is
/// due), sequence numbers per session, timestamps from both clocks.
final class FrameProducer {
    let catalog: ChannelCatalog
    let session: UInt32
    let sessionStart: MonotonicInstant
    let heartbeatNanoseconds: Int64
    private(set) var nextSequence: UInt32 = 0
    private var lastRaw: [Int64?]
    private var lastQuality: [Quality]
    private var lastSentTime: [Int64]
    private(set) var birthSequence: UInt32 = 0
    private let birthBody: BirthBody

    init(loaded: LoadedProfile, session: UInt32, sessionStart: MonotonicInstant) {
        catalog = loaded.channels
        self.session = session
        self.sessionStart = sessionStart
        heartbeatNanoseconds = Int64(max(1, loaded.profile.uplink.heartbeatSeconds)) * 1_000_000_000
        let n = loaded.channels.channels.count
        lastRaw = Array(repeating: nil, count: n)
        lastQuality = Array(repeating: [], count: n)
        lastSentTime = Array(repeating: .min, count: n)
        let a = loaded.profile.asset
        birthBody = BirthBody(
            firmware: "vigil \(AgentVersion.string)", asset: "\(a.site)/\(a.area)/\(a.line)/\(a.machine)/\(a.node)",
            profileName: loaded.profile.board.name, profileHash: loaded.sha256,
            channels: loaded.channels.channels.map {
                ChannelInfo(id: $0.id, name: $0.name, quantity: $0.quantity.rawValue, unit: $0.unit.rawValue, resolution: $0.resolution,
                            updateIntervalMilliseconds: $0.updateIntervalMilliseconds, isSpectrum: $0.isSpectrum)
            })
    }

    private func header(_ type: FrameType, at stamp: Timestamp, sequence: UInt32? = nil) -> FrameHeader {
        let seq: UInt32
        if let sequence { seq = sequence } else { seq = nextSequence; nextSequence &+= 1 }
        let mono = max(0, stamp.monotonic.nanoseconds(since: sessionStart)) / 1_000_000
        return FrameHeader(type: type, session: session, sequence: seq, wallClockMilliseconds: stamp.wallClock.microsecondsSinceEpoch / 1000,
                           monotonicMilliseconds: UInt32(truncatingIfNeeded: mono), clockSync: stamp.clockSync)
    }

    /// The birth for a connection attempt. Its sequence number is only taken by
    /// `birthDelivered()`, so failed attempts leave no gaps in the session.
    func birth(at stamp: Timestamp, losses: [LossCount] = []) -> Frame {
        let h = header(.birth, at: stamp, sequence: nextSequence)
        birthSequence = h.sequence
        // A new birth restarts report-by-exception: the gateway's view starts from it.
        for i in lastSentTime.indices { lastSentTime[i] = .min; lastRaw[i] = nil }
        var body = birthBody
        body.losses = losses
        return Frame(header: h, body: .birth(body))
    }

    /// The birth built last reached the gateway: its sequence number is used.
    func birthDelivered() {
        if nextSequence == birthSequence { nextSequence &+= 1 }
    }

    func death(_ reason: DeathReason, at stamp: Timestamp, losses: [LossCount] = []) -> Frame {
        Frame(header: header(.death, at: stamp, sequence: birthSequence), body: .death(reason, losses: losses))
    }

    /// The data frame for one snapshot of every channel, or nil when nothing needs sending.
    func data(_ updates: ArraySlice<ChannelUpdate>, at stamp: Timestamp) -> Frame? {
        var values: [DataValue] = []
        let now = stamp.monotonic.nanoseconds
        for u in updates.sorted(by: { $0.channel < $1.channel }) {
            let c = Int(u.channel)
            guard c < catalog.channels.count else { continue }
            let d = catalog.channels[c]
            if d.isSpectrum { continue }
            let raw = Self.scaled(u.sample.value, resolution: d.resolution)
            var quality = u.sample.quality
            if u.sample.value.isNaN && quality.isEmpty { quality = .noValue }
            let moved: Bool
            if let last = lastRaw[c] {
                let step = d.deadband > 0 ? Swift.max(1, Int64((d.deadband / d.resolution).rounded())) : 1
                moved = abs(raw &- last) >= step
            } else {
                moved = true
            }
            let due = lastSentTime[c] == .min || now - lastSentTime[c] >= heartbeatNanoseconds
            guard moved || due || quality != lastQuality[c] else { continue }
            if let previous = values.last, previous.channel == d.id { continue }
            values.append(DataValue(channel: d.id, quality: quality, raw: raw))
            lastRaw[c] = raw
            lastQuality[c] = quality
            lastSentTime[c] = now
        }
        guard !values.isEmpty else { return nil }
        return Frame(header: header(.data, at: stamp), body: .data(values))
    }

    func spectrum(_ s: SpectrumSnapshot, at stamp: Timestamp) -> Frame {
        let d = catalog.channels[s.channel]
        let raw = s.bandRMSG.map { UInt64(Swift.max(0, Self.scaled($0, resolution: d.resolution))) }
        let unit = 1000.0
        let body = SpectrumBody(channel: d.id, quality: s.quality, orderBands: s.orderBands,
                                start: UInt32(clamping: Int64((s.bandStart * unit).rounded())),
                                width: UInt32(clamping: Int64((s.bandWidth * unit).rounded())), raw: raw)
        return Frame(header: header(.spectrum, at: stamp), body: .spectrum(body))
    }

    func event(_ e: InterlockEvent, at stamp: Timestamp) -> Frame {
        var when = stamp
        // The event's own monotonic time; the wall clock moved by the same amount since.
        let back = stamp.monotonic.nanoseconds(since: e.time)
        if back > 0 && back < 3_600_000_000_000 {
            when.monotonic = e.time
            when.wallClock = WallClockTime(microsecondsSinceEpoch: stamp.wallClock.microsecondsSinceEpoch - back / 1000)
        }
        let body = EventBody(kind: e.kind.rawValue, reason: e.reason, rule: e.rule, channel: e.channel >= 0 ? e.channel + 1 : 0,
                             value: Float(e.value), limit: Float(e.limit))
        return Frame(header: header(.event, at: when), body: .event(body))
    }

    /// `value / resolution` rounded, saturating; NaN becomes 0 (its quality says why).
    static func scaled(_ value: Double, resolution: Double) -> Int64 {
        guard value.isFinite, resolution > 0 else { return 0 }
        let r = (value / resolution).rounded()
        if r >= 9.2e18 { return .max }
        if r <= -9.2e18 { return .min }
        return Int64(r)
    }
}

/// The agent's version, carried in birth frames.
public enum AgentVersion {
    public static let string = "0.1.0"
}
