import VigilBase
import VigilHAL

/// Shaft speed from a once-(or N-)per-revolution mark on a GPIO input, from the kernel's edge
/// timestamps (so the loop's own jitter does not enter the measurement).
///
/// The speed is the time across the last `pulsesPerRevolution` pulses. Two pulses closer together
/// than `maxRPM` allows make the channel out of range until a whole revolution of plausible pulses
/// has followed: an overspeed (or a noisy pick-up) must never read as a smaller speed, as it
/// would if the extra edges were dropped. No edge for `stallNanoseconds` is a standstill (0 rpm)
/// when the machine may stand still, and a stale reading otherwise (a dead sensor is not a
/// stopped machine).
public final class Tachometer<Source: EdgeEventSource> {
    public let source: Source
    public let pulsesPerRevolution: Int
    public let maxRPM: Double
    public let stallNanoseconds: Int64
    public let mayStandStill: Bool
    /// Times of the last `pulsesPerRevolution + 1` edges (a ring).
    private var edgeTimes: [MonotonicInstant]
    private var edgeCount = 0
    private var events: [EdgeEvent]
    private var rpm: Double?
    private var firstSample: MonotonicInstant?
    /// Plausible intervals still needed before an interval that was too short stops counting.
    private var implausibleFor = 0
    /// The speed the last too-short interval implied.
    private var implausibleRPM = 0.0
    /// Intervals shorter than `maxRPM` allows, since start.
    public private(set) var implausibleIntervals = 0

    public init(source: Source, pulsesPerRevolution: Int, maxRPM: Double, stallNanoseconds: Int64, mayStandStill: Bool) {
        precondition(pulsesPerRevolution >= 1 && maxRPM > 0)
        self.source = source
        self.pulsesPerRevolution = pulsesPerRevolution
        self.maxRPM = maxRPM
        self.stallNanoseconds = stallNanoseconds
        self.mayStandStill = mayStandStill
        edgeTimes = Array(repeating: .zero, count: pulsesPerRevolution + 1)
        events = Array(repeating: EdgeEvent(rising: true, time: .zero), count: 64)
    }

    /// The shortest interval between two pulses at `maxRPM`.
    var minimumPulseNanoseconds: Int64 { Int64(60e9 / (maxRPM * Double(pulsesPerRevolution))) }

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
        let quiet: Bool
        if edgeCount > 0 {
            quiet = now.nanoseconds(since: edgeTimes[(edgeCount - 1) % edgeTimes.count]) > stallNanoseconds
        } else {
            quiet = firstSample.map { now.nanoseconds(since: $0) > stallNanoseconds } ?? false
        }
        var quality = Reading.clockQuality(time)
        if quiet {
            rpm = 0
            implausibleFor = 0
            if !mayStandStill { quality.insert(.stale) }
        }
        guard var value = rpm else { return Reading(value: .nan, quality: .noValue, time: time) }
        if implausibleFor > 0 {
            value = max(value, implausibleRPM)
            quality.insert(.outOfRange)
        }
        if value > maxRPM { quality.insert(.outOfRange) }
        return Reading(value: value, quality: quality, time: time)
    }

    private func accept(_ t: MonotonicInstant) {
        let ring = edgeTimes.count
        if edgeCount > 0 {
            let interval = t.nanoseconds(since: edgeTimes[(edgeCount - 1) % ring])
            if interval < minimumPulseNanoseconds {
                implausibleIntervals += 1
                implausibleFor = pulsesPerRevolution
                implausibleRPM = 60e9 / (Double(max(interval, 1)) * Double(pulsesPerRevolution))
            } else if implausibleFor > 0 {
                implausibleFor -= 1
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
