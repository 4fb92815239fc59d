import VigilBase

/// The five kinds of frame (wire values; see docs/frame-format.md §2).
public enum FrameType: UInt8, Sendable, CaseIterable, Codable {
    /// Who the node is and its channel table; sent first in every session and on rebirth requests.
    case birth = 1
    /// Scalar channel values with a quality each.
    case data = 2
    /// The band energies of one analysed block of one axis.
    case spectrum = 3
    /// One interlock state change or fault.
    case event = 4
    /// The node is gone (sent as the MQTT will, or on a clean stop).
    case death = 5

    public var name: String {
        switch self {
        case .birth: return "birth"
        case .data: return "data"
        case .spectrum: return "spectrum"
        case .event: return "event"
        case .death: return "death"
        }
    }
}

/// The fixed 24-byte header every frame starts with.
public struct FrameHeader: Sendable, Equatable {
    /// Minor version of the writer; a decoder of minor `m` reads any frame of major 1, ignoring body
    /// bytes past the fields it knows when the frame's minor is newer.
    public var minorVersion: UInt8
    public var type: FrameType
    /// Replayed from the spool after an outage rather than sent live.
    public var historical: Bool
    public var clockSync: ClockSyncState
    /// Random per agent start (and per monotonic wrap): (session, sequence) identifies a frame.
    public var session: UInt32
    /// Per session, +1 per frame, starting at 0 with the birth. Death frames repeat their birth's.
    public var sequence: UInt32
    /// Wall clock when the frame's content was taken, ms since the Unix epoch (48 bits; 0 = unknown).
    public var wallClockMilliseconds: Int64
    /// Monotonic time since the session started, ms.
    public var monotonicMilliseconds: UInt32

    public init(type: FrameType, session: UInt32, sequence: UInt32, wallClockMilliseconds: Int64, monotonicMilliseconds: UInt32,
                clockSync: ClockSyncState, historical: Bool = false, minorVersion: UInt8 = FrameFormat.minorVersion) {
        self.minorVersion = minorVersion
        self.type = type
        self.historical = historical
        self.clockSync = clockSync
        self.session = session
        self.sequence = sequence
        self.wallClockMilliseconds = wallClockMilliseconds
        self.monotonicMilliseconds = monotonicMilliseconds
    }
}

/// Constants of the wire format.
public enum FrameFormat {
    public static let magic: UInt8 = 0x56  // "V"
    public static let majorVersion: UInt8 = 1
    public static let minorVersion: UInt8 = 1
    public static let headerLength = 24
    public static let crcLength = 4
    /// Largest body a decoder accepts; a longer length field is invalid, not "need more data".
    public static let maximumBodyLength = 16_384
    /// The largest wall-clock value the 48-bit field holds.
    public static let maximumWallClockMilliseconds: Int64 = (1 << 48) - 1
}

/// One entry of the channel table in a birth frame.
public struct ChannelInfo: Sendable, Equatable {
    /// 1-based id that data and spectrum frames carry.
    public var id: Int
    public var name: String
    /// ``ChannelQuantity`` raw value (what the channel measures).
    public var quantity: UInt8
    /// Unit symbol as in board profiles (`mm/s`, `g`, `degC`).
    public var unit: String
    /// Value of one step of the scaled integers frames carry.
    public var resolution: Double
    public var updateIntervalMilliseconds: Int
    public var isSpectrum: Bool

    public init(id: Int, name: String, quantity: UInt8, unit: String, resolution: Double, updateIntervalMilliseconds: Int, isSpectrum: Bool) {
        self.id = id
        self.name = name
        self.quantity = quantity
        self.unit = unit
        self.resolution = resolution
        self.updateIntervalMilliseconds = updateIntervalMilliseconds
        self.isSpectrum = isSpectrum
    }
}

/// Body of a birth frame.
public struct BirthBody: Sendable, Equatable {
    public var firmware: String
    /// `site/area/line/machine/node`.
    public var asset: String
    public var profileName: String
    /// SHA-256 of the profile file (32 bytes).
    public var profileHash: [UInt8]
    public var channels: [ChannelInfo]
    /// What the node lost since it started, by cause (docs/frame-format.md §4.1, tag 6): a
    /// gateway sees losses at every birth without asking the node.
    public var losses: [LossCount]

    public init(firmware: String, asset: String, profileName: String, profileHash: [UInt8], channels: [ChannelInfo], losses: [LossCount] = []) {
        self.firmware = firmware
        self.asset = asset
        self.profileName = profileName
        self.profileHash = profileHash
        self.channels = channels
        self.losses = losses
    }
}

/// Causes of lost frames a birth reports. Codes are wire values (docs/frame-format.md §4.1).
public enum LossCause: UInt8, Sendable, CaseIterable {
    case droppedUpdates = 1, droppedEvents, encodeFailures, backlogOverflow, evictedData, evictedEvents, tornRecords, damagedRecords,
         unsyncedAtFsyncError, undecodableRecords, memoryStoreOnly, qos0PossiblyLost
    /// The name in JSON and `vigil status`.
    public var name: String {
        switch self {
        case .droppedUpdates: return "dropped_updates"
        case .droppedEvents: return "dropped_events"
        case .encodeFailures: return "encode_failures"
        case .backlogOverflow: return "backlog_overflow"
        case .evictedData: return "evicted_data"
        case .evictedEvents: return "evicted_events"
        case .tornRecords: return "torn_records"
        case .damagedRecords: return "damaged_records"
        case .unsyncedAtFsyncError: return "unsynced_at_fsync_error"
        case .undecodableRecords: return "undecodable_records"
        case .memoryStoreOnly: return "memory_store_only"
        case .qos0PossiblyLost: return "qos0_possibly_lost"
        }
    }
}

/// One loss counter of a birth.
public struct LossCount: Sendable, Equatable {
    public var cause: LossCause
    public var count: UInt64
    public init(_ cause: LossCause, _ count: UInt64) {
        self.cause = cause
        self.count = count
    }
}

/// One value of a data frame: `raw × resolution` in the channel's unit.
public struct DataValue: Sendable, Equatable {
    public var channel: Int
    public var quality: Quality
    public var raw: Int64
    public init(channel: Int, quality: Quality, raw: Int64) {
        self.channel = channel
        self.quality = quality
        self.raw = raw
    }
}

/// Body of a spectrum frame: band energies (RMS per band) of one block of one axis.
public struct SpectrumBody: Sendable, Equatable {
    public var channel: Int
    public var quality: Quality
    /// Bands are shaft orders (start and width in 0.001 order) rather than Hz (in 0.001 Hz).
    public var orderBands: Bool
    /// Lower edge of the first band.
    public var start: UInt32
    /// Width of every band.
    public var width: UInt32
    /// Band values as non-negative scaled integers (`raw × resolution`).
    public var raw: [UInt64]

    public init(channel: Int, quality: Quality, orderBands: Bool, start: UInt32, width: UInt32, raw: [UInt64]) {
        self.channel = channel
        self.quality = quality
        self.orderBands = orderBands
        self.start = start
        self.width = width
        self.raw = raw
    }
}

/// Body of an event frame.
public struct EventBody: Sendable, Equatable {
    /// ``EventKind`` raw value.
    public var kind: UInt8
    /// Fault reason or system-fault bits (0 otherwise).
    public var reason: UInt8
    /// Rule index in the profile (0-based), or −1 for interlock-wide events.
    public var rule: Int
    /// Channel id, or 0 for none.
    public var channel: Int
    public var value: Float
    public var limit: Float

    public init(kind: UInt8, reason: UInt8, rule: Int, channel: Int, value: Float, limit: Float) {
        self.kind = kind
        self.reason = reason
        self.rule = rule
        self.channel = channel
        self.value = value
        self.limit = limit
    }
}

/// Why a node sent its death frame.
public enum DeathReason: UInt8, Sendable {
    /// The broker published the will: the connection was lost.
    case connectionLost = 0
    /// The agent stopped cleanly (SIGTERM, SIGINT).
    case cleanStop = 1
}

/// A decoded or to-be-encoded frame body.
public enum FrameBody: Sendable, Equatable {
    case birth(BirthBody)
    case data([DataValue])
    case spectrum(SpectrumBody)
    case event(EventBody)
    /// The reason, and (format minor 1) the node's loss counters when it was built: the final
    /// tally at a clean stop, the tally at connect time in the will.
    case death(DeathReason, losses: [LossCount] = [])

    public var type: FrameType {
        switch self {
        case .birth: return .birth
        case .data: return .data
        case .spectrum: return .spectrum
        case .event: return .event
        case .death: return .death
        }
    }
}

/// A frame: header and body. `header.type` always matches `body.type` after decoding.
public struct Frame: Sendable, Equatable {
    public var header: FrameHeader
    public var body: FrameBody
    public init(header: FrameHeader, body: FrameBody) {
        self.header = header
        self.body = body
    }
}
