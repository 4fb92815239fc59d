import VigilBase
import VigilHAL

/// KUNBUS's piControl driver as user space sees it, for tests: the process image, PiCtory's
/// variable table, and the per-handle output watchdog. Written from the driver's source
/// (github.com/RevolutionPi/piControl), not from vigil's backend; each rule names where it comes
/// from. The I/O cycle that copies the image to the hardware is `runCycle()`, called by the test
/// (the driver runs it every PiBridge cycle, a few ms).
public final class PiControlModel {
    /// One device of the configuration: where its inputs and outputs sit in the image.
    public struct Device: Sendable {
        public var name: String
        public var outputOffset: Int
        public var outputLength: Int
        public init(name: String, outputOffset: Int, outputLength: Int) {
            self.name = name
            self.outputOffset = outputOffset
            self.outputLength = outputLength
        }
    }

    /// project.h, KB_PI_LEN.
    public static let imageBytes = 4096

    public private(set) var image = [UInt8](repeating: 0, count: PiControlModel.imageBytes)
    public let variables: [String: PiControlVariable]
    public let devices: [Device]
    /// piControlMain.c, isRunning(): false while the driver resets (KB_RESET, a PiCtory save) or
    /// has no configuration; every value ioctl then fails with EAGAIN.
    public var running = true
    public let clock: SimulationClock
    /// Handles in the order they were opened (the driver's listCon), with each one's watchdog.
    private var handles: [(id: ObjectIdentifier, durationMs: Int, deadline: MonotonicInstant)] = []
    /// Writes that will fail with this errno before reaching the image (fault injection).
    public var failingWrites: (count: Int, errno: Int32) = (0, 0)

    /// The Connect 4's X2 relay pin, as the last I/O cycle left it.
    public private(set) var x2Relay = false
    /// The Connect 4's X2 digital-input GPIO, read by the next I/O cycle.
    public var x2InputPinHigh = true
    /// How often an output watchdog zeroed the outputs.
    public private(set) var watchdogExpiries = 0

    public init(variables: [String: PiControlVariable], devices: [Device], clock: SimulationClock) {
        self.variables = variables
        self.devices = devices
        self.clock = clock
    }

    /// A RevPi Connect 4 alone, as PiCtory configures it by default (the device's variables and
    /// offsets: RevPiStatus at 0 … RevPiLED at 11; inputs 0–5, outputs 6–12).
    public static func connect4(clock: SimulationClock) -> PiControlModel {
        func v(_ address: UInt16, _ bits: UInt16) -> PiControlVariable { PiControlVariable(address: address, bit: 0, lengthBits: bits) }
        return PiControlModel(variables: [
            "RevPiStatus": v(0, 8), "RevPiIOCycle": v(1, 8), "RS485ErrorCnt": v(2, 16), "Core_Temperature": v(4, 8), "Core_Frequency": v(5, 8),
            "RevPiOutput": v(6, 8), "RS485ErrorLimit1": v(7, 16), "RS485ErrorLimit2": v(9, 16), "RevPiLED": v(11, 16),
        ], devices: [Device(name: "RevPi Connect 4", outputOffset: 6, outputLength: 7)], clock: clock)
    }

    /// A new handle (open(2) on /dev/piControl0).
    public func open() -> Handle {
        let h = Handle(model: self)
        handles.append((ObjectIdentifier(h), 0, clock.now))
        return h
    }

    /// One I/O cycle. revpi_common.c, revpi_check_timeout(): the first handle whose watchdog has
    /// run out sets every device's outputs to 0 and restarts its period ("only for one
    /// connection" per cycle). Then PiBridgeMaster.c: the Connect 4's relay follows bit 0 of
    /// RevPiOutput (PICONTROL_X2_DOUT_CONNECT4), and RevPiStatus bit 6 (PICONTROL_STATUS_X2_DIN)
    /// is set while the X2 input GPIO reads low.
    public func runCycle() {
        let now = clock.now
        for i in handles.indices where handles[i].durationMs > 0 && now > handles[i].deadline {
            zeroOutputs()
            watchdogExpiries += 1
            handles[i].deadline = now.advanced(byNanoseconds: Int64(handles[i].durationMs) * 1_000_000)
            break
        }
        if let out = variables["RevPiOutput"] { x2Relay = image[Int(out.address)] & 0x01 != 0 }
        if let status = variables["RevPiStatus"] {
            let a = Int(status.address)
            image[a] = x2InputPinHigh ? image[a] & ~0x40 : image[a] | 0x40
        }
    }

    /// The byte at `address` (tests read what vigil wrote).
    public func byte(at address: Int) -> UInt8 { image[address] }

    private func zeroOutputs() {
        for d in devices { for a in d.outputOffset..<(d.outputOffset + d.outputLength) { image[a] = 0 } }
    }

    fileprivate func index(of h: Handle) -> Int? { handles.firstIndex { $0.id == ObjectIdentifier(h) } }

    fileprivate func restartWatchdog(_ h: Handle) {
        guard let i = index(of: h), handles[i].durationMs > 0 else { return }
        handles[i].deadline = clock.now.advanced(byNanoseconds: Int64(handles[i].durationMs) * 1_000_000)
    }

    fileprivate func setWatchdog(_ h: Handle, milliseconds: Int) {
        guard let i = index(of: h) else { return }
        handles[i].durationMs = milliseconds
        handles[i].deadline = clock.now.advanced(byNanoseconds: Int64(milliseconds) * 1_000_000)
    }

    /// piControlMain.c, piControlRelease(): a handle with an armed watchdog sets every output to 0
    /// as it closes.
    fileprivate func release(_ h: Handle) {
        guard let i = index(of: h) else { return }
        if handles[i].durationMs > 0 { zeroOutputs() }
        handles.remove(at: i)
    }

    fileprivate func find(_ name: String) throws(HALError) -> PiControlVariable? {
        guard running else { throw HALError(errno: 11, operation: "picontrol find variable") }
        return variables[name]
    }

    /// piControlMain.c, KB_GET_VALUE: EAGAIN when not running, EINVAL past the image; bit ≥ 8 reads
    /// the whole byte.
    fileprivate func get(address: UInt16, bit: UInt8) throws(HALError) -> UInt8 {
        guard running else { throw HALError(errno: 11, operation: "picontrol get value") }
        guard Int(address) < Self.imageBytes else { throw HALError(errno: 22, operation: "picontrol get value") }
        let byte = image[Int(address)]
        return bit >= 8 ? byte : (byte >> bit) & 1
    }

    /// piControlMain.c, KB_SET_VALUE: the same checks, a read-modify-write of one byte, then the
    /// handle's watchdog restarts.
    fileprivate func set(_ h: Handle, address: UInt16, bit: UInt8, value: UInt8) throws(HALError) {
        if failingWrites.count > 0 {
            failingWrites.count -= 1
            throw HALError(errno: failingWrites.errno, operation: "picontrol set value")
        }
        guard running else { throw HALError(errno: 11, operation: "picontrol set value") }
        guard Int(address) < Self.imageBytes else { throw HALError(errno: 22, operation: "picontrol set value") }
        var byte = image[Int(address)]
        if bit >= 8 { byte = value } else if value != 0 { byte |= 1 << bit } else { byte &= ~(1 << bit) }
        image[Int(address)] = byte
        restartWatchdog(h)
    }

    /// One open handle on the model; closing it (`close()` or its last reference going) is what
    /// the kernel does for a process that exits or is killed.
    public final class Handle: PiControlImage {
        let model: PiControlModel
        public private(set) var isOpen = true

        init(model: PiControlModel) { self.model = model }
        deinit { close() }

        public func close() {
            guard isOpen else { return }
            isOpen = false
            model.release(self)
        }

        public func findVariable(named name: String) throws(HALError) -> PiControlVariable? {
            guard isOpen else { throw HALError(errno: 9, operation: "picontrol find variable") }
            return try model.find(name)
        }

        public func bit(address: UInt16, bit: UInt8) throws(HALError) -> Bool {
            guard isOpen else { throw HALError(errno: 9, operation: "picontrol get value") }
            return try model.get(address: address, bit: bit) != 0
        }

        public func setBit(address: UInt16, bit: UInt8, to value: Bool) throws(HALError) {
            guard isOpen else { throw HALError(errno: 9, operation: "picontrol set value") }
            try model.set(self, address: address, bit: bit, value: value ? 1 : 0)
        }

        public func setOutputWatchdog(milliseconds: Int) throws(HALError) {
            guard isOpen else { throw HALError(errno: 9, operation: "picontrol output watchdog") }
            model.setWatchdog(self, milliseconds: milliseconds)
        }
    }
}
