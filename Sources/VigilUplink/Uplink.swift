import VigilFrames

/// Why an uplink could not connect or send. The message is for a technician: what and where.
public struct UplinkError: Error, Sendable, CustomStringConvertible {
    public var message: String
    /// A failed `connect` that got as far as publishing the birth: it may have reached the
    /// gateway, so its sequence number is used up (a data frame must never carry it too).
    public var birthMayHaveBeenSent = false
    /// Try again after this long rather than after the back-off: the transport is up and waits
    /// for something else (a Sparkplug primary host to come online).
    public var retryAfterNanoseconds: Int64?
    public init(_ message: String, birthMayHaveBeenSent: Bool = false, retryAfterNanoseconds: Int64? = nil) {
        self.message = message
        self.birthMayHaveBeenSent = birthMayHaveBeenSent
        self.retryAfterNanoseconds = retryAfterNanoseconds
    }
    public var description: String { message }
}

/// A transport that carries frames to a gateway, in its own encoding: it is given decoded frames
/// (as the spool holds them, already checked) and renders them as its wire needs (vigil's compact
/// frames, another standard's messages). Adding one is one type conforming to this and one line
/// in the agent's `UplinkFactory` (docs/adding-an-uplink.md).
///
/// Calls come from the uplink thread only. `send` returns how many frames from the start of the
/// batch were delivered as far as the transport can tell (PUBACK for MQTT QoS 1, written for the
/// others); the spool keeps the rest and the batch is retried after a reconnect.
public protocol Uplink: AnyObject {
    /// `mqtt tcp://127.0.0.1:1883`, `udp 10.0.0.5:7000`, …
    var description: String { get }
    var isConnected: Bool { get }
    /// Connects. `birth` is sent first on the new connection; `death` is left as the will where
    /// the transport has one.
    func connect(birth: Frame, death: Frame) throws(UplinkError)
    func send(_ frames: [Frame]) throws(UplinkError) -> Int
    /// Sends `death` where the transport can (a clean stop), then closes.
    func disconnect(death: Frame?)
    /// True once after the gateway asked for a new birth (MQTT `…/cmd/rebirth`).
    func takeRebirthRequest() -> Bool
    /// Frames confirmed without an acknowledgement from the far end (MQTT QoS 0: written to the
    /// socket) shortly before a connection was lost, so possibly lost with it; summed over the run.
    var possiblyLostAtDisconnect: Int { get }
}

extension Uplink {
    public var possiblyLostAtDisconnect: Int { 0 }
}

extension Frame {
    /// The frame in vigil's own wire format, for the uplinks that carry it as it is.
    func wireBytes() throws(UplinkError) -> [UInt8] {
        do { return try encoded() } catch { throw UplinkError("\(header.type.name) frame \(header.sequence) cannot be encoded: \(error)") }
    }
}
