#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CVigilMQTT

/// How to reach an MQTT broker: the connection, its TLS and credentials, and the will. Every MQTT
/// client of vigil (the frame uplink, `vigil frame decode --mqtt`, a further encoding's uplink)
/// connects with one of these.
public struct MQTTConnection: Sendable {
    public var broker: String
    public var clientID: String
    /// 4 (3.1.1) or 5.
    public var version: Int32
    public var keepAliveSeconds: Int
    public var connectTimeoutMilliseconds: Int
    public var caFile: String?
    public var certificateFile: String?
    public var keyFile: String?
    public var username: String?
    public var password: String?
    /// An `ssl://` or `mqtts://` broker: TLS with the server's certificate verified (against
    /// `caFile`, or the system's trust store without one) and its name checked.
    public var usesTLS: Bool { broker.hasPrefix("ssl://") || broker.hasPrefix("mqtts://") }

    /// A message the broker publishes for the client when it goes without saying goodbye.
    public struct Will: Sendable {
        public var topic: String
        public var payload: [UInt8]
        public var qos: Int32
        public var retained: Bool
        public init(topic: String, payload: [UInt8], qos: Int32, retained: Bool = false) {
            self.topic = topic
            self.payload = payload
            self.qos = qos
            self.retained = retained
        }
    }

    public init(broker: String, clientID: String, version: Int32 = 5, keepAliveSeconds: Int = 30, connectTimeoutMilliseconds: Int = 5_000,
                caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil, username: String? = nil, password: String? = nil) {
        self.broker = broker
        self.clientID = clientID
        self.version = version
        self.keepAliveSeconds = keepAliveSeconds
        self.connectTimeoutMilliseconds = connectTimeoutMilliseconds
        self.caFile = caFile
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.username = username
        self.password = password
    }
}

/// One connected MQTT session through Eclipse Paho C's asynchronous client (TLS-capable), behind
/// the blocking facade in CVigilMQTT: connect with a will and subscriptions, publish with
/// delivery confirmations, take incoming messages. Owns its Paho client; reconnecting is making
/// a new session (the uplink worker decides when).
public final class MQTTSession {
    public let connection: MQTTConnection
    private let client: OpaquePointer

    /// Connects and subscribes to `subscriptions` (topic filter, QoS); throws with the broker's
    /// or the library's reason.
    public init(_ connection: MQTTConnection, will: MQTTConnection.Will? = nil, subscriptions: [(topic: String, qos: Int32)] = []) throws(UplinkError) {
        self.connection = connection
        var err = [CChar](repeating: 0, count: 512)
        guard let c = vigil_mqtt_create(connection.broker, connection.clientID, connection.version, &err, err.count) else {
            throw UplinkError(cText(err))
        }
        client = c
        // The options' strings as C strings that live until the connect returns (one owned copy
        // each: nested withCString closures for six optional strings cost ~40 kB of code).
        let strings = [connection.username, connection.password, connection.caFile, connection.certificateFile, connection.keyFile, will?.topic]
            .map { $0.flatMap { strdup($0) } }
        defer { for s in strings { free(s) } }
        let rc: Int32 = (will?.payload ?? []).withUnsafeBytes { willPayload in
            var o = vigil_mqtt_options()
            o.mqtt_version = connection.version
            o.keepalive_s = Int32(connection.keepAliveSeconds)
            o.connect_timeout_ms = Int32(connection.connectTimeoutMilliseconds)
            o.username = UnsafePointer(strings[0])
            o.password = UnsafePointer(strings[1])
            o.tls = connection.usesTLS ? 1 : 0
            o.ca_file = UnsafePointer(strings[2])
            o.cert_file = UnsafePointer(strings[3])
            o.key_file = UnsafePointer(strings[4])
            o.verify_hostname = 1
            o.will_topic = UnsafePointer(strings[5])
            o.will_payload = willPayload.baseAddress
            o.will_length = Int32(willPayload.count)
            o.will_qos = will?.qos ?? 0
            o.will_retained = will?.retained == true ? 1 : 0
            return vigil_mqtt_connect(c, &o, &err, err.count)
        }
        // From here on `deinit` disconnects and destroys the client, also when this throws (the
        // object is whole), so the failure paths must not.
        if rc != 0 { throw UplinkError("MQTT broker \(connection.broker): \(cText(err))") }
        for s in subscriptions where vigil_mqtt_subscribe(c, s.topic, s.qos, 2000, &err, err.count) != 0 {
            throw UplinkError("MQTT broker \(connection.broker): \(cText(err))")
        }
    }

    deinit {
        _ = vigil_mqtt_disconnect(client, 200)
        vigil_mqtt_destroy(client)
    }

    public var isConnected: Bool { vigil_mqtt_is_connected(client) != 0 }

    /// Messages in flight at once. Brokers announce a receive maximum (mosquitto: 20) and Paho
    /// 1.3's asynchronous client, once at that quota, only sends the next message on its 1 s
    /// housekeeping tick; staying under it keeps confirmations flowing within milliseconds.
    public static let window = 16

    /// One message to publish.
    public struct Message {
        public var topic: String
        public var payload: [UInt8]
        public var qos: Int32
        public init(topic: String, payload: [UInt8], qos: Int32) {
            self.topic = topic
            self.payload = payload
            self.qos = qos
        }
    }

    /// Publishes `messages` in order, pipelined in windows, and returns how many from the start
    /// were confirmed (PUBACK for QoS 1) within `deliveryTimeoutMilliseconds` each. Throws when
    /// not even the first was.
    public func publish(_ messages: [Message], deliveryTimeoutMilliseconds: Int) throws(UplinkError) -> Int {
        var delivered = 0
        var start = 0
        while start < messages.count {
            let end = min(messages.count, start + Self.window)
            var tokens: [Int32] = []
            tokens.reserveCapacity(end - start)
            for m in messages[start..<end] {
                var token: Int32 = 0
                let rc = m.payload.withUnsafeBytes { vigil_mqtt_publish(client, m.topic, $0.baseAddress, Int32($0.count), m.qos, 0, &token) }
                if rc != 0 {
                    if delivered == 0 && tokens.isEmpty {
                        throw UplinkError("MQTT publish to \(connection.broker): \(String(cString: vigil_mqtt_strerror(rc)))")
                    }
                    break
                }
                tokens.append(token)
            }
            // Pipelined: the window is published, then confirmations are collected in order.
            var confirmed = 0
            for t in tokens {
                if vigil_mqtt_wait(client, t, deliveryTimeoutMilliseconds) != 0 { break }
                confirmed += 1
            }
            delivered += confirmed
            if confirmed < end - start { break }
            start = end
        }
        if delivered == 0 && !messages.isEmpty {
            var err = [CChar](repeating: 0, count: 256)
            vigil_mqtt_last_error(client, &err, err.count)
            let cause = cText(err)
            throw UplinkError("MQTT broker \(connection.broker): no delivery confirmation\(cause.isEmpty ? "" : " (\(cause))")")
        }
        return delivered
    }

    /// The next incoming message, or nil after `timeoutMilliseconds` (0: only one already waiting).
    public func nextMessage(timeoutMilliseconds: Int, maximumPayload: Int = 16_448) -> (topic: String, payload: [UInt8])? {
        var topic = [CChar](repeating: 0, count: 256)
        var payload = [UInt8](repeating: 0, count: maximumPayload)
        let n = vigil_mqtt_next_message(client, &topic, topic.count, &payload, payload.count, timeoutMilliseconds)
        guard n > 0 else { return nil }
        return (cText(topic), Array(payload[0..<Int(n)]))
    }

    /// A clean disconnect (the broker does not publish the will).
    public func disconnect(timeoutMilliseconds: Int = 1000) {
        _ = vigil_mqtt_disconnect(client, Int32(timeoutMilliseconds))
    }
}

/// The text of a NUL-terminated C buffer.
func cText(_ buffer: [CChar]) -> String {
    let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    return String(decoding: bytes, as: UTF8.self)
}
