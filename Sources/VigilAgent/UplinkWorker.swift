#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Synchronization
import VigilBase
import VigilBoard
import VigilFrames
import VigilInterlock
import VigilLoop
import VigilRuntime
import VigilUplink

/// What `vigil status` shows about the uplink.
public struct UplinkStatus: Sendable, Codable, Equatable {
    public var transport: String
    public var connected: Bool
    public var lastError: String?
    public var connects: Int
    public var framesBuilt: Int
    public var framesDelivered: Int
    public var replayedHistorical: Int
    public var spool: SpoolStatistics?
    /// Frames kept in memory because the spool could not take them (disk full, I/O error).
    public var memoryBacklog: Int
    public var spoolError: String?
    /// Spool records that did not decode as frames (skipped, never sent).
    public var undecodableRecords: Int
    public var session: UInt32
    public var nextSequence: UInt32
}

/// An interlock event as kept locally (the last 256) for `vigil status` and `vigil events`.
public struct EventRecord: Sendable, Codable, Equatable {
    public var kind: String
    public var rule: String?
    public var channel: String?
    public var value: Double?
    public var limit: Double?
    public var reason: Int
    public var wallClockMilliseconds: Int64
    public var monotonicMilliseconds: Int64
}

/// The uplink thread: drains the loop's rings every 50 ms, builds frames, appends them to the
/// spool, connects with bounded exponential back-off and sends the spool in order. It never
/// touches the loop except through the rings and slots, so the interlock never waits on it.
final class UplinkWorker: @unchecked Sendable {
    let producer: FrameProducer
    let uplink: (any Uplink)?
    let spool: Spool?
    let updates: SPSCRing<ChannelUpdate>
    let events: SPSCRing<InterlockEvent>
    let spectra: [SpectrumSlot]
    let loaded: LoadedProfile
    private let stopFlag = Atomic<Bool>(false)
    private var thread: pthread_t?
    let status: Mutex<UplinkStatus>
    let recentEvents = Mutex<[EventRecord]>([])
    private var pendingUpdates: [ChannelUpdate] = []
    private var memoryBacklog: [(SpoolLane, [UInt8])] = []
    private var lastSpectrumBlocks: [Int]
    private var backoff: ReconnectBackoff
    private var nextAttempt: Int64 = 0
    private var historicalBelow: UInt64 = 0
    private let firstIndexOfRun: UInt64
    private var wasConnected = false
    static let maximumBackoffNanoseconds: Int64 = 30_000_000_000
    static let memoryBacklogLimit = 4096

    init(loaded: LoadedProfile, producer: FrameProducer, uplink: (any Uplink)?, spool: Spool?,
         updates: SPSCRing<ChannelUpdate>, events: SPSCRing<InterlockEvent>, spectra: [SpectrumSlot]) {
        self.loaded = loaded
        self.producer = producer
        // The session id differs per node and run: nodes that lost one broker together draw apart.
        backoff = ReconnectBackoff(maximumNanoseconds: Self.maximumBackoffNanoseconds, seed: UInt64(producer.session) | 1 << 40)
        self.uplink = uplink
        self.spool = spool
        self.updates = updates
        self.events = events
        self.spectra = spectra
        lastSpectrumBlocks = Array(repeating: 0, count: spectra.count)
        firstIndexOfRun = spool?.statistics.nextIndex ?? 0
        status = Mutex(UplinkStatus(transport: uplink?.description ?? "none", connected: false, lastError: nil, connects: 0, framesBuilt: 0,
                                    framesDelivered: 0, replayedHistorical: 0, spool: spool?.statistics, memoryBacklog: 0, spoolError: nil, undecodableRecords: 0,
                                    session: producer.session, nextSequence: 0))
    }

    func start() throws(HALThreadError) {
        switch startThread({ [self] in run() }) {
        case .success(let t): thread = t
        case .failure(let e): throw e
        }
    }

    /// Stops the thread after a last drain; flushes the spool and sends what the link takes in
    /// `flushSeconds`, then the death frame.
    func stop(flushSeconds: Double = 2) {
        stopFlag.store(true, ordering: .releasing)
        if let t = thread { pthread_join(t, nil) }
        thread = nil
        let now = SystemClock.timestamp()
        collect(now)
        let deadline = now.monotonic.nanoseconds + Int64(flushSeconds * 1e9)
        while let u = uplink, u.isConnected, !(spool?.isEmpty ?? true), SystemClock.timestamp().monotonic.nanoseconds < deadline {
            if !deliver(SystemClock.timestamp()) { break }
        }
        try? spool?.sync(now: SystemClock.timestamp().monotonic.nanoseconds)
        if let u = uplink, u.isConnected {
            u.disconnect(death: producer.death(.cleanStop, at: SystemClock.timestamp()))
        }
        publishStatus()
    }

    private func run() {
        while !stopFlag.load(ordering: .acquiring) {
            let now = SystemClock.timestamp()
            collect(now)
            maintainConnection(now)
            if let u = uplink, u.isConnected {
                if u.takeRebirthRequest() {
                    Log.info("uplink: rebirth requested by the gateway")
                    if (try? u.send([producer.birth(at: now)])) == 1 { producer.birthDelivered() }
                }
                var rounds = 0
                while rounds < 8 && deliver(SystemClock.timestamp()) { rounds += 1 }
            }
            publishStatus()
            var ts = timespec(tv_sec: 0, tv_nsec: 50_000_000)
            nanosleep(&ts, nil)
        }
    }

    /// Moves everything the loop produced into frames and the spool.
    func collect(_ now: Timestamp) {
        while let u = updates.pop() { pendingUpdates.append(u) }
        // Snapshots arrive whole (the loop pushes every channel at once); group by their stamp.
        var start = 0
        var frames: [(SpoolLane, Frame)] = []
        while start < pendingUpdates.count {
            var end = start + 1
            while end < pendingUpdates.count && pendingUpdates[end].wallClock == pendingUpdates[start].wallClock { end += 1 }
            if end == pendingUpdates.count && end - start < loaded.channels.channels.count { break }  // rest of this snapshot still to come
            var stamp = now
            stamp.wallClock = pendingUpdates[start].wallClock
            stamp.monotonic = pendingUpdates[start..<end].map(\.sample.time).max() ?? now.monotonic
            if let f = producer.data(pendingUpdates[start..<end], at: stamp) { frames.append((.data, f)) }
            start = end
        }
        pendingUpdates.removeFirst(start)
        for (i, slot) in spectra.enumerated() {
            let s = slot.read()
            if s.blocks > lastSpectrumBlocks[i] {
                lastSpectrumBlocks[i] = s.blocks
                var stamp = now
                stamp.monotonic = s.time
                frames.append((.data, producer.spectrum(s, at: stamp)))
            }
        }
        while let e = events.pop() {
            frames.append((.events, producer.event(e, at: now)))
            remember(e, now)
        }
        for (lane, frame) in frames {
            guard let bytes = try? frame.encoded() else { continue }
            status.withLock { $0.framesBuilt += 1 }
            store(lane, bytes, now)
        }
    }

    private func store(_ lane: SpoolLane, _ bytes: [UInt8], _ now: Timestamp) {
        guard let spool else { return }
        // Older frames first: retry the memory backlog before the new one.
        while let (l, b) = memoryBacklog.first {
            do { try spool.append(b, lane: l, now: now.monotonic.nanoseconds); memoryBacklog.removeFirst() } catch { break }
        }
        do {
            if !memoryBacklog.isEmpty { throw SpoolError(path: spool.directory, operation: "append", errno: 28) }
            try spool.append(bytes, lane: lane, now: now.monotonic.nanoseconds)
            status.withLock { $0.spoolError = nil }
        } catch {
            let message = "\(error)"
            let first = status.withLock { s -> Bool in
                defer { s.spoolError = message }
                return s.spoolError == nil
            }
            if first { Log.error(message) }
            if memoryBacklog.count >= Self.memoryBacklogLimit {
                // Bounded: the same policy as the spool, data before events.
                if let i = memoryBacklog.firstIndex(where: { $0.0 == .data }) { memoryBacklog.remove(at: i) } else { memoryBacklog.removeFirst() }
            }
            memoryBacklog.append((lane, bytes))
        }
    }

    private func remember(_ e: InterlockEvent, _ now: Timestamp) {
        let rules = loaded.profile.rules
        let back = now.monotonic.nanoseconds(since: e.time)
        let record = EventRecord(
            kind: e.kind.name, rule: e.rule >= 0 && e.rule < rules.count ? rules[e.rule].name : nil,
            channel: e.channel >= 0 ? loaded.channels.channel(id: e.channel + 1)?.name : nil,
            value: e.value.isFinite ? e.value : nil, limit: e.limit.isFinite ? e.limit : nil, reason: Int(e.reason),
            wallClockMilliseconds: (now.wallClock.microsecondsSinceEpoch - back / 1000) / 1000, monotonicMilliseconds: e.time.nanoseconds / 1_000_000)
        Log.notice("interlock: \(record.kind)\(record.rule.map { " rule \($0)" } ?? "")\(record.channel.map { " channel \($0)" } ?? "")"
                   + "\(record.value.map { " value \($0)" } ?? "")\(record.limit.map { " limit \($0)" } ?? "")")
        recentEvents.withLock {
            $0.append(record)
            if $0.count > 256 { $0.removeFirst($0.count - 256) }
        }
    }

    private func maintainConnection(_ now: Timestamp) {
        guard let u = uplink else { return }
        if u.isConnected {
            wasConnected = true
            return
        }
        if wasConnected {
            wasConnected = false
            Log.warning("uplink \(u.description): connection lost; frames are spooled until it returns")
            status.withLock { $0.connected = false; $0.lastError = "connection lost" }
        }
        guard now.monotonic.nanoseconds >= nextAttempt else { return }
        do {
            try u.connect(birth: producer.birth(at: now), death: producer.death(.connectionLost, at: now))
            producer.birthDelivered()
            // Frames from before this connection are replayed as historical; on the first connection
            // only those a previous run left in the spool are.
            historicalBelow = status.withLock { $0.connects } == 0 ? firstIndexOfRun : (spool.map { $0.statistics.nextIndex } ?? 0)
            backoff.connected()
            wasConnected = true
            let count = status.withLock { s -> Int in
                s.connects += 1
                s.connected = true
                s.lastError = nil
                return s.connects
            }
            Log.info("uplink \(u.description): connected (\(count == 1 ? "first connection" : "reconnection \(count - 1)"))")
        } catch {
            let message = error.message
            let changed = status.withLock { s -> Bool in
                defer { s.lastError = message; s.connected = false }
                return s.lastError != message
            }
            let wait = backoff.failed()
            if changed { Log.warning("uplink: \(message); retrying in \(wait / 1_000_000) ms, backing off to \(Self.maximumBackoffNanoseconds / 1_000_000_000) s") }
            nextAttempt = now.monotonic.nanoseconds + wait
        }
    }

    /// Sends the next batch from the spool; true when the whole batch was delivered and more may wait.
    @discardableResult
    private func deliver(_ now: Timestamp) -> Bool {
        guard let u = uplink, let spool else { return false }
        let batch = spool.pending(limit: 32)
        guard !batch.isEmpty else { return false }
        var frames: [Frame] = []
        var records: [SpoolRecord] = []
        var historical = 0
        for r in batch {
            // The spool holds frames as they were encoded; an uplink renders the decoded frame in
            // its own encoding. A record that does not decode is not sent (and not retried).
            guard case .frame(var frame, let length) = FrameDecoder.decode(r.bytes), length == r.bytes.count else {
                Log.warning("spool record \(r.index) does not decode as a frame; skipped")
                status.withLock { $0.undecodableRecords += 1 }
                if frames.isEmpty { try? spool.acknowledge(through: r.index, now: now.monotonic.nanoseconds) }
                break
            }
            if r.index < historicalBelow {
                frame.header.historical = true
                historical += 1
            }
            frames.append(frame)
            records.append(r)
        }
        guard !frames.isEmpty else { return true }
        do {
            let delivered = try u.send(frames)
            if delivered > 0 { try? spool.acknowledge(through: records[delivered - 1].index, now: now.monotonic.nanoseconds) }
            status.withLock {
                $0.framesDelivered += delivered
                $0.replayedHistorical += min(historical, delivered)
            }
            return delivered == records.count
        } catch {
            Log.warning("uplink: \(error.message)")
            status.withLock { $0.lastError = error.message }
            u.disconnect(death: nil)
            return false
        }
    }

    private func publishStatus() {
        let stats = spool?.statistics
        let connected = uplink?.isConnected ?? false
        let backlog = memoryBacklog.count
        let next = producer.nextSequence
        status.withLock {
            $0.spool = stats
            $0.connected = connected
            $0.memoryBacklog = backlog
            $0.nextSequence = next
        }
    }
}
