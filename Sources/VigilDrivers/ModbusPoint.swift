import VigilHAL

/// One value in a Modbus device's register map: where it lives, how its words encode it, and how
/// raw becomes physical (`value = raw × scale + offset`).
public struct ModbusPoint: Sendable, Equatable {
    public enum ValueType: Sendable, Equatable {
        case int16, uint16, int32, uint32, float32, bool
        public var wordCount: Int {
            switch self {
            case .int16, .uint16, .bool: return 1
            case .int32, .uint32, .float32: return 2
            }
        }
    }

    /// Byte order of a value as the letters of its big-endian bytes appear in the registers:
    /// ABCD is the Modbus standard (big-endian words, high word first); CDAB swaps the words
    /// ("word swap", common on PLCs); BADC swaps the bytes in each word; DCBA is little-endian.
    public enum ByteOrder: Sendable, Equatable { case abcd, cdab, badc, dcba }

    public var table: ModbusTable
    public var address: UInt16
    public var type: ValueType
    public var order: ByteOrder
    public var scale: Double
    public var offset: Double

    public init(table: ModbusTable, address: UInt16, type: ValueType, order: ByteOrder = .abcd,
                scale: Double = 1, offset: Double = 0) {
        self.table = table
        self.address = address
        self.type = table.isBitTable ? .bool : type
        self.order = order
        self.scale = scale
        self.offset = offset
    }

    /// Registers (or bits) the point occupies.
    public var count: Int { table.isBitTable ? 1 : type.wordCount }

    /// Decodes the point from its words (`words.count == count`), scaled. Returns nil when the
    /// words do not hold a finite number (a float32 NaN or infinity).
    public func decode(_ words: UnsafeBufferPointer<UInt16>) -> Double? {
        let raw: Double
        switch type {
        case .bool: raw = words[0] != 0 ? 1 : 0
        case .uint16: raw = Double(order == .badc || order == .dcba ? words[0].byteSwapped : words[0])
        case .int16: raw = Double(Int16(bitPattern: order == .badc || order == .dcba ? words[0].byteSwapped : words[0]))
        case .uint32: raw = Double(bits32(words))
        case .int32: raw = Double(Int32(bitPattern: bits32(words)))
        case .float32:
            let f = Float(bitPattern: bits32(words))
            guard f.isFinite else { return nil }
            raw = Double(f)
        }
        return raw * scale + offset
    }

    /// The 32 bits ABCD from two registers in this point's byte order.
    func bits32(_ w: UnsafeBufferPointer<UInt16>) -> UInt32 {
        switch order {
        case .abcd: return UInt32(w[0]) << 16 | UInt32(w[1])
        case .cdab: return UInt32(w[1]) << 16 | UInt32(w[0])
        case .badc: return UInt32(w[0].byteSwapped) << 16 | UInt32(w[1].byteSwapped)
        case .dcba: return UInt32(w[1].byteSwapped) << 16 | UInt32(w[0].byteSwapped)
        }
    }
}
