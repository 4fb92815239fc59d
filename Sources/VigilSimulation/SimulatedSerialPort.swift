import VigilHAL

/// A serial line with nothing on the other end but the test that reads it: what is written is
/// kept (up to a limit), and bytes a test queues are what reads return.
public final class SimulatedSerialPort: SerialPort {
    public let name: String
    /// Bytes written so far (the oldest are dropped past `capacity`).
    public private(set) var written: [UInt8] = []
    private var incoming: [UInt8] = []
    public let capacity: Int

    public init(name: String, capacity: Int = 1 << 20) {
        self.name = name
        self.capacity = capacity
    }

    /// Bytes the next reads return.
    public func queueIncoming(_ bytes: [UInt8]) { incoming += bytes }

    public func write(_ bytes: UnsafeRawBufferPointer, timeoutNanoseconds: Int64) throws(HALError) {
        written += bytes
        if written.count > capacity { written.removeFirst(written.count - capacity) }
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer, timeoutNanoseconds: Int64) throws(HALError) -> Int {
        let n = min(buffer.count, incoming.count)
        for i in 0..<n { buffer[i] = incoming[i] }
        incoming.removeFirst(n)
        return n
    }
}
