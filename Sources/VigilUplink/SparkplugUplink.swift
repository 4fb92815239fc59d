#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CVigilSys
import VigilFrames
import VigilSparkplug

/// Settings of the Sparkplug B uplink, resolved from the profile (secrets already read).
public struct SparkplugSettings: Sendable {
    public var connection: MQTTConnection
    public var identity: SparkplugIdentity
    /// With a primary host, births wait until its `STATE` says online (Sparkplug 3.0 §5.1.3).
    public var primaryHostID: String?
    /// QoS of births and data; 0 is what Sparkplug 3.0 prescribes. NDEATH always goes at QoS 1.
    public var dataQoS: Int
    /// Where the last bdSeq is kept across restarts.
    public var bdSeqFile: String
    public var deliveryTimeoutMilliseconds = 5_000
    /// How long a connect waits for the primary host's retained `STATE` before reporting it offline.
    public var hostWaitMilliseconds = 1_000

    public init(connection: MQTTConnection, identity: SparkplugIdentity, primaryHostID: String?, dataQoS: Int, bdSeqFile: String) {
        self.connection = connection
        self.identity = identity
        self.primaryHostID = primaryHostID
        self.dataQoS = dataQoS
        self.bdSeqFile = bdSeqFile
    }
}

/// vigil as a Sparkplug B edge node over one ``MQTTSession`` per connection (the same connection,
/// will and TLS code as ``MQTTUplink``): the spool's vigil frames are rendered by
/// ``SparkplugEdgeNode`` as they are sent, so changing the uplink never rewrites the spool.
public final class SparkplugUplink: Uplink {
    public let settings: SparkplugSettings
    private let node: SparkplugEdgeNode
    private var session: MQTTSession?
    /// Connected to the broker, births not yet sent: waiting for the primary host.
    private var waiting: MQTTSession?
    private var ledger: QoS0Ledger
    private var rebirthRequested = false
    private var hostState: SparkplugHostState?
    /// The bdSeq of the current MQTT session (its will and its NBIRTH).
    public private(set) var bdSeq: UInt64 = 0
    /// MQTT connections made (a rebirth makes none).
    public private(set) var connections = 0
    public var possiblyLostAtDisconnect: Int { ledger.possiblyLost }
    /// Where refused commands and host state changes are reported (the agent's log).
    public var log: (String) -> Void = { _ in }

    public init(_ settings: SparkplugSettings) {
        self.settings = settings
        node = SparkplugEdgeNode(identity: settings.identity)
        ledger = QoS0Ledger(keepAliveSeconds: settings.connection.keepAliveSeconds)
    }

    public var description: String { "sparkplug \(settings.connection.broker) \(settings.identity.groupID)/\(settings.identity.edgeNodeID)" }
    public var isConnected: Bool { session?.isConnected ?? false }

    private var ncmdTopic: String { settings.identity.nodeTopic("NCMD") }
    private var dcmdFilter: String { settings.identity.nodeTopic("DCMD") + "/+" }
    private var stateTopic: String? { settings.primaryHostID.map { SparkplugIdentity.stateTopic(host: $0) } }

    /// A new MQTT session with the next bdSeq in its NDEATH will, subscribed to the node's commands
    /// (and the primary host's state); then NBIRTH and every DBIRTH once the host is online.
    public func connect(birth: Frame, death: Frame) throws(UplinkError) {
        if let s = session { ledger.connectionEnded(lost: !s.isConnected); session = nil }
        if waiting?.isConnected != true {
            waiting = nil
            hostState = nil
            bdSeq = try BdSeqStore.advance(settings.bdSeqFile)
            let will = MQTTConnection.Will(topic: settings.identity.nodeTopic("NDEATH"),
                                           payload: node.death(bdSeq: bdSeq, timestampMilliseconds: Self.milliseconds(death)).payload, qos: 1)
            var subscriptions: [(topic: String, qos: Int32)] = [(ncmdTopic, 1), (dcmdFilter, 1)]
            if let stateTopic { subscriptions.append((stateTopic, 1)) }
            waiting = try MQTTSession(settings.connection, will: will, subscriptions: subscriptions)
            connections += 1
        }
        guard let candidate = waiting else { return }
        if let host = settings.primaryHostID {
            // The host's STATE is retained: it arrives right after the subscription if the host exists.
            let deadline = vigil_monotonic_ns() + Int64(settings.hostWaitMilliseconds) * 1_000_000
            repeat {
                pump(candidate, timeoutMilliseconds: 50)
            } while hostState?.online != true && vigil_monotonic_ns() < deadline
            guard hostState?.online == true else {
                throw UplinkError("Sparkplug primary host \(host) is \(hostState == nil ? "unknown (no STATE message)" : "offline"); births wait for it to come online",
                                  retryAfterNanoseconds: 1_000_000_000)
            }
        }
        waiting = nil
        let births = node.births(birth, bdSeq: bdSeq)
        do throws(UplinkError) {
            let sent = try candidate.publish(births.map { MQTTSession.Message(topic: $0.topic, payload: $0.payload, qos: Int32(settings.dataQoS)) },
                                             deliveryTimeoutMilliseconds: settings.deliveryTimeoutMilliseconds)
            guard sent == births.count else { throw UplinkError("\(births.count - sent) of \(births.count) births were not confirmed") }
        } catch {
            throw UplinkError("\(error.message); the births were not confirmed, so the connection is closed", birthMayHaveBeenSent: true)
        }
        ledger.delivered(births.map { _ in Int32(settings.dataQoS) })
        session = candidate
    }

    public func send(_ frames: [Frame]) throws(UplinkError) -> Int {
        guard let session else { throw UplinkError("MQTT broker \(settings.connection.broker): not connected") }
        pump(session, timeoutMilliseconds: 0)
        guard self.session != nil else { throw UplinkError("Sparkplug primary host \(settings.primaryHostID ?? "") went offline") }
        var messages: [MQTTSession.Message] = []
        // The index one past each frame's last message: a frame counts as delivered when all of its are.
        var ends: [Int] = []
        for f in frames {
            switch f.body {
            case .birth:
                for m in node.births(f, bdSeq: bdSeq) { messages.append(MQTTSession.Message(topic: m.topic, payload: m.payload, qos: Int32(settings.dataQoS))) }
            case .death:
                let m = node.death(bdSeq: bdSeq, timestampMilliseconds: Self.milliseconds(f))
                messages.append(MQTTSession.Message(topic: m.topic, payload: m.payload, qos: 1))
            case .data, .spectrum, .event:
                for m in node.render(f) { messages.append(MQTTSession.Message(topic: m.topic, payload: m.payload, qos: Int32(settings.dataQoS))) }
            }
            ends.append(messages.count)
        }
        guard !messages.isEmpty else { return frames.count }
        let delivered = try session.publish(messages, deliveryTimeoutMilliseconds: settings.deliveryTimeoutMilliseconds)
        ledger.delivered(messages.prefix(delivered).map(\.qos))
        return ends.prefix { $0 <= delivered }.count
    }

    /// A clean stop publishes NDEATH itself (the broker drops the will on DISCONNECT). After a
    /// failed send the NDEATH is still tried, so the host hears of it either way.
    public func disconnect(death: Frame?) {
        waiting = nil
        guard let s = session else { return }
        let alive = s.isConnected
        if alive {
            let t = death.map(Self.milliseconds) ?? UInt64(max(0, vigil_realtime_ns() / 1_000_000))
            let m = node.death(bdSeq: bdSeq, timestampMilliseconds: t)
            _ = try? s.publish([MQTTSession.Message(topic: m.topic, payload: m.payload, qos: 1)], deliveryTimeoutMilliseconds: 1_000)
        }
        ledger.connectionEnded(lost: !alive || death == nil)
        s.disconnect()
        session = nil
    }

    public func takeRebirthRequest() -> Bool {
        if let session { pump(session, timeoutMilliseconds: 0) }
        defer { rebirthRequested = false }
        return rebirthRequested && session != nil
    }

    /// Takes every waiting message: commands (a rebirth is noted, everything else refused and
    /// logged) and the primary host's state (offline ends a session: NDEATH, then disconnect).
    private func pump(_ s: MQTTSession, timeoutMilliseconds: Int) {
        var wait = timeoutMilliseconds
        while let m = s.nextMessage(timeoutMilliseconds: wait, maximumPayload: 16_448) {
            wait = 0
            if m.topic == stateTopic {
                guard let state = SparkplugHostState(m.payload) else {
                    log("Sparkplug: \(m.topic): a STATE payload that is not {\"online\": …, \"timestamp\": …}; ignored")
                    continue
                }
                // §5.1.3: a STATE older than the last one seen is stale (a retained copy racing a live one).
                if let last = hostState, state.timestampMilliseconds < last.timestampMilliseconds { continue }
                let was = hostState?.online
                hostState = state
                if was != state.online { log("Sparkplug: primary host \(settings.primaryHostID ?? "") is \(state.online ? "online" : "offline")") }
                if !state.online, session === s {
                    log("Sparkplug: primary host offline: NDEATH and disconnect; data is spooled until it is back")
                    disconnect(death: nil)
                    return
                }
                continue
            }
            let outcome = node.command(topic: m.topic, payload: m.payload)
            if outcome.rebirth { rebirthRequested = true }
            for r in outcome.refused { log("Sparkplug: \(r)") }
        }
    }

    static func milliseconds(_ f: Frame) -> UInt64 { UInt64(max(0, f.header.wallClockMilliseconds)) }
}

/// bdSeq kept on disk (Sparkplug 3.0 §6.4.19: +1 per MQTT CONNECT, 255 wraps to 0), so a host can
/// tell a restarted node's death from its last session's. Written before the CONNECT that uses it,
/// by write, fsync and rename, so a power loss leaves the old value or the new one.
enum BdSeqStore {
    static func advance(_ path: String) throws(UplinkError) -> UInt64 {
        var next: UInt64 = 0
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd >= 0 {
            var buffer = [UInt8](repeating: 0, count: 32)
            let n = read(fd, &buffer, buffer.count)
            close(fd)
            let text = String(decoding: buffer.prefix(max(0, n)).prefix { $0 >= 0x30 && $0 <= 0x39 }, as: UTF8.self)
            if let last = UInt64(text), last <= 255 { next = (last + 1) & 0xFF }
        } else if errno != ENOENT {
            throw UplinkError("Sparkplug bdSeq file \(path): \(String(cString: strerror(errno)))")
        }
        let temporary = path + ".tmp"
        let out = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o640)
        guard out >= 0 else { throw UplinkError("Sparkplug bdSeq file \(temporary): \(String(cString: strerror(errno)))") }
        let text = Array("\(next)\n".utf8)
        let written = write(out, text, text.count)
        let synced = fsync(out)
        close(out)
        guard written == text.count, synced == 0, rename(temporary, path) == 0 else {
            let e = errno
            unlink(temporary)
            throw UplinkError("Sparkplug bdSeq file \(path): \(String(cString: strerror(e))); not connecting with a bdSeq a restart could repeat")
        }
        let directory = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        let dfd = open(directory.isEmpty ? "/" : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 { _ = fsync(dfd); close(dfd) }
        return next
    }
}
