#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CVigilMQTT
import VigilFrames

/// MQTT settings, resolved from the profile (secrets already read from their files).
public struct MQTTSettings: Sendable {
    public var broker: String
    public var clientID: String
    /// `PREFIX/SITE/NODE`: frames go to `…/birth`, `…/data`, `…/spectrum`, `…/event`, `…/death`.
    public var topicBase: String
    /// 4 (3.1.1) or 5.
    public var version: Int32
    public var keepAliveSeconds: Int
    public var dataQoS: Int
    public var caFile: String?
    public var certificateFile: String?
    public var keyFile: String?
    public var username: String?
    public var password: String?
    public var connectTimeoutMilliseconds = 5_000
    public var deliveryTimeoutMilliseconds = 5_000

    public init(broker: String, clientID: String, topicBase: String, version: Int32, keepAliveSeconds: Int, dataQoS: Int,
                caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil, username: String? = nil, password: String? = nil) {
        self.broker = broker
        self.clientID = clientID
        self.topicBase = topicBase
        self.version = version
        self.keepAliveSeconds = keepAliveSeconds
        self.dataQoS = dataQoS
        self.caFile = caFile
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.username = username
        self.password = password
    }

    /// The topic of a frame type.
    public func topic(_ type: FrameType) -> String { "\(topicBase)/\(type.name)" }
    /// Where a gateway asks for a new birth (any payload).
    public var rebirthTopic: String { "\(topicBase)/cmd/rebirth" }
    /// Birth, events and death go at QoS 1; data and spectrum at `dataQoS`.
    public func qos(_ type: FrameType) -> Int32 {
        switch type {
        case .birth, .event, .death: return 1
        case .data, .spectrum: return Int32(dataQoS)
        }
    }
}

/// MQTT 3.1.1 or 5 through Eclipse Paho C (asynchronous client, TLS-capable), with the death
/// frame as the will and a rebirth subscription.
public final class MQTTUplink: Uplink {
    public let settings: MQTTSettings
    private var client: OpaquePointer?
    private var rebirthRequested = false

    public init(_ settings: MQTTSettings) {
        self.settings = settings
    }

    deinit {
        if let client {
            _ = vigil_mqtt_disconnect(client, 200)
            vigil_mqtt_destroy(client)
        }
    }

    public var description: String { "mqtt \(settings.broker)" }

    public var isConnected: Bool {
        guard let client else { return false }
        return vigil_mqtt_is_connected(client) != 0
    }

    public func connect(birth: OutgoingFrame, death: OutgoingFrame) throws(UplinkError) {
        if let old = client {
            vigil_mqtt_destroy(old)
            client = nil
        }
        var err = [CChar](repeating: 0, count: 512)
        guard let c = vigil_mqtt_create(settings.broker, settings.clientID, settings.version, &err, err.count) else {
            throw UplinkError(cText(err))
        }
        client = c
        let willTopic = settings.topic(.death)
        let rc: Int32 = death.bytes.withUnsafeBytes { will in
            withOptionalCString(settings.username) { user in
                withOptionalCString(settings.password) { pass in
                    withOptionalCString(settings.caFile) { ca in
                        withOptionalCString(settings.certificateFile) { cert in
                            withOptionalCString(settings.keyFile) { key in
                                willTopic.withCString { topic in
                                    var o = vigil_mqtt_options()
                                    o.mqtt_version = settings.version
                                    o.keepalive_s = Int32(settings.keepAliveSeconds)
                                    o.connect_timeout_ms = Int32(settings.connectTimeoutMilliseconds)
                                    o.username = user
                                    o.password = pass
                                    o.ca_file = ca
                                    o.cert_file = cert
                                    o.key_file = key
                                    o.verify_hostname = 1
                                    o.will_topic = topic
                                    o.will_payload = will.baseAddress
                                    o.will_length = Int32(will.count)
                                    o.will_qos = 1
                                    o.will_retained = 0
                                    return vigil_mqtt_connect(c, &o, &err, err.count)
                                }
                            }
                        }
                    }
                }
            }
        }
        if rc != 0 {
            throw UplinkError("MQTT broker \(settings.broker): \(cText(err))")
        }
        if vigil_mqtt_subscribe(c, settings.rebirthTopic, 1, 2000, &err, err.count) != 0 {
            throw UplinkError("MQTT broker \(settings.broker): \(cText(err))")
        }
        _ = try send([birth])
    }

    /// Frames in flight at once. Brokers announce a receive maximum (mosquitto: 20) and Paho
    /// 1.3's asynchronous client, once at that quota, only sends the next message on its 1 s
    /// housekeeping tick; staying under it keeps confirmations flowing within milliseconds.
    static let window = 16

    public func send(_ frames: [OutgoingFrame]) throws(UplinkError) -> Int {
        guard let c = client else { throw UplinkError("MQTT broker \(settings.broker): not connected") }
        var delivered = 0
        var start = 0
        while start < frames.count {
            let end = min(frames.count, start + Self.window)
            var tokens: [Int32] = []
            tokens.reserveCapacity(end - start)
            for f in frames[start..<end] {
                var token: Int32 = 0
                let rc = f.bytes.withUnsafeBytes { vigil_mqtt_publish(c, settings.topic(f.type), $0.baseAddress, Int32($0.count), settings.qos(f.type), 0, &token) }
                if rc != 0 {
                    if delivered == 0 && tokens.isEmpty {
                        throw UplinkError("MQTT publish to \(settings.broker): \(String(cString: vigil_mqtt_strerror(rc)))")
                    }
                    break
                }
                tokens.append(token)
            }
            // Pipelined: the window is published, then confirmations are collected in order.
            var confirmed = 0
            for t in tokens {
                if vigil_mqtt_wait(c, t, Int(settings.deliveryTimeoutMilliseconds)) != 0 { break }
                confirmed += 1
            }
            delivered += confirmed
            if confirmed < end - start { break }
            start = end
        }
        if delivered == 0 && !frames.isEmpty {
            var err = [CChar](repeating: 0, count: 256)
            vigil_mqtt_last_error(c, &err, err.count)
            let cause = cText(err)
            throw UplinkError("MQTT broker \(settings.broker): no delivery confirmation\(cause.isEmpty ? "" : " (\(cause))")")
        }
        return delivered
    }

    public func disconnect(death: OutgoingFrame?) {
        guard let c = client else { return }
        if let death, isConnected { _ = try? send([death]) }
        _ = vigil_mqtt_disconnect(c, 1000)
        vigil_mqtt_destroy(c)
        client = nil
    }

    public func takeRebirthRequest() -> Bool {
        guard let c = client else { return false }
        var topic = [CChar](repeating: 0, count: 256)
        var payload = [UInt8](repeating: 0, count: 256)
        while vigil_mqtt_next_message(c, &topic, topic.count, &payload, payload.count, 0) != 0 {
            if cText(topic) == settings.rebirthTopic { rebirthRequested = true }
        }
        defer { rebirthRequested = false }
        return rebirthRequested
    }
}

/// Receives frames from a broker (for `vigil frame decode --mqtt` and tests).
public final class MQTTSubscriber {
    private let client: OpaquePointer
    public let broker: String

    public init(broker: String, topic: String, clientID: String, version: Int32 = 4, caFile: String? = nil,
                certificateFile: String? = nil, keyFile: String? = nil) throws(UplinkError) {
        self.broker = broker
        var err = [CChar](repeating: 0, count: 512)
        guard let c = vigil_mqtt_create(broker, clientID, version, &err, err.count) else { throw UplinkError(cText(err)) }
        client = c
        let rc: Int32 = withOptionalCString(caFile) { ca in
            withOptionalCString(certificateFile) { cert in
                withOptionalCString(keyFile) { key in
                    var o = vigil_mqtt_options()
                    o.mqtt_version = version
                    o.keepalive_s = 30
                    o.connect_timeout_ms = 5000
                    o.ca_file = ca
                    o.cert_file = cert
                    o.key_file = key
                    o.verify_hostname = 1
                    return vigil_mqtt_connect(c, &o, &err, err.count)
                }
            }
        }
        if rc != 0 { throw UplinkError("MQTT broker \(broker): \(cText(err))") }
        if vigil_mqtt_subscribe(c, topic, 1, 5000, &err, err.count) != 0 { throw UplinkError("MQTT broker \(broker): \(cText(err))") }
    }

    deinit {
        _ = vigil_mqtt_disconnect(client, 200)
        vigil_mqtt_destroy(client)
    }

    /// The next message, or nil after `timeoutMilliseconds` without one.
    public func next(timeoutMilliseconds: Int) -> (topic: String, payload: [UInt8])? {
        var topic = [CChar](repeating: 0, count: 256)
        var payload = [UInt8](repeating: 0, count: 16_448)
        let n = vigil_mqtt_next_message(client, &topic, topic.count, &payload, payload.count, timeoutMilliseconds)
        guard n > 0 else { return nil }
        return (cText(topic), Array(payload[0..<Int(n)]))
    }

    public var isConnected: Bool { vigil_mqtt_is_connected(client) != 0 }
}

func withOptionalCString<R>(_ s: String?, _ body: (UnsafePointer<CChar>?) -> R) -> R {
    guard let s else { return body(nil) }
    return s.withCString { body($0) }
}

/// The text of a NUL-terminated C buffer.
func cText(_ buffer: [CChar]) -> String {
    let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    return String(decoding: bytes, as: UTF8.self)
}
