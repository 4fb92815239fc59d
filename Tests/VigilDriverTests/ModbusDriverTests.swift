import Testing
import VigilBase
import VigilDrivers
import VigilHAL
import VigilSimulation

/// Register-map decoding, request planning, the simulated RS-485 line's faults and the poller's
/// back-off.
@Suite struct ModbusDriverTests {
    func decode(_ type: ModbusValueType, _ order: ModbusByteOrder, _ words: [UInt16], scale: Double = 1, offset: Double = 0) -> Double? {
        let p = ModbusPoint(table: .holdingRegisters, address: 0, type: type, order: order, scale: scale, offset: offset)
        return words.withUnsafeBufferPointer { p.decode($0) }
    }

    @Test func everyTypeAndByteOrderDecodes() {
        // 1.5 as float32 is 0x3FC00000: bytes A=3F B=C0 C=00 D=00.
        #expect(decode(.float32, .abcd, [0x3FC0, 0x0000]) == 1.5)
        #expect(decode(.float32, .cdab, [0x0000, 0x3FC0]) == 1.5)
        #expect(decode(.float32, .badc, [0xC03F, 0x0000]) == 1.5)
        #expect(decode(.float32, .dcba, [0x0000, 0xC03F]) == 1.5)
        #expect(decode(.int16, .abcd, [0xFB2E]) == -1234)
        #expect(decode(.uint16, .abcd, [0xD431]) == 54321)
        #expect(decode(.int32, .abcd, [0xF8A4, 0x32EB]) == -123456789)
        #expect(decode(.uint32, .cdab, [0x5E00, 0xB2D0]) == 3_000_000_000)
        #expect(decode(.uint16, .abcd, [2150], scale: 0.01, offset: -10) == 11.5)
        #expect(decode(.float32, .abcd, [0x7FC0, 0x0000]) == nil) // NaN is not a measurement
    }

    @Test func pointsAreGroupedIntoFewRequests() {
        let points = [
            ModbusPoint(table: .holdingRegisters, address: 5203, type: .int16),
            ModbusPoint(table: .holdingRegisters, address: 5201, type: .uint16),
            ModbusPoint(table: .holdingRegisters, address: 5205, type: .uint16),
            ModbusPoint(table: .holdingRegisters, address: 6000, type: .float32),
            ModbusPoint(table: .inputRegisters, address: 0, type: .uint16),
            ModbusPoint(table: .coils, address: 3, type: .bool),
        ]
        let gapless = ModbusDevice(unit: 1, points: points, timeoutNanoseconds: 1, retries: 0).requests
        #expect(gapless.count == 6) // no gaps bridged: every point alone
        let bridged = ModbusDevice(unit: 1, points: points, timeoutNanoseconds: 1, retries: 0, maximumGap: 2).requests
        #expect(bridged.count == 4)
        #expect(bridged.first { $0.table == .holdingRegisters }?.count == 5) // 5201…5205
    }

    func qm30Line(clock: SimulationClock) -> (SimulatedModbusClient, ModbusSlaveModel) {
        let line = SimulatedModbusClient(name: "sim-rs485", clock: clock, baud: 19200)
        let slave = ModbusSlaveModel(unit: 1)
        slave.holdingRegisters = [5201: 1234, 5202: 0, 5203: 4210, 5204: 0, 5205: 987]
        line.attach(slave)
        return (line, slave)
    }

    func qm30Points() -> [ModbusPoint] {
        [ModbusPoint(table: .holdingRegisters, address: 5201, type: .uint16, scale: 0.001),
         ModbusPoint(table: .holdingRegisters, address: 5203, type: .int16, scale: 0.01),
         ModbusPoint(table: .holdingRegisters, address: 5205, type: .uint16, scale: 0.001)]
    }

    @Test func aDeviceIsReadDecodedAndTimed() {
        let clock = SimulationClock.manual()
        let (line, _) = qm30Line(clock: clock)
        let device = ModbusDevice(unit: 1, points: qm30Points(), timeoutNanoseconds: 200_000_000, retries: 1, maximumGap: 1)
        let before = clock.now
        #expect(device.poll(line, now: { stamp(clock) }) == nil)
        #expect(device.readings.map(\.value) == [1.234, 42.1, 0.987])
        #expect(device.readings.allSatisfy { $0.quality.isGood })
        // One request: 8 bytes out, 5 + 10 bytes back, at 19 200 baud (0.573 ms per byte), plus
        // t3.5 and the slave's 2 ms: about 17 ms of line time.
        let ns = clock.now.nanoseconds(since: before)
        #expect(ns > 14_000_000 && ns < 20_000_000, "\(ns) ns")
    }

    @Test func unmappedRegistersRaiseIllegalDataAddress() {
        let clock = SimulationClock.manual()
        let (line, _) = qm30Line(clock: clock)
        let device = ModbusDevice(unit: 1, points: [ModbusPoint(table: .holdingRegisters, address: 7, type: .uint16)],
                                  timeoutNanoseconds: 100_000_000, retries: 2)
        let error = device.poll(line, now: { stamp(clock) })
        #expect(error?.kind == .modbusException && error?.code == 2)
        #expect(device.readings[0].quality == .commFault)
        #expect(line.requestCount == 1) // an exception is not retried
    }

    @Test(arguments: [
        (ModbusFault.silent, HALError.Kind.timeout),
        (.corruptReply, .crc),
        (.wrongUnit, .badData),
        (.exception(code: 4), .modbusException),
        (.slow(nanoseconds: 400_000_000), .timeout),
    ])
    func lineFaultsBecomeTypedErrorsAndFaultyReadings(fault: ModbusFault, kind: HALError.Kind) {
        let clock = SimulationClock.manual()
        let (line, _) = qm30Line(clock: clock)
        line.inject(fault, unit: 1)
        let device = ModbusDevice(unit: 1, points: qm30Points(), timeoutNanoseconds: 200_000_000, retries: 1, maximumGap: 1)
        let error = device.poll(line, now: { stamp(clock) })
        #expect(error?.kind == kind)
        #expect(device.readings.allSatisfy { $0.quality == .commFault && $0.value.isNaN && $0.error?.kind == kind })
        line.inject(nil, unit: 1)
        #expect(device.poll(line, now: { stamp(clock) }) == nil)
        #expect(device.readings[1].value == 42.1)
    }

    @Test func aSlowButInTimeSlaveIsRead() {
        let clock = SimulationClock.manual()
        let (line, _) = qm30Line(clock: clock)
        line.inject(.slow(nanoseconds: 150_000_000), unit: 1)
        let device = ModbusDevice(unit: 1, points: qm30Points(), timeoutNanoseconds: 200_000_000, retries: 0, maximumGap: 1)
        #expect(device.poll(line, now: { stamp(clock) }) == nil)
    }

    @Test func intermittentCRCErrorsAreRetried() {
        let clock = SimulationClock.manual()
        let (line, _) = qm30Line(clock: clock)
        line.inject(.intermittentCRC(probability: 0.3), unit: 1)
        let device = ModbusDevice(unit: 1, points: qm30Points(), timeoutNanoseconds: 200_000_000, retries: 3, maximumGap: 1)
        var failures = 0
        for _ in 0..<200 where device.poll(line, now: { stamp(clock) }) != nil { failures += 1 }
        // Four tries at 30 %: about 0.8 % of polls fail.
        #expect(failures < 10)
        #expect(line.requestCount > 240)
    }

    @Test func aDeadSlaveIsBackedOffAndDoesNotStarveItsNeighbour() {
        let clock = SimulationClock.manual()
        let (line, _) = qm30Line(clock: clock)
        let neighbour = ModbusSlaveModel(unit: 2)
        neighbour.inputRegisters = [0: 77]
        line.attach(neighbour)
        let poller = ModbusPoller(client: line, maximumBackoffNanoseconds: 4_000_000_000)
        let dead = poller.add(ModbusDevice(unit: 1, points: qm30Points(), timeoutNanoseconds: 200_000_000, retries: 0, maximumGap: 1),
                              intervalNanoseconds: 500_000_000)
        let alive = poller.add(ModbusDevice(unit: 2, points: [ModbusPoint(table: .inputRegisters, address: 0, type: .uint16)],
                                            timeoutNanoseconds: 200_000_000, retries: 0), intervalNanoseconds: 500_000_000)
        line.inject(.silent, unit: 1)
        for _ in 0..<600 {
            poller.pollDue(now: { stamp(clock) })
            clock.advance(byNanoseconds: 50_000_000)
        }
        // 30 s: a healthy slave would be polled ≈ 60 times; the dead one backs off to every 4 s.
        #expect(poller.errorCounts[dead] <= 12, "dead slave polled \(poller.errorCounts[dead]) times")
        #expect(poller.consecutiveFailures(of: dead) == poller.errorCounts[dead])
        #expect(poller.pollCounts[alive] >= 50, "\(String(describing: poller.devices[alive].readings[0].error))")
        #expect(poller.devices[alive].readings[0].value == 77)
        line.inject(nil, unit: 1)
        for _ in 0..<100 { poller.pollDue(now: { stamp(clock) }); clock.advance(byNanoseconds: 50_000_000) }
        #expect(poller.consecutiveFailures(of: dead) == 0)
    }

    /// Issue 22 (9): a dead slave with three requests and two retries cost 3 × 3 timeouts per poll
    /// (1.8 s of a port polled every 500 ms). After its first timeout its other requests are skipped.
    @Test func aDeadSlaveCostsOneRequestsRetriesPerPoll() {
        let clock = SimulationClock.manual()
        let (line, _) = qm30Line(clock: clock)
        let points = qm30Points() + [ModbusPoint(table: .inputRegisters, address: 0, type: .uint16),
                                     ModbusPoint(table: .coils, address: 0, type: .bool)]
        let device = ModbusDevice(unit: 1, points: points, timeoutNanoseconds: 200_000_000, retries: 2, maximumGap: 1)
        #expect(device.requests.count == 3)
        line.inject(.silent, unit: 1)
        let before = clock.now, sent = line.requestCount
        let error = device.poll(line, now: { stamp(clock) })
        #expect(error?.kind == .timeout)
        #expect(line.requestCount - sent == 3, "\(line.requestCount - sent) requests to a dead slave")
        #expect(device.requestsInLastPoll == 3)
        #expect(clock.now.nanoseconds(since: before) < 700_000_000)
        // Every point says why it has no value.
        #expect(device.readings.allSatisfy { $0.quality == .commFault && $0.error?.kind == .timeout })
        // An exception is an answer: the slave is alive and its other requests are still made.
        line.inject(.exception(code: 4), unit: 1)
        let before4 = line.requestCount
        _ = device.poll(line, now: { stamp(clock) })
        #expect(line.requestCount - before4 == 3, "exception 4 is not retried, and does not skip the rest")
    }

    /// Issue 22 (9): exceptions 5 (acknowledge), 6 (busy) and 0x0B (gateway target did not respond)
    /// mean "ask again"; they were treated as final and the point faulted.
    @Test(arguments: [UInt8(0x05), 0x06, 0x0B])
    func aBusySlaveIsAskedAgain(code: UInt8) {
        let clock = SimulationClock.manual()
        let (line, _) = qm30Line(clock: clock)
        let device = ModbusDevice(unit: 1, points: qm30Points(), timeoutNanoseconds: 200_000_000, retries: 2, maximumGap: 1)
        line.inject(.transientException(code: code, count: 2), unit: 1)
        #expect(device.poll(line, now: { stamp(clock) }) == nil)
        #expect(device.readings.map(\.value) == [1.234, 42.1, 0.987])
        #expect(device.requestsInLastPoll == 3)
        // Exception 2 (illegal address) is final: one request, no retry.
        line.inject(.transientException(code: 2, count: 1), unit: 1)
        let error = device.poll(line, now: { stamp(clock) })
        #expect(error?.kind == .modbusException && error?.code == 2)
        #expect(device.requestsInLastPoll == 1)
    }

    /// Issue 22 (10): 64-bit types in every word order, one bit of a register, and a value scaled by
    /// a scale-factor register (SunSpec): the meters and drives a retrofit meets.
    @Test func sixtyFourBitTypesBitsAndScaleFactorsDecode() {
        // -1.5 as float64 is 0xBFF8_0000_0000_0000; 0x0102_0304_0506_0708 as uint64.
        let f: [UInt16] = [0xBFF8, 0, 0, 0], u: [UInt16] = [0x0102, 0x0304, 0x0506, 0x0708]
        func orders(_ w: [UInt16]) -> [(ModbusByteOrder, [UInt16])] {
            [(.abcd, w), (.cdab, w.reversed()), (.badc, w.map(\.byteSwapped)), (.dcba, w.reversed().map(\.byteSwapped))]
        }
        for (order, words) in orders(f) { #expect(decode(.float64, order, words) == -1.5, "\(order)") }
        for (order, words) in orders(u) { #expect(decode(.uint64, order, words) == Double(0x0102_0304_0506_0708 as UInt64), "\(order)") }
        #expect(decode(.int64, .abcd, [0xFFFF, 0xFFFF, 0xFFFF, 0xFFFE]) == -2)
        #expect(decode(.float64, .abcd, [0x7FF8, 0, 0, 0]) == nil) // NaN
        #expect(ModbusValueType.float64.wordCount == 4)
        // Bits of 0xA005.
        let bitsOf = { (n: Int) in ModbusPoint(table: .holdingRegisters, address: 0, type: .uint16, bit: n) }
        let set = (0..<16).filter { n in [UInt16(0xA005)].withUnsafeBufferPointer { bitsOf(n).decode($0) } == 1 }
        #expect(set == [0, 2, 13, 15])
        // 23456 × 10^-2 = 234.56; "not implemented" (0x8000), out of range or missing: no value.
        let scaled = ModbusPoint(table: .holdingRegisters, address: 0, type: .uint16, scale: 1, scaleFactorAddress: 5)
        let words: [UInt16] = [23456]
        #expect(words.withUnsafeBufferPointer { scaled.decode($0, scaleFactor: -2) } == 234.56)
        #expect(words.withUnsafeBufferPointer { scaled.decode($0, scaleFactor: 3) } == 23_456_000)
        for bad: Int16? in [nil, Int16.min, 11, -11] { #expect(words.withUnsafeBufferPointer { scaled.decode($0, scaleFactor: bad) } == nil) }
    }

    /// The device reads a scale factor in the same poll as the values it scales (an extra
    /// register in the request, never published), before them.
    @Test func aScaleFactorIsReadInTheSamePollAsItsValue() {
        let clock = SimulationClock.manual()
        let line = SimulatedModbusClient(name: "sim", clock: clock)
        let meter = ModbusSlaveModel(unit: 1)
        meter.holdingRegisters = [40083: 2301, 40084: 0xFFFF, 40190: 17, 40191: 0x8000]
        line.attach(meter)
        let points = [ModbusPoint(table: .holdingRegisters, address: 40083, type: .int16, scaleFactorAddress: 40084),
                      ModbusPoint(table: .holdingRegisters, address: 40190, type: .uint16, scaleFactorAddress: 40191)]
        let device = ModbusDevice(unit: 1, points: points, timeoutNanoseconds: 100_000_000, retries: 0, maximumGap: 2)
        #expect(device.requests.count == 2)
        _ = device.poll(line, now: { stamp(clock) })
        #expect(abs(device.readings[0].value - 230.1) < 1e-9)
        #expect(device.readings[0].quality.isGood)
        // A scale factor the meter does not implement makes the value unusable, not 17.
        #expect(device.readings[1].quality == .outOfRange && device.readings[1].error != nil)
        #expect(device.readings.count == 2)
        // The meter changes its exponent: the next poll uses the new one.
        meter.holdingRegisters[40084] = 0xFFFE
        _ = device.poll(line, now: { stamp(clock) })
        #expect(abs(device.readings[0].value - 23.01) < 1e-9)
    }
}
