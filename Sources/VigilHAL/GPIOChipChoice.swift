/// One of two kinds of GPIO chip behind one type, for a board whose profile may put a line on
/// either (a kernel GPIO chip, or piControl's process image on a Revolution Pi). The node is
/// generic over one chip type; this keeps it so, at the cost of one switch per line access.
public final class GPIOChipChoice<First: GPIOChip, Second: GPIOChip>: GPIOChip {
    public enum Backing {
        case first(First)
        case second(Second)
    }
    public let backing: Backing

    public init(_ backing: Backing) { self.backing = backing }

    public var label: String {
        switch backing { case .first(let c): c.label; case .second(let c): c.label }
    }
    public var name: String {
        switch backing { case .first(let c): c.name; case .second(let c): c.name }
    }
    public var lineCount: Int {
        switch backing { case .first(let c): c.lineCount; case .second(let c): c.lineCount }
    }

    public func lineInfo(offset: Int) throws(HALError) -> GPIOLineInfo {
        switch backing {
        case .first(let c): return try c.lineInfo(offset: offset)
        case .second(let c): return try c.lineInfo(offset: offset)
        }
    }

    public func offset(ofLineNamed name: String) throws(HALError) -> Int? {
        switch backing {
        case .first(let c): return try c.offset(ofLineNamed: name)
        case .second(let c): return try c.offset(ofLineNamed: name)
        }
    }

    public func requestInput(offset: Int, consumer: String, settings: InputLineSettings) throws(HALError) -> Input {
        switch backing {
        case .first(let c): return Input(.first(try c.requestInput(offset: offset, consumer: consumer, settings: settings)))
        case .second(let c): return Input(.second(try c.requestInput(offset: offset, consumer: consumer, settings: settings)))
        }
    }

    public func requestOutput(offset: Int, consumer: String, settings: OutputLineSettings) throws(HALError) -> Output {
        switch backing {
        case .first(let c): return Output(.first(try c.requestOutput(offset: offset, consumer: consumer, settings: settings)))
        case .second(let c): return Output(.second(try c.requestOutput(offset: offset, consumer: consumer, settings: settings)))
        }
    }

    public final class Input: DigitalInput, EdgeEventSource {
        public enum Line {
            case first(First.Input)
            case second(Second.Input)
        }
        public let line: Line
        init(_ line: Line) { self.line = line }

        public func read() throws(HALError) -> Bool {
            switch line {
            case .first(let l): return try l.read()
            case .second(let l): return try l.read()
            }
        }

        public func readEvents(into buffer: UnsafeMutableBufferPointer<EdgeEvent>) throws(HALError) -> Int {
            switch line {
            case .first(let l): return try l.readEvents(into: buffer)
            case .second(let l): return try l.readEvents(into: buffer)
            }
        }
    }

    public final class Output: DigitalOutput {
        public enum Line {
            case first(First.Output)
            case second(Second.Output)
        }
        public let line: Line
        init(_ line: Line) { self.line = line }

        public func write(_ active: Bool) throws(HALError) {
            switch line {
            case .first(let l): try l.write(active)
            case .second(let l): try l.write(active)
            }
        }

        public func readBack() throws(HALError) -> Bool {
            switch line {
            case .first(let l): return try l.readBack()
            case .second(let l): return try l.readBack()
            }
        }
    }
}
