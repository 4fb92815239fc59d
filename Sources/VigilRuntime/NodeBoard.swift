import VigilBase
import VigilBoard
import VigilHAL

/// The hardware a node runs on, found by the names its profile gives it: the I2C buses of
/// `[i2c.NAME]`, the GPIO chips of `[gpio.NAME]`, the Modbus ports of `[serial.NAME]` and
/// `[modbus_tcp.NAME]`, a serial line for a serial uplink, and the clocks its samples are stamped
/// with. One implementation drives the kernel's devices (`VigilBoardLinux.LinuxBoard`), one
/// register-level device models (`VigilBoardSimulated.SimulatedBoard`). Only the agent's start-up
/// and tests choose; the node cycle, the assembly and the agent are generic over the choice, so
/// the cycle calls drivers through static dispatch once specialised for a board.
public protocol NodeBoard: AnyObject {
    associatedtype Bus: I2CBus
    associatedtype Chip: GPIOChip
    associatedtype Modbus: ModbusClient
    associatedtype Serial: SerialPort

    /// The profile the board was opened for.
    var loaded: LoadedProfile { get }
    /// The bus of `[i2c.NAME]`, opened once and shared by every sensor on it.
    func i2cBus(_ name: String) throws(NodeError) -> Bus
    /// The chip of `[gpio.NAME]`, opened once.
    func gpioChip(_ name: String) throws(NodeError) -> Chip
    /// A client for the Modbus port `[serial.NAME]` or `[modbus_tcp.NAME]` (one per port: its
    /// poller owns it).
    func modbusClient(port name: String) throws(NodeError) -> Modbus
    /// An input of a device a kernel driver owns, by its hwmon device name and attribute.
    /// Throws `.noDevice` while no such device is bound (the slot looks again later).
    func hwmonInput(device: String, attribute: String) throws(HALError) -> any HwmonInput
    /// The input of a kernel-driven sensor through the interface its profile names (hwmon, or an
    /// IIO channel). The default serves hwmon only.
    func kernelInput(_ spec: HwmonSpec) throws(HALError) -> any HwmonInput
    /// The serial line of a serial uplink.
    func serialPort(device: String, baud: Int) throws(HALError) -> Serial
    /// The clock `[i2c.NAME]`'s adapter really runs at, where the system says (a device-tree
    /// property); nil where it does not, and the profile's `clock_hz` stands.
    func i2cClockHz(_ name: String) -> Int?
    /// The chips opened so far, by profile name (for the control socket's `gpio` commands).
    var openChips: [(name: String, chip: Chip)] { get }
    /// The monotonic clock the loop and the node's samples run on.
    func monotonicNow() -> MonotonicInstant
    /// The wall clock the node's samples are stamped with.
    func wallClock() -> WallClockTime
    /// Whether that wall clock is synchronised.
    func clockSyncState() -> ClockSyncState
    /// The Modbus pollers' time line (their own thread).
    func pollerTimestamp() -> Timestamp
}

extension NodeBoard {
    public func kernelInput(_ spec: HwmonSpec) throws(HALError) -> any HwmonInput {
        guard spec.interface == .hwmon else { throw HALError(.unsupported, code: 95, operation: "iio input on this board") }
        return try hwmonInput(device: spec.device, attribute: spec.attribute)
    }
}

/// Why a node could not be assembled or started.
public enum NodeError: Error, CustomStringConvertible {
    case sensor(name: String, HALError)
    case hardware(what: String, HALError)
    case profile(String)

    public var description: String {
        switch self {
        case .sensor(let name, let e): return "sensor \(name): \(e)"
        case .hardware(let what, let e): return "\(what): \(e)"
        case .profile(let text): return text
        }
    }

    /// The HAL error behind it, if any (permission problems get a hint about group `vigil`).
    public var halError: HALError? {
        switch self {
        case .sensor(_, let e), .hardware(_, let e): return e
        case .profile: return nil
        }
    }
}
