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

    /// Reader side with a bound: a value that was published whole, or nil when the writer was
    /// mid-publication in each of `attempts` tries. The real-time loop reads the Modbus threads'
    /// mailboxes this way: a writer pre-empted mid-publish on a single core would otherwise keep
    /// the loop spinning until it is scheduled again.
    public func read(attempts: Int) -> Value? {
        for _ in 0..<max(1, attempts) {
            let before = sequence.load(ordering: .acquiring)
            if before & 1 != 0 { continue }
            let value = slot.pointee
            atomicMemoryFence(ordering: .acquiring)
            if sequence.load(ordering: .relaxed) == before { return value }
        }
        return nil
    }

    /// Test hook: leaves the mailbox as a writer pre-empted between the two halves of a publish
    /// would (`true`), or completes that publication (`false`).
    public func holdPublication(_ held: Bool) {
        let s = sequence.load(ordering: .relaxed)
        if held && s & 1 == 0 { sequence.store(s + 1, ordering: .releasing) }
        if !held && s & 1 != 0 { sequence.store(s + 1, ordering: .releasing) }
    }

    /// How many times a value was published.
    public var publications: Int { sequence.load(ordering: .acquiring) / 2 }
}

/// A single-writer, many-reader table of small values under one sequence lock: the writer
/// publishes every entry at once (one counter, one copy, no per-entry object); a reader takes an
/// entry as it was published whole and never blocks the writer. The loop publishes each channel's
/// newest sample and each rule's state through these, once a cycle.
public final class MailboxTable<Value: BitwiseCopyable>: @unchecked Sendable {
    private let sequence = Atomic<Int>(0)
    private let slots: UnsafeMutablePointer<Value>
    /// Number of entries.
    public let count: Int

    public init(count: Int, initial: Value) {
        self.count = count
        slots = .allocate(capacity: max(count, 1))
        slots.initialize(repeating: initial, count: max(count, 1))
    }

    deinit { slots.deallocate() }

    /// Writer side (one thread only): entry i becomes `value(i)` for every i, as one publication.
    /// Real-time safe: no allocation, no lock, no wait.
    public func publish(_ value: (Int) -> Value) {
        let s = sequence.load(ordering: .relaxed)
        sequence.store(s + 1, ordering: .relaxed)
        atomicMemoryFence(ordering: .releasing)
        for i in 0..<count { slots[i] = value(i) }
        sequence.store(s + 2, ordering: .releasing)
    }

    /// Writer side: every entry from `values`, which holds `count` values (extra ones are ignored,
    /// missing ones keep their last value).
    public func publish(_ values: UnsafeBufferPointer<Value>) {
        guard let base = values.baseAddress else { return }
        let s = sequence.load(ordering: .relaxed)
        sequence.store(s + 1, ordering: .relaxed)
        atomicMemoryFence(ordering: .releasing)
        slots.update(from: base, count: min(count, values.count))
        sequence.store(s + 2, ordering: .releasing)
    }

    /// Reader side: entry `index` as last published whole.
    /// - Precondition: `index` < `count`.
    public func read(_ index: Int) -> Value {
        precondition(index >= 0 && index < count, "mailbox table index \(index) out of 0..<\(count)")
        while true {
            let before = sequence.load(ordering: .acquiring)
            if before & 1 != 0 { continue }
            let value = slots[index]
            atomicMemoryFence(ordering: .acquiring)
            if sequence.load(ordering: .relaxed) == before { return value }
        }
    }

    /// How many times the table was published.
    public var publications: Int { sequence.load(ordering: .acquiring) / 2 }
}
