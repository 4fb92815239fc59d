/// A fixed-bucket histogram of durations in microseconds, allocated once: 1 µs buckets up to
/// 2 ms (where a healthy loop's wake-up lateness lives), 100 µs buckets up to 100 ms, and one
/// overflow bucket. Recording is O(1) and allocation-free.
public struct LatenessHistogram: Sendable {
    static let fineLimitMicroseconds = 2000
    static let coarseStepMicroseconds = 100
    static let coarseLimitMicroseconds = 100_000
    static let bucketCount = fineLimitMicroseconds + (coarseLimitMicroseconds - fineLimitMicroseconds) / coarseStepMicroseconds + 1

    private var buckets: [UInt32]
    public private(set) var count: Int = 0
    public private(set) var maximumMicroseconds: Int = 0
    private var sumMicroseconds: Int = 0

    public init() { buckets = Array(repeating: 0, count: Self.bucketCount) }

    public mutating func record(microseconds value: Int) {
        let v = max(0, value)
        let index: Int
        if v < Self.fineLimitMicroseconds {
            index = v
        } else if v < Self.coarseLimitMicroseconds {
            index = Self.fineLimitMicroseconds + (v - Self.fineLimitMicroseconds) / Self.coarseStepMicroseconds
        } else {
            index = Self.bucketCount - 1
        }
        buckets[index] &+= 1
        count += 1
        sumMicroseconds += v
        if v > maximumMicroseconds { maximumMicroseconds = v }
    }

    /// The smallest value (bucket upper edge) at or below which `fraction` of the samples lie.
    public func percentile(_ fraction: Double) -> Int {
        guard count > 0 else { return 0 }
        let target = max(1, Int((fraction * Double(count)).rounded(.up)))
        var seen = 0
        for (i, n) in buckets.enumerated() {
            seen += Int(n)
            if seen >= target {
                if i < Self.fineLimitMicroseconds { return i }
                if i == Self.bucketCount - 1 { return maximumMicroseconds }
                return min(maximumMicroseconds, Self.fineLimitMicroseconds + (i - Self.fineLimitMicroseconds + 1) * Self.coarseStepMicroseconds)
            }
        }
        return maximumMicroseconds
    }

    public var meanMicroseconds: Double { count == 0 ? 0 : Double(sumMicroseconds) / Double(count) }

    public mutating func reset() {
        for i in buckets.indices { buckets[i] = 0 }
        count = 0
        maximumMicroseconds = 0
        sumMicroseconds = 0
    }
}
