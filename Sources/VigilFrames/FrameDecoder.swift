import VigilBase

/// The first reason a frame is invalid, with the byte offset (from the frame's start) where it was found.
public struct FrameError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: String, Sendable, Equatable {
        case badMagic = "bad_magic"
        case unsupportedVersion = "unsupported_version"
        case unknownType = "unknown_type"
        case reservedBits = "reserved_bits"
        case bodyTooLong = "body_too_long"
        case crcMismatch = "crc_mismatch"
        case truncatedField = "truncated_field"
        case badVarint = "bad_varint"
        case channelOrder = "channel_order"
        case badLength = "bad_length"
        case badUTF8 = "bad_utf8"
        case trailingBytes = "trailing_bytes"
        case badValue = "bad_value"
    }
    public var reason: Reason
    public var offset: Int
    public var detail: String

    public init(_ reason: Reason, at offset: Int, _ detail: String) {
        self.reason = reason
        self.offset = offset
        self.detail = detail
    }

    public var description: String { "\(reason.rawValue) at byte \(offset): \(detail)" }
}

/// What `FrameDecoder.decode` found at the start of its input.
public enum DecodeResult: Sendable, Equatable {
    /// A valid frame that used the first `length` bytes.
    case frame(Frame, length: Int)
    /// The input is a valid prefix so far; at least `minimumLength` bytes are needed in total.
    case needMoreData(minimumLength: Int)
    /// The input does not start with a valid frame.
    case invalid(FrameError)
}

/// Validates and decodes frames. Never traps on any input (fuzzed).
public enum FrameDecoder {
    /// Decodes the frame at the start of `bytes`.
    public static func decode(_ bytes: [UInt8]) -> DecodeResult {
        bytes.withUnsafeBytes { decode($0) }
    }

    public static func decode(_ bytes: ArraySlice<UInt8>) -> DecodeResult {
        bytes.withUnsafeBytes { decode($0) }
    }

    public static func decode(_ bytes: UnsafeRawBufferPointer) -> DecodeResult {
        let n = bytes.count
        // Check what is there before asking for more: garbage fails at once, not after 24 bytes.
        if n >= 1 && bytes[0] != FrameFormat.magic {
            return .invalid(FrameError(.badMagic, at: 0, "first byte is 0x\(hex(bytes[0])), a frame starts with 0x56 ('V')"))
        }
        if n >= 2 && bytes[1] >> 4 != FrameFormat.majorVersion {
            return .invalid(FrameError(.unsupportedVersion, at: 1, "major version \(bytes[1] >> 4); this decoder reads version 1"))
        }
        if n >= 3 {
            if bytes[2] & 0xF0 != 0 { return .invalid(FrameError(.reservedBits, at: 2, "type byte 0x\(hex(bytes[2])) has reserved high bits set")) }
            if FrameType(rawValue: bytes[2]) == nil { return .invalid(FrameError(.unknownType, at: 2, "frame type \(bytes[2]) is not 1…5")) }
        }
        if n >= 4 {
            if bytes[3] & 0xF8 != 0 { return .invalid(FrameError(.reservedBits, at: 3, "flags byte 0x\(hex(bytes[3])) has reserved bits 3–7 set")) }
            if (bytes[3] >> 1) & 3 == 3 { return .invalid(FrameError(.reservedBits, at: 3, "clock-sync state 3 is reserved")) }
        }
        var bodyLength = 0
        if n >= 6 {
            bodyLength = Int(bytes[4]) | Int(bytes[5]) << 8
            if bodyLength > FrameFormat.maximumBodyLength {
                return .invalid(FrameError(.bodyTooLong, at: 4, "body length \(bodyLength) exceeds \(FrameFormat.maximumBodyLength)"))
            }
        }
        if n < FrameFormat.headerLength { return .needMoreData(minimumLength: n < 6 ? FrameFormat.headerLength : FrameFormat.headerLength + bodyLength + 4) }
        let total = FrameFormat.headerLength + bodyLength + FrameFormat.crcLength
        if n < total { return .needMoreData(minimumLength: total) }
        let stored = UInt32(readLE(bytes, total - 4, 4))
        let computed = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<(total - 4)]))
        if stored != computed {
            return .invalid(FrameError(.crcMismatch, at: total - 4, "CRC-32C is 0x\(hex32(stored)), the bytes give 0x\(hex32(computed))"))
        }
        let type = FrameType(rawValue: bytes[2])!
        let header = FrameHeader(type: type, session: UInt32(readLE(bytes, 6, 4)), sequence: UInt32(readLE(bytes, 10, 4)),
                                 wallClockMilliseconds: Int64(readLE(bytes, 14, 6)), monotonicMilliseconds: UInt32(readLE(bytes, 20, 4)),
                                 clockSync: ClockSyncState(rawValue: (bytes[3] >> 1) & 3) ?? .unknown, historical: bytes[3] & 1 != 0,
                                 minorVersion: bytes[1] & 0x0F)
        var reader = BodyReader(bytes: UnsafeRawBufferPointer(rebasing: bytes[FrameFormat.headerLength..<(FrameFormat.headerLength + bodyLength)]),
                                base: FrameFormat.headerLength)
        do throws(FrameError) {
            let body = try decodeBody(type, &reader)
            // A newer minor version may append fields; this version's frames must end exactly here.
            if reader.remaining > 0 && header.minorVersion <= FrameFormat.minorVersion {
                throw FrameError(.trailingBytes, at: reader.offset, "\(reader.remaining) bytes after the last \(type.name) field")
            }
            return .frame(Frame(header: header, body: body), length: total)
        } catch {
            return .invalid(error)
        }
    }

    static func decodeBody(_ type: FrameType, _ r: inout BodyReader) throws(FrameError) -> FrameBody {
        switch type {
        case .birth:
            var birth = BirthBody(firmware: "", asset: "", profileName: "", profileHash: [], channels: [])
            while r.remaining > 0 {
                let tagOffset = r.offset
                let tag = try r.varint("birth field tag")
                let length = try r.length("birth field \(tag) length")
                var field = try r.sub(length, "birth field \(tag)")
                switch tag {
                case BirthTag.firmware: birth.firmware = try field.utf8(length, "firmware")
                case BirthTag.asset: birth.asset = try field.utf8(length, "asset")
                case BirthTag.profileName: birth.profileName = try field.utf8(length, "profile name")
                case BirthTag.profileHash:
                    guard length == 32 else { throw FrameError(.badLength, at: tagOffset, "profile hash is \(length) bytes, expected 32") }
                    birth.profileHash = try field.bytes(32, "profile hash")
                case BirthTag.channel:
                    let id = try field.varint("channel id")
                    let quantity = try field.byte("channel quantity")
                    let flags = try field.byte("channel flags")
                    if flags & 0xFE != 0 { throw FrameError(.reservedBits, at: field.offset - 1, "channel flags 0x\(hex(flags)) have reserved bits set") }
                    let resolution = Double(bitPattern: try field.fixed(8, "channel resolution"))
                    guard resolution.isFinite && resolution > 0 else {
                        throw FrameError(.badValue, at: field.offset - 8, "channel resolution \(resolution) is not a positive number")
                    }
                    let interval = try field.varint("channel update interval")
                    let unit = try field.utf8(try field.length("unit length"), "unit")
                    let name = try field.utf8(try field.length("name length"), "channel name")
                    guard id >= 1, id <= 65_535 else { throw FrameError(.badValue, at: tagOffset, "channel id \(id) is not 1…65535") }
                    if let last = birth.channels.last, Int(id) <= last.id {
                        throw FrameError(.channelOrder, at: tagOffset, "channel id \(id) after \(last.id); ids must ascend")
                    }
                    birth.channels.append(ChannelInfo(id: Int(id), name: name, quantity: quantity, unit: unit, resolution: resolution,
                                                      updateIntervalMilliseconds: Int(clamping: interval), isSpectrum: flags & 1 != 0))
                case BirthTag.losses:
                    birth.losses = try decodeLosses(&field)
                default:
                    break  // a field from a newer version: skipped by design
                }
            }
            return .birth(birth)
        case .data:
            let count = try r.length("value count")
            var values: [DataValue] = []
            values.reserveCapacity(min(count, 1024))
            var previous: UInt64 = 0
            for _ in 0..<count {
                let keyOffset = r.offset
                let key = try r.varint("channel key")
                let delta = key >> 1
                if delta == 0 { throw FrameError(.channelOrder, at: keyOffset, "channel id delta 0: ids must ascend") }
                let (id, overflow) = previous.addingReportingOverflow(delta)
                if overflow || id > 65_535 { throw FrameError(.badValue, at: keyOffset, "channel id beyond 65535") }
                var quality: Quality = []
                if key & 1 != 0 { quality = try r.quality() }
                let raw = Varint.unzigzag(try r.varint("value"))
                values.append(DataValue(channel: Int(id), quality: quality, raw: raw))
                previous = id
            }
            return .data(values)
        case .spectrum:
            let id = try r.varint("spectrum channel id")
            guard id >= 1, id <= 65_535 else { throw FrameError(.badValue, at: r.offset - 1, "channel id \(id) is not 1…65535") }
            let flags = try r.byte("spectrum flags")
            if flags & 0xF8 != 0 { throw FrameError(.reservedBits, at: r.offset - 1, "spectrum flags 0x\(hex(flags)) have reserved bits set") }
            let quality = flags & 2 != 0 ? try r.quality() : []
            let count = try r.length("band count")
            let start = try r.varint("band start")
            let width = try r.varint("band width")
            guard start <= UInt64(UInt32.max), width <= UInt64(UInt32.max) else {
                throw FrameError(.badValue, at: r.offset, "band start or width beyond 32 bits")
            }
            var raw: [UInt64] = []
            raw.reserveCapacity(min(count, 1024))
            for i in 0..<count {
                let v = try r.varint("band \(i)")
                if flags & 1 != 0 && i > 0 {
                    raw.append(raw[i - 1] &+ UInt64(bitPattern: Varint.unzigzag(v)))
                } else {
                    raw.append(v)
                }
            }
            return .spectrum(SpectrumBody(channel: Int(id), quality: quality, orderBands: flags & 4 != 0, start: UInt32(start), width: UInt32(width), raw: raw))
        case .event:
            let kind = try r.byte("event kind")
            let reason = try r.byte("event reason")
            let rule = try r.varint("event rule")
            let channel = try r.varint("event channel")
            guard rule <= 65_536, channel <= 65_535 else { throw FrameError(.badValue, at: r.offset, "event rule or channel beyond 65535") }
            let value = Float(bitPattern: UInt32(try r.fixed(4, "event value")))
            let limit = Float(bitPattern: UInt32(try r.fixed(4, "event limit")))
            return .event(EventBody(kind: kind, reason: reason, rule: Int(rule) - 1, channel: Int(channel), value: value, limit: limit))
        case .death:
            let offset = r.offset
            let raw = try r.byte("death reason")
            guard let reason = DeathReason(rawValue: raw) else { throw FrameError(.badValue, at: offset, "death reason \(raw) is not 0 or 1") }
            return .death(reason, losses: try decodeLosses(&r))
        }
    }

    /// `u8 cause | varint count` pairs to the end of `r` (§4.1); a cause from a newer version is
    /// skipped, like an unknown field.
    static func decodeLosses(_ r: inout BodyReader) throws(FrameError) -> [LossCount] {
        var losses: [LossCount] = []
        while r.remaining > 0 {
            let code = try r.byte("loss cause")
            let count = try r.varint("loss count")
            if let cause = LossCause(rawValue: code) { losses.append(LossCount(cause, count)) }
        }
        return losses
    }
}

/// Reads fields from a body, turning every shortfall into `truncatedField` with an offset.
struct BodyReader {
    let bytes: UnsafeRawBufferPointer
    /// Offset of `bytes[0]` in the frame.
    let base: Int
    var position = 0

    init(bytes: UnsafeRawBufferPointer, base: Int) {
        self.bytes = bytes
        self.base = base
    }

    var remaining: Int { bytes.count - position }
    var offset: Int { base + position }

    mutating func byte(_ what: String) throws(FrameError) -> UInt8 {
        guard position < bytes.count else { throw FrameError(.truncatedField, at: offset, "body ends before \(what)") }
        position += 1
        return bytes[position - 1]
    }

    mutating func fixed(_ count: Int, _ what: String) throws(FrameError) -> UInt64 {
        guard remaining >= count else { throw FrameError(.truncatedField, at: offset, "body ends inside \(what)") }
        let v = readLE(bytes, position, count)
        position += count
        return v
    }

    mutating func varint(_ what: String) throws(FrameError) -> UInt64 {
        let start = offset
        var result: UInt64 = 0
        var shift: UInt64 = 0
        for i in 0..<Varint.maximumLength {
            let b = try byte(what)
            if i == 9 && b > 1 { throw FrameError(.badVarint, at: start, "\(what) overflows 64 bits") }
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
        }
        throw FrameError(.badVarint, at: start, "\(what) is longer than 10 bytes")
    }

    /// A varint that sizes something inside this body: it must fit in what remains.
    mutating func length(_ what: String) throws(FrameError) -> Int {
        let start = offset
        let v = try varint(what)
        guard v <= UInt64(remaining) else { throw FrameError(.badLength, at: start, "\(what) \(v) exceeds the \(remaining) bytes left in the body") }
        return Int(v)
    }

    mutating func quality() throws(FrameError) -> Quality {
        let b = try byte("quality")
        if b & ~Quality.defined.rawValue != 0 { throw FrameError(.reservedBits, at: offset - 1, "quality 0x\(hex(b)) has reserved bit 7 set") }
        return Quality(rawValue: b)
    }

    mutating func bytes(_ count: Int, _ what: String) throws(FrameError) -> [UInt8] {
        guard remaining >= count else { throw FrameError(.truncatedField, at: offset, "body ends inside \(what)") }
        let out = Array(bytes[position..<(position + count)])
        position += count
        return out
    }

    mutating func utf8(_ count: Int, _ what: String) throws(FrameError) -> String {
        let start = offset
        let raw = try bytes(count, what)
        guard let s = String(validating: raw, as: UTF8.self) else { throw FrameError(.badUTF8, at: start, "\(what) is not valid UTF-8") }
        return s
    }

    /// A reader over the next `count` bytes, which this reader skips.
    mutating func sub(_ count: Int, _ what: String) throws(FrameError) -> BodyReader {
        guard remaining >= count else { throw FrameError(.truncatedField, at: offset, "body ends inside \(what)") }
        let r = BodyReader(bytes: UnsafeRawBufferPointer(rebasing: bytes[position..<(position + count)]), base: offset)
        position += count
        return r
    }
}

func readLE(_ bytes: UnsafeRawBufferPointer, _ at: Int, _ count: Int) -> UInt64 {
    var v: UInt64 = 0
    for i in 0..<count { v |= UInt64(bytes[at + i]) << (8 * UInt64(i)) }
    return v
}

func hex(_ b: UInt8) -> String {
    let s = String(b, radix: 16, uppercase: true)
    return s.count == 1 ? "0" + s : s
}

func hex32(_ v: UInt32) -> String {
    let s = String(v, radix: 16, uppercase: true)
    return String(repeating: "0", count: 8 - s.count) + s
}

extension FrameDecoder {
    /// Sets the historical flag of an encoded frame in place and recomputes its CRC (a frame
    /// replayed from the spool after an outage). Returns false, changing nothing, if `bytes` is not
    /// one whole frame or its CRC does not check: re-signing a damaged frame would pass the damage
    /// on as good.
    @discardableResult
    public static func markHistorical(_ bytes: inout [UInt8]) -> Bool {
        guard bytes.count >= FrameFormat.headerLength + FrameFormat.crcLength else { return false }
        let body = Int(bytes[4]) | Int(bytes[5]) << 8
        guard bytes.count == FrameFormat.headerLength + body + FrameFormat.crcLength else { return false }
        let end = bytes.count - 4
        let stored = UInt32(bytes[end]) | UInt32(bytes[end + 1]) << 8 | UInt32(bytes[end + 2]) << 16 | UInt32(bytes[end + 3]) << 24
        guard bytes[0..<end].withUnsafeBytes({ CRC32C.checksum($0) }) == stored else { return false }
        bytes[3] |= 1
        let crc = bytes[0..<end].withUnsafeBytes { CRC32C.checksum($0) }
        for i in 0..<4 { bytes[end + i] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(i))) }
        return true
    }
}
