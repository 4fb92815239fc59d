import CGPIOD
import Glibc
import VigilBase
import VigilHAL

/// A GPIO chip through libgpiod 1.6 (the kernel's GPIO character device). Owns its
/// `gpiod_chip` handle; every line requested from it keeps the chip alive.
public final class LinuxGPIOChip: GPIOChip {
    let handle: OpaquePointer
    public let name: String
    public let label: String
    public let lineCount: Int

    /// Opens a chip by path (`/dev/gpiochip0`) or name (`gpiochip0`).
    public init(path: String) throws(HALError) {
        guard let chip = gpiod_chip_open_lookup(path) else {
            throw HALError(errno: errno, operation: "gpio open chip")
        }
        handle = chip
        name = String(cString: gpiod_chip_name(chip))
        label = String(cString: gpiod_chip_label(chip))
        lineCount = Int(gpiod_chip_num_lines(chip))
    }

    deinit { gpiod_chip_close(handle) }

    /// Opens the chip whose label is `label` (what `gpiodetect` prints in brackets).
    public static func open(label: String) throws(HALError) -> LinuxGPIOChip {
        for chip in listChips() where chip.label == label {
            return try LinuxGPIOChip(path: chip.name)
        }
        throw HALError(.noDevice, code: 2, operation: "gpio find chip by label")
    }

    /// Every GPIO chip the kernel offers: (name, label, line count), in name order.
    public static func listChips() -> [(name: String, label: String, lines: Int)] {
        var result: [(String, String, Int)] = []
        for name in Sysfs.list("/dev") where name.hasPrefix("gpiochip") {
            // A chip we may not open (permissions) is still listed by its name.
            if let chip = gpiod_chip_open_lookup(name) {
                result.append((name, String(cString: gpiod_chip_label(chip)), Int(gpiod_chip_num_lines(chip))))
                gpiod_chip_close(chip)
            } else {
                result.append((name, "", 0))
            }
        }
        return result.sorted { $0.0.count != $1.0.count ? $0.0.count < $1.0.count : $0.0 < $1.0 }
    }

    func line(_ offset: Int, operation: StaticString) throws(HALError) -> OpaquePointer {
        guard offset >= 0, offset < lineCount, let line = gpiod_chip_get_line(handle, UInt32(offset)) else {
            throw HALError(.invalidArgument, code: 22, operation: operation)
        }
        return line
    }

    public func lineInfo(offset: Int) throws(HALError) -> GPIOLineInfo {
        let line = try line(offset, operation: "gpio line info")
        _ = gpiod_line_update(line)
        let name = gpiod_line_name(line).map { String(cString: $0) } ?? ""
        let consumer: String? = gpiod_line_is_used(line) ? (gpiod_line_consumer(line).map { String(cString: $0) } ?? "kernel") : nil
        let bias: LineBias
        switch Int(gpiod_line_bias(line)) {
        case GPIOD_LINE_BIAS_DISABLE: bias = .disabled
        case GPIOD_LINE_BIAS_PULL_UP: bias = .pullUp
        case GPIOD_LINE_BIAS_PULL_DOWN: bias = .pullDown
        default: bias = .asIs
        }
        return GPIOLineInfo(offset: offset, name: name, consumer: consumer,
                            direction: Int(gpiod_line_direction(line)) == GPIOD_LINE_DIRECTION_OUTPUT ? .output : .input,
                            activeLow: Int(gpiod_line_active_state(line)) == GPIOD_LINE_ACTIVE_STATE_LOW, bias: bias)
    }

    /// The first line the kernel names `name` (names need not be unique; libgpiod returns the first).
    public func offset(ofLineNamed name: String) throws(HALError) -> Int? {
        guard let line = gpiod_chip_find_line(handle, name) else {
            // ENOENT: no such line on this chip; anything else is a real failure.
            if errno == ENOENT { return nil }
            throw HALError(errno: errno, operation: "gpio find line")
        }
        return Int(gpiod_line_offset(line))
    }

    public func requestInput(offset: Int, consumer: String, settings: InputLineSettings) throws(HALError) -> LinuxGPIOLine {
        let line = try line(offset, operation: "gpio request input")
        let type: Int
        switch settings.edges {
        case .both: type = GPIOD_LINE_REQUEST_EVENT_BOTH_EDGES
        case .rising: type = GPIOD_LINE_REQUEST_EVENT_RISING_EDGE
        case .falling: type = GPIOD_LINE_REQUEST_EVENT_FALLING_EDGE
        default: type = GPIOD_LINE_REQUEST_DIRECTION_INPUT
        }
        var flags = settings.activeLow ? GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW : 0
        switch settings.bias {
        case .asIs: break
        case .disabled: flags |= GPIOD_LINE_REQUEST_FLAG_BIAS_DISABLE
        case .pullUp: flags |= GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP
        case .pullDown: flags |= GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_DOWN
        }
        try request(line, consumer: consumer, type: type, flags: flags, initial: 0, operation: "gpio request input")
        return LinuxGPIOLine(chip: self, line: line, isOutput: false)
    }

    public func requestOutput(offset: Int, consumer: String, settings: OutputLineSettings) throws(HALError) -> LinuxGPIOLine {
        let line = try line(offset, operation: "gpio request output")
        try request(line, consumer: consumer, type: GPIOD_LINE_REQUEST_DIRECTION_OUTPUT,
                    flags: settings.activeLow ? GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW : 0,
                    initial: settings.initialValue ? 1 : 0, operation: "gpio request output")
        return LinuxGPIOLine(chip: self, line: line, isOutput: true)
    }

    private func request(_ line: OpaquePointer, consumer: String, type: Int, flags: Int, initial: Int32,
                         operation: StaticString) throws(HALError) {
        let status = consumer.withCString { name in
            var config = gpiod_line_request_config(consumer: name, request_type: Int32(type), flags: Int32(flags))
            return gpiod_line_request(line, &config, initial)
        }
        if status < 0 { throw HALError(errno: errno, operation: operation) }
    }
}

/// A line requested through libgpiod: released in `deinit`; holds its chip open.
public final class LinuxGPIOLine: DigitalInput, DigitalOutput, EdgeEventSource {
    private let chip: LinuxGPIOChip
    private let line: OpaquePointer
    private let isOutput: Bool
    private var events: [gpiod_line_event]

    init(chip: LinuxGPIOChip, line: OpaquePointer, isOutput: Bool) {
        self.chip = chip
        self.line = line
        self.isOutput = isOutput
        events = Array(repeating: gpiod_line_event(), count: 16)
    }

    deinit { gpiod_line_release(line) }

    public func read() throws(HALError) -> Bool {
        let value = gpiod_line_get_value(line)
        if value < 0 { throw HALError(errno: errno, operation: "gpio get value") }
        return value == 1
    }

    public func write(_ active: Bool) throws(HALError) {
        guard isOutput else { throw HALError(.invalidArgument, code: 1, operation: "gpio set value") }
        if gpiod_line_set_value(line, active ? 1 : 0) < 0 { throw HALError(errno: errno, operation: "gpio set value") }
    }

    /// An output's level as the kernel reads it back (`gpiod_line_get_value` on the output line).
    public func readBack() throws(HALError) -> Bool { try read() }

    public func readEvents(into buffer: UnsafeMutableBufferPointer<EdgeEvent>) throws(HALError) -> Int {
        guard buffer.count > 0, gpiod_line_event_get_fd(line) >= 0 else { return 0 }
        var zero = timespec(tv_sec: 0, tv_nsec: 0)
        var filled = 0
        while filled < buffer.count {
            // A zero timeout makes the wait a poll: never blocks the loop.
            let ready = gpiod_line_event_wait(line, &zero)
            if ready < 0 { throw HALError(errno: errno, operation: "gpio wait event") }
            if ready == 0 { break }
            let want = min(events.count, buffer.count - filled)
            let n = events.withUnsafeMutableBufferPointer { gpiod_line_event_read_multiple(line, $0.baseAddress, UInt32(want)) }
            if n < 0 { throw HALError(errno: errno, operation: "gpio read event") }
            for i in 0..<Int(n) {
                let e = events[i]
                // libgpiod 1.6 on kernels ≥ 5.7 stamps v1 events with CLOCK_MONOTONIC.
                buffer[filled] = EdgeEvent(rising: Int(e.event_type) == GPIOD_LINE_EVENT_RISING_EDGE,
                                           time: MonotonicInstant(nanoseconds: Int64(e.ts.tv_sec) * 1_000_000_000 + Int64(e.ts.tv_nsec)))
                filled += 1
            }
            if n == 0 { break }
        }
        return filled
    }
}
