/// Byte-stream framing for frames on a serial line to a gateway (no packet boundaries there).
///
/// - COBS (Consistent Overhead Byte Stuffing): each frame is COBS-encoded (no zero bytes, at most
///   1 byte of overhead per 254) and followed by one 0x00 delimiter.
/// - SLIP (RFC 1055): each frame is sent between END bytes (0xC0), with 0xC0 → 0xDB 0xDC and
///   0xDB → 0xDB 0xDD.
public enum LineFraming: String, Sendable, CaseIterable, Codable {
    case cobs, slip

    /// `frame` framed for the line.
    public func encode(_ frame: [UInt8]) -> [UInt8] {
        switch self {
        case .cobs: return COBS.encode(frame) + [0]
        case .slip: return SLIP.encode(frame)
        }
    }
}

public enum COBS {
    public static func encode(_ input: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0]
        out.reserveCapacity(input.count + input.count / 254 + 2)
        var codeIndex = 0
        var code: UInt8 = 1
        for byte in input {
            if byte == 0 {
                out[codeIndex] = code
                codeIndex = out.count
                out.append(0)
                code = 1
            } else {
                out.append(byte)
                code += 1
                if code == 0xFF {
                    out[codeIndex] = code
                    codeIndex = out.count
                    out.append(0)
                    code = 1
                }
            }
        }
        out[codeIndex] = code
        return out
    }

    /// The decoded bytes, or nil if `input` is not valid COBS (a zero byte, or a code past the end).
    public static func decode(_ input: ArraySlice<UInt8>) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(input.count)
        var i = input.startIndex
        while i < input.endIndex {
            let code = Int(input[i])
            if code == 0 || i + code > input.endIndex { return nil }
            for j in (i + 1)..<(i + code) {
                if input[j] == 0 { return nil }
                out.append(input[j])
            }
            i += code
            if code < 0xFF && i < input.endIndex { out.append(0) }
        }
        return out
    }
}

public enum SLIP {
    static let end: UInt8 = 0xC0, esc: UInt8 = 0xDB, escEnd: UInt8 = 0xDC, escEsc: UInt8 = 0xDD

    public static func encode(_ input: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [end]
        out.reserveCapacity(input.count + 8)
        for b in input {
            switch b {
            case end: out += [esc, escEnd]
            case esc: out += [esc, escEsc]
            default: out.append(b)
            }
        }
        out.append(end)
        return out
    }

    /// The decoded bytes of one packet (between END bytes), or nil on a bad escape.
    public static func decode(_ input: ArraySlice<UInt8>) -> [UInt8]? {
        var out: [UInt8] = []
        var escaped = false
        for b in input {
            if escaped {
                switch b {
                case escEnd: out.append(end)
                case escEsc: out.append(esc)
                default: return nil
                }
                escaped = false
            } else if b == esc {
                escaped = true
            } else {
                out.append(b)
            }
        }
        return escaped ? nil : out
    }
}

/// Splits a byte stream from a serial line back into frames' bytes, across reads.
public struct LineDeframer: Sendable {
    public let framing: LineFraming
    private var pending: [UInt8] = []
    /// Packets that did not decode (line noise, a frame cut by a reconnect).
    public private(set) var damaged = 0

    public init(framing: LineFraming) { self.framing = framing }

    /// Feeds bytes; returns every complete packet's decoded bytes.
    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [[UInt8]] {
        var packets: [[UInt8]] = []
        let delimiter: UInt8 = framing == .cobs ? 0 : SLIP.end
        for b in bytes {
            if b == delimiter {
                if !pending.isEmpty {
                    let decoded = framing == .cobs ? COBS.decode(pending[...]) : SLIP.decode(pending[...])
                    if let decoded { packets.append(decoded) } else { damaged += 1 }
                    pending.removeAll(keepingCapacity: true)
                }
            } else if pending.count < 1 << 16 {
                pending.append(b)
            } else {
                damaged += 1
                pending.removeAll(keepingCapacity: true)
            }
        }
        return packets
    }
}
