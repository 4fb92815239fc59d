import VigilBase
import VigilHAL

/// One value from a sensor, with when it was taken and how far it can be trusted.
public struct Reading: Sendable, Equatable {
    public var value: Double
    public var quality: Quality
    public var time: Timestamp
    /// The error behind a `.commFault` quality, if any.
    public var error: HALError?

    public init(value: Double, quality: Quality, time: Timestamp, error: HALError? = nil) {
        self.value = value
        self.quality = quality
        self.time = time
        self.error = error
    }

    /// A reading that failed: no value, the fault's quality and its cause.
    public static func failed(_ error: HALError, at time: Timestamp) -> Reading {
        Reading(value: .nan, quality: .commFault, time: time, error: error)
    }

    /// The quality flag the wall clock's state adds.
    static func clockQuality(_ time: Timestamp) -> Quality {
        time.clockSync == .synchronized ? [] : .clockUnsynced
    }
}

/// A sensor on one GPIO line, sampled once per loop period: its reading at `time`, or the fault.
public protocol LineSensor: AnyObject {
    func sample(at time: Timestamp) -> Reading
}

extension DebouncedInput: LineSensor {}
extension Tachometer: LineSensor {}
