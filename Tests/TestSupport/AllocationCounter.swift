import CTestSupport

/// Counts heap allocations made by the calling thread while `body` runs (the test binary wraps
/// malloc and friends; see CTestSupport). Returns nil when the wrappers are not active.
public func heapAllocations<E: Error>(during body: () throws(E) -> Void) throws(E) -> UInt64? {
    guard ts_allocation_counting_available() != 0 else { return nil }
    ts_allocations_start()
    do {
        try body()
    } catch {
        _ = ts_allocations_stop()
        throw error
    }
    return ts_allocations_stop()
}
