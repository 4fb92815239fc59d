import VigilBase

/// The wait before the next connection attempt: doubling from `initial` to `maximum`, each wait
/// drawn between half and all of the current step ("equal jitter"). Without the draw, every node
/// of a plant that lost its broker together retries together, in lockstep, at every step.
public struct ReconnectBackoff: Sendable {
    public let initialNanoseconds: Int64
    public let maximumNanoseconds: Int64
    private var step: Int64
    private var random: SplitMix64

    /// - Parameter seed: differs per node and run (the session id), so that nodes do not share draws.
    public init(initialNanoseconds: Int64 = 500_000_000, maximumNanoseconds: Int64 = 30_000_000_000, seed: UInt64) {
        self.initialNanoseconds = initialNanoseconds
        self.maximumNanoseconds = maximumNanoseconds
        step = initialNanoseconds
        random = SplitMix64(seed: seed)
    }

    /// The wait after a failed attempt; the next failure waits about twice as long.
    public mutating func failed() -> Int64 {
        let half = step / 2
        let wait = half + Int64(random.next() % UInt64(max(1, half + 1)))
        step = min(maximumNanoseconds, step * 2)
        return wait
    }

    /// A connection succeeded: the next failure starts again from `initial`.
    public mutating func connected() { step = initialNanoseconds }

    /// The step the next failure draws from.
    public var currentStepNanoseconds: Int64 { step }
}
