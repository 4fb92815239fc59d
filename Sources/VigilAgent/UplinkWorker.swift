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
    /// Where frames wait for delivery: `spool DIR`, or `memory (…)` when the spool could not open.
    public var store: String
    /// Why frames are not on disk (the spool's error at start-up); nil while the spool is in use.
    /// A stop or crash loses what the memory store holds.
    public var storeFallback: String?
    public var spool: SpoolStatistics?
    /// Frames kept in memory because the store could not take them (disk full, I/O error).
    public var memoryBacklog: Int
    public var spoolError: String?
    /// Spool records that did not decode as frames (skipped, never sent).
    public var undecodableRecords: Int
    /// Every other way a frame can be lost before the store, each counted (README, "What can be lost").
    public var losses: UplinkLosses
    public var session: UInt32
    public var nextSequence: UInt32
}

/// Frames lost on the way from the loop to the store, by cause. The store's own losses (eviction,
/// torn or damaged records, unsynced at an fsync error) are in ``SpoolStatistics``.
public struct UplinkLosses: Sendable, Codable, Equatable {
    /// Channel updates the loop could not hand over because the uplink thread fell behind (ring full).
    public var droppedUpdates = 0
    /// Interlock events likewise (the interlock itself acted on them; only the report is lost).
    public var droppedEvents = 0
    /// Frames that could not be encoded (a field over its wire limit).
    public var encodeFailures = 0
    /// Frames dropped from the full in-memory backlog (the store refused them for long).
    public var backlogOverflow = 0
    /// `data_qos = 0` frames written to the socket shortly before a lost connection: possibly
    /// lost with it (QoS 0 has no acknowledgement; the store forgot them once written).
    public var qos0PossiblyLost = 0
    public init() {}
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
    let store: any FrameStore
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
    private var anAttemptFailed = false
    static let maximumBackoffNanoseconds: Int64 = 30_000_000_000
    static let memoryBacklogLimit = 4096

    private var losses = UplinkLosses()

    /// `storeFallback` says why `store` is not the on-disk spool (shown in status), nil when it is.
    init(loaded: LoadedProfile, producer: FrameProducer, uplink: (any Uplink)?, store: any FrameStore, storeFallback: String? = nil,
         updates: SPSCRing<ChannelUpdate>, events: SPSCRing<InterlockEvent>, spectra: [SpectrumSlot]) {
        self.loaded = loaded
        self.producer = producer
        // The session id differs per node and run: nodes that lost one broker together draw apart.
        backoff = ReconnectBackoff(maximumNanoseconds: Self.maximumBackoffNanoseconds, seed: UInt64(producer.session) | 1 << 40)
        self.uplink = uplink
        self.store = store
        loggedProblems = [store.statistics.cursorProblem, store.statistics.syncProblem]  // the agent logged these at start
        self.updates = updates
        self.events = events
        self.spectra = spectra
        lastSpectrumBlocks = Array(repeating: 0, count: spectra.count)
        firstIndexOfRun = store.statistics.nextIndex
        status = Mutex(UplinkStatus(transport: uplink?.description ?? "none", connected: false, lastError: nil, connects: 0, framesBuilt: 0,
                                    framesDelivered: 0, replayedHistorical: 0, store: store.description, storeFallback: storeFallback,
                                    spool: store.statistics, memoryBacklog: 0, spoolError: nil, undecodableRecords: 0, losses: UplinkLosses(),
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
        while let u = uplink, u.isConnected, !store.isEmpty, SystemClock.timestamp().monotonic.nanoseconds < deadline {
            if !deliver(SystemClock.timestamp()) { break }
        }
        try? store.sync(now: SystemClock.timestamp().monotonic.nanoseconds)
        // What only memory holds is lost now: say how much, never silently.
        let inMemory = (store as? MemoryFrameStore)?.lostAtStop ?? 0
        if inMemory + memoryBacklog.count > 0 {
            Log.error("uplink: \(inMemory + memoryBacklog.count) undelivered frame(s) held only in memory are lost at this stop")
        }
        if let u = uplink, u.isConnected {
            u.disconnect(death: producer.death(.cleanStop, at: SystemClock.timestamp(), losses: lossCounts()))
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
                    if (try? u.send([producer.birth(at: now, losses: lossCounts())])) == 1 { producer.birthDelivered() }
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
            guard let bytes = try? frame.encoded() else {
                losses.encodeFailures += 1
                continue
            }
            status.withLock { $0.framesBuilt += 1 }
            store(lane, bytes, now)
        }
    }

    private func store(_ lane: SpoolLane, _ bytes: [UInt8], _ now: Timestamp) {
        // Older frames first: retry the memory backlog before the new one.
        while let (l, b) = memoryBacklog.first {
            do { try store.append(b, lane: l, now: now.monotonic.nanoseconds); memoryBacklog.removeFirst() } catch { break }
        }
        do {
            if !memoryBacklog.isEmpty { throw SpoolError(path: store.description, operation: "append (older frames wait in memory)", errno: 28) }
            try store.append(bytes, lane: lane, now: now.monotonic.nanoseconds)
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
                losses.backlogOverflow += 1
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

    func maintainConnection(_ now: Timestamp) {
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
            try u.connect(birth: producer.birth(at: now, losses: lossCounts()), death: producer.death(.connectionLost, at: now, losses: lossCounts()))
            producer.birthDelivered()
            // Frames that waited for this connection are replayed as historical. On a first
            // connection made at the first attempt, only those a previous run left in the spool
            // waited; the few built while that attempt ran are live.
            historicalBelow = status.withLock { $0.connects } == 0 && !anAttemptFailed ? firstIndexOfRun : store.statistics.nextIndex
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
            // A birth that may have reached the gateway keeps its sequence number: the next data
            // frame must not carry it too (the gateway then sees a gap, which is honest).
            if error.birthMayHaveBeenSent { producer.birthDelivered() }
            anAttemptFailed = true
            let message = error.message
            let changed = status.withLock { s -> Bool in
                defer { s.lastError = message; s.connected = false }
                return s.lastError != message
            }
            if let wait = error.retryAfterNanoseconds {
                if changed { Log.warning("uplink: \(message); checking again every \(wait / 1_000_000) ms") }
                nextAttempt = now.monotonic.nanoseconds + wait
                return
            }
            let wait = backoff.failed()
            if changed { Log.warning("uplink: \(message); retrying in \(wait / 1_000_000) ms, backing off to \(Self.maximumBackoffNanoseconds / 1_000_000_000) s") }
            nextAttempt = now.monotonic.nanoseconds + wait
        }
    }

    /// Sends the next batch from the spool; true when the whole batch was delivered and more may wait.
    @discardableResult
    private func deliver(_ now: Timestamp) -> Bool {
        guard let u = uplink else { return false }
        let batch = store.pending(limit: 32)
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
                if frames.isEmpty { try? store.acknowledge(through: r.index, now: now.monotonic.nanoseconds) }
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
            if delivered > 0 { try? store.acknowledge(through: records[delivered - 1].index, now: now.monotonic.nanoseconds) }
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

    /// Every loss counter, for the birth: the gateway sees them without asking the node.
    func lossCounts() -> [LossCount] {
        let s = store.statistics
        let undecodable = status.withLock { $0.undecodableRecords }
        let counts: [(LossCause, Int)] = [
            (.droppedUpdates, updates.droppedCount), (.droppedEvents, events.droppedCount), (.encodeFailures, losses.encodeFailures),
            (.backlogOverflow, losses.backlogOverflow), (.evictedData, s.droppedData), (.evictedEvents, s.droppedEvents),
            (.tornRecords, s.tornRecords), (.damagedRecords, s.corruptRecords), (.unsyncedAtFsyncError, s.unsyncedAtFsyncError),
            (.undecodableRecords, undecodable), (.memoryStoreOnly, store is MemoryFrameStore ? 1 : 0),
            (.qos0PossiblyLost, uplink?.possiblyLostAtDisconnect ?? 0),
        ]
        return counts.map { LossCount($0.0, UInt64(max(0, $0.1))) }
    }

    /// The store's problems as last logged: a new one (or its end) is logged once, not per cycle.
    private var loggedProblems: [String?] = [nil, nil]

    private func publishStatus() {
        let stats = store.statistics
        for (i, problem) in [stats.cursorProblem, stats.syncProblem].enumerated() where problem != loggedProblems[i] {
            if let problem { Log.error("\(store.description): \(problem)") } else { Log.info("\(store.description): \(i == 0 ? "cursor" : "fsync") works again") }
            loggedProblems[i] = problem
        }
        let connected = uplink?.isConnected ?? false
        let backlog = memoryBacklog.count
        let next = producer.nextSequence
        losses.droppedUpdates = updates.droppedCount
        losses.droppedEvents = events.droppedCount
        losses.qos0PossiblyLost = uplink?.possiblyLostAtDisconnect ?? 0
        let losses = losses
        status.withLock {
            $0.losses = losses
            $0.spool = stats
            $0.connected = connected
            $0.memoryBacklog = backlog
            $0.nextSequence = next
        }
    }
}
