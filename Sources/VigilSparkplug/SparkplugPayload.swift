/// Sparkplug B's payload (Sparkplug 3.0 §6.4, the `Payload` message of Eclipse Tahu's
/// `sparkplug_b.proto`, proto2). Field numbers and datatype codes are the schema's; only what a
/// vigil node sends or must read in a command is modelled.

/// Metric and property datatypes (Sparkplug 3.0 §6.4.16, the schema's `DataType` enum).
public enum SparkplugDataType: UInt32, Sendable, Equatable {
    case int32 = 3, int64 = 4, uint32 = 7, uint64 = 8, float = 9, double = 10, boolean = 11, string = 12, floatArray = 30
}

/// A metric or property value.
public enum SparkplugValue: Sendable, Equatable {
    case int32(Int32)
    case int64(Int64)
    case uint64(UInt64)
    case double(Double)
    case boolean(Bool)
    case string(String)
    /// Little-endian IEEE 754 singles in `bytes_value` (§6.4.17, array types).
    case floatArray([Float])
    /// `is_null` with a datatype: a metric declared in a birth before it has a value.
    case null(SparkplugDataType)

    public var dataType: SparkplugDataType {
        switch self {
        case .int32: return .int32
        case .int64: return .int64
        case .uint64: return .uint64
        case .double: return .double
        case .boolean: return .boolean
        case .string: return .string
        case .floatArray: return .floatArray
        case .null(let t): return t
        }
    }
}

/// One entry of a metric's property set (§6.4.9): engineering unit, quality and the like.
public struct SparkplugProperty: Sendable, Equatable {
    public var key: String
    public var value: SparkplugValue
    public init(_ key: String, _ value: SparkplugValue) {
        self.key = key
        self.value = value
    }
}

/// One metric (§6.4.5). Births carry the name and the alias; data carries the alias only.
public struct SparkplugMetric: Sendable, Equatable {
    public var name: String?
    public var alias: UInt64?
    public var timestampMilliseconds: UInt64?
    /// Sent in births; data messages leave it out (the host knows it from the birth).
    public var includesDataType = true
    public var value: SparkplugValue
    public var isHistorical = false
    public var properties: [SparkplugProperty] = []

    public init(name: String?, alias: UInt64?, timestampMilliseconds: UInt64?, value: SparkplugValue, properties: [SparkplugProperty] = []) {
        self.name = name
        self.alias = alias
        self.timestampMilliseconds = timestampMilliseconds
        self.value = value
        self.properties = properties
    }
}

/// A payload: timestamp, metrics and (except in NDEATH) the sequence number.
public struct SparkplugPayload: Sendable, Equatable {
    public var timestampMilliseconds: UInt64
    public var metrics: [SparkplugMetric]
    public var seq: UInt64?

    public init(timestampMilliseconds: UInt64, metrics: [SparkplugMetric], seq: UInt64?) {
        self.timestampMilliseconds = timestampMilliseconds
        self.metrics = metrics
        self.seq = seq
    }

    /// The schema's field numbers: Payload 1 timestamp, 2 metrics, 3 seq; Metric 1 name, 2 alias,
    /// 3 timestamp, 4 datatype, 5 is_historical, 7 is_null, 9 properties, 10 int_value,
    /// 11 long_value, 13 double_value, 14 boolean_value, 15 string_value, 16 bytes_value;
    /// PropertySet 1 keys, 2 values; PropertyValue 1 type, 2 is_null, 3 int_value, 4 long_value,
    /// 6 double_value, 7 boolean_value, 8 string_value.
    public func encoded() -> [UInt8] {
        var w = ProtobufWriter()
        w.uint(1, timestampMilliseconds)
        for m in metrics {
            w.message(2) { mw in
                if let name = m.name { mw.string(1, name) }
                if let alias = m.alias { mw.uint(2, alias) }
                if let t = m.timestampMilliseconds { mw.uint(3, t) }
                if m.includesDataType { mw.uint(4, UInt64(m.value.dataType.rawValue)) }
                if m.isHistorical { mw.bool(5, true) }
                if !m.properties.isEmpty {
                    mw.message(9) { pw in
                        for p in m.properties { pw.string(1, p.key) }
                        for p in m.properties {
                            pw.message(2) { vw in
                                vw.uint(1, UInt64(p.value.dataType.rawValue))
                                Self.write(p.value, to: &vw, property: true)
                            }
                        }
                    }
                }
                Self.write(m.value, to: &mw, property: false)
            }
        }
        if let seq { w.uint(3, seq) }
        return w.bytes
    }

    /// A value in its oneof field: a Metric's (10…16) or a PropertyValue's (3…8). Signed integers
    /// travel as their two's-complement bit pattern in the unsigned fields (§6.4.16).
    private static func write(_ value: SparkplugValue, to w: inout ProtobufWriter, property: Bool) {
        let base = property ? -7 : 0
        switch value {
        case .int32(let v): w.uint(10 + base, UInt64(UInt32(bitPattern: v)))
        case .int64(let v): w.uint(11 + base, UInt64(bitPattern: v))
        case .uint64(let v): w.uint(11 + base, v)
        case .double(let v): w.double(13 + base, v)
        case .boolean(let v): w.bool(14 + base, v)
        case .string(let v): w.string(15 + base, v)
        case .floatArray(let values):
            var bytes: [UInt8] = []
            bytes.reserveCapacity(4 * values.count)
            for v in values {
                var bits = v.bitPattern
                for _ in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: bits)); bits >>= 8 }
            }
            w.data(16, bytes)
        case .null: w.bool(property ? 2 : 7, true)
        }
    }
}

/// A metric of a command as a host sent it: what a node needs to decide (name or alias, and a
/// boolean value for `Node Control/Rebirth`).
public struct SparkplugCommandMetric: Sendable, Equatable {
    public var name: String?
    public var alias: UInt64?
    public var dataType: UInt32?
    public var booleanValue: Bool?
    /// Some value field was present (a write of something other than a boolean is still a write).
    public var hasValue: Bool
}

extension SparkplugPayload {
    /// The metrics of an NCMD or DCMD payload. Bounded: at most `maximumMetrics`, names of at most
    /// 256 bytes; anything else is an error with its byte offset.
    public static func commandMetrics(_ bytes: [UInt8], maximumMetrics: Int = 64) throws(ProtobufError) -> [SparkplugCommandMetric] {
        var reader = ProtobufReader(bytes[...])
        var metrics: [SparkplugCommandMetric] = []
        while let field = try reader.next() {
            guard case .bytes(2, let body) = field else { continue }
            guard metrics.count < maximumMetrics else { throw ProtobufError(offset: 0, reason: "more than \(maximumMetrics) metrics") }
            var m = SparkplugCommandMetric(name: nil, alias: nil, dataType: nil, booleanValue: nil, hasValue: false)
            var r = ProtobufReader(body)
            while let f = try r.next() {
                switch f {
                case .bytes(1, let name):
                    guard name.count <= 256 else { throw ProtobufError(offset: 0, reason: "a metric name of \(name.count) bytes") }
                    m.name = String(decoding: name, as: UTF8.self)
                case .varint(2, let v): m.alias = v
                case .varint(4, let v): m.dataType = UInt32(truncatingIfNeeded: v)
                case .varint(14, let v): m.booleanValue = v != 0; m.hasValue = true
                case let other where (10...19).contains(other.number): m.hasValue = true
                default: break
                }
            }
            metrics.append(m)
        }
        return metrics
    }
}
