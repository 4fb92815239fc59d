/// Where the uplink worker keeps frames between building and delivery. Two implementations:
/// the on-disk ``Spool`` (store-and-forward across outages, crashes and power losses) and the
/// bounded ``MemoryFrameStore`` (the fallback when the spool cannot open: frames still flow, an
/// outage is bridged up to its bound, a stop or crash loses what it holds, and status says so).
/// The worker has one path through either; there is no "no store" case.
public protocol FrameStore: AnyObject {
    /// Where the frames are kept, for logs and `vigil status` (`spool /var/lib/vigil/spool`, …).
    var description: String { get }
    /// Stores one encoded frame; returns its index (append order, which delivery follows).
    @discardableResult
    func append(_ payload: [UInt8], lane: SpoolLane, now: Int64) throws(SpoolError) -> UInt64
    /// The oldest undelivered records in index order, up to `limit`; reading does not consume.
    func pending(limit: Int) -> [SpoolRecord]
    /// Every record with an index ≤ `index` was delivered.
    func acknowledge(through index: UInt64, now: Int64) throws(SpoolError)
    /// Makes what was appended durable where the store can.
    func sync(now: Int64) throws(SpoolError)
    var statistics: SpoolStatistics { get }
    var isEmpty: Bool { get }
}

extension Spool: FrameStore {
    public var description: String { "spool \(directory)" }
}

/// A bounded store in memory with the spool's eviction policy (oldest data first, events last),
/// every eviction counted. Nothing survives the process: ``lostAtStop`` is what a stop now loses.
public final class MemoryFrameStore: FrameStore {
    public let maxBytes: Int
    public let maxRecords: Int
    private var records: [SpoolRecord] = []
    private var bytes = 0
    private var nextIndex: UInt64
    private var deliveredThrough: UInt64
    private var droppedData = 0
    private var droppedEvents = 0

    /// `firstIndex` continues a spool's numbering where one existed.
    public init(maxBytes: Int, maxRecords: Int = 65_536, firstIndex: UInt64 = 1) {
        self.maxBytes = max(maxBytes, 1)
        self.maxRecords = max(maxRecords, 1)
        nextIndex = max(firstIndex, 1)
        deliveredThrough = nextIndex - 1
    }

    /// The agent's fallback bound (or the profile's `max_bytes`, if smaller): a few minutes of a
    /// busy node's frames without eating the RAM of a small board.
    public static let fallbackBytes = 8 << 20

    public var description: String { "memory (at most \(maxBytes) bytes, lost at stop)" }

    public func append(_ payload: [UInt8], lane: SpoolLane, now: Int64) throws(SpoolError) -> UInt64 {
        guard payload.count <= maxBytes else {
            throw SpoolError(path: "memory", operation: "append (a \(payload.count)-byte frame is over the \(maxBytes)-byte store)", errno: 90 /* EMSGSIZE */)
        }
        while !records.isEmpty && (bytes + payload.count > maxBytes || records.count >= maxRecords) { evictOldest() }
        let index = nextIndex
        nextIndex += 1
        records.append(SpoolRecord(index: index, lane: lane, bytes: payload))
        bytes += payload.count
        return index
    }

    private func evictOldest() {
        let victim = records.firstIndex { $0.lane == .data } ?? 0
        let r = records.remove(at: victim)
        bytes -= r.bytes.count
        if r.lane == .data { droppedData += 1 } else { droppedEvents += 1 }
    }

    public func pending(limit: Int) -> [SpoolRecord] { Array(records.prefix(max(0, limit))) }

    public func acknowledge(through index: UInt64, now: Int64) throws(SpoolError) {
        guard index > deliveredThrough else { return }
        deliveredThrough = min(index, nextIndex - 1)
        let n = records.prefix { $0.index <= deliveredThrough }.count
        for r in records.prefix(n) { bytes -= r.bytes.count }
        records.removeFirst(n)
    }

    public func sync(now: Int64) throws(SpoolError) {}

    /// Frames a stop (or crash) now loses: everything still held.
    public var lostAtStop: Int { records.count }

    public var statistics: SpoolStatistics {
        SpoolStatistics(pendingRecords: records.count, pendingBytes: bytes, diskBytes: 0, droppedData: droppedData, droppedEvents: droppedEvents,
                        tornRecords: 0, corruptRecords: 0, unsyncedAtFsyncError: 0, strayFiles: [], cursorProblem: nil, syncProblem: nil,
                        nextIndex: nextIndex, deliveredThrough: deliveredThrough)
    }

    public var isEmpty: Bool { records.isEmpty }
}
