import CVigilSys
import Glibc
import Synchronization
import VigilBase
import VigilHAL
import VigilLoop
import VigilInterlock

/// Reads the node's kernel-driven (hwmon) sensors on a thread of its own and hands each value to
/// the loop through a mailbox. A hwmon read runs the kernel driver's bus transfer (and some
/// drivers sleep for a conversion), so it must not run in the 1 kHz cycle. A device that goes
/// away (unbound, removed) faults its channel and is looked for again at every poll.
public final class HwmonWorker: @unchecked Sendable {
    final class Source {
        let open: () throws(HALError) -> any HwmonInput
        let scale: Double
        let intervalNanoseconds: Int64
        let mailbox: Mailbox<ChannelSample>
        var input: (any HwmonInput)?
        var due: Int64 = 0
        var lastError: HALError?
        init(open: @escaping () throws(HALError) -> any HwmonInput, scale: Double, intervalNanoseconds: Int64, mailbox: Mailbox<ChannelSample>) {
            self.open = open
            self.scale = scale
            self.intervalNanoseconds = intervalNanoseconds
            self.mailbox = mailbox
        }
    }

    private var sources: [Source] = []
    private let now: () -> Timestamp
    private let thread = PollingThread()

    public init(now: @escaping () -> Timestamp) { self.now = now }

    deinit { stop() }

    func add(open: @escaping () throws(HALError) -> any HwmonInput, scale: Double, intervalNanoseconds: Int64, mailbox: Mailbox<ChannelSample>) {
        sources.append(Source(open: open, scale: scale, intervalNanoseconds: intervalNanoseconds, mailbox: mailbox))
    }

    public var isEmpty: Bool { sources.isEmpty }

    /// Reads whatever is due once and publishes (tests drive the worker with this).
    public func pollOnce() {
        for s in sources {
            let t = now()
            guard t.monotonic.nanoseconds >= s.due else { continue }
            s.due = t.monotonic.nanoseconds + s.intervalNanoseconds
            do {
                if s.input == nil { s.input = try s.open() }
                let raw = try s.input!.read()
                s.lastError = nil
                s.mailbox.publish(ChannelSample(value: Double(raw) * s.scale, quality: t.clockSync == .synchronized ? [] : .clockUnsynced, time: t.monotonic))
            } catch {
                // Gone or unreadable: a fault now, and the attribute is found again next time.
                s.input = nil
                s.lastError = error
                s.mailbox.publish(ChannelSample(value: .nan, quality: .commFault, time: t.monotonic))
            }
        }
    }

    public func start() {
        guard !sources.isEmpty else { return }
        thread.start { [self] in
            pollOnce()
            return sources.map(\.due).min() ?? 0
        }
    }

    public func stop() { thread.stop() }
}
