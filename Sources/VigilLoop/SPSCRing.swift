import Synchronization

/// A bounded single-producer/single-consumer ring of fixed-size values, lock-free and
/// allocation-free after `init`: the real-time loop pushes, one other thread pops. When the ring
/// is full, `push` refuses (and counts) rather than overwrite or block: the producer decides what
/// a drop means, and the consumer sees the count.
public final class SPSCRing<Element: BitwiseCopyable>: @unchecked Sendable {
    private let storage: UnsafeMutablePointer<Element>
    private let mask: Int
    /// Next slot to write; only the producer stores it.
    private let head = Atomic<Int>(0)
    /// Next slot to read; only the consumer stores it.
    private let tail = Atomic<Int>(0)
    private let dropped = Atomic<Int>(0)

    public let capacity: Int

    /// - Parameter capacity: rounded up to a power of two.
    public init(capacity: Int, filler: Element) {
        var size = 1
        while size < max(capacity, 2) { size <<= 1 }
        self.capacity = size
        mask = size - 1
        storage = .allocate(capacity: size)
        storage.initialize(repeating: filler, count: size)
    }

    deinit { storage.deallocate() }

    /// Producer side. Returns false (and counts a drop) when full.
    @discardableResult
    public func push(_ value: Element) -> Bool {
        let h = head.load(ordering: .relaxed)
        if h - tail.load(ordering: .acquiring) == capacity {
            dropped.add(1, ordering: .relaxed)
            return false
        }
        storage[h & mask] = value
        head.store(h + 1, ordering: .releasing)
        return true
    }

    /// Consumer side. Nil when empty.
    public func pop() -> Element? {
        let t = tail.load(ordering: .relaxed)
        if t == head.load(ordering: .acquiring) { return nil }
        let value = storage[t & mask]
        tail.store(t + 1, ordering: .releasing)
        return value
    }

    /// Elements waiting (a snapshot; exact only from the producer or consumer thread).
    public var count: Int { head.load(ordering: .acquiring) - tail.load(ordering: .acquiring) }
    /// Pushes refused because the ring was full.
    public var droppedCount: Int { dropped.load(ordering: .relaxed) }
}
