import VigilHAL

/// One value in a Modbus device's register map: where it lives, how its words encode it, and how
/// raw becomes physical (`value = raw × 10^sf × scale + offset`, sf from a scale-factor register
/// where the map has one, as SunSpec devices do; 0 otherwise).
public struct ModbusPoint: Sendable, Equatable {
    public var table: ModbusTable
    public var address: UInt16
    public var type: ModbusValueType
    public var order: ModbusByteOrder
    public var scale: Double
    public var offset: Double
    /// One bit (0 = least significant) of a 16-bit register: the value is 0 or 1.
    public var bit: Int?
    /// The register (same table) holding the value's power-of-ten exponent, an int16.
    public var scaleFactorAddress: UInt16?

    /// SunSpec's "not implemented" for an int16 (and so for a scale factor): 0x8000.
    public static let scaleFactorNotImplemented = Int16.min
    /// Scale factors outside this range are not a measurement's (SunSpec allows −10…10).
    public static let scaleFactorRange: ClosedRange<Int16> = -10...10

    public init(table: ModbusTable, address: UInt16, type: ModbusValueType, order: ModbusByteOrder = .abcd,
                scale: Double = 1, offset: Double = 0, bit: Int? = nil, scaleFactorAddress: UInt16? = nil) {
        self.table = table
        self.address = address
        self.type = table.isBitTable ? .bool : type
        self.order = order
        self.scale = scale
        self.offset = offset
        self.bit = bit
        self.scaleFactorAddress = scaleFactorAddress
    }

    /// Registers (or bits) the point occupies.
    public var count: Int { table.isBitTable ? 1 : type.wordCount }

    /// Decodes the point from its words (`words.count == count`), scaled. Returns nil when the
    /// words do not hold a finite number (a float NaN or infinity) or the scale factor is missing,
    /// "not implemented" or out of range.
    public func decode(_ words: UnsafeBufferPointer<UInt16>, scaleFactor: Int16? = nil) -> Double? {
        var factor = 1.0
        if scaleFactorAddress != nil {
            guard let sf = scaleFactor, sf != Self.scaleFactorNotImplemented, Self.scaleFactorRange.contains(sf) else { return nil }
            factor = Self.powerOfTen(Int(sf))
        }
        let raw: Double
        switch type {
        case .bool: raw = words[0] != 0 ? 1 : 0
        case .uint16, .int16:
            let word = order == .badc || order == .dcba ? words[0].byteSwapped : words[0]
            if let bit { raw = Double((word >> UInt16(bit)) & 1) } else { raw = type == .uint16 ? Double(word) : Double(Int16(bitPattern: word)) }
        case .uint32: raw = Double(bits32(words))
        case .int32: raw = Double(Int32(bitPattern: bits32(words)))
        case .float32:
            let f = Float(bitPattern: bits32(words))
            guard f.isFinite else { return nil }
            raw = Double(f)
        // 64-bit integers above 2^53 lose their lowest bits as a Double; energy counters do not reach that.
        case .uint64: raw = Double(bits64(words))
        case .int64: raw = Double(Int64(bitPattern: bits64(words)))
        case .float64:
            let d = Double(bitPattern: bits64(words))
            guard d.isFinite else { return nil }
            raw = d
        }
        if bit != nil { return raw }
        return raw * factor * scale + offset
    }

    /// 10^n exactly for the scale-factor range (no pow: the same bits on every CPU).
    static func powerOfTen(_ n: Int) -> Double {
        var v = 1.0
        for _ in 0..<abs(n) { v *= 10 }
        return n < 0 ? 1 / v : v
    }

    /// The 64 bits, high byte first, from four registers in this point's byte order.
    func bits64(_ w: UnsafeBufferPointer<UInt16>) -> UInt64 {
        var v: UInt64 = 0
        let lowWordFirst = order == .cdab || order == .dcba
        let swapBytes = order == .badc || order == .dcba
        for i in 0..<4 {
            let word = w[lowWordFirst ? 3 - i : i]
            v = v << 16 | UInt64(swapBytes ? word.byteSwapped : word)
        }
        return v
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
