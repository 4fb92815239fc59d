import Synchronization

/// A single-writer, many-reader slot for a small value (a sequence lock): the writer never waits,
/// readers retry while a write is in progress. The real-time loop publishes its statistics and
/// latest snapshot here; status readers take consistent copies without ever blocking it.
public final class Mailbox<Value: BitwiseCopyable>: @unchecked Sendable {
    private let sequence = Atomic<Int>(0)
    private let slot: UnsafeMutablePointer<Value>

    public init(_ initial: Value) {
        slot = .allocate(capacity: 1)
        slot.initialize(to: initial)
    }

    deinit { slot.deallocate() }

    /// Writer side (one thread only).
    public func publish(_ value: Value) {
        let s = sequence.load(ordering: .relaxed)
        sequence.store(s + 1, ordering: .relaxed)
        atomicMemoryFence(ordering: .releasing)
        slot.pointee = value
        sequence.store(s + 2, ordering: .releasing)
    }

    /// Reader side: a value that was published whole.
    public func read() -> Value {
        while true {
            let before = sequence.load(ordering: .acquiring)
            if before & 1 != 0 { continue }
            let value = slot.pointee
            atomicMemoryFence(ordering: .acquiring)
            if sequence.load(ordering: .relaxed) == before { return value }
        }
    }

    /// How many times a value was published.
    public var publications: Int { sequence.load(ordering: .acquiring) / 2 }
}
