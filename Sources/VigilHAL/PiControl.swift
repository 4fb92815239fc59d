import VigilBase

/// Where one PiCtory variable lives in piControl's process image, as `KB_FIND_VARIABLE` answers.
public struct PiControlVariable: Sendable, Equatable {
    /// Byte offset in the process image.
    public var address: UInt16
    /// 0–7 for a one-bit variable; 8 or more for a variable of whole bytes.
    public var bit: UInt8
    /// 1, 8, 16 or 32.
    public var lengthBits: UInt16
    public init(address: UInt16, bit: UInt8, lengthBits: UInt16) {
        self.address = address
        self.bit = bit
        self.lengthBits = lengthBits
    }
}

/// piControl's process image through one open handle (`/dev/piControl0` on a Revolution Pi):
/// KUNBUS's driver owns the controller's own inputs and outputs (the Connect 4's X2 relay and
/// digital input, the PiBridge I/O modules) and exchanges them with the hardware every cycle, so
/// a program reads and writes bits of the image instead of the pins.
public protocol PiControlImage: AnyObject {
    /// The variable PiCtory's configuration names `name`, or nil when it has none.
    func findVariable(named name: String) throws(HALError) -> PiControlVariable?
    /// One bit of the byte at `address`.
    func bit(address: UInt16, bit: UInt8) throws(HALError) -> Bool
    /// Sets or clears one bit of the byte at `address` (the driver's read-modify-write, under its
    /// lock). Every write restarts this handle's output watchdog.
    func setBit(address: UInt16, bit: UInt8, to value: Bool) throws(HALError)
    /// Arms (or with 0 disarms) the driver's output watchdog for this handle: without a write for
    /// `milliseconds`, and when the handle closes, the driver sets every output to 0.
    func setOutputWatchdog(milliseconds: Int) throws(HALError)
}

/// The name of a line on a piControl chip: a one-bit PiCtory variable (`RelayOutput_1`), or bit N
/// of a wider one (`RevPiOutput.0`, the Connect 4's X2 relay; `RevPiStatus.6`, its X2 input).
public struct PiControlLineName: Sendable, Equatable {
    public var variable: String
    public var bitIndex: Int?

    /// PiCtory names are at most 31 bytes (the driver's 32-byte field with its NUL).
    public static let maximumNameBytes = 31

    /// Nil when `text` is not `NAME` or `NAME.N` with a name of 1–31 bytes and N in 0…31.
    public init?(_ text: String) {
        var name = Substring(text)
        var index: Int?
        if let dot = text.lastIndex(of: ".") {
            let digits = text[text.index(after: dot)...]
            guard !digits.isEmpty, digits.count <= 2, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(digits), n < 32 else { return nil }
            index = n
            name = text[..<dot]
        }
        guard !name.isEmpty, name.utf8.count <= Self.maximumNameBytes, !name.contains("."), name.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else { return nil }
        variable = String(name)
        bitIndex = index
    }
}

/// The process image as a GPIO chip, so outputs, inputs and the reset button of a profile can sit
/// on it exactly as on a kernel GPIO chip. Lines are resolved by name on first use (the profile
/// names them; there is no line count to enumerate). Level-only: no edge events (the validator
/// refuses a tachometer here).
public final class PiControlChip<Image: PiControlImage>: GPIOChip {
    public let image: Image
    public let name: String
    public var label: String { "piControl" }
    /// The output watchdog armed with the first output request, ms; 0 for none.
    public let outputWatchdogMilliseconds: Int
    private var lines: [(name: String, address: UInt16, bit: UInt8, consumer: String?, output: Bool)] = []
    private var watchdogArmed = false

    public init(image: Image, name: String, outputWatchdogMilliseconds: Int) {
        self.image = image
        self.name = name
        self.outputWatchdogMilliseconds = outputWatchdogMilliseconds
    }

    public var lineCount: Int { lines.count }

    public func offset(ofLineNamed lineName: String) throws(HALError) -> Int? {
        if let known = lines.firstIndex(where: { $0.name == lineName }) { return known }
        guard let parsed = PiControlLineName(lineName) else { throw HALError(.invalidArgument, code: 22, operation: "picontrol line name") }
        guard let v = try image.findVariable(named: parsed.variable) else { return nil }
        let address: UInt16, bit: UInt8
        switch (parsed.bitIndex, v.lengthBits) {
        case (nil, 1):
            address = v.address
            bit = v.bit
        case (nil, _):
            // A whole byte or word is no line: the profile must say which bit.
            throw HALError(.invalidArgument, code: Int32(v.lengthBits), operation: "picontrol variable is wider than one bit; name a bit (NAME.N)")
        case (let n?, let length):
            guard length > 1, n < Int(length) else {
                throw HALError(.invalidArgument, code: Int32(length), operation: "picontrol bit index beyond the variable")
            }
            address = v.address &+ UInt16(n / 8)
            bit = UInt8(n % 8)
        }
        lines.append((lineName, address, bit, nil, false))
        return lines.count - 1
    }

    public func lineInfo(offset: Int) throws(HALError) -> GPIOLineInfo {
        guard offset >= 0, offset < lines.count else { throw HALError(.invalidArgument, code: 22, operation: "picontrol line info") }
        let l = lines[offset]
        return GPIOLineInfo(offset: offset, name: l.name, consumer: l.consumer, direction: l.output ? .output : .input, activeLow: false, bias: .asIs)
    }

    public func requestInput(offset: Int, consumer: String, settings: InputLineSettings) throws(HALError) -> PiControlLine<Image> {
        guard offset >= 0, offset < lines.count else { throw HALError(.invalidArgument, code: 22, operation: "picontrol request input") }
        // The image has levels, not edges; a bias is the I/O module's business (PiCtory sets it).
        guard settings.edges.isEmpty else { throw HALError(.unsupported, code: 95, operation: "picontrol edge events") }
        lines[offset].consumer = consumer
        return PiControlLine(image: image, address: lines[offset].address, bit: lines[offset].bit, activeLow: settings.activeLow, isOutput: false)
    }

    public func requestOutput(offset: Int, consumer: String, settings: OutputLineSettings) throws(HALError) -> PiControlLine<Image> {
        guard offset >= 0, offset < lines.count else { throw HALError(.invalidArgument, code: 22, operation: "picontrol request output") }
        let line = PiControlLine(image: image, address: lines[offset].address, bit: lines[offset].bit, activeLow: settings.activeLow, isOutput: true)
        try line.write(settings.initialValue)
        // Armed once an output exists: from here on a frozen or dead vigil loses its outputs to
        // the driver itself, whatever user space does.
        if outputWatchdogMilliseconds > 0 && !watchdogArmed {
            try image.setOutputWatchdog(milliseconds: outputWatchdogMilliseconds)
            watchdogArmed = true
        }
        lines[offset].consumer = consumer
        lines[offset].output = true
        return line
    }
}

/// One bit of the process image, as an input or an output. Holds the image (and so its handle).
public final class PiControlLine<Image: PiControlImage>: DigitalInput, DigitalOutput, EdgeEventSource {
    let image: Image
    let address: UInt16
    let bit: UInt8
    let activeLow: Bool
    let isOutput: Bool

    init(image: Image, address: UInt16, bit: UInt8, activeLow: Bool, isOutput: Bool) {
        self.image = image
        self.address = address
        self.bit = bit
        self.activeLow = activeLow
        self.isOutput = isOutput
    }

    public func read() throws(HALError) -> Bool { try image.bit(address: address, bit: bit) != activeLow }

    public func write(_ active: Bool) throws(HALError) {
        guard isOutput else { throw HALError(.invalidArgument, code: 1, operation: "picontrol set value") }
        try image.setBit(address: address, bit: bit, to: active != activeLow)
    }

    /// The bit as the image holds it. piControl copies the image to the pin every cycle, so this
    /// shows what was commanded, not the relay: a profile that must know gives a `feedback` input.
    public func readBack() throws(HALError) -> Bool { try read() }

    public func readEvents(into buffer: UnsafeMutableBufferPointer<EdgeEvent>) throws(HALError) -> Int { 0 }
}
