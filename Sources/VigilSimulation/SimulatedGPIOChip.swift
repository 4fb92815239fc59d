import VigilBase
import VigilHAL

/// A GPIO chip with named lines, modelling what the kernel's gpio-sim offers: the outside world
/// drives or pulls each line, requested inputs read the level (through active-low), requested
/// outputs drive it, and edges on inputs requested for events are queued with their time.
///
/// A line may also carry a pulse train (a tachometer's once-per-revolution mark), whose edges are
/// produced from the clock as they fall due.
public final class SimulatedGPIOChip: GPIOChip {
    public let label: String
    public let name: String
    public let clock: SimulationClock

    final class LineState {
        let name: String
        /// Level the outside world drives (nil: floating, the bias decides).
        var external: Bool?
        var consumer: String?
        var direction = GPIOLineInfo.Direction.input
        var activeLow = false
        var bias = LineBias.asIs
        var edges: EdgeSelection = []
        var outputLevel = false
        /// The kernel's per-line event FIFO: fixed storage, oldest at `eventHead`.
        var events: [EdgeEvent]
        var eventHead = 0
        var eventCount = 0
        var lastLevel = false
        var pulseHz = 0.0
        var pulseStart = MonotonicInstant.zero
        var pulsesEmitted: Int64 = 0
        /// When a requested output last changed level.
        var lastOutputChange: MonotonicInstant?
        /// Fault injection: writes to this output fail with this error.
        var writeFailure: HALError?
        /// Fault injection: writes "succeed" but the pin keeps its level (an expander that lost
        /// power, a driver stage burnt open or shorted).
        var stuckAt: Bool?
        /// This input follows the physical level of another line (a relay's monitoring contact
        /// wired back from an output), inverted if `followsInverted`.
        var follows: LineState?
        var followsInverted = false
        init(name: String) {
            self.name = name
            events = Array(repeating: EdgeEvent(rising: false, time: .zero), count: Self.eventQueueDepth)
        }
        /// As the kernel's GPIO character device: 16 queued events per line; older ones are lost.
        static let eventQueueDepth = 16
    }

    private var lines: [LineState]
    /// The loop thread and the outside world share the chip.
    let lock = SimulationLock()

    public init(label: String, name: String = "gpiochip-sim", lineNames: [String], clock: SimulationClock) {
        self.label = label
        self.name = name
        self.clock = clock
        lines = lineNames.map(LineState.init)
    }

    public var lineCount: Int { lines.count }

    // MARK: The outside world

    /// Drives `line` to a physical level from outside (a switch, a relay contact); nil lets it float.
    public func drive(_ line: String, to level: Bool?) throws(HALError) {
        try lock.withLock { () throws(HALError) in
            let state = try self.line(named: line)
            advancePulses(state)
            let before = physicalLevel(state)
            state.external = level
            record(state, from: before)
        }
    }

    /// Puts a square wave of `hz` pulses per second on `line` (0 stops it), e.g. a tachometer.
    public func setPulseTrain(_ line: String, hz: Double) throws(HALError) {
        try lock.withLock { () throws(HALError) in
            let state = try self.line(named: line)
            advancePulses(state)
            state.pulseHz = hz
            state.pulseStart = clock.now
            state.pulsesEmitted = 0
        }
    }

    /// The physical level of `line` now, as a voltmeter would read it.
    public func physicalLevel(of line: String) throws(HALError) -> Bool {
        try lock.withLock { () throws(HALError) in
            let state = try self.line(named: line)
            advancePulses(state)
            return physicalLevel(state)
        }
    }

    /// Makes writes to output `line` fail with `error` (nil: writes work again).
    public func failWrites(_ line: String, with error: HALError?) throws(HALError) {
        try lock.withLock { () throws(HALError) in try self.line(named: line).writeFailure = error }
    }

    /// Holds the pin of output `line` at `level` whatever is written, while writes report
    /// success (nil: the pin follows writes again).
    public func stickOutput(_ line: String, at level: Bool?) throws(HALError) {
        try lock.withLock { () throws(HALError) in
            let state = try self.line(named: line)
            state.stuckAt = level
        }
    }

    /// Wires input `line` to the pin of `output`, as a relay's monitoring contact (`inverted`: a
    /// normally-closed contact, open while the relay is energized).
    public func connect(_ line: String, toOutput output: String, inverted: Bool = false) throws(HALError) {
        try lock.withLock { () throws(HALError) in
            let state = try self.line(named: line)
            state.follows = try self.line(named: output)
            state.followsInverted = inverted
        }
    }

    /// When a requested output on `line` last changed level (nil: never).
    public func lastOutputChange(of line: String) throws(HALError) -> MonotonicInstant? {
        try lock.withLock { () throws(HALError) in try self.line(named: line).lastOutputChange }
    }

    /// The consumer holding `line`, if requested.
    public func consumer(of line: String) throws(HALError) -> String? {
        try lock.withLock { () throws(HALError) in try self.line(named: line).consumer }
    }

    // MARK: GPIOChip

    public func lineInfo(offset: Int) throws(HALError) -> GPIOLineInfo {
        try lock.withLock { () throws(HALError) in try lineInfoLocked(offset: offset) }
    }

    private func lineInfoLocked(offset: Int) throws(HALError) -> GPIOLineInfo {
        guard lines.indices.contains(offset) else { throw HALError(.invalidArgument, code: 22, operation: "gpio line info") }
        let s = lines[offset]
        return GPIOLineInfo(offset: offset, name: s.name, consumer: s.consumer, direction: s.direction, activeLow: s.activeLow, bias: s.bias)
    }

    public func offset(ofLineNamed name: String) throws(HALError) -> Int? {
        lines.firstIndex { $0.name == name }
    }

    public func requestInput(offset: Int, consumer: String, settings: InputLineSettings) throws(HALError) -> SimulatedGPIOLine {
        try lock.withLock { () throws(HALError) in try requestInputLocked(offset: offset, consumer: consumer, settings: settings) }
    }

    private func requestInputLocked(offset: Int, consumer: String, settings: InputLineSettings) throws(HALError) -> SimulatedGPIOLine {
        let s = try claim(offset, consumer: consumer, operation: "gpio request input")
        s.direction = .input
        s.activeLow = settings.activeLow
        s.bias = settings.bias
        s.edges = settings.edges
        s.eventHead = 0
        s.eventCount = 0
        s.lastLevel = physicalLevel(s)
        return SimulatedGPIOLine(chip: self, state: s)
    }

    public func requestOutput(offset: Int, consumer: String, settings: OutputLineSettings) throws(HALError) -> SimulatedGPIOLine {
        try lock.withLock { () throws(HALError) in try requestOutputLocked(offset: offset, consumer: consumer, settings: settings) }
    }

    private func requestOutputLocked(offset: Int, consumer: String, settings: OutputLineSettings) throws(HALError) -> SimulatedGPIOLine {
        let s = try claim(offset, consumer: consumer, operation: "gpio request output")
        s.direction = .output
        s.activeLow = settings.activeLow
        s.edges = []
        s.outputLevel = settings.initialValue != settings.activeLow
        s.lastOutputChange = clock.now
        return SimulatedGPIOLine(chip: self, state: s)
    }

    // MARK: Internals used by lines

    func release(_ s: LineState) {
        lock.withLock { releaseLocked(s) }
    }

    private func releaseLocked(_ s: LineState) {
        let before = physicalLevel(s)
        s.consumer = nil
        s.direction = .input
        s.edges = []
        record(s, from: before)
    }

    func physicalLevel(_ s: LineState) -> Bool {
        if let stuck = s.stuckAt { return stuck }
        if s.direction == .output && s.consumer != nil { return s.outputLevel }
        if let level = s.external { return level }
        if let source = s.follows { return physicalLevel(source) != s.followsInverted }
        if s.pulseHz > 0 { return s.pulsesEmitted % 2 == 1 }
        return s.bias == .pullUp
    }

    func advancePulses(_ s: LineState) {
        guard s.pulseHz > 0 else { return }
        let now = clock.now
        // Two edges per pulse: rising at k/hz, falling half a period later.
        let halfPeriod = 0.5e9 / s.pulseHz
        let due = Int64(Double(now.nanoseconds(since: s.pulseStart)) / halfPeriod)
        while s.pulsesEmitted < due {
            s.pulsesEmitted += 1
            let time = s.pulseStart.advanced(byNanoseconds: Int64((Double(s.pulsesEmitted) * halfPeriod).rounded()))
            if s.external == nil && s.consumer != nil && s.direction == .input {
                queue(s, EdgeEvent(rising: (s.pulsesEmitted % 2 == 1) != s.activeLow, time: time))
            }
        }
        s.lastLevel = physicalLevel(s)
    }

    private func record(_ s: LineState, from before: Bool) {
        let after = physicalLevel(s)
        s.lastLevel = after
        guard before != after, s.consumer != nil, s.direction == .input else { return }
        queue(s, EdgeEvent(rising: after != s.activeLow, time: clock.now))
    }

    private func queue(_ s: LineState, _ event: EdgeEvent) {
        let wanted: EdgeSelection = event.rising ? .rising : .falling
        guard s.edges.contains(wanted) else { return }
        if s.eventCount == LineState.eventQueueDepth {
            s.eventHead = (s.eventHead + 1) % LineState.eventQueueDepth
            s.eventCount -= 1
        }
        s.events[(s.eventHead + s.eventCount) % LineState.eventQueueDepth] = event
        s.eventCount += 1
    }

    private func claim(_ offset: Int, consumer: String, operation: StaticString) throws(HALError) -> LineState {
        guard lines.indices.contains(offset) else { throw HALError(.invalidArgument, code: 22, operation: operation) }
        let s = lines[offset]
        if s.consumer != nil { throw HALError(.busy, code: 16, operation: operation) }
        s.consumer = consumer
        return s
    }

    private func line(named name: String) throws(HALError) -> LineState {
        guard let s = lines.first(where: { $0.name == name }) else { throw HALError(.noDevice, code: 2, operation: "gpio find line") }
        return s
    }
}

/// A requested line of a `SimulatedGPIOChip`; released when the last reference goes.
public final class SimulatedGPIOLine: DigitalInput, DigitalOutput, EdgeEventSource {
    private let chip: SimulatedGPIOChip
    private let state: SimulatedGPIOChip.LineState

    init(chip: SimulatedGPIOChip, state: SimulatedGPIOChip.LineState) {
        self.chip = chip
        self.state = state
    }

    deinit { chip.release(state) }

    public func read() throws(HALError) -> Bool {
        chip.lock.withLock {
            chip.advancePulses(state)
            let physical = chip.physicalLevel(state)
            return physical != state.activeLow
        }
    }

    public func readBack() throws(HALError) -> Bool { try read() }

    public func write(_ active: Bool) throws(HALError) {
        guard state.direction == .output else { throw HALError(.invalidArgument, code: 1, operation: "gpio set value") }
        try chip.lock.withLock { () throws(HALError) in
            if let failure = state.writeFailure { throw failure }
            let level = active != state.activeLow
            if level != state.outputLevel {
                state.outputLevel = level
                state.lastOutputChange = chip.clock.now
            }
        }
    }

    public func readEvents(into buffer: UnsafeMutableBufferPointer<EdgeEvent>) throws(HALError) -> Int {
        chip.lock.withLock {
            chip.advancePulses(state)
            let n = min(buffer.count, state.eventCount)
            let depth = SimulatedGPIOChip.LineState.eventQueueDepth
            for i in 0..<n { buffer[i] = state.events[(state.eventHead + i) % depth] }
            state.eventHead = (state.eventHead + n) % depth
            state.eventCount -= n
            return n
        }
    }
}
