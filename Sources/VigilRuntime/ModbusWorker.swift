import CVigilSys
import Glibc
import Synchronization
import VigilBase
import VigilDrivers
import VigilHAL
import VigilInterlock
import VigilLoop

/// The one owner of a Modbus port, on its own thread: polls the port's devices at their
/// intervals (with back-off from dead slaves) and publishes each point's reading to the loop's
/// mailboxes. Modbus round trips take milliseconds to seconds; here they cannot delay the
/// interlock decision.
public final class ModbusWorker<Client: ModbusClient>: @unchecked Sendable {
    /// One device on the port and where its points' readings go.
    public struct Device {
        public var device: ModbusDevice
        public var intervalNanoseconds: Int64
        /// One per point, in `device.points` order.
        public var mailboxes: [Mailbox<ChannelSample>]
        public init(device: ModbusDevice, intervalNanoseconds: Int64, mailboxes: [Mailbox<ChannelSample>]) {
            self.device = device
            self.intervalNanoseconds = intervalNanoseconds
            self.mailboxes = mailboxes
        }
    }

    public let poller: ModbusPoller<Client>
    /// Per device: the mailbox of each point.
    private let targets: [[Mailbox<ChannelSample>]]
    private let thread = PollingThread()
    private let now: () -> Timestamp

    public init(client: Client, devices: [Device], now: @escaping () -> Timestamp) {
        poller = ModbusPoller(client: client)
        for d in devices { poller.add(d.device, intervalNanoseconds: d.intervalNanoseconds) }
        targets = devices.map(\.mailboxes)
        self.now = now
    }

    deinit { stop() }

    /// Polls whatever is due once and publishes (tests drive the worker with this).
    public func pollOnce() {
        poller.pollDue(now: now)
        for (d, mailboxes) in targets.enumerated() {
            let readings = poller.devices[d].readings
            for (i, mailbox) in mailboxes.enumerated() {
                let r = readings[i]
                mailbox.publish(ChannelSample(value: r.value, quality: r.quality, time: r.time.monotonic))
            }
        }
    }

    public func start() {
        thread.start { [self] in
            pollOnce()
            return poller.nextDueTime.nanoseconds
        }
    }

    public func stop() { thread.stop() }
}
