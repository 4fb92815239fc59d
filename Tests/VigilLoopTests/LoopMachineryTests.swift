import Glibc
import Synchronization
import Testing
import VigilHAL
import VigilLoop

final class CountingBody: LoopBody {
    var cycles = 0
    var warmUps = 0
    var lateCycles: Set<Int> = []
    var bursts = 0
    func cycle(_ timing: CycleTiming) {
        if timing.isWarmUp { warmUps += 1; return }
        cycles += 1
        if timing.deadlineBurst { bursts += 1 }
        // Cycles 50…59 take 3 periods each: deadlines are missed and must be skipped, not queued.
        if (50..<60).contains(cycles) { usleep(3_000) }
    }
}

@Suite struct LoopMachineryTests {
    @Test func theLoopRunsOnDeadlinesAndCountsSkippedPeriods() throws {
        let body = CountingBody()
        let loop = PeriodicLoop(configuration: LoopConfiguration(periodNanoseconds: 1_000_000, warmUpCycles: 10,
                                                                 overrunBurst: 5, overrunWindowNanoseconds: 100_000_000), body: body)
        try loop.start()
        usleep(400_000)
        loop.stop()
        let stats = loop.statistics.read()
        #expect(body.warmUps == 10)
        #expect(stats.cycles == Int64(body.cycles))
        // 0.4 s at 1 kHz, minus ≈ 20 skipped periods: never more cycles than periods.
        #expect(body.cycles > 250 && body.cycles <= 400, "\(body.cycles) cycles")
        #expect(stats.overruns >= 15, "\(stats.overruns) overruns")
        #expect(body.bursts > 0) // ten 3 ms cycles in a row are a deadline burst
        #expect(stats.executionMaxMicroseconds >= 3000)
        #expect(loop.grant != nil && loop.grant?.fifoPriority == nil) // none was asked for
    }

    @Test func theRingRefusesWhenFullAndKeepsOrder() {
        let ring = SPSCRing<Int>(capacity: 4, filler: 0)
        for i in 0..<4 { #expect(ring.push(i)) }
        #expect(!ring.push(99))
        #expect(ring.droppedCount == 1)
        #expect((0..<4).map { _ in ring.pop() } == [0, 1, 2, 3])
        #expect(ring.pop() == nil)
    }

    /// Three equal fields: a reader that caught a write half-way would see them differ.
    struct Triple: BitwiseCopyable, Equatable, Sendable { var a: Int64, b: Int64, c: Int64 }

    @Test func aMailboxTablePublishesEveryEntryAtOnceAndReadersNeverSeeATornValue() throws {
        let table = MailboxTable(count: 8, initial: Triple(a: -1, b: -1, c: -1))
        #expect(table.read(7) == Triple(a: -1, b: -1, c: -1))
        table.publish { i in Triple(a: Int64(i), b: Int64(i), c: Int64(i)) }
        #expect((0..<8).map { table.read($0).a } == [0, 1, 2, 3, 4, 5, 6, 7])
        let values: [Triple] = (Int64(10)..<18).map { v in Triple(a: v, b: v, c: v) }
        values.withUnsafeBufferPointer { table.publish($0) }
        #expect(table.read(3) == Triple(a: 13, b: 13, c: 13))
        #expect(table.publications == 2)

        // One writer publishing generation g in every entry; a reader on another thread.
        table.publish { _ in Triple(a: 99, b: 99, c: 99) }
        let done = Atomic<Bool>(false)
        let torn = Atomic<Int>(0), backwards = Atomic<Int>(0)
        let reader = Thread {
            var last: Int64 = -1
            var i = 0
            while !done.load(ordering: .acquiring) {
                let v = table.read(i % 8)
                if v.a != v.b || v.b != v.c { torn.add(1, ordering: .relaxed) }
                if v.a < last { backwards.add(1, ordering: .relaxed) }
                last = v.a
                i += 1
            }
        }
        for g in Int64(100)..<50_000 { table.publish { _ in Triple(a: g, b: g, c: g) } }
        done.store(true, ordering: .releasing)
        reader.join()
        #expect(torn.load(ordering: .relaxed) == 0)
        #expect(backwards.load(ordering: .relaxed) == 0)
        #expect(table.read(5).a == 49_999)
    }

    @Test func histogramPercentiles() {
        var h = LatenessHistogram()
        for v in 1...100 { h.record(microseconds: v) }
        h.record(microseconds: 5000)
        #expect(h.percentile(0.5) == 51)
        #expect(h.percentile(0.99) == 100)
        #expect(h.maximumMicroseconds == 5000)
        #expect(h.percentile(1.0) == 5000)
    }

    @Test func aMissingWatchdogDeviceIsATypedError() {
        let error = #expect(throws: HALError.self) { _ = try HardwareWatchdog(path: "/dev/vigil-no-watchdog", timeoutSeconds: 10) }
        #expect(error?.kind == .noDevice)
    }

    @Test func sdNotifyReachesTheNotifySocket() throws {
        let path = "/tmp/vigil-notify-\(getpid())"
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd); unlink(path) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in for (i, b) in path.utf8.enumerated() { raw[i] = b } }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0)
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": path, "WATCHDOG_USEC": "2000000"])
        #expect(notifier.isActive)
        #expect(notifier.watchdogIntervalNanoseconds == 1_000_000_000)
        #expect(notifier.notify("READY=1"))
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
        #expect(n == 7 && String(decoding: buffer[0..<max(0, n)], as: UTF8.self) == "READY=1")
        #expect(!SystemdNotifier(environment: [:]).isActive)
    }
}

/// A plain pthread running `body`, for tests that need a second thread that is not a Swift task.
final class Thread: @unchecked Sendable {
    private var handle = pthread_t()
    private final class Box { let body: () -> Void; init(_ body: @escaping () -> Void) { self.body = body } }

    init(_ body: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        let status = pthread_create(&handle, nil, { raw in
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            box.body()
            return nil
        }, box)
        precondition(status == 0, "pthread_create failed: \(status)")
    }

    func join() { pthread_join(handle, nil) }
}
