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

/// What the spool holds and what it has lost.
public struct SpoolStatistics: Sendable, Equatable, Codable {
    public var pendingRecords: Int
    public var pendingBytes: Int
    public var diskBytes: Int
    public var droppedData: Int
    public var droppedEvents: Int
    /// Records found torn or corrupt at start-up (power loss in a write) and skipped.
    public var tornRecords: Int
    public var nextIndex: UInt64
    public var deliveredThrough: UInt64
}

/// Store-and-forward on disk: every frame is appended before it is sent, and delivered frames are
/// forgotten only after the uplink confirmed them, so an outage, a crash or a power loss loses
/// nothing that reached `append` (data since the last fsync excepted, see `fsyncInterval`).
///
/// Layout: `DIR/data-NNNNNNNN.seg`, `DIR/event-NNNNNNNN.seg` (segments of at most `segmentBytes`)
/// and `DIR/cursor` (the index of the last delivered record, replaced atomically). A record is
/// `u32 length | u32 CRC-32C(index ‖ payload) | u64 index | payload`, little-endian, written with
/// one `write`. At start-up every segment is scanned; a record whose length or CRC is wrong ends
/// its segment (a torn tail after power loss): the file is truncated there and the loss counted.
///
/// Flash wear: data records are fsynced at most every `fsyncInterval`; events at once; the
/// cursor at most once per `fsyncInterval`, so after a crash a few delivered frames may be sent
/// again (at-least-once; the gateway de-duplicates by session and sequence).
public final class Spool {
    struct Segment {
        var id: UInt32
        var bytes: Int
        var records: Int
        var firstIndex: UInt64
        var lastIndex: UInt64
    }

    static let recordHeader = 16
    public let directory: String
    public let maxBytes: Int
    public let segmentBytes: Int
    let fsyncIntervalNanoseconds: Int64
    private var lanes: [[Segment]] = [[], []]
    private var writeFDs: [Int32] = [-1, -1]
    private var unsynced: [Bool] = [false, false]
    private var lastSync: Int64 = 0
    /// Where reading resumes in each lane: (segment position in `lanes[l]`, byte offset).
    private var readPosition: [(segment: Int, offset: Int)] = [(0, 0), (0, 0)]
    public private(set) var nextIndex: UInt64 = 1
    /// Every record with an index ≤ this was delivered.
    public private(set) var deliveredThrough: UInt64 = 0
    private var cursorDirty = false
    private var cursorWritten: Int64 = 0
    public private(set) var droppedData = 0
    public private(set) var droppedEvents = 0
    public private(set) var tornRecords = 0

    /// Opens (creating if needed) the spool in `directory` and recovers what a crash left.
    public init(directory: String, maxBytes: Int, segmentBytes: Int, fsyncIntervalMilliseconds: Int) throws(SpoolError) {
        self.directory = directory
        self.maxBytes = max(maxBytes, 2 * segmentBytes)
        self.segmentBytes = max(segmentBytes, 4096)
        fsyncIntervalNanoseconds = Int64(max(0, fsyncIntervalMilliseconds)) * 1_000_000
        try Self.makeDirectory(directory)
        deliveredThrough = readCursor()
        for lane in SpoolLane.allCases { try recover(lane) }
        var top: UInt64 = deliveredThrough
        for l in lanes { for s in l where s.records > 0 { top = max(top, s.lastIndex) } }
        nextIndex = top + 1
        for lane in SpoolLane.allCases {
            discardDelivered(lane)
            try positionReader(lane)
        }
    }

    deinit {
        for fd in writeFDs where fd >= 0 {
            fsync(fd)
            close(fd)
        }
    }

    // MARK: Writing

    /// Appends one frame; returns its index. Events are on disk when this returns.
    @discardableResult
    public func append(_ payload: [UInt8], lane: SpoolLane, now: Int64) throws(SpoolError) -> UInt64 {
        let l = lane.rawValue
        let size = Self.recordHeader + payload.count
        if lanes[l].isEmpty || lanes[l][lanes[l].count - 1].bytes + size > segmentBytes && lanes[l][lanes[l].count - 1].records > 0 {
            try startSegment(lane)
        }
        let index = nextIndex
        var record = [UInt8]()
        record.reserveCapacity(size)
        appendLE(UInt32(payload.count), &record)
        appendLE(UInt32(0), &record)
        appendLE(index, &record)
        record.append(contentsOf: payload)
        let crc = record[8...].withUnsafeBytes { CRC32C.checksum($0) }
        record[4] = UInt8(crc & 0xFF); record[5] = UInt8(crc >> 8 & 0xFF); record[6] = UInt8(crc >> 16 & 0xFF); record[7] = UInt8(crc >> 24)
        let fd = writeFDs[l]
        let written = record.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        if written != size {
            let e = written < 0 ? errno : ENOSPC
            // Take back a partial record so the segment stays well-formed.
            let s = lanes[l][lanes[l].count - 1]
            _ = ftruncate(fd, off_t(s.bytes))
            _ = lseek(fd, off_t(s.bytes), SEEK_SET)
            throw SpoolError(path: segmentPath(lane, s.id), operation: "write", errno: e)
        }
        nextIndex += 1
        var s = lanes[l][lanes[l].count - 1]
        if s.records == 0 { s.firstIndex = index }
        s.lastIndex = index
        s.records += 1
        s.bytes += size
        lanes[l][lanes[l].count - 1] = s
        unsynced[l] = true
        if lane == .events || now - lastSync >= fsyncIntervalNanoseconds { try sync(now: now) }
        try evictIfFull()
        return index
    }

    /// fsyncs unsynced segments and the cursor (the clean-stop path calls this).
    public func sync(now: Int64) throws(SpoolError) {
        for l in 0..<2 where unsynced[l] && writeFDs[l] >= 0 {
            if fsync(writeFDs[l]) != 0 {
                throw SpoolError(path: segmentPath(SpoolLane(rawValue: l)!, lanes[l].last?.id ?? 0), operation: "fsync", errno: errno)
            }
            unsynced[l] = false
        }
        lastSync = now
        if cursorDirty { try writeCursor(); cursorWritten = now }
    }

    // MARK: Reading and delivery

    /// The oldest undelivered records, in index order, up to `limit`. Reading does not consume:
    /// call `acknowledge(through:)` once the uplink confirmed them.
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
            try positionReader(lane)
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
                               tornRecords: tornRecords, nextIndex: nextIndex, deliveredThrough: deliveredThrough)
    }

    /// True when nothing waits for delivery.
    public var isEmpty: Bool { nextIndex - 1 <= deliveredThrough }

    // MARK: Internals

    func segmentPath(_ lane: SpoolLane, _ id: UInt32) -> String {
        let digits = String(id)
        return "\(directory)/\(lane.prefix)-\(String(repeating: "0", count: max(0, 8 - digits.count)))\(digits).seg"
    }

    private func startSegment(_ lane: SpoolLane) throws(SpoolError) {
        let l = lane.rawValue
        if writeFDs[l] >= 0 {
            if unsynced[l] { fsync(writeFDs[l]); unsynced[l] = false }
            close(writeFDs[l])
            writeFDs[l] = -1
        }
        let id = (lanes[l].last?.id ?? 0) + 1
        let path = segmentPath(lane, id)
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0o640)
        if fd < 0 { throw SpoolError(path: path, operation: "create", errno: errno) }
        writeFDs[l] = fd
        lanes[l].append(Segment(id: id, bytes: 0, records: 0, firstIndex: 0, lastIndex: 0))
    }

    private func evictIfFull() throws(SpoolError) {
        while lanes.reduce(0, { $0 + $1.reduce(0) { $0 + $1.bytes } }) > maxBytes {
            // Oldest data first; events only when no data is left to drop.
            let lane: SpoolLane = lanes[0].contains(where: { $0.records > 0 }) ? .data : .events
            let l = lane.rawValue
            guard let victim = lanes[l].firstIndex(where: { $0.records > 0 }) else { return }
            let s = lanes[l][victim]
            if victim == lanes[l].count - 1 {
                // The segment being written: continue in a fresh one first.
                try startSegment(lane)
            }
            let lost = s.lastIndex <= deliveredThrough ? 0 :
                s.firstIndex > deliveredThrough ? s.records : Int(s.lastIndex - deliveredThrough)
            if lane == .data { droppedData += lost } else { droppedEvents += lost }
            unlink(segmentPath(lane, s.id))
            lanes[l].remove(at: victim)
            try positionReader(lane, restart: true)
        }
    }

    /// Deletes segments (other than the one being written) whose records were all delivered.
    private func discardDelivered(_ lane: SpoolLane) {
        let l = lane.rawValue
        while lanes[l].count > 1, lanes[l][0].records == 0 || lanes[l][0].lastIndex <= deliveredThrough {
            unlink(segmentPath(lane, lanes[l][0].id))
            lanes[l].removeFirst()
        }
    }

    /// Moves the reader of `lane` to its first undelivered record.
    private func positionReader(_ lane: SpoolLane, restart: Bool = true) throws(SpoolError) {
        let l = lane.rawValue
        var position = (segment: 0, offset: 0)
        while let (record, next) = readRecord(lane, at: position), record.index <= deliveredThrough {
            position = next
        }
        readPosition[l] = position
    }

    /// The record at `position` and the position after it, following segment boundaries.
    private func readRecord(_ lane: SpoolLane, at position: (segment: Int, offset: Int)) -> (SpoolRecord, (segment: Int, offset: Int))? {
        let l = lane.rawValue
        var p = position
        while p.segment < lanes[l].count && p.offset >= lanes[l][p.segment].bytes {
            p = (p.segment + 1, 0)
        }
        guard p.segment < lanes[l].count else { return nil }
        let s = lanes[l][p.segment]
        let path = segmentPath(lane, s.id)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var header = [UInt8](repeating: 0, count: Self.recordHeader)
        guard preadFully(fd, &header, at: p.offset) else { return nil }
        let length = Int(readLE32(header, 0))
        let index = readLE64(header, 8)
        var payload = [UInt8](repeating: 0, count: length)
        guard p.offset + Self.recordHeader + length <= s.bytes, preadFully(fd, &payload, at: p.offset + Self.recordHeader) else { return nil }
        return (SpoolRecord(index: index, lane: lane, bytes: payload), (p.segment, p.offset + Self.recordHeader + length))
    }

    /// Scans every segment of `lane`, truncating a torn tail, and opens the newest for appending.
    private func recover(_ lane: SpoolLane) throws(SpoolError) {
        let l = lane.rawValue
        var ids: [UInt32] = []
        guard let dir = opendir(directory) else { throw SpoolError(path: directory, operation: "open", errno: errno) }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            let prefix = lane.prefix + "-"
            if name.hasPrefix(prefix) && name.hasSuffix(".seg"), let id = UInt32(name.dropFirst(prefix.count).dropLast(4)) { ids.append(id) }
        }
        closedir(dir)
        ids.sort()
        for id in ids {
            let path = segmentPath(lane, id)
            let fd = open(path, O_RDWR | O_CLOEXEC)
            if fd < 0 { throw SpoolError(path: path, operation: "open", errno: errno) }
            var st = stat()
            fstat(fd, &st)
            var segment = Segment(id: id, bytes: 0, records: 0, firstIndex: 0, lastIndex: 0)
            var header = [UInt8](repeating: 0, count: Self.recordHeader)
            let size = Int(st.st_size)
            while segment.bytes + Self.recordHeader <= size, preadFully(fd, &header, at: segment.bytes) {
                let length = Int(readLE32(header, 0))
                guard length <= 1 << 20, segment.bytes + Self.recordHeader + length <= size else { break }
                var body = [UInt8](repeating: 0, count: 8 + length)
                guard preadFully(fd, &body, at: segment.bytes + 8) else { break }
                guard body.withUnsafeBytes({ CRC32C.checksum($0) }) == readLE32(header, 4) else { break }
                let index = readLE64(header, 8)
                if segment.records == 0 { segment.firstIndex = index }
                segment.lastIndex = index
                segment.records += 1
                segment.bytes += Self.recordHeader + length
            }
            if segment.bytes < size {
                // A torn or corrupt tail: never replay it as a frame.
                tornRecords += 1
                if ftruncate(fd, off_t(segment.bytes)) != 0 { close(fd); throw SpoolError(path: path, operation: "truncate", errno: errno) }
                fsync(fd)
            }
            close(fd)
            lanes[l].append(segment)
        }
        if let last = lanes[l].last {
            let path = segmentPath(lane, last.id)
            let fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
            if fd < 0 { throw SpoolError(path: path, operation: "open", errno: errno) }
            writeFDs[l] = fd
        }
    }

    private func readCursor() -> UInt64 {
        let fd = open("\(directory)/cursor", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return 0 }
        defer { close(fd) }
        var b = [UInt8](repeating: 0, count: 12)
        guard preadFully(fd, &b, at: 0) else { return 0 }
        let value = readLE64(b, 0)
        let crc = Array(b[0..<8]).withUnsafeBytes { CRC32C.checksum($0) }
        return crc == readLE32(b, 8) ? value : 0
    }

    private func writeCursor() throws(SpoolError) {
        var b: [UInt8] = []
        appendLE(deliveredThrough, &b)
        appendLE(b.withUnsafeBytes { CRC32C.checksum($0) }, &b)
        let tmp = "\(directory)/cursor.tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o640)
        if fd < 0 { throw SpoolError(path: tmp, operation: "create", errno: errno) }
        let n = b.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        let e = errno
        fsync(fd)
        close(fd)
        if n != b.count { throw SpoolError(path: tmp, operation: "write", errno: n < 0 ? e : ENOSPC) }
        if rename(tmp, "\(directory)/cursor") != 0 { throw SpoolError(path: "\(directory)/cursor", operation: "rename", errno: errno) }
        cursorDirty = false
    }

    static func makeDirectory(_ path: String) throws(SpoolError) {
        var partial = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            partial += "/" + component
            if mkdir(partial, 0o750) != 0 && errno != EEXIST { throw SpoolError(path: partial, operation: "mkdir", errno: errno) }
        }
        if access(path, W_OK) != 0 { throw SpoolError(path: path, operation: "open", errno: errno) }
    }
}

private func preadFully(_ fd: Int32, _ buffer: inout [UInt8], at offset: Int) -> Bool {
    var done = 0
    while done < buffer.count {
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, $0.count - done, off_t(offset + done)) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { return false }
        done += n
    }
    return true
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
