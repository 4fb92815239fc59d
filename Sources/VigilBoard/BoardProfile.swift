import VigilBase
import VigilHAL

/// A board profile: everything vigil needs to know about one hardware variant and the machine it
/// watches, read from a human-edited TOML file in `Boards/`. See `docs/board-profiles.md` for the
/// format, key by key.
///
/// Profiles are data, never compile-time switches: the same binary runs every board. Values here are
/// the *effective* profile: defaults are filled in, names are resolved and cross-checked.
public struct BoardProfile: Sendable, Equatable, Codable {
    /// The format version; this build reads version 1.
    public var schema: Int
    public var board: BoardIdentity
    public var asset: Asset
    public var gpioChips: [GPIOChipSpec]
    public var i2cBuses: [I2CBusSpec]
    public var serialPorts: [SerialPortSpec]
    public var modbusTCP: [ModbusTCPSpec]
    public var sensors: [SensorSpec]
    public var channelSettings: [ChannelSettings]
    public var outputs: [OutputSpec]
    public var rules: [RuleSpec]
    public var reset: ResetSpec
    public var realtime: RealtimeSpec
    public var watchdog: WatchdogSpec
    public var uplink: UplinkSpec
    public var spool: SpoolSpec
    public var control: ControlSpec
    public var simulation: SimulationSpec?

    /// The format version this build reads and writes.
    public static let currentSchema = 1

    enum CodingKeys: String, CodingKey {
        case schema, board, asset, realtime, watchdog, uplink, spool, control, simulation, sensors, outputs, rules, reset
        case gpioChips = "gpio", i2cBuses = "i2c", serialPorts = "serial", modbusTCP = "modbus_tcp"
        case channelSettings = "channels"
    }
}

/// Which hardware a profile describes and which backends drive it.
public struct BoardIdentity: Sendable, Equatable, Codable {
    /// Short name, as in the file name (`raspberry-pi-4`).
    public var name: String
    public var description: String
    /// `/proc/device-tree/model` strings (or their prefixes) that identify this board.
    public var models: [String]
    /// `/proc/device-tree/compatible` entries of which the board must list one, for a carrier
    /// whose device tree keeps the module's model string (a Revolution Pi Connect 4 reads
    /// "Raspberry Pi Compute Module 4 Rev 1.x"; only its overlay's `kunbus,revpi-connect4` tells
    /// it from a CM4 IO Board). Empty: the model alone decides.
    public var compatible: [String] = []
    public var backend: Backend

    public enum Backend: String, Sendable, Codable, CaseIterable {
        /// The kernel's GPIO, I2C and serial devices.
        case linux
        /// Register-level device models in the agent's process: no hardware needed.
        case simulated
    }
}

/// The asset the node watches, in the ISA-95 style hierarchy that topics and frames use.
public struct Asset: Sendable, Equatable, Codable {
    public var site: String
    public var area: String
    public var line: String
    public var machine: String
    /// This node's id, unique at the site.
    public var node: String
}

/// A reference to one GPIO line: the profile's name for the chip plus the line's name on it.
public struct LineRef: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The key of a `[gpio.NAME]` table.
    public var chip: String
    /// The line's name as the kernel reports it (`gpioinfo`), e.g. `GPIO17`.
    public var line: String
    public init(chip: String, line: String) { self.chip = chip; self.line = line }
    public var description: String { "\(chip):\(line)" }
}

/// A GPIO chip: a kernel GPIO chip found by its label (what `gpiodetect` prints in brackets), or
/// piControl's process image on a Revolution Pi, whose driver owns the controller's own I/O.
public struct GPIOChipSpec: Sendable, Equatable, Codable {
    public var name: String
    public var driver: Driver = .gpiochip
    /// The kernel chip's label; empty for piControl.
    public var label: String
    /// Line names the simulated chip exposes (simulated backend and test benches); empty on real
    /// boards, whose kernel (or PiCtory's configuration) names the lines.
    public var lines: [String]
    /// piControl's device node.
    public var device: String?
    /// piControl: the driver sets every output to 0 when vigil has written none for this long, and
    /// when vigil's handle closes (vigil died).
    public var outputWatchdogMilliseconds: Int?

    public enum Driver: String, Sendable, Codable, CaseIterable {
        /// A kernel GPIO chip through libgpiod.
        case gpiochip
        /// KUNBUS's piControl process image (`/dev/piControl0`): lines are PiCtory variables.
        case picontrol
    }

    public init(name: String, driver: Driver = .gpiochip, label: String, lines: [String], device: String? = nil, outputWatchdogMilliseconds: Int? = nil) {
        self.name = name
        self.driver = driver
        self.label = label
        self.lines = lines
        self.device = device
        self.outputWatchdogMilliseconds = outputWatchdogMilliseconds
    }

    enum CodingKeys: String, CodingKey {
        case name, driver, label, lines, device
        case outputWatchdogMilliseconds = "output_watchdog_ms"
    }
}

/// An I2C adapter, found by its sysfs name (`/sys/bus/i2c/devices/i2c-N/name`) or a stable path.
public struct I2CBusSpec: Sendable, Equatable, Codable {
    public var name: String
    /// The adapter's sysfs name, e.g. `bcm2835 (i2c@7e804000)`.
    public var adapter: String?
    /// A stable device path (a udev symlink such as `/dev/i2c-hat`), used when `adapter` is absent.
    public var path: String?
    /// Bus clock, for the timing budget (not set by vigil: the device tree sets it).
    public var clockHz: Int

    enum CodingKeys: String, CodingKey {
        case name, adapter, path
        case clockHz = "clock_hz"
    }
}

/// A serial port carrying RS-485 Modbus RTU (or a serial uplink).
public struct SerialPortSpec: Sendable, Equatable, Codable {
    public var name: String
    /// A udev-stable device name (`/dev/vigil-rs485`) or a kernel name (`/dev/ttyAMA0`).
    public var device: String
    public var baud: Int
    public var parity: SerialParity
    public var dataBits: Int
    public var stopBits: Int
    public var direction: DirectionControl
    /// The driver-enable line when `direction` is `gpio`.
    public var driverEnable: LineRef?
    /// The transceiver's driver is enabled by a low level (a DE line through an inverting stage,
    /// or RTS wired straight to DE on a UART whose RTS pin is active low).
    public var driverEnableActiveLow: Bool = false
    /// Delay between asserting driver-enable and the first bit, µs.
    public var turnaroundBeforeMicroseconds: Int
    /// Delay between the last bit and releasing driver-enable, µs.
    public var turnaroundAfterMicroseconds: Int

    /// How the RS-485 transceiver's driver is switched between sending and receiving.
    public enum DirectionControl: String, Sendable, Codable, CaseIterable {
        /// The UART driver toggles RTS (`TIOCSRS485`); refused by many UARTs and USB adapters.
        case kernel
        /// vigil toggles a GPIO driver-enable line around each frame.
        case gpio
        /// The adapter switches by itself (most USB-RS485 bridges).
        case auto
    }

    enum CodingKeys: String, CodingKey {
        case name, device, baud, parity, direction
        case dataBits = "data_bits", stopBits = "stop_bits", driverEnable = "de_line", driverEnableActiveLow = "de_active_low"
        case turnaroundBeforeMicroseconds = "turnaround_before_us", turnaroundAfterMicroseconds = "turnaround_after_us"
    }
}

/// A Modbus TCP server (typically a gateway in front of serial sensors).
public struct ModbusTCPSpec: Sendable, Equatable, Codable {
    public var name: String
    public var host: String
    public var port: Int
}

/// Report-by-exception and safety settings of one channel, overriding what its sensor implies.
public struct ChannelSettings: Sendable, Equatable, Codable {
    /// Full channel name (`bearing.x.velocity_rms`).
    public var name: String
    /// Change needed before a new value is reported, in the channel's unit.
    public var deadband: Double?
    /// The step of the scaled integer a frame carries, in the channel's unit.
    public var resolution: Double?
    /// Physical range; values outside are flagged `out_of_range`.
    public var rangeMin: Double?
    public var rangeMax: Double?
    /// Age after which the value is stale, ms.
    public var maxAgeMilliseconds: Int?

    enum CodingKeys: String, CodingKey {
        case name, deadband, resolution
        case rangeMin = "range_min", rangeMax = "range_max", maxAgeMilliseconds = "max_age_ms"
    }
}
