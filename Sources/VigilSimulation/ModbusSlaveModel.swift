import VigilBase
import VigilHAL

/// A Modbus slave: four data tables with the addresses it implements, answering requests as RTU
/// application data units (function code + data) and raising the specification's exceptions for
/// unknown functions, unmapped addresses and bad quantities.
public final class ModbusSlaveModel {
    public let unit: UInt8
    public var holdingRegisters: [UInt16: UInt16] = [:]
    public var inputRegisters: [UInt16: UInt16] = [:]
    public var coils: [UInt16: Bool] = [:]
    public var discreteInputs: [UInt16: Bool] = [:]
    /// Called before each request with the time, to animate values (a sensor's measurements).
    public var update: ((ModbusSlaveModel, MonotonicInstant) -> Void)?
    /// Time the slave takes to prepare a reply.
    public var processingNanoseconds: Int64 = 2_000_000

    public init(unit: UInt8) { self.unit = unit }

    /// Answers a request PDU (function code and data); the reply PDU is written to `reply`.
    /// Returns the reply's length.
    public func respond(to request: ArraySlice<UInt8>, into reply: inout [UInt8], at now: MonotonicInstant) {
        update?(self, now)
        reply.removeAll(keepingCapacity: true)
        guard let function = request.first else { return }
        let data = Array(request.dropFirst())
        func word(_ i: Int) -> UInt16? { data.count >= i + 2 ? UInt16(data[i]) << 8 | UInt16(data[i + 1]) : nil }
        func exception(_ code: UInt8) { reply = [function | 0x80, code] }
        switch function {
        case 1, 2:
            guard let start = word(0), let count = word(2), (1...2000).contains(count) else { return exception(3) }
            let table = function == 1 ? coils : discreteInputs
            var bytes = [UInt8](repeating: 0, count: (Int(count) + 7) / 8)
            for i in 0..<Int(count) {
                guard let bit = table[start &+ UInt16(i)] else { return exception(2) }
                if bit { bytes[i / 8] |= 1 << (i % 8) }
            }
            reply = [function, UInt8(bytes.count)] + bytes
        case 3, 4:
            guard let start = word(0), let count = word(2), (1...125).contains(count) else { return exception(3) }
            let table = function == 3 ? holdingRegisters : inputRegisters
            reply = [function, UInt8(count * 2)]
            for i in 0..<Int(count) {
                guard let value = table[start &+ UInt16(i)] else { return exception(2) }
                reply.append(UInt8(value >> 8))
                reply.append(UInt8(value & 0xFF))
            }
        case 5:
            guard let address = word(0), let value = word(2), value == 0xFF00 || value == 0 else { return exception(3) }
            guard coils[address] != nil else { return exception(2) }
            coils[address] = value == 0xFF00
            reply = [function] + data.prefix(4)
        case 6:
            guard let address = word(0), let value = word(2) else { return exception(3) }
            guard holdingRegisters[address] != nil else { return exception(2) }
            holdingRegisters[address] = value
            reply = [function] + data.prefix(4)
        default:
            exception(1)
        }
    }

    /// Stores a 32-bit value across two holding registers, high word first (ABCD).
    public func setHolding32(_ address: UInt16, _ value: UInt32) {
        holdingRegisters[address] = UInt16(value >> 16)
        holdingRegisters[address + 1] = UInt16(value & 0xFFFF)
    }
}

/// The Modbus RTU CRC-16 (polynomial 0xA001 reflected, initial 0xFFFF), sent low byte first.
public func modbusCRC16<C: Collection>(_ bytes: C) -> UInt16 where C.Element == UInt8 {
    var crc: UInt16 = 0xFFFF
    for byte in bytes {
        crc ^= UInt16(byte)
        for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xA001 : crc >> 1 }
    }
    return crc
}
