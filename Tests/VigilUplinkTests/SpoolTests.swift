#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport
@testable import VigilUplink

/// Store-and-forward: order across lanes, recovery after a restart, torn tails, eviction by policy.
@Suite struct SpoolTests {
    func payload(_ i: Int, size: Int = 40) -> [UInt8] { (0..<size).map { UInt8(truncatingIfNeeded: i &* 31 &+ $0) } }

    @Test func recordsComeBackInAppendOrderAcrossLanesAndAcknowledgedOnesAreGone() throws {
        let dir = TestPaths.makeTemporaryDirectory("spool")
        defer { TestPaths.removeTree(dir) }
        let spool = try Spool(directory: dir, maxBytes: 1 << 20, segmentBytes: 4096, fsyncIntervalMilliseconds: 1000)
        for i in 0..<100 { try spool.append(payload(i), lane: i % 7 == 0 ? .events : .data, now: Int64(i)) }
        var delivered: [UInt64] = []
        while true {
            let batch = spool.pending(limit: 16)
            if batch.isEmpty { break }
            #expect(batch.map(\.index) == batch.map(\.index).sorted())
            for r in batch { #expect(r.bytes == payload(Int(r.index) - 1)) }
            delivered += batch.map(\.index)
            try spool.acknowledge(through: batch.last!.index, now: 0)
        }
        #expect(delivered == Array(1...100))
        #expect(spool.isEmpty)
        #expect(spool.statistics.pendingRecords == 0)
        // Fully delivered segments (all but the two being written) are deleted.
        let files = try ChildProcess.run("/bin/ls", [dir]).stdout.split(separator: "\n").filter { $0.hasSuffix(".seg") }
        #expect(files.count <= 2)
    }

    @Test func aRestartResumesAfterTheLastAcknowledgedRecord() throws {
        let dir = TestPaths.makeTemporaryDirectory("spool")
        defer { TestPaths.removeTree(dir) }
        do {
            let spool = try Spool(directory: dir, maxBytes: 1 << 20, segmentBytes: 4096, fsyncIntervalMilliseconds: 0)
            for i in 0..<50 { try spool.append(payload(i), lane: .data, now: 0) }
            try spool.acknowledge(through: 20, now: 0)
            try spool.sync(now: 0)
        }
        let reopened = try Spool(directory: dir, maxBytes: 1 << 20, segmentBytes: 4096, fsyncIntervalMilliseconds: 0)
        let rest = reopened.pending(limit: 100)
        #expect(rest.map(\.index) == Array(21...50))
        // New records continue the index, never reuse one.
        #expect(try reopened.append(payload(99), lane: .events, now: 0) == 51)
    }

    @Test func aTornLastRecordAfterPowerLossIsSkippedNotReplayed() throws {
        let dir = TestPaths.makeTemporaryDirectory("spool")
        defer { TestPaths.removeTree(dir) }
        do {
            let spool = try Spool(directory: dir, maxBytes: 1 << 20, segmentBytes: 1 << 16, fsyncIntervalMilliseconds: 0)
            for i in 0..<10 { try spool.append(payload(i), lane: .data, now: 0) }
        }
        // Power loss in the middle of the 11th write: a header and half a payload reached the disk.
        let path = "\(dir)/data-00000001.seg"
        let fd = open(path, O_WRONLY | O_APPEND)
        var torn: [UInt8] = Array(Spool.encodeRecord(payload(10), index: 11).prefix(Spool.recordHeader + 17))
        _ = write(fd, &torn, torn.count)
        close(fd)
        let reopened = try Spool(directory: dir, maxBytes: 1 << 20, segmentBytes: 1 << 16, fsyncIntervalMilliseconds: 0)
        #expect(reopened.statistics.tornRecords == 1)
        let records = reopened.pending(limit: 100)
        #expect(records.map(\.index) == Array(1...10))
        #expect(records.allSatisfy { $0.bytes.count == 40 })
        // Appending after recovery yields well-formed records again.
        try reopened.append(payload(42), lane: .data, now: 0)
        let again = try Spool(directory: dir, maxBytes: 1 << 20, segmentBytes: 1 << 16, fsyncIntervalMilliseconds: 0)
        #expect(again.statistics.tornRecords == 0)
        #expect(again.pending(limit: 100).last?.bytes == payload(42))
    }

    @Test func aFullSpoolEvictsDataBeforeEventsOldestFirstAndCounts() throws {
        let dir = TestPaths.makeTemporaryDirectory("spool")
        defer { TestPaths.removeTree(dir) }
        // 4 KiB segments, 16 KiB total: room for about 290 records of 56 bytes.
        let spool = try Spool(directory: dir, maxBytes: 16_384, segmentBytes: 4096, fsyncIntervalMilliseconds: 1000)
        var events: [UInt64] = []
        for i in 0..<1000 {
            let lane: SpoolLane = i % 50 == 0 ? .events : .data
            let index = try spool.append(payload(i), lane: lane, now: 0)
            if lane == .events { events.append(index) }
        }
        let s = spool.statistics
        #expect(s.diskBytes <= 16_384)
        #expect(s.droppedData > 600)
        #expect(s.droppedEvents == 0)
        let left = spool.pending(limit: 10_000)
        #expect(left.count + s.droppedData == 1000)
        // Every event survived; the data that is left is the newest.
        #expect(Set(events).isSubset(of: Set(left.map(\.index))))
        let data = left.filter { $0.lane == .data }.map(\.index)
        #expect(data == Array(data.sorted()))
        #expect(data.last == 1000)
        #expect(data.first! > 600)
    }

    @Test func anUnwritableDirectoryIsAClearError() throws {
        do {
            _ = try Spool(directory: "/proc/vigil-spool", maxBytes: 1 << 20, segmentBytes: 4096, fsyncIntervalMilliseconds: 0)
            Issue.record("opened a spool under /proc")
        } catch {
            #expect("\(error)".contains("/proc/vigil-spool"))
        }
    }
}

/// The fallback store when the spool cannot open: bounded, the spool's eviction policy, every
/// eviction counted, and what a stop would lose said.
@Suite struct MemoryFrameStoreTests {
    @Test func boundedByBytesEvictingDataBeforeEventsAndCountingEach() throws {
        let store = MemoryFrameStore(maxBytes: 1000)
        var events: [UInt64] = []
        for i in 0..<100 {
            let lane: SpoolLane = i % 10 == 0 ? .events : .data
            let index = try store.append([UInt8](repeating: UInt8(i), count: 50), lane: lane, now: 0)
            if lane == .events { events.append(index) }
        }
        let s = store.statistics
        #expect(s.pendingBytes <= 1000)
        #expect(s.pendingRecords == 20)
        // 100 appended, 20 held: 80 evicted, all of them data while data was there to evict.
        #expect(s.droppedData == 80 && s.droppedEvents == 0, "\(s)")
        let held = store.pending(limit: 100)
        #expect(held.filter { $0.lane == .events }.map(\.index) == events)
        #expect(held.map(\.index) == held.map(\.index).sorted())
        #expect(store.lostAtStop == 20)
        // Only events left to evict: the oldest event goes, counted.
        let small = MemoryFrameStore(maxBytes: 100)
        for _ in 0..<3 { try small.append([UInt8](repeating: 0, count: 50), lane: .events, now: 0) }
        #expect(small.statistics.droppedEvents == 1)
        #expect(small.pending(limit: 10).map(\.index) == [2, 3])
    }

    @Test func acknowledgedRecordsLeaveAndIndicesContinue() throws {
        let store = MemoryFrameStore(maxBytes: 1 << 20, firstIndex: 41)
        for i in 0..<10 { try store.append([UInt8(i)], lane: .data, now: 0) }
        #expect(store.pending(limit: 3).map(\.index) == [41, 42, 43])
        try store.acknowledge(through: 45, now: 0)
        #expect(store.pending(limit: 100).map(\.index) == Array(46...50))
        #expect(store.statistics.pendingBytes == 5)
        try store.acknowledge(through: 1000, now: 0)
        #expect(store.isEmpty && store.lostAtStop == 0)
        #expect(try store.append([1], lane: .data, now: 0) == 51)
        // A frame larger than the whole store is refused with a reason, not stored in part.
        #expect(throws: SpoolError.self) { try MemoryFrameStore(maxBytes: 10).append([UInt8](repeating: 0, count: 11), lane: .data, now: 0) }
    }
}
