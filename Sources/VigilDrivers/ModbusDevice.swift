import VigilBase
import VigilHAL

/// A Modbus slave described entirely by its register map: the points are grouped into as few read
/// requests as the protocol allows (contiguous runs per table, small gaps bridged, at most 125
/// registers or 2000 bits each), read, decoded and scaled.
public final class ModbusDevice {
    /// One read request covering several points.
    public struct Request: Sendable, Equatable {
        public var table: ModbusTable
        public var address: UInt16
        public var count: Int
        /// Indices into `points`.
        public var points: [Int]
    }

    public let unit: UInt8
    public let points: [ModbusPoint]
    /// The requests; their `points` index `points` and, past its end, the scale-factor registers
    /// the points name (read in the same poll, never published). Requests holding a scale factor
    /// come first, so a value is always scaled by the factor read in its own poll.
    public let requests: [Request]
    /// Per scale-factor register: its table and address, and the value read in this poll.
    private let scaleFactorRegisters: [(table: ModbusTable, address: UInt16)]
    private var scaleFactors: [Int16?]
    /// Per-request timeout, ns.
    public let timeoutNanoseconds: Int64
    /// Retries after a failed request before its points are marked faulty.
    public let retries: Int
    /// The last reading of each point (same order as `points`).
    public private(set) var readings: [Reading]
    private var words: [UInt16]
    private var bits: [UInt8]

    /// - Parameter maximumGap: registers between two points that may be read (and discarded)
    ///   to save a request. Keep it small on devices that raise exceptions for unmapped addresses.
    public init(unit: UInt8, points: [ModbusPoint], timeoutNanoseconds: Int64, retries: Int, maximumGap: Int = 0) {
        self.unit = unit
        self.points = points
        self.timeoutNanoseconds = timeoutNanoseconds
        self.retries = retries
        var factors: [(table: ModbusTable, address: UInt16)] = []
        for p in points {
            if let a = p.scaleFactorAddress, !factors.contains(where: { $0.table == p.table && $0.address == a }) { factors.append((p.table, a)) }
        }
        scaleFactorRegisters = factors
        scaleFactors = Array(repeating: nil, count: factors.count)
        let planned = points + factors.map { ModbusPoint(table: $0.table, address: $0.address, type: .int16) }
        let plan = Self.plan(planned, maximumGap: maximumGap)
        let holdsFactor = { (r: Request) in r.points.contains { $0 >= points.count } }
        requests = plan.filter(holdsFactor) + plan.filter { !holdsFactor($0) }
        readings = Array(repeating: Reading(value: .nan, quality: .noValue, time: .zero), count: points.count)
        words = Array(repeating: 0, count: modbusMaximumRegisterCount)
        bits = Array(repeating: 0, count: modbusMaximumBitCount)
    }

    /// Groups points into read requests, in table and address order.
    static func plan(_ points: [ModbusPoint], maximumGap: Int) -> [Request] {
        var result: [Request] = []
        for table in ModbusTable.allCases {
            let limit = table.isBitTable ? modbusMaximumBitCount : modbusMaximumRegisterCount
            let indices = points.indices.filter { points[$0].table == table }
                .sorted { points[$0].address < points[$1].address }
            for i in indices {
                let p = points[i]
                let start = Int(p.address), end = start + p.count
                if var last = result.last, last.table == table {
                    let lastEnd = Int(last.address) + last.count
                    if start - lastEnd <= maximumGap && max(end, lastEnd) - Int(last.address) <= limit {
                        last.count = max(end, lastEnd) - Int(last.address)
                        last.points.append(i)
                        result[result.count - 1] = last
                        continue
                    }
                }
                result.append(Request(table: table, address: p.address, count: p.count, points: [i]))
            }
        }
        return result
    }

    /// Exceptions that mean "not now" rather than "no", so asking again may succeed: 05
    /// ACKNOWLEDGE (a long command is still running), 06 SERVER DEVICE BUSY and 0B GATEWAY TARGET
    /// DEVICE FAILED TO RESPOND (the gateway's own downstream timeout). Modbus Application Protocol
    /// Specification V1.1b3, section 7 "MODBUS Exception Responses".
    public static let transientExceptionCodes: Set<Int32> = [0x05, 0x06, 0x0B]

    /// Whether a failed request is worth asking again in the same poll.
    static func isWorthRetrying(_ error: HALError) -> Bool {
        error.kind != .modbusException || transientExceptionCodes.contains(error.code)
    }

    /// Requests sent in the last poll (retries included): what a dead slave costs the port.
    public private(set) var requestsInLastPoll = 0

    /// Reads every point through `client`. A failed request marks its points `.commFault` with the
    /// error; the other requests go on, unless the slave did not answer at all: after a timeout
    /// its remaining requests are skipped for this poll (marked with the same error), so a dead
    /// slave costs one request's retries, not every request's, and cannot starve the port's
    /// other devices. Returns the first error, if any.
    @discardableResult
    public func poll<Client: ModbusClient>(_ client: Client, now: () -> Timestamp) -> HALError? {
        var firstError: HALError?
        requestsInLastPoll = 0
        for k in scaleFactors.indices { scaleFactors[k] = nil }
        client.responseTimeoutNanoseconds = timeoutNanoseconds
        for request in requests {
            if let silent = firstError, silent.kind == .timeout {
                let time = now()
                for i in request.points where i < points.count { readings[i] = .failed(silent, at: time) }
                continue
            }
            var lastError: HALError?
            // A reading is dated when its request went out: the slave measured it between then and
            // its answer, and the loop may read the mailbox before the answer's own time (a value
            // dated later than the loop's "now" would count as from the future).
            var time = now()
            for attempt in 0...retries {
                if attempt > 0 { time = now() }
                requestsInLastPoll += 1
                do {
                    try read(request, client)
                    lastError = nil
                    break
                } catch {
                    lastError = error
                    // An exception is the slave's considered answer: asking again will not help,
                    // unless it said it is busy.
                    if !Self.isWorthRetrying(error) { break }
                }
            }
            if let error = lastError {
                firstError = firstError ?? error
                for i in request.points where i < points.count { readings[i] = .failed(error, at: time) }
                continue
            }
            for i in request.points where i >= points.count {
                scaleFactors[i - points.count] = Int16(bitPattern: words[Int(scaleFactorRegisters[i - points.count].address) - Int(request.address)])
            }
            for i in request.points where i < points.count {
                let p = points[i]
                let offset = Int(p.address) - Int(request.address)
                let value: Double?
                if request.table.isBitTable {
                    value = bits[offset] != 0 ? 1 : 0
                } else {
                    let factor = p.scaleFactorAddress.flatMap { a in
                        scaleFactorRegisters.firstIndex { $0.table == p.table && $0.address == a }.flatMap { scaleFactors[$0] }
                    }
                    value = words.withUnsafeBufferPointer { p.decode(UnsafeBufferPointer(rebasing: $0[offset..<(offset + p.count)]), scaleFactor: factor) }
                }
                if let v = value {
                    readings[i] = Reading(value: v, quality: Reading.clockQuality(time), time: time)
                } else {
                    readings[i] = Reading(value: .nan, quality: .outOfRange, time: time,
                                          error: HALError(.badData, operation: "modbus decode"))
                }
            }
        }
        return firstError
    }

    private func read<Client: ModbusClient>(_ request: Request, _ client: Client) throws(HALError) {
        if request.table.isBitTable {
            try bits.withUnsafeMutableBufferPointer { (b) throws(HALError) in
                try client.readBits(unit: unit, table: request.table, address: request.address,
                                    into: UnsafeMutableBufferPointer(rebasing: b[0..<request.count]))
            }
        } else {
            try words.withUnsafeMutableBufferPointer { (w) throws(HALError) in
                try client.readRegisters(unit: unit, table: request.table, address: request.address,
                                         into: UnsafeMutableBufferPointer(rebasing: w[0..<request.count]))
            }
        }
    }
}
