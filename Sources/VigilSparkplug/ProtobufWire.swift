/// The protocol-buffers wire format, as much of it as Sparkplug B's payload needs: varints,
/// 32- and 64-bit little-endian fields and length-delimited fields (the encoding guide's "Message
/// Structure"). Hand-written rather than generated with swift-protobuf: the runtime library would
/// add several megabytes to a binary whose budget is 16 MB (docs/sparkplug.md, "Encoding").

/// The wire types of a field key's low three bits.
enum WireType: UInt8 {
    case varint = 0, fixed64 = 1, lengthDelimited = 2, fixed32 = 5
}

/// Appends fields to a byte buffer. Nested messages are written into their own writer and
/// appended as a length-delimited field.
struct ProtobufWriter {
    private(set) var bytes: [UInt8] = []

    private mutating func key(_ field: Int, _ type: WireType) { varint(UInt64(field) << 3 | UInt64(type.rawValue)) }

    private mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func uint(_ field: Int, _ value: UInt64) {
        key(field, .varint)
        varint(value)
    }

    mutating func bool(_ field: Int, _ value: Bool) { uint(field, value ? 1 : 0) }

    mutating func double(_ field: Int, _ value: Double) {
        key(field, .fixed64)
        var bits = value.bitPattern
        for _ in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: bits)); bits >>= 8 }
    }

    mutating func float(_ field: Int, _ value: Float) {
        key(field, .fixed32)
        var bits = value.bitPattern
        for _ in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: bits)); bits >>= 8 }
    }

    mutating func data(_ field: Int, _ value: [UInt8]) {
        key(field, .lengthDelimited)
        varint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    mutating func string(_ field: Int, _ value: String) { data(field, Array(value.utf8)) }

    mutating func message(_ field: Int, _ build: (inout ProtobufWriter) -> Void) {
        var inner = ProtobufWriter()
        build(&inner)
        data(field, inner.bytes)
    }
}

/// Why bytes from the network are not a message (a command payload, most likely malformed or hostile).
public struct ProtobufError: Error, Equatable, Sendable, CustomStringConvertible {
    public var offset: Int
    public var reason: String
    public var description: String { "\(reason) at byte \(offset)" }
}

/// One field as read: its number and value.
enum ProtobufField {
    case varint(Int, UInt64)
    case fixed64(Int, UInt64)
    case fixed32(Int, UInt32)
    case bytes(Int, ArraySlice<UInt8>)

    var number: Int {
        switch self {
        case .varint(let n, _), .fixed64(let n, _), .fixed32(let n, _), .bytes(let n, _): return n
        }
    }
}

/// Reads the fields of one message in order, bounded by its bytes: never reads past the end,
/// never allocates more than the input, and nests at most `maximumDepth` messages deep.
struct ProtobufReader {
    static let maximumDepth = 8
    private let bytes: ArraySlice<UInt8>
    private var position: Int

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        position = bytes.startIndex
    }

    private func fail(_ reason: String) -> ProtobufError { ProtobufError(offset: position - bytes.startIndex, reason: reason) }

    private mutating func varint() throws(ProtobufError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < bytes.endIndex else { throw fail("truncated varint") }
            let b = bytes[position]
            position += 1
            guard shift < 64 else { throw fail("varint longer than 10 bytes") }
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
        }
    }

    private mutating func fixed(_ count: Int) throws(ProtobufError) -> UInt64 {
        guard bytes.endIndex - position >= count else { throw fail("truncated \(count * 8)-bit field") }
        var v: UInt64 = 0
        for i in 0..<count { v |= UInt64(bytes[position + i]) << (8 * UInt64(i)) }
        position += count
        return v
    }

    /// The next field, or nil at the end of the message.
    mutating func next() throws(ProtobufError) -> ProtobufField? {
        guard position < bytes.endIndex else { return nil }
        let k = try varint()
        let number = k >> 3
        guard number >= 1, number <= 536_870_911 else { throw fail("field number \(number) out of range") }
        let n = Int(number)
        switch k & 7 {
        case 0: return .varint(n, try varint())
        case 1: return .fixed64(n, try fixed(8))
        case 5: return .fixed32(n, UInt32(truncatingIfNeeded: try fixed(4)))
        case 2:
            let length = try varint()
            guard length <= UInt64(bytes.endIndex - position) else { throw fail("field \(n) claims \(length) bytes, \(bytes.endIndex - position) remain") }
            let start = position
            position += Int(length)
            return .bytes(n, bytes[start..<position])
        default:
            throw fail("wire type \(k & 7) (groups are not used by Sparkplug)")
        }
    }
}
