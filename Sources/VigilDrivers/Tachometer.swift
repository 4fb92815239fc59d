import VigilBase
import VigilHAL

/// Shaft speed from a once-(or N-)per-revolution mark on a GPIO input, from the kernel's edge
/// timestamps (so the loop's own jitter does not enter the measurement).
///
/// The speed is the time across the last `pulsesPerRevolution` pulses. Edges that would imply a
/// speed far above `maxRPM` are contact bounce and are dropped; no edge for `stallNanoseconds`
/// means the shaft has stopped (0 rpm, a valid value).
public final class Tachometer<Source: EdgeEventSource> {
    public let source: Source
    public let pulsesPerRevolution: Int
    public let maxRPM: Double
    public let stallNanoseconds: Int64
    /// Times of the last `pulsesPerRevolution + 1` accepted edges (a ring).
    private var edgeTimes: [MonotonicInstant]
    private var edgeCount = 0
    private var events: [EdgeEvent]
    private var rpm: Double?
    /// Edges dropped as bounce since start.
    public private(set) var rejectedEdges = 0

    public init(source: Source, pulsesPerRevolution: Int, maxRPM: Double, stallNanoseconds: Int64) {
        precondition(pulsesPerRevolution >= 1 && maxRPM > 0)
        self.source = source
        self.pulsesPerRevolution = pulsesPerRevolution
        self.maxRPM = maxRPM
        self.stallNanoseconds = stallNanoseconds
        edgeTimes = Array(repeating: .zero, count: pulsesPerRevolution + 1)
        events = Array(repeating: EdgeEvent(rising: true, time: .zero), count: 64)
    }

    /// The shortest believable time between two pulses, from `maxRPM` with 50 % margin.
    var minimumPulseNanoseconds: Int64 { Int64(60e9 / (maxRPM * 1.5) / Double(pulsesPerRevolution)) }

    /// Takes the edges the kernel queued and returns the speed, rpm.
    public func sample(at time: Timestamp) -> Reading {
        while true {
            let n: Int
            do {
                n = try events.withUnsafeMutableBufferPointer { (buffer) throws(HALError) -> Int in try source.readEvents(into: buffer) }
            } catch {
                return .failed(error, at: time)
            }
            for i in 0..<n { accept(events[i].time) }
            if n < events.count { break }
        }
        let now = time.monotonic
        if firstSample == nil { firstSample = now }
        if edgeCount > 0 {
            let last = edgeTimes[(edgeCount - 1) % edgeTimes.count]
            if now.nanoseconds(since: last) > stallNanoseconds { rpm = 0 }
        } else if let first = firstSample, now.nanoseconds(since: first) > stallNanoseconds {
            // No edge at all for the stall time since start: the shaft stands still.
            rpm = 0
        }
        guard let value = rpm else { return Reading(value: .nan, quality: .noValue, time: time) }
        var quality = Reading.clockQuality(time)
        if value > maxRPM { quality.insert(.outOfRange) }
        return Reading(value: value, quality: quality, time: time)
    }
    private var firstSample: MonotonicInstant?

    private func accept(_ t: MonotonicInstant) {
        let ring = edgeTimes.count
        if edgeCount > 0 {
            let previous = edgeTimes[(edgeCount - 1) % ring]
            if t.nanoseconds(since: previous) < minimumPulseNanoseconds {
                rejectedEdges += 1
                return
            }
        }
        edgeTimes[edgeCount % ring] = t
        edgeCount += 1
        if edgeCount > pulsesPerRevolution {
            // The edge one revolution earlier sits where the next write will go.
            let revolutionStart = edgeTimes[edgeCount % ring]
            let ns = t.nanoseconds(since: revolutionStart)
            if ns > 0 { rpm = 60e9 / Double(ns) }
        }
    }
}
