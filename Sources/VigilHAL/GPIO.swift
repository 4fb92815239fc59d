import VigilBase

/// Line bias, in libgpiod's vocabulary (`gpioset --bias`); the spellings are the profile's and
/// the CLI's.
public enum LineBias: String, Sendable, CaseIterable, Codable {
    /// Leave whatever the firmware or device tree set.
    case asIs = "as-is"
    case disabled
    case pullUp = "pull-up"
    case pullDown = "pull-down"
}

/// One edge of a digital signal (a tachometer's counting edge).
public enum Edge: String, Sendable, CaseIterable, Codable {
    case rising, falling
}

/// Which edges of an input are reported as events.
public struct EdgeSelection: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let rising = EdgeSelection(rawValue: 1)
    public static let falling = EdgeSelection(rawValue: 2)
    public static let both: EdgeSelection = [.rising, .falling]
    /// Exactly `edge`.
    public init(_ edge: Edge) { self = edge == .rising ? .rising : .falling }
}

/// How an input line is requested.
public struct InputLineSettings: Sendable, Equatable {
    public var activeLow: Bool
    public var bias: LineBias
    /// Edges to report through `EdgeEventSource`; empty for a level-only input.
    public var edges: EdgeSelection
    public init(activeLow: Bool = false, bias: LineBias = .asIs, edges: EdgeSelection = []) {
        self.activeLow = activeLow
        self.bias = bias
        self.edges = edges
    }
}

/// How an output line is requested.
public struct OutputLineSettings: Sendable, Equatable {
    public var activeLow: Bool
    /// The logical level driven from the moment of the request. Interlock outputs start off
    /// (de-energized: the safe state).
    public var initialValue: Bool
    public init(activeLow: Bool = false, initialValue: Bool = false) {
        self.activeLow = activeLow
        self.initialValue = initialValue
    }
}

/// An edge seen on an input, timestamped by the kernel when it happened (not when it was read).
public struct EdgeEvent: Sendable, Equatable {
    public var rising: Bool
    public var time: MonotonicInstant
    public init(rising: Bool, time: MonotonicInstant) {
        self.rising = rising
        self.time = time
    }
}

/// What the kernel says about one line (`gpioinfo`).
public struct GPIOLineInfo: Sendable, Equatable {
    public enum Direction: String, Sendable { case input, output }
    public var offset: Int
    /// The line's name, or an empty string when the kernel gives none.
    public var name: String
    /// Who holds the line, if anyone (`vigil`, a kernel driver, another program).
    public var consumer: String?
    public var direction: Direction
    public var activeLow: Bool
    public var bias: LineBias
    public var isUsed: Bool { consumer != nil }
    public init(offset: Int, name: String, consumer: String?, direction: Direction, activeLow: Bool, bias: LineBias) {
        self.offset = offset
        self.name = name
        self.consumer = consumer
        self.direction = direction
        self.activeLow = activeLow
        self.bias = bias
    }
}

/// A digital input: reads a line's logical level (after active-low inversion).
public protocol DigitalInput: AnyObject {
    func read() throws(HALError) -> Bool
}

/// A digital output: drives a line's logical level (before active-low inversion).
public protocol DigitalOutput: AnyObject {
    func write(_ active: Bool) throws(HALError)
    /// The line's logical level as the chip reads it back (on most controllers the pin itself;
    /// an expander that ignored a write reads back the old level).
    func readBack() throws(HALError) -> Bool
}

/// An input whose edges the kernel timestamps and queues.
public protocol EdgeEventSource: AnyObject {
    /// Moves the events queued so far into `buffer`, oldest first, without blocking; returns how
    /// many. Events that do not fit stay queued for the next call.
    func readEvents(into buffer: UnsafeMutableBufferPointer<EdgeEvent>) throws(HALError) -> Int
}

/// A GPIO chip: the lines of one controller, requested by offset. A requested line keeps its chip
/// open for as long as it lives.
public protocol GPIOChip: AnyObject {
    associatedtype Input: DigitalInput & EdgeEventSource
    associatedtype Output: DigitalOutput

    /// The chip's label (`gpiodetect` prints it in brackets), e.g. `pinctrl-bcm2711`.
    var label: String { get }
    /// The chip's device name, e.g. `gpiochip0`.
    var name: String { get }
    var lineCount: Int { get }

    func lineInfo(offset: Int) throws(HALError) -> GPIOLineInfo
    /// The offset of the line the kernel names `name`, or nil.
    func offset(ofLineNamed name: String) throws(HALError) -> Int?
    func requestInput(offset: Int, consumer: String, settings: InputLineSettings) throws(HALError) -> Input
    func requestOutput(offset: Int, consumer: String, settings: OutputLineSettings) throws(HALError) -> Output
}

extension GPIOChip {
    /// Every line's info, in offset order.
    public func allLineInfo() throws(HALError) -> [GPIOLineInfo] {
        var result: [GPIOLineInfo] = []
        result.reserveCapacity(lineCount)
        for offset in 0..<lineCount { result.append(try lineInfo(offset: offset)) }
        return result
    }
}
