import VigilHAL

/// One value in a Modbus device's register map: where it lives, how its words encode it, and how
/// raw becomes physical (`value = raw × scale + offset`).
public struct ModbusPoint: Sendable, Equatable {
    public var table: ModbusTable
    public var address: UInt16
    public var type: ModbusValueType
    public var order: ModbusByteOrder
    public var scale: Double
    public var offset: Double

    public init(table: ModbusTable, address: UInt16, type: ModbusValueType, order: ModbusByteOrder = .abcd,
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
