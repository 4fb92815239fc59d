import Testing
import TestSupport
import VigilBase
import VigilBoard
import VigilFrames
import VigilInterlock
import VigilLoop
import VigilRuntime
import VigilUplink
@testable import VigilAgent

/// Report by exception: a channel is in a data frame when it moved by its deadband, changed
/// quality, or reached its heartbeat; births restart it; sequence numbers have no gaps.
@Suite struct FrameProducerTests {
    func producer() throws -> (FrameProducer, LoadedProfile) {
        let loaded = try BoardProfileLoader.load(path: TestPaths.repositoryRoot + "/Boards/simulator.toml")
        return (FrameProducer(loaded: loaded, session: 77, sessionStart: MonotonicInstant(nanoseconds: 1_000_000_000)), loaded)
    }

    func snapshot(_ loaded: LoadedProfile, at seconds: Double, _ values: [String: (Double, Quality)]) -> [ChannelUpdate] {
        loaded.channels.channels.enumerated().compactMap { i, c in
            guard let v = values[c.name] else { return nil }
            return ChannelUpdate(channel: UInt16(i), sample: ChannelSample(value: v.0, quality: v.1, time: MonotonicInstant(nanoseconds: Int64(seconds * 1e9))),
                                 wallClock: WallClockTime(microsecondsSinceEpoch: Int64(seconds * 1e6)))
        }
    }

    func stamp(_ seconds: Double) -> Timestamp {
        Timestamp(monotonic: MonotonicInstant(nanoseconds: Int64(seconds * 1e9)), wallClock: WallClockTime(microsecondsSinceEpoch: Int64(seconds * 1e6)), clockSync: .synchronized)
    }

    func names(_ frame: Frame?, _ loaded: LoadedProfile) -> [String] {
        guard case .data(let values)? = frame?.body else { return [] }
        return values.compactMap { loaded.channels.channel(id: $0.channel)?.name }
    }

    @Test func onlyChannelsPastTheirDeadbandOrHeartbeatAreSent() throws {
        let (p, loaded) = try producer()
        let birth = p.birth(at: stamp(1))
        p.birthDelivered()
        #expect(birth.header.sequence == 0)
        // Deadbands: temperature 0.2 °C, velocity 0.1 mm/s (ChannelCatalog defaults); heartbeat 30 s.
        let first = p.data(snapshot(loaded, at: 2, ["motor.temperature": (42.0, []), "bearing.x.velocity_rms": (1.10, [])])[...], at: stamp(2))
        #expect(names(first, loaded) == ["bearing.x.velocity_rms", "motor.temperature"])
        #expect(first?.header.sequence == 1)
        let quiet = p.data(snapshot(loaded, at: 3, ["motor.temperature": (42.1, []), "bearing.x.velocity_rms": (1.15, [])])[...], at: stamp(3))
        #expect(quiet == nil)
        let moved = p.data(snapshot(loaded, at: 4, ["motor.temperature": (42.3, []), "bearing.x.velocity_rms": (1.16, [])])[...], at: stamp(4))
        #expect(names(moved, loaded) == ["motor.temperature"])
        let flagged = p.data(snapshot(loaded, at: 5, ["motor.temperature": (42.3, []), "bearing.x.velocity_rms": (1.16, .stale)])[...], at: stamp(5))
        #expect(names(flagged, loaded) == ["bearing.x.velocity_rms"])
        let heartbeat = p.data(snapshot(loaded, at: 40, ["motor.temperature": (42.3, []), "bearing.x.velocity_rms": (1.16, .stale)])[...], at: stamp(40))
        #expect(names(heartbeat, loaded) == ["bearing.x.velocity_rms", "motor.temperature"])
        // Sequence numbers are contiguous over the frames actually built.
        #expect(heartbeat?.header.sequence == 4)
        // A rebirth restarts report by exception: everything is sent again.
        _ = p.birth(at: stamp(41))
        p.birthDelivered()
        let after = p.data(snapshot(loaded, at: 42, ["motor.temperature": (42.3, []), "bearing.x.velocity_rms": (1.16, .stale)])[...], at: stamp(42))
        #expect(names(after, loaded).count == 2)
        #expect(after?.header.sequence == 6)
    }

    @Test func aBirthThatWasNotDeliveredLeavesNoGap() throws {
        let (p, _) = try producer()
        _ = p.birth(at: stamp(1))            // the connection attempt failed
        _ = p.birth(at: stamp(2))            // and again
        let e = p.event(InterlockEvent(kind: .tripped, time: MonotonicInstant(nanoseconds: 2_500_000_000), rule: 0, channel: 4, value: 4.7, limit: 4.5, reason: 0), at: stamp(3))
        #expect(e.header.sequence == 0)
        #expect(e.header.monotonicMilliseconds == 1500)   // the event's own time, from session start
        guard case .event(let body) = e.body else { Issue.record("not an event"); return }
        #expect(body.channel == 5 && body.kind == 3 && body.value == 4.7)
    }
}

/// An uplink that fails its first connects as told, recording each birth it was given.
final class ScriptedUplink: Uplink {
    var failures: [UplinkError]
    var births: [Frame] = []
    var sent: [Frame] = []
    private(set) var isConnected = false
    init(failures: [UplinkError]) { self.failures = failures }
    var description: String { "scripted" }
    func connect(birth: Frame, death: Frame) throws(UplinkError) {
        births.append(birth)
        if !failures.isEmpty { throw failures.removeFirst() }
        isConnected = true
    }
    func send(_ frames: [Frame]) throws(UplinkError) -> Int { sent += frames; return frames.count }
    func disconnect(death: Frame?) { isConnected = false }
    func takeRebirthRequest() -> Bool { false }
}

@Suite struct HalfFailedConnectTests {
    static let event = InterlockEvent(kind: .armed, time: .zero, rule: 0, channel: 0, value: 0, limit: 0, reason: 0)

    /// A connect that failed after publishing the birth (its PUBACK missing) uses up the birth's
    /// sequence number: the next data frame, and the next birth, never carry it again. One that
    /// failed before publishing leaves no gap.
    @Test func aBirthThatMayHaveBeenSentIsNeverSharedWithTheNextFrame() throws {
        let loaded = try BoardProfileLoader.load(path: TestPaths.repositoryRoot + "/Boards/simulator.toml")
        let producer = FrameProducer(loaded: loaded, session: 5, sessionStart: MonotonicInstant(nanoseconds: 0))
        let uplink = ScriptedUplink(failures: [UplinkError("no CONNACK"), UplinkError("no PUBACK for the birth", birthMayHaveBeenSent: true)])
        let worker = UplinkWorker(loaded: loaded, producer: producer, uplink: uplink, store: MemoryFrameStore(maxBytes: 1 << 20),
                                  updates: SPSCRing(capacity: 4, filler: ChannelUpdate(channel: 0, sample: .missing, wallClock: .epoch)),
                                  events: SPSCRing(capacity: 4, filler: Self.event), spectra: [])
        func at(_ s: Int64) -> Timestamp { Timestamp(monotonic: MonotonicInstant(nanoseconds: s * 1_000_000_000), wallClock: WallClockTime(microsecondsSinceEpoch: s * 1_000_000), clockSync: .synchronized) }
        worker.maintainConnection(at(1))       // refused before the birth: no number used
        #expect(producer.nextSequence == 0)
        worker.maintainConnection(at(100))     // birth published, not confirmed: number 0 used up
        #expect(producer.nextSequence == 1)
        worker.maintainConnection(at(200))     // connects with a new birth
        #expect(uplink.isConnected)
        #expect(uplink.births.map(\.header.sequence) == [0, 0, 1])
        let data = producer.event(Self.event, at: at(201))
        #expect(data.header.sequence == 2)
    }

    /// Updates and event reports the loop could not hand over (rings full) are counted, in the
    /// birth's loss counters as in status; a memory store says so there too.
    @Test func ringDropsReachTheBirthsLossCounters() throws {
        let loaded = try BoardProfileLoader.load(path: TestPaths.repositoryRoot + "/Boards/simulator.toml")
        let producer = FrameProducer(loaded: loaded, session: 5, sessionStart: MonotonicInstant(nanoseconds: 0))
        let updates = SPSCRing(capacity: 4, filler: ChannelUpdate(channel: 0, sample: .missing, wallClock: .epoch))
        let events = SPSCRing(capacity: 2, filler: Self.event)
        for _ in 0..<10 { _ = updates.push(ChannelUpdate(channel: 0, sample: .missing, wallClock: .epoch)) }
        for _ in 0..<5 { _ = events.push(Self.event) }
        let uplink = ScriptedUplink(failures: [])
        let worker = UplinkWorker(loaded: loaded, producer: producer, uplink: uplink, store: MemoryFrameStore(maxBytes: 1 << 20),
                                  updates: updates, events: events, spectra: [])
        worker.maintainConnection(Timestamp(monotonic: MonotonicInstant(nanoseconds: 1), wallClock: .epoch, clockSync: .synchronized))
        guard case .birth(let b)? = uplink.births.first?.body else { Issue.record("no birth"); return }
        let counts = Dictionary(uniqueKeysWithValues: b.losses.map { ($0.cause, $0.count) })
        #expect(counts[.droppedUpdates] == UInt64(10 - updates.capacity), "\(b.losses)")
        #expect(counts[.droppedEvents] == UInt64(5 - events.capacity), "\(b.losses)")
        #expect(counts[.memoryStoreOnly] == 1)
        #expect(counts[.encodeFailures] == 0)
    }
}
