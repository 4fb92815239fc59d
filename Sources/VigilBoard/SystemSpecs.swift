import VigilFrames

/// Timing of the real-time loop.
public struct RealtimeSpec: Sendable, Equatable, Codable {
    /// Loop period, µs.
    public var periodMicroseconds: Int
    /// `SCHED_FIFO` priority, 1–99.
    public var priority: Int
    /// CPU the loop thread is pinned to, if any.
    public var cpu: Int?
    /// `mlockall(MCL_CURRENT|MCL_FUTURE)` after start-up.
    public var lockMemory: Bool
    /// This many missed deadlines within `overrun_window_ms` is a fault.
    public var overrunBurst: Int
    public var overrunWindowMilliseconds: Int
    /// This many bus errors on one bus within `bus_error_window_ms` is a fault on its channels.
    public var busErrorBurst: Int
    public var busErrorWindowMilliseconds: Int
    /// The supervisor drives every output to its safe level when the loop has not completed a
    /// cycle for this long, ms (default: five periods, at least 10 ms).
    public var maxStallMilliseconds: Int

    /// The default of `max_stall_ms` for a period.
    public static func defaultMaxStallMilliseconds(periodMicroseconds: Int) -> Int { max(10, (5 * periodMicroseconds + 999) / 1000) }

    enum CodingKeys: String, CodingKey {
        case priority, cpu
        case periodMicroseconds = "period_us", lockMemory = "lock_memory"
        case overrunBurst = "overrun_burst", overrunWindowMilliseconds = "overrun_window_ms"
        case busErrorBurst = "bus_error_burst", busErrorWindowMilliseconds = "bus_error_window_ms"
        case maxStallMilliseconds = "max_stall_ms"
    }
}

/// The hardware watchdog.
public struct WatchdogSpec: Sendable, Equatable, Codable {
    /// `/dev/watchdog` or similar; absent means no hardware watchdog.
    public var device: String?
    /// Timeout programmed into the device, s.
    public var timeoutSeconds: Int

    enum CodingKeys: String, CodingKey {
        case device
        case timeoutSeconds = "timeout_s"
    }
}

/// Where frames go.
public struct UplinkSpec: Sendable, Equatable, Codable {
    public var kind: Kind
    /// A snapshot of every channel is taken this often, ms; report-by-exception then decides what is sent.
    public var snapshotIntervalMilliseconds: Int
    /// Every channel is sent at least this often, even when unchanged, s.
    public var heartbeatSeconds: Int
    public var mqtt: MQTTSpec?
    public var udp: UDPSpec?
    public var serial: SerialUplinkSpec?
    public var file: FileSinkSpec?
    public var sparkplug: SparkplugSpec?

    public enum Kind: String, Sendable, Codable, CaseIterable {
        case mqtt, sparkplug, udp, serial, file, none
    }

    enum CodingKeys: String, CodingKey {
        case kind, mqtt, udp, serial, file, sparkplug
        case snapshotIntervalMilliseconds = "snapshot_interval_ms", heartbeatSeconds = "heartbeat_s"
    }
}

/// MQTT through Eclipse Paho C.
public struct MQTTSpec: Sendable, Equatable, Codable {
    /// `tcp://host:port` or `ssl://host:port`.
    public var broker: String
    public var clientID: String

    /// `vigil-SITE-NODE`: a broker drops the older of two connections with one client id, so the
    /// id must be unique plant-wide, and node names are often reused from site to site.
    public static func defaultClientID(site: String?, node: String?) -> String {
        "vigil-\(site ?? "site")-\(node ?? "node")"
    }
    /// Topics are `PREFIX/SITE/NODE/TYPE`.
    public var topicPrefix: String
    public var version: Version
    public var keepAliveSeconds: Int
    /// QoS of data and spectrum frames (events, birth and death always use QoS 1).
    public var dataQoS: Int
    public var caFile: String?
    public var certificateFile: String?
    public var keyFile: String?
    public var usernameFile: String?
    public var passwordFile: String?

    public enum Version: String, Sendable, Codable, CaseIterable {
        case v311 = "3.1.1"
        case v5 = "5"
    }

    enum CodingKeys: String, CodingKey {
        case broker, version
        case clientID = "client_id", topicPrefix = "topic_prefix", keepAliveSeconds = "keepalive_s"
        case dataQoS = "data_qos", caFile = "ca_file", certificateFile = "cert_file", keyFile = "key_file"
        case usernameFile = "username_file", passwordFile = "password_file"
    }
}

/// Sparkplug B over MQTT (docs/sparkplug.md): the broker connection as `[uplink.mqtt]` has it
/// (its `topic_prefix` aside: Sparkplug's namespace is fixed), and the node's Sparkplug ids.
public struct SparkplugSpec: Sendable, Equatable, Codable {
    public var mqtt: MQTTSpec
    public var groupID: String
    /// Default: the asset's `node`.
    public var edgeNodeID: String
    public var primaryHostID: String?
    /// Default (nil): `sparkplug-bdseq` beside the spool directory.
    public var bdSeqFile: String?

    enum CodingKeys: String, CodingKey {
        case mqtt
        case groupID = "group_id", edgeNodeID = "edge_node_id", primaryHostID = "primary_host_id", bdSeqFile = "bdseq_file"
    }
}

/// UDP datagrams, one frame each.
public struct UDPSpec: Sendable, Equatable, Codable {
    public var host: String
    public var port: Int
}

/// Frames on a serial line to a gateway, COBS- or SLIP-framed.
public struct SerialUplinkSpec: Sendable, Equatable, Codable {
    public var device: String
    public var baud: Int
    public var framing: LineFraming
}

/// Frames appended to a file (or `-` for standard output), for diagnostics.
public struct FileSinkSpec: Sendable, Equatable, Codable {
    public var path: String
}

/// The on-disk store-and-forward spool.
public struct SpoolSpec: Sendable, Equatable, Codable {
    public var directory: String
    /// Total size limit, bytes; when full, data frames are evicted before events, oldest first.
    public var maxBytes: Int
    /// Size of one segment file, bytes.
    public var segmentBytes: Int
    /// Data records are fsynced at most this often, ms; events are fsynced at once.
    public var fsyncIntervalMilliseconds: Int

    enum CodingKeys: String, CodingKey {
        case directory
        case maxBytes = "max_bytes", segmentBytes = "segment_bytes", fsyncIntervalMilliseconds = "fsync_interval_ms"
    }
}

/// The local control socket the CLI talks to.
public struct ControlSpec: Sendable, Equatable, Codable {
    /// Unix domain socket path (mode 0660, group `vigil`).
    public var socket: String
}

/// The simulated machine behind a `simulated` board: a rotating shaft whose vibration is the sum
/// of the classic fault signatures, plus a motor temperature (VigilSimulation's
/// `MachineScenario` computes them).
public struct SimulationSpec: Sendable, Equatable, Codable {
    /// Seed of every random process (noise, faults); printed at start so a run can be replayed.
    public var seed: UInt64
    public var shaftRPM: Double
    /// 1× running speed (unbalance), amplitude in g, radial (x and y in quadrature).
    public var unbalanceG: Double
    /// 2× and 3× running speed (misalignment), amplitude in g; strongest axially (z).
    public var misalignmentG: Double
    /// A bearing defect tone (e.g. the outer-race ball-pass frequency), Hz and g.
    public var bearingDefectHz: Double
    public var bearingDefectG: Double
    /// White noise on every axis, g RMS.
    public var noiseG: Double
    public var temperatureC: Double
    public var temperatureDriftCPerMinute: Double
    /// The vibration ramps from 1× to `ramp_factor`× between `ramp_start_s` and `ramp_start_s + ramp_duration_s`
    /// after start (0 = no ramp).
    public var rampStartSeconds: Double
    public var rampDurationSeconds: Double
    public var rampFactor: Double

    /// The machine of a simulated board whose `[simulation]` table leaves a key out: a 1480 rpm fan
    /// in ISO zone B with a faint bearing tone. The one home of these values.
    public static let defaults = SimulationSpec(
        seed: 1, shaftRPM: 1480, unbalanceG: 0.05, misalignmentG: 0.02, bearingDefectHz: 87.3, bearingDefectG: 0.01,
        noiseG: 0.005, temperatureC: 42, temperatureDriftCPerMinute: 0.2, rampStartSeconds: 0, rampDurationSeconds: 0, rampFactor: 1)

    public init(seed: UInt64, shaftRPM: Double, unbalanceG: Double, misalignmentG: Double, bearingDefectHz: Double, bearingDefectG: Double,
                noiseG: Double, temperatureC: Double, temperatureDriftCPerMinute: Double, rampStartSeconds: Double, rampDurationSeconds: Double,
                rampFactor: Double) {
        self.seed = seed
        self.shaftRPM = shaftRPM
        self.unbalanceG = unbalanceG
        self.misalignmentG = misalignmentG
        self.bearingDefectHz = bearingDefectHz
        self.bearingDefectG = bearingDefectG
        self.noiseG = noiseG
        self.temperatureC = temperatureC
        self.temperatureDriftCPerMinute = temperatureDriftCPerMinute
        self.rampStartSeconds = rampStartSeconds
        self.rampDurationSeconds = rampDurationSeconds
        self.rampFactor = rampFactor
    }

    enum CodingKeys: String, CodingKey {
        case seed
        case shaftRPM = "shaft_rpm", unbalanceG = "unbalance_g", misalignmentG = "misalignment_g"
        case bearingDefectHz = "bearing_defect_hz", bearingDefectG = "bearing_defect_g", noiseG = "noise_g"
        case temperatureC = "temperature_c", temperatureDriftCPerMinute = "temperature_drift_c_per_min"
        case rampStartSeconds = "ramp_start_s", rampDurationSeconds = "ramp_duration_s", rampFactor = "ramp_factor"
    }
}
