#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import VigilBase

/// Why the spool failed; each names the file and the system error.
public struct SpoolError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var operation: String
    public var errno: Int32
    public init(path: String, operation: String, errno: Int32) {
        self.path = path
        self.operation = operation
        self.errno = errno
    }
    public var description: String {
        let hint = errno == ENOSPC ? " (the disk is full: frames stay in memory until space returns)" :
            errno == EACCES ? " (give the agent's user write access to the spool directory)" : ""
        return "spool \(operation) \(path): \(String(cString: strerror(errno)))\(hint)"
    }
}

/// The two lanes of the spool. A full spool evicts the data lane first, events last.
public enum SpoolLane: Int, Sendable, CaseIterable {
    case data = 0
    case events = 1
    var prefix: String { self == .data ? "data" : "event" }
}

/// A record read back from the spool.
public struct SpoolRecord: Sendable, Equatable {
    /// Spool-wide append order, across restarts: delivery follows it.
    public var index: UInt64
    public var lane: SpoolLane
    public var bytes: [UInt8]
}

/// What the spool holds and what it has lost. Every way a frame that reached `append` can be lost
/// has its own counter here.
public struct SpoolStatistics: Sendable, Equatable, Codable {
    public var pendingRecords: Int
    public var pendingBytes: Int
    public var diskBytes: Int
    /// Undelivered records evicted by policy (`max_bytes`, or a full disk), per lane.
    public var droppedData: Int
    public var droppedEvents: Int
    /// Records found torn at the tail of the newest segment at start-up (a power loss in a write).
    public var tornRecords: Int
    /// Records that failed their check (bad header or CRC) anywhere else, skipped, never replayed.
    public var corruptRecords: Int
    /// Records appended since the last good fsync when an fsync failed: not durable, so counted as
    /// lost (they are still sent if the page cache kept them).
    public var unsyncedAtFsyncError: Int
    /// Names in the spool directory that are not the spool's; reported and left alone.
    public var strayFiles: [String]
    /// The cursor could not be read or written: why (nil when it is fine).
    public var cursorProblem: String?
    /// The last fsync that failed (nil once one succeeds again).
    public var syncProblem: String?
    public var nextIndex: UInt64
    public var deliveredThrough: UInt64
}

/// Store-and-forward on disk: every frame is appended before it is sent, and delivered frames are
/// forgotten only after the uplink confirmed them, so an outage, a crash or a power loss loses
/// nothing that reached `append` (data since the last fsync excepted, see `fsyncInterval`), and
/// whatever is lost is counted in `statistics`.
///
/// Layout: `DIR/data-NNNNNNNN.seg`, `DIR/event-NNNNNNNN.seg` (segments of at most `segmentBytes`)
/// and `DIR/cursor` (the index of the last delivered record, replaced atomically). A record is
///
///     "VSR" | u8 version | u32 length | u64 index | u32 CRC-32C(bytes 0..<16 ‖ payload) | payload
///
/// little-endian, written with one `write`. The magic and version make a record header findable
/// after damage: a record that fails its check is skipped and the scan resumes at the next offset
/// where a whole record checks (which is where its own length would have led, if the length was
/// intact, and never past a good record if it was not). Only a damaged tail of the newest segment
/// (the one being written at a power loss) is truncated; damage elsewhere is skipped and counted.
///
/// Durability: a record is durable once its segment was fsynced and the segment's directory entry
/// too (the directory is fsynced after a segment or the cursor is created, renamed or removed).
/// Data records are fsynced at most every `fsyncInterval`; events at once; the cursor at most once
/// per `fsyncInterval`, so after a crash a few delivered frames may be sent again (at-least-once;
/// the gateway de-duplicates by session and sequence).
public final class Spool {
    struct Segment {
        var id: UInt32
        var bytes: Int
        var records: Int
        var firstIndex: UInt64
        var lastIndex: UInt64
        /// Damaged regions: start offset → the offset of the next record that checks.
        var skips: [Int: Int] = [:]
    }

    static let magic: [UInt8] = [0x56, 0x53, 0x52]  // "VSR"
    static let version: UInt8 = 2
    static let recordHeader = 20
    /// No frame comes near this; a larger length field is damage, not a record.
    public static let maximumPayload = 1 << 20
    public let directory: String
    public let maxBytes: Int
    public let segmentBytes: Int
    let fsyncIntervalNanoseconds: Int64
    let fileSystem: any SpoolFileSystem
    private var lanes: [[Segment]] = [[], []]
    private var writeHandles: [Int32] = [-1, -1]
    /// Records appended to each lane since its last good fsync.
    private var unsyncedRecords: [Int] = [0, 0]
    private var directoryDirty = false
    private var lastSync: Int64 = 0
    /// Where reading resumes in each lane: (segment position in `lanes[l]`, byte offset).
    private var readPosition: [(segment: Int, offset: Int)] = [(0, 0), (0, 0)]
    public private(set) var nextIndex: UInt64 = 1
    /// Every record with an index ≤ this was delivered.
    public private(set) var deliveredThrough: UInt64 = 0
    /// Per lane: every record of the lane with an index ≤ this was evicted (eviction is oldest first).
    public private(set) var evictedThrough: [UInt64] = [0, 0]
    private var cursorDirty = false
    private var cursorWritten: Int64 = 0
    public private(set) var droppedData = 0
    public private(set) var droppedEvents = 0
    public private(set) var tornRecords = 0
    public private(set) var corruptRecords = 0
    public private(set) var unsyncedAtFsyncError = 0
    public private(set) var strayFiles: [String] = []
    public private(set) var cursorProblem: String?
    /// The last fsync failure, until an fsync succeeds again.
    public private(set) var lastSyncError: String?

    /// Opens (creating if needed) the spool in `directory` and recovers what a crash left.
    public init(directory: String, maxBytes: Int, segmentBytes: Int, fsyncIntervalMilliseconds: Int,
                fileSystem: any SpoolFileSystem = POSIXFileSystem()) throws(SpoolError) {
        self.directory = directory
        self.fileSystem = fileSystem
        self.maxBytes = max(maxBytes, 2 * segmentBytes)
        self.segmentBytes = max(segmentBytes, 4096)
        fsyncIntervalNanoseconds = Int64(max(0, fsyncIntervalMilliseconds)) * 1_000_000
        do { try fileSystem.makeDirectory(directory) } catch { throw SpoolError(path: directory, operation: "open", errno: error.code) }
        deliveredThrough = readCursor()
        let names: [String]
        do { names = try fileSystem.list(directory) } catch { throw SpoolError(path: directory, operation: "open", errno: error.code) }
        var ids: [[UInt32]] = [[], []]
        for name in names {
            if name == "cursor" || name == "cursor.tmp" { continue }
            if let (lane, id) = Self.parseSegmentName(name) { ids[lane.rawValue].append(id) } else { strayFiles.append(name) }
        }
        strayFiles.sort()
        for lane in SpoolLane.allCases { try recover(lane, ids: ids[lane.rawValue].sorted()) }
        var top: UInt64 = deliveredThrough
        for l in lanes { for s in l where s.records > 0 { top = max(top, s.lastIndex) } }
        nextIndex = top + 1
        for lane in SpoolLane.allCases {
            discardDelivered(lane)
            positionReader(lane)
        }
    }

    deinit {
        for h in writeHandles where h >= 0 {
            try? fileSystem.sync(h)
            fileSystem.close(h)
        }
    }

    /// `data-00000012.seg` → (.data, 12); nil for any other name.
    static func parseSegmentName(_ name: String) -> (SpoolLane, UInt32)? {
        for lane in SpoolLane.allCases {
            let prefix = lane.prefix + "-"
            guard name.hasPrefix(prefix), name.hasSuffix(".seg") else { continue }
            let digits = name.dropFirst(prefix.count).dropLast(4)
            guard digits.count == 8, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let id = UInt32(digits) else { return nil }
            return (lane, id)
        }
        return nil
    }

    // MARK: Writing

    /// Appends one frame; returns its index once the record is in the spool (it then stays there
    /// until acknowledged or evicted); events are also fsynced before this returns, and if that
    /// fsync fails the failure is counted and kept in `lastSyncError`. A full disk
    /// evicts by the same policy as `max_bytes` (oldest data first, events last) and tries again;
    /// a frame that still cannot be stored is the caller's to count (the error says why).
    @discardableResult
    public func append(_ payload: [UInt8], lane: SpoolLane, now: Int64) throws(SpoolError) -> UInt64 {
        guard payload.count <= Self.maximumPayload else {
            throw SpoolError(path: directory, operation: "append (a \(payload.count)-byte frame is over the \(Self.maximumPayload)-byte record limit)", errno: EINVAL)
        }
        let l = lane.rawValue
        let size = Self.recordHeader + payload.count
        let record = Self.encodeRecord(payload, index: nextIndex)
        while true {
            if writeHandles[l] < 0 || lanes[l].isEmpty || lanes[l][lanes[l].count - 1].bytes + size > segmentBytes && lanes[l][lanes[l].count - 1].records > 0 {
                try startSegment(lane)
            }
            let s = lanes[l][lanes[l].count - 1]
            let handle = writeHandles[l]
            let result: Result<Int, FileSystemErrno> = record.withUnsafeBytes { bytes in
                do throws(FileSystemErrno) { return .success(try fileSystem.append(handle, bytes)) } catch { return .failure(error) }
            }
            if case .success(let n) = result, n == size { break }
            var e: Int32 = ENOSPC  // a short write is a full disk
            if case .failure(let f) = result { e = f.code }
            // Take back a partial record so the segment stays well-formed; if that fails too, the
            // damaged tail is skipped at reading (its check fails) and the lane moves to a new segment.
            if (try? fileSystem.truncate(writeHandles[l], to: s.bytes)) == nil { closeWriter(lane) }
            if e == ENOSPC || e == EDQUOT, evictOldest() { continue }
            throw SpoolError(path: segmentPath(lane, s.id), operation: "write", errno: e)
        }
        let index = nextIndex
        nextIndex += 1
        var s = lanes[l][lanes[l].count - 1]
        if s.records == 0 { s.firstIndex = index }
        s.lastIndex = index
        s.records += 1
        s.bytes += size
        lanes[l][lanes[l].count - 1] = s
        unsyncedRecords[l] += 1
        if lane == .events || now - lastSync >= fsyncIntervalNanoseconds {
            // The record is in the spool from here on, so a failed fsync is not the caller's to
            // retry (that would store the frame twice): it is counted and shown, not thrown.
            do { try sync(now: now) } catch { lastSyncError = "\(error)" }
        }
        evictIfFull()
        return index
    }

    static func encodeRecord(_ payload: [UInt8], index: UInt64) -> [UInt8] {
        var record = magic
        record.reserveCapacity(recordHeader + payload.count)
        record.append(version)
        appendLE(UInt32(payload.count), &record)
        appendLE(index, &record)
        var crc = record.withUnsafeBytes { CRC32C.update(0xFFFF_FFFF, $0) }
        crc = payload.withUnsafeBytes { CRC32C.update(crc, $0) }
        appendLE((crc ^ 0xFFFF_FFFF), &record)
        record.append(contentsOf: payload)
        return record
    }

    /// fsyncs unsynced segments, the directory and the cursor (the clean-stop path calls this).
    /// After a failed fsync nothing written since the last good one is taken as durable: those
    /// records are counted in `unsyncedAtFsyncError`, and the lane continues in a new segment (a
    /// later fsync of the same file may report success for pages the kernel already dropped).
    public func sync(now: Int64) throws(SpoolError) {
        var failure: SpoolError?
        for lane in SpoolLane.allCases where unsyncedRecords[lane.rawValue] > 0 && writeHandles[lane.rawValue] >= 0 {
            let l = lane.rawValue
            do { try fileSystem.sync(writeHandles[l]) } catch {
                failure = failure ?? SpoolError(path: segmentPath(lane, lanes[l].last?.id ?? 0), operation: "fsync", errno: error.code)
                unsyncedAtFsyncError += unsyncedRecords[l]
                closeWriter(lane)
            }
            unsyncedRecords[l] = 0
        }
        if directoryDirty {
            do { try fileSystem.syncDirectory(directory); directoryDirty = false } catch {
                failure = failure ?? SpoolError(path: directory, operation: "fsync", errno: error.code)
            }
        }
        if let failure { throw failure }
        lastSync = now
        lastSyncError = nil
        if cursorDirty { try writeCursor(); cursorWritten = now }
    }

    // MARK: Reading and delivery

    /// The oldest undelivered records, in index order, up to `limit`. Reading does not consume:
    /// call `acknowledge(through:)` once the uplink confirmed them. Every record is checked
    /// (header, bounds, CRC) before it is returned; a damaged one is counted and skipped.
    public func pending(limit: Int) -> [SpoolRecord] {
        var candidates: [SpoolRecord] = []
        for lane in SpoolLane.allCases {
            var position = readPosition[lane.rawValue]
            var taken = 0
            while taken < limit, let (record, next) = readRecord(lane, at: position) {
                if record.index > deliveredThrough { candidates.append(record); taken += 1 }
                position = next
            }
        }
        candidates.sort { $0.index < $1.index }
        return Array(candidates.prefix(limit))
    }

    /// Marks every record with an index ≤ `index` delivered; deletes segments that hold nothing else.
    public func acknowledge(through index: UInt64, now: Int64) throws(SpoolError) {
        guard index > deliveredThrough else { return }
        deliveredThrough = min(index, nextIndex - 1)
        cursorDirty = true
        for lane in SpoolLane.allCases {
            discardDelivered(lane)
            positionReader(lane)
        }
        if now - cursorWritten >= fsyncIntervalNanoseconds { try writeCursor(); cursorWritten = now }
    }

    public var statistics: SpoolStatistics {
        var records = 0, bytes = 0, disk = 0
        for l in lanes {
            for s in l {
                disk += s.bytes
                if s.lastIndex > deliveredThrough && s.records > 0 {
                    // Whole segments are counted from their first undelivered record on.
                    let fraction = s.firstIndex > deliveredThrough ? 1.0 : Double(s.lastIndex - deliveredThrough) / Double(max(1, s.lastIndex - s.firstIndex + 1))
                    records += Int((Double(s.records) * fraction).rounded(.up))
                    bytes += Int((Double(s.bytes) * fraction).rounded(.up))
                }
            }
        }
        return SpoolStatistics(pendingRecords: records, pendingBytes: bytes, diskBytes: disk, droppedData: droppedData, droppedEvents: droppedEvents,
                               tornRecords: tornRecords, corruptRecords: corruptRecords, unsyncedAtFsyncError: unsyncedAtFsyncError,
                               strayFiles: strayFiles, cursorProblem: cursorProblem, syncProblem: lastSyncError, nextIndex: nextIndex, deliveredThrough: deliveredThrough)
    }

    /// True when nothing waits for delivery.
    public var isEmpty: Bool { nextIndex - 1 <= deliveredThrough }

    // MARK: Internals

    func segmentPath(_ lane: SpoolLane, _ id: UInt32) -> String {
        let digits = String(id)
        return "\(directory)/\(lane.prefix)-\(String(repeating: "0", count: max(0, 8 - digits.count)))\(digits).seg"
    }

    private func closeWriter(_ lane: SpoolLane) {
        let l = lane.rawValue
        if writeHandles[l] >= 0 { fileSystem.close(writeHandles[l]) }
        writeHandles[l] = -1
    }

    private func startSegment(_ lane: SpoolLane) throws(SpoolError) {
        let l = lane.rawValue
        if writeHandles[l] >= 0 {
            if unsyncedRecords[l] > 0 {
                do { try fileSystem.sync(writeHandles[l]) } catch { unsyncedAtFsyncError += unsyncedRecords[l] }
                unsyncedRecords[l] = 0
            }
            closeWriter(lane)
        }
        let id = (lanes[l].last?.id ?? 0) + 1
        let path = segmentPath(lane, id)
        do { writeHandles[l] = try fileSystem.openForAppend(path, create: true, truncate: true) } catch {
            throw SpoolError(path: path, operation: "create", errno: error.code)
        }
        directoryDirty = true
        lanes[l].append(Segment(id: id, bytes: 0, records: 0, firstIndex: 0, lastIndex: 0))
    }

    private var totalBytes: Int { lanes.reduce(0) { $0 + $1.reduce(0) { $0 + $1.bytes } } }

    private func evictIfFull() {
        while totalBytes > maxBytes {
            if !evictOldest() { return }
        }
    }

    /// Removes the oldest segment holding records (data first; events only when no data is left)
    /// and counts what in it was undelivered. False when nothing is left to evict.
    private func evictOldest() -> Bool {
        let lane: SpoolLane = lanes[0].contains(where: { $0.records > 0 }) ? .data : .events
        let l = lane.rawValue
        guard let victim = lanes[l].firstIndex(where: { $0.records > 0 }) else { return false }
        let s = lanes[l][victim]
        if victim == lanes[l].count - 1 {
            // The segment being written: the lane continues in a fresh one on its next append.
            closeWriter(lane)
        }
        let lost = s.lastIndex <= deliveredThrough ? 0 :
            s.firstIndex > deliveredThrough ? s.records : Int(s.lastIndex - deliveredThrough)
        if lane == .data { droppedData += lost } else { droppedEvents += lost }
        evictedThrough[l] = max(evictedThrough[l], s.lastIndex)
        try? fileSystem.unlink(segmentPath(lane, s.id))
        directoryDirty = true
        if victim == lanes[l].count - 1 {
            // Keep the id sequence: the next segment's id follows the evicted one's.
            lanes[l][victim] = Segment(id: s.id, bytes: 0, records: 0, firstIndex: 0, lastIndex: 0)
        } else {
            lanes[l].remove(at: victim)
        }
        positionReader(lane)
        return true
    }

    /// Deletes segments (other than the newest) whose records were all delivered.
    private func discardDelivered(_ lane: SpoolLane) {
        let l = lane.rawValue
        while lanes[l].count > 1, lanes[l][0].records == 0 || lanes[l][0].lastIndex <= deliveredThrough {
            try? fileSystem.unlink(segmentPath(lane, lanes[l][0].id))
            directoryDirty = true
            lanes[l].removeFirst()
        }
    }

    /// Moves the reader of `lane` to its first undelivered record.
    private func positionReader(_ lane: SpoolLane) {
        var position = (segment: 0, offset: 0)
        while let (record, next) = readRecord(lane, at: position), record.index <= deliveredThrough {
            position = next
        }
        readPosition[lane.rawValue] = position
    }

    /// Checks the record at `offset` of an open segment of `limit` valid bytes: its header, that it
    /// fits, and its CRC. Returns the index and payload, or nil if it does not check. Nothing is
    /// allocated for a length before it is known to fit.
    func checkedRecord(_ handle: Int32, at offset: Int, limit: Int) -> (UInt64, [UInt8])? {
        guard offset + Self.recordHeader <= limit else { return nil }
        var header = [UInt8](repeating: 0, count: Self.recordHeader)
        guard header.withUnsafeMutableBytes({ fileSystem.readFully(handle, into: $0, at: offset) }) else { return nil }
        guard header[0] == Self.magic[0], header[1] == Self.magic[1], header[2] == Self.magic[2], header[3] == Self.version else { return nil }
        let length = Int(readLE32(header, 4))
        guard length <= Self.maximumPayload, offset + Self.recordHeader + length <= limit else { return nil }
        var payload = [UInt8](repeating: 0, count: length)
        guard payload.withUnsafeMutableBytes({ fileSystem.readFully(handle, into: $0, at: offset + Self.recordHeader) }) else { return nil }
        var crc = header[0..<16].withUnsafeBytes { CRC32C.update(0xFFFF_FFFF, $0) }
        crc = payload.withUnsafeBytes { CRC32C.update(crc, $0) }
        guard (crc ^ 0xFFFF_FFFF) == readLE32(header, 16) else { return nil }
        return (readLE64(header, 8), payload)
    }

    /// The offset of the next record that checks after damage at `offset`, or `limit`; and how many
    /// record headers (magic and version) the damaged stretch held, at least 1: the records lost.
    func resynchronise(_ handle: Int32, from offset: Int, limit: Int) -> (next: Int, lost: Int) {
        guard limit > offset + 1 else { return (limit, 1) }
        var bytes = [UInt8](repeating: 0, count: limit - offset)
        let readable = bytes.withUnsafeMutableBytes { fileSystem.readFully(handle, into: $0, at: offset) }
        guard readable else { return (limit, 1) }
        var headers = 1
        var at = 1
        while at + 3 < bytes.count {
            if bytes[at] == Self.magic[0] && bytes[at + 1] == Self.magic[1] && bytes[at + 2] == Self.magic[2] && bytes[at + 3] == Self.version {
                if checkedRecord(handle, at: offset + at, limit: limit) != nil { return (offset + at, headers) }
                headers += 1
            }
            at += 1
        }
        return (limit, headers)
    }

    /// The record at `position` and the position after it, following segment boundaries and
    /// skipping damage (a record damaged since start-up is counted when first met).
    private func readRecord(_ lane: SpoolLane, at position: (segment: Int, offset: Int)) -> (SpoolRecord, (segment: Int, offset: Int))? {
        let l = lane.rawValue
        var p = position
        var openHandle: (segment: Int, handle: Int32)?
        defer { if let o = openHandle { fileSystem.close(o.handle) } }
        while true {
            while p.segment < lanes[l].count {
                if let skip = lanes[l][p.segment].skips[p.offset] { p.offset = skip; continue }
                if p.offset >= lanes[l][p.segment].bytes { p = (p.segment + 1, 0); continue }
                break
            }
            guard p.segment < lanes[l].count else { return nil }
            let s = lanes[l][p.segment]
            if openHandle?.segment != p.segment {
                if let o = openHandle { fileSystem.close(o.handle) }
                openHandle = nil
                guard let h = try? fileSystem.openForReading(segmentPath(lane, s.id)) else { p = (p.segment + 1, 0); continue }
                openHandle = (p.segment, h)
            }
            let handle = openHandle!.handle
            if let (index, payload) = checkedRecord(handle, at: p.offset, limit: s.bytes) {
                return (SpoolRecord(index: index, lane: lane, bytes: payload), (p.segment, p.offset + Self.recordHeader + payload.count))
            }
            let (next, lost) = resynchronise(handle, from: p.offset, limit: s.bytes)
            corruptRecords += lost
            lanes[l][p.segment].skips[p.offset] = next
        }
    }

    /// Scans every segment of `lane` (ids ascending): counts, skips damage, truncates a torn tail of
    /// the newest, and opens the newest for appending.
    private func recover(_ lane: SpoolLane, ids: [UInt32]) throws(SpoolError) {
        let l = lane.rawValue
        for (position, id) in ids.enumerated() {
            let newest = position == ids.count - 1
            let path = segmentPath(lane, id)
            let handle: Int32
            let size: Int
            do {
                handle = try fileSystem.openForReading(path)
                size = try fileSystem.size(handle)
            } catch { throw SpoolError(path: path, operation: "open", errno: error.code) }
            defer { fileSystem.close(handle) }
            var segment = Segment(id: id, bytes: size, records: 0, firstIndex: 0, lastIndex: 0)
            var offset = 0
            var tornTail: (start: Int, lost: Int)?
            while offset < size {
                if let (index, payload) = checkedRecord(handle, at: offset, limit: size) {
                    if segment.records == 0 { segment.firstIndex = index }
                    segment.firstIndex = min(segment.firstIndex, index)
                    segment.lastIndex = max(segment.lastIndex, index)
                    segment.records += 1
                    offset += Self.recordHeader + payload.count
                    continue
                }
                let (next, lost) = resynchronise(handle, from: offset, limit: size)
                if next == size && newest {
                    tornTail = (offset, lost)
                } else {
                    corruptRecords += lost
                    segment.skips[offset] = next
                }
                offset = next
            }
            if let torn = tornTail {
                // The newest segment was being written: a power loss tore its last write. Cut it
                // off so appending continues on a well-formed end.
                tornRecords += torn.lost
                do {
                    let w = try fileSystem.openForAppend(path, create: false, truncate: false)
                    defer { fileSystem.close(w) }
                    try fileSystem.truncate(w, to: torn.start)
                    try fileSystem.sync(w)
                } catch { throw SpoolError(path: path, operation: "truncate", errno: error.code) }
                segment.bytes = torn.start
            }
            lanes[l].append(segment)
        }
        if let last = lanes[l].last, last.skips.isEmpty {
            let path = segmentPath(lane, last.id)
            do { writeHandles[l] = try fileSystem.openForAppend(path, create: false, truncate: false) } catch {
                throw SpoolError(path: path, operation: "open", errno: error.code)
            }
        }
        // A newest segment with damage inside is left as it is; appending starts a new one.
    }

    private func readCursor() -> UInt64 {
        let path = "\(directory)/cursor"
        let handle: Int32
        do { handle = try fileSystem.openForReading(path) } catch {
            if error.code != ENOENT { cursorProblem = "cannot read \(path): \(String(cString: strerror(error.code))); every spooled frame is sent again" }
            return 0
        }
        defer { fileSystem.close(handle) }
        var b = [UInt8](repeating: 0, count: 12)
        let whole = b.withUnsafeMutableBytes { fileSystem.readFully(handle, into: $0, at: 0) }
        let value = readLE64(b, 0)
        let crc = b[0..<8].withUnsafeBytes { CRC32C.checksum($0) }
        guard whole, crc == readLE32(b, 8) else {
            cursorProblem = "\(path) is corrupt (\(whole ? "CRC mismatch" : "short")); every spooled frame is sent again"
            return 0
        }
        return value
    }

    /// Replaces the cursor: write a temporary file, fsync it (checked), rename, fsync the directory.
    private func writeCursor() throws(SpoolError) {
        var b: [UInt8] = []
        appendLE(deliveredThrough, &b)
        appendLE(b.withUnsafeBytes { CRC32C.checksum($0) }, &b)
        let tmp = "\(directory)/cursor.tmp", path = "\(directory)/cursor"
        var step = "create", at = tmp
        do throws(FileSystemErrno) {
            let h = try fileSystem.openForAppend(tmp, create: true, truncate: true)
            defer { fileSystem.close(h) }
            step = "write"
            let written: Result<Int, FileSystemErrno> = b.withUnsafeBytes { bytes in
                do throws(FileSystemErrno) { return .success(try fileSystem.append(h, bytes)) } catch { return .failure(error) }
            }
            if try written.get() != b.count { throw FileSystemErrno(ENOSPC) }
            step = "fsync"
            try fileSystem.sync(h)
            step = "rename"; at = path
            try fileSystem.rename(tmp, path)
            step = "fsync"; at = directory
            try fileSystem.syncDirectory(directory)
        } catch {
            let e = SpoolError(path: at, operation: "\(step) (cursor)", errno: error.code)
            cursorProblem = "\(e)"
            throw e
        }
        cursorDirty = false
        cursorProblem = nil
    }
}

func appendLE<T: FixedWidthInteger>(_ v: T, _ out: inout [UInt8]) {
    for i in 0..<(T.bitWidth / 8) { out.append(UInt8(truncatingIfNeeded: v >> (8 * i))) }
}

func readLE32(_ b: [UInt8], _ at: Int) -> UInt32 {
    UInt32(b[at]) | UInt32(b[at + 1]) << 8 | UInt32(b[at + 2]) << 16 | UInt32(b[at + 3]) << 24
}

func readLE64(_ b: [UInt8], _ at: Int) -> UInt64 {
    UInt64(readLE32(b, at)) | UInt64(readLE32(b, at + 4)) << 32
}
