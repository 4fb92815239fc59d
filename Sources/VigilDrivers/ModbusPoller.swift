import VigilBase
import VigilHAL

/// The one owner of a Modbus port: polls each device at its own interval, one request at a time,
/// and backs off exponentially from a device that stops answering so that one dead slave cannot
/// starve the others on the same line.
public final class ModbusPoller<Client: ModbusClient> {
    public let client: Client
    public private(set) var devices: [ModbusDevice]
    private var intervals: [Int64]
    private var nextDue: [MonotonicInstant]
    private var failures: [Int]
    /// Longest back-off after repeated failures.
    public let maximumBackoffNanoseconds: Int64
    /// Requests that failed, per device, since start.
    public private(set) var errorCounts: [Int]
    /// Successful polls, per device.
    public private(set) var pollCounts: [Int]

    public init(client: Client, maximumBackoffNanoseconds: Int64 = 30_000_000_000) {
        self.client = client
        self.maximumBackoffNanoseconds = maximumBackoffNanoseconds
        devices = []
        intervals = []
        nextDue = []
        failures = []
        errorCounts = []
        pollCounts = []
    }

    /// Adds a device polled every `intervalNanoseconds`; returns its index.
    @discardableResult
    public func add(_ device: ModbusDevice, intervalNanoseconds: Int64) -> Int {
        devices.append(device)
        intervals.append(intervalNanoseconds)
        nextDue.append(.zero)
        failures.append(0)
        errorCounts.append(0)
        pollCounts.append(0)
        return devices.count - 1
    }

    /// Consecutive failed polls of a device (0 while it answers).
    public func consecutiveFailures(of index: Int) -> Int { failures[index] }

    /// Polls every device that is due at `now()`; returns how many were polled.
    @discardableResult
    public func pollDue(now: () -> Timestamp) -> Int {
        var polled = 0
        for i in devices.indices where now().monotonic >= nextDue[i] {
            let start = now().monotonic
            let error = devices[i].poll(client, now: now)
            polled += 1
            if error == nil {
                failures[i] = 0
                pollCounts[i] += 1
                nextDue[i] = start.advanced(byNanoseconds: intervals[i])
            } else {
                failures[i] += 1
                errorCounts[i] += 1
                // Interval × 2^(failures − 1), capped: 1×, 2×, 4×, … up to the maximum.
                let shift = min(failures[i] - 1, 20)
                let backoff = min(intervals[i] << shift, maximumBackoffNanoseconds)
                nextDue[i] = start.advanced(byNanoseconds: max(intervals[i], backoff))
            }
        }
        return polled
    }

    /// When the next device falls due.
    public var nextDueTime: MonotonicInstant { nextDue.min() ?? .zero }
}
