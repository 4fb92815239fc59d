import VigilBase
import VigilHAL

/// A fault a simulated RS-485 line injects for one unit id.
public enum ModbusFault: Sendable, Equatable {
    /// The slave never answers.
    case silent
    /// Every reply arrives with a corrupted byte (the CRC no longer matches).
    case corruptReply
    /// Each reply is corrupted with this probability (noise on a long cable).
    case intermittentCRC(probability: Double)
    /// The slave answers, but only after this long.
    case slow(nanoseconds: Int64)
    /// Every reply is an exception with this code (e.g. 4, server device failure).
    case exception(code: UInt8)
    /// The slave answers a different unit id (miswired address switch).
    case wrongUnit
    /// The next `count` replies are this exception (a busy slave: 06), then the slave answers.
    case transientException(code: UInt8, count: Int)
}

/// A Modbus RTU client on a simulated RS-485 line: requests and replies are real RTU frames
/// (unit, PDU, CRC-16) carried between this client and `ModbusSlaveModel`s, with the line's
/// transfer time at its baud rate and the t3.5 silence between frames, so CRC faults, timeouts and
/// exceptions reach the driver the way libmodbus would report them.
public final class SimulatedModbusClient: ModbusClient {
    public let name: String
    public let clock: SimulationClock
    public let baud: Int
    public var responseTimeoutNanoseconds: Int64 = 500_000_000
    private var slaves: [UInt8: ModbusSlaveModel] = [:]
    private var faults: [UInt8: ModbusFault] = [:]
    private var random: SplitMix64
    private var request: [UInt8] = []
    private var replyPDU: [UInt8] = []
    private var replyFrame: [UInt8] = []
    /// Requests sent, for statistics and tests.
    public private(set) var requestCount = 0

    public init(name: String, clock: SimulationClock, baud: Int = 19200, seed: UInt64 = 1) {
        self.name = name
        self.clock = clock
        self.baud = baud
        random = SplitMix64(seed: seed ^ 0x485)
        request.reserveCapacity(260)
        replyPDU.reserveCapacity(260)
        replyFrame.reserveCapacity(260)
    }

    public func attach(_ slave: ModbusSlaveModel) { slaves[slave.unit] = slave }
    public func inject(_ fault: ModbusFault?, unit: UInt8) { faults[unit] = fault }

    /// 11 bit times per character (start, 8 data, parity or a second stop, stop).
    private var characterNanoseconds: Int64 { 11 * 1_000_000_000 / Int64(baud) }
    /// The silent interval between frames: 3.5 characters, and 1.75 ms above 19 200 baud.
    public var interFrameNanoseconds: Int64 { baud > 19200 ? 1_750_000 : characterNanoseconds * 7 / 2 }

    public func readRegisters(unit: UInt8, table: ModbusTable, address: UInt16, into buffer: UnsafeMutableBufferPointer<UInt16>) throws(HALError) {
        guard !table.isBitTable, (1...modbusMaximumRegisterCount).contains(buffer.count) else {
            throw HALError(.invalidArgument, code: 22, operation: "modbus read registers")
        }
        let reply = try exchange(unit: unit, pdu: [table.functionCode, UInt8(address >> 8), UInt8(address & 0xFF), 0, UInt8(buffer.count)],
                                 operation: "modbus read registers")
        guard reply.count == 2 + 2 * buffer.count, reply[1] == UInt8(2 * buffer.count) else {
            throw HALError(.badData, operation: "modbus read registers")
        }
        for i in 0..<buffer.count { buffer[i] = UInt16(reply[2 + 2 * i]) << 8 | UInt16(reply[3 + 2 * i]) }
    }

    public func readBits(unit: UInt8, table: ModbusTable, address: UInt16, into buffer: UnsafeMutableBufferPointer<UInt8>) throws(HALError) {
        guard table.isBitTable, (1...modbusMaximumBitCount).contains(buffer.count) else {
            throw HALError(.invalidArgument, code: 22, operation: "modbus read bits")
        }
        let n = buffer.count
        let reply = try exchange(unit: unit, pdu: [table.functionCode, UInt8(address >> 8), UInt8(address & 0xFF), UInt8(n >> 8), UInt8(n & 0xFF)],
                                 operation: "modbus read bits")
        guard reply.count == 2 + (n + 7) / 8 else { throw HALError(.badData, operation: "modbus read bits") }
        for i in 0..<n { buffer[i] = reply[2 + i / 8] >> (i % 8) & 1 }
    }

    public func writeRegister(unit: UInt8, address: UInt16, value: UInt16) throws(HALError) {
        _ = try exchange(unit: unit, pdu: [6, UInt8(address >> 8), UInt8(address & 0xFF), UInt8(value >> 8), UInt8(value & 0xFF)],
                         operation: "modbus write register")
    }

    public func writeCoil(unit: UInt8, address: UInt16, value: Bool) throws(HALError) {
        _ = try exchange(unit: unit, pdu: [5, UInt8(address >> 8), UInt8(address & 0xFF), value ? 0xFF : 0, 0],
                         operation: "modbus write coil")
    }

    /// Sends one request frame and returns the reply PDU after checking unit, CRC and exception.
    private func exchange(unit: UInt8, pdu: [UInt8], operation: StaticString) throws(HALError) -> [UInt8] {
        requestCount += 1
        request.removeAll(keepingCapacity: true)
        request.append(unit)
        request.append(contentsOf: pdu)
        let crc = modbusCRC16(request)
        request.append(UInt8(crc & 0xFF))
        request.append(UInt8(crc >> 8))
        clock.elapse(nanoseconds: interFrameNanoseconds + Int64(request.count) * characterNanoseconds)

        let fault = faults[unit]
        guard let slave = slaves[unit], fault != .silent else {
            clock.elapse(nanoseconds: responseTimeoutNanoseconds)
            throw HALError(.timeout, code: 110, operation: operation)
        }
        var delay = slave.processingNanoseconds
        if case .slow(let ns)? = fault { delay += ns }
        if delay > responseTimeoutNanoseconds {
            clock.elapse(nanoseconds: responseTimeoutNanoseconds)
            throw HALError(.timeout, code: 110, operation: operation)
        }
        clock.elapse(nanoseconds: delay)
        slave.respond(to: request[1..<(request.count - 2)], into: &replyPDU, at: clock.now)
        if case .exception(let code)? = fault { replyPDU = [pdu[0] | 0x80, code] }
        if case .transientException(let code, let count)? = fault {
            replyPDU = [pdu[0] | 0x80, code]
            faults[unit] = count > 1 ? .transientException(code: code, count: count - 1) : nil
        }

        replyFrame.removeAll(keepingCapacity: true)
        replyFrame.append(fault == .wrongUnit ? unit &+ 1 : unit)
        replyFrame.append(contentsOf: replyPDU)
        let replyCRC = modbusCRC16(replyFrame)
        replyFrame.append(UInt8(replyCRC & 0xFF))
        replyFrame.append(UInt8(replyCRC >> 8))
        switch fault {
        case .corruptReply?: replyFrame[1] ^= 0x10
        case .intermittentCRC(let p)?: if random.nextUnitDouble() < p { replyFrame[replyFrame.count / 2] ^= 0x04 }
        default: break
        }
        clock.elapse(nanoseconds: Int64(replyFrame.count) * characterNanoseconds)

        // What the master checks, in libmodbus's order: CRC, then unit, then exception.
        let body = replyFrame[0..<(replyFrame.count - 2)]
        let received = UInt16(replyFrame[replyFrame.count - 2]) | UInt16(replyFrame[replyFrame.count - 1]) << 8
        guard modbusCRC16(body) == received else { throw HALError(.crc, operation: operation) }
        guard replyFrame[0] == unit else { throw HALError(.badData, operation: operation) }
        let replyBody = replyFrame[1..<(replyFrame.count - 2)]
        guard let function = replyBody.first else { throw HALError(.badData, operation: operation) }
        if function == pdu[0] | 0x80 {
            throw HALError(.modbusException, code: Int32(replyBody.dropFirst().first ?? 0), operation: operation)
        }
        guard function == pdu[0] else { throw HALError(.badData, operation: operation) }
        return Array(replyBody)
    }
}
