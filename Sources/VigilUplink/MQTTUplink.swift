#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import VigilFrames

/// MQTT settings of the frame uplink, resolved from the profile (secrets already read from their files).
public struct MQTTSettings: Sendable {
    public var connection: MQTTConnection
    /// `PREFIX/SITE/NODE`: frames go to `…/birth`, `…/data`, `…/spectrum`, `…/event`, `…/death`.
    public var topicBase: String
    public var dataQoS: Int
    public var deliveryTimeoutMilliseconds = 5_000

    public init(connection: MQTTConnection, topicBase: String, dataQoS: Int) {
        self.connection = connection
        self.topicBase = topicBase
        self.dataQoS = dataQoS
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

/// vigil's frames over MQTT 3.1.1 or 5 (one ``MQTTSession`` per connection), with the death
/// frame as the will and a rebirth subscription.
public final class MQTTUplink: Uplink {
    public let settings: MQTTSettings
    private var session: MQTTSession?
    private var ledger: QoS0Ledger
    public var possiblyLostAtDisconnect: Int { ledger.possiblyLost }

    public init(_ settings: MQTTSettings) {
        self.settings = settings
        ledger = QoS0Ledger(keepAliveSeconds: settings.connection.keepAliveSeconds)
    }

    public var description: String { "mqtt \(settings.connection.broker)" }
    public var isConnected: Bool { session?.isConnected ?? false }

    /// Connected means: CONNACK, the rebirth subscription granted, and the birth's PUBACK. If any
    /// of these fails the connection is closed (no frame ever flows on a connection whose birth
    /// was not delivered) and the error says whether the birth may have reached the broker.
    public func connect(birth: Frame, death: Frame) throws(UplinkError) {
        if session != nil { ledger.connectionEnded(lost: !(session?.isConnected ?? false)) }
        session = nil
        let will = MQTTConnection.Will(topic: settings.topic(.death), payload: try death.wireBytes(), qos: 1)
        let candidate = try MQTTSession(settings.connection, will: will, subscriptions: [(settings.rebirthTopic, 1)])
        let message = MQTTSession.Message(topic: settings.topic(.birth), payload: try birth.wireBytes(), qos: 1)
        do {
            _ = try candidate.publish([message], deliveryTimeoutMilliseconds: settings.deliveryTimeoutMilliseconds)
        } catch {
            // `candidate` goes out of scope here and its deinit closes the connection.
            throw UplinkError("\(error.message); the birth was not confirmed, so the connection is closed", birthMayHaveBeenSent: true)
        }
        session = candidate
    }

    public func send(_ frames: [Frame]) throws(UplinkError) -> Int {
        guard let session else { throw UplinkError("MQTT broker \(settings.connection.broker): not connected") }
        var messages: [MQTTSession.Message] = []
        messages.reserveCapacity(frames.count)
        for f in frames { messages.append(MQTTSession.Message(topic: settings.topic(f.header.type), payload: try f.wireBytes(), qos: settings.qos(f.header.type))) }
        let delivered = try session.publish(messages, deliveryTimeoutMilliseconds: settings.deliveryTimeoutMilliseconds)
        ledger.delivered(messages.prefix(delivered).map(\.qos))
        return delivered
    }

    public func disconnect(death: Frame?) {
        guard let session else { return }
        let alive = session.isConnected
        if let death, alive { _ = try? send([death]) }
        // Called without a death after a failed send: the connection is taken as lost.
        ledger.connectionEnded(lost: !alive || death == nil)
        session.disconnect()
        self.session = nil
    }

    public func takeRebirthRequest() -> Bool {
        guard let session else { return false }
        var requested = false
        while let m = session.nextMessage(timeoutMilliseconds: 0, maximumPayload: 256) {
            if m.topic == settings.rebirthTopic { requested = true }
        }
        return requested
    }
}

/// Receives frames from a broker (for `vigil frame decode --mqtt` and tests).
public final class MQTTSubscriber {
    private let session: MQTTSession
    public var broker: String { session.connection.broker }

    public init(connection: MQTTConnection, topic: String) throws(UplinkError) {
        session = try MQTTSession(connection, subscriptions: [(topic, 1)])
    }

    /// The next message, or nil after `timeoutMilliseconds` without one.
    public func next(timeoutMilliseconds: Int) -> (topic: String, payload: [UInt8])? {
        session.nextMessage(timeoutMilliseconds: timeoutMilliseconds)
    }

    public var isConnected: Bool { session.isConnected }
}
