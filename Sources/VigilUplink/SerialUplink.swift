import VigilFrames
import VigilHAL

/// Frames on a serial line to a gateway on a second UART, COBS- or SLIP-framed. The line has no
/// acknowledgement: a frame the UART accepted counts as sent (MQTT is the uplink that confirms).
/// The port comes from the board (`NodeBoard.serialPort`), so this module knows no backend.
public final class SerialUplink<Port: SerialPort>: Uplink {
    public let device: String
    public let baud: Int
    public let framing: LineFraming
    private let open: () throws(HALError) -> Port
    private var port: Port?

    public init(device: String, baud: Int, framing: LineFraming, open: @escaping () throws(HALError) -> Port) {
        self.device = device
        self.baud = baud
        self.framing = framing
        self.open = open
    }

    public var description: String { "serial \(device) \(baud) \(framing.rawValue)" }
    public var isConnected: Bool { port != nil }

    public func connect(birth: Frame, death: Frame) throws(UplinkError) {
        do { port = try open() } catch {
            throw UplinkError("serial uplink \(device): \(error)\(error.kind == .permission ? " (join group vigil from udev/60-vigil.rules)" : "")")
        }
        _ = try send([birth])
    }

    public func send(_ frames: [Frame]) throws(UplinkError) -> Int {
        guard let port else { throw UplinkError("serial uplink \(device): not open") }
        var sent = 0
        for f in frames {
            let bytes = framing.encode(try f.wireBytes())
            // 10 bits per byte on the wire, plus a second of slack.
            let timeout = Int64(bytes.count) * 10 * 1_000_000_000 / Int64(max(baud, 1)) + 1_000_000_000
            var failure: HALError?
            bytes.withUnsafeBytes { b in
                do throws(HALError) { try port.write(b, timeoutNanoseconds: timeout) } catch { failure = error }
            }
            if let failure {
                if sent == 0 { self.port = nil; throw UplinkError("serial uplink \(device): \(failure)") }
                break
            }
            sent += 1
        }
        return sent
    }

    public func disconnect(death: Frame?) {
        if let death, port != nil { _ = try? send([death]) }
        port = nil
    }

    public func takeRebirthRequest() -> Bool { false }
}
