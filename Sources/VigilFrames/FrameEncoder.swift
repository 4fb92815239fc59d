import VigilBase

/// Why a frame could not be encoded (the caller passed values the format cannot carry).
public enum FrameEncodingError: Error, Equatable, CustomStringConvertible {
    case bodyTooLong(Int)
    case channelOrder(previous: Int, next: Int)
    case fieldTooLong(String)

    public var description: String {
        switch self {
        case .bodyTooLong(let n): return "frame body of \(n) bytes exceeds \(FrameFormat.maximumBodyLength)"
        case .channelOrder(let p, let n): return "data values must have strictly ascending channel ids (\(n) after \(p))"
        case .fieldTooLong(let f): return "birth field \(f) is too long"
        }
    }
}

extension Frame {
    /// The frame's bytes: header, body and CRC-32C.
    public func encoded() throws(FrameEncodingError) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        try encode(into: &out)
        return out
    }

    /// Appends the frame's bytes to `out`.
    public func encode(into out: inout [UInt8]) throws(FrameEncodingError) {
        let start = out.count
        let h = header
        out.append(FrameFormat.magic)
        out.append(FrameFormat.majorVersion << 4 | (h.minorVersion & 0x0F))
        out.append(body.type.rawValue)
        out.append((h.historical ? 1 : 0) | (h.clockSync.rawValue & 0x03) << 1)
        out.append(0)
        out.append(0)  // length, patched below
        appendLE(h.session, 4, &out)
        appendLE(h.sequence, 4, &out)
        appendLE(UInt64(clamping: max(0, min(h.wallClockMilliseconds, FrameFormat.maximumWallClockMilliseconds))), 6, &out)
        appendLE(h.monotonicMilliseconds, 4, &out)
        let bodyStart = out.count
        try Self.encodeBody(body, into: &out)
        let length = out.count - bodyStart
        guard length <= FrameFormat.maximumBodyLength else {
            out.removeSubrange(start...)
            throw .bodyTooLong(length)
        }
        out[start + 4] = UInt8(length & 0xFF)
        out[start + 5] = UInt8(length >> 8)
        let crc = out[start...].withUnsafeBytes { CRC32C.checksum($0) }
        appendLE(crc, 4, &out)
    }

    static func encodeBody(_ body: FrameBody, into out: inout [UInt8]) throws(FrameEncodingError) {
        switch body {
        case .birth(let b):
            func field(_ tag: UInt64, _ bytes: [UInt8]) {
                Varint.append(tag, to: &out)
                Varint.append(UInt64(bytes.count), to: &out)
                out.append(contentsOf: bytes)
            }
            field(BirthTag.firmware, Array(b.firmware.utf8))
            field(BirthTag.asset, Array(b.asset.utf8))
            field(BirthTag.profileName, Array(b.profileName.utf8))
            if !b.profileHash.isEmpty { field(BirthTag.profileHash, b.profileHash) }
            for c in b.channels {
                var e: [UInt8] = []
                Varint.append(UInt64(max(0, c.id)), to: &e)
                e.append(c.quantity)
                e.append(c.isSpectrum ? 1 : 0)
                appendLE(c.resolution.bitPattern, 8, &e)
                Varint.append(UInt64(max(0, c.updateIntervalMilliseconds)), to: &e)
                appendString(c.unit, &e)
                appendString(c.name, &e)
                field(BirthTag.channel, e)
            }
            if !b.losses.isEmpty {
                var e: [UInt8] = []
                appendLosses(b.losses, &e)
                field(BirthTag.losses, e)
            }
        case .data(let values):
            Varint.append(UInt64(values.count), to: &out)
            var previous = 0
            for v in values {
                guard v.channel > previous else { throw .channelOrder(previous: previous, next: v.channel) }
                let hasQuality = !v.quality.isEmpty
                Varint.append(UInt64(v.channel - previous) << 1 | (hasQuality ? 1 : 0), to: &out)
                if hasQuality { out.append(v.quality.rawValue & Quality.defined.rawValue) }
                Varint.append(Varint.zigzag(v.raw), to: &out)
                previous = v.channel
            }
        case .spectrum(let s):
            Varint.append(UInt64(max(0, s.channel)), to: &out)
            // Delta coding pays when neighbouring bands are alike (a flat noise floor); pick the shorter.
            var plainLength = 0
            var deltaLength = 0
            for (i, r) in s.raw.enumerated() {
                plainLength += Varint.length(of: r)
                deltaLength += i == 0 ? Varint.length(of: r) : Varint.length(of: Varint.zigzag(Int64(bitPattern: r &- s.raw[i - 1])))
            }
            let delta = deltaLength < plainLength
            let hasQuality = !s.quality.isEmpty
            out.append((delta ? 1 : 0) | (hasQuality ? 2 : 0) | (s.orderBands ? 4 : 0))
            if hasQuality { out.append(s.quality.rawValue & Quality.defined.rawValue) }
            Varint.append(UInt64(s.raw.count), to: &out)
            Varint.append(UInt64(s.start), to: &out)
            Varint.append(UInt64(s.width), to: &out)
            for (i, r) in s.raw.enumerated() {
                if delta && i > 0 {
                    Varint.append(Varint.zigzag(Int64(bitPattern: r &- s.raw[i - 1])), to: &out)
                } else {
                    Varint.append(r, to: &out)
                }
            }
        case .event(let e):
            out.append(e.kind)
            out.append(e.reason)
            Varint.append(UInt64(max(0, e.rule + 1)), to: &out)
            Varint.append(UInt64(max(0, e.channel)), to: &out)
            appendLE(e.value.bitPattern, 4, &out)
            appendLE(e.limit.bitPattern, 4, &out)
        case .death(let reason, let losses):
            out.append(reason.rawValue)
            appendLosses(losses, &out)
        }
    }
}

/// Tags of the birth frame's fields (docs/frame-format.md §4.1). Unknown tags are skipped by readers.
enum BirthTag {
    static let firmware: UInt64 = 1
    static let asset: UInt64 = 2
    static let profileName: UInt64 = 3
    static let profileHash: UInt64 = 4
    static let channel: UInt64 = 5
    static let losses: UInt64 = 6
}

@inline(__always)
func appendLE<T: FixedWidthInteger>(_ value: T, _ bytes: Int, _ out: inout [UInt8]) {
    let v = UInt64(truncatingIfNeeded: value)
    for i in 0..<bytes { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) }
}

/// Loss counters as `u8 cause | varint count` pairs (docs/frame-format.md §4.1, §4.5).
func appendLosses(_ losses: [LossCount], _ out: inout [UInt8]) {
    for l in losses {
        out.append(l.cause.rawValue)
        Varint.append(l.count, to: &out)
    }
}

func appendString(_ s: String, _ out: inout [UInt8]) {
    let u = Array(s.utf8)
    Varint.append(UInt64(u.count), to: &out)
    out.append(contentsOf: u)
}
