import VigilBase
import VigilHAL
import VigilParts

/// An I2C ADC read at its poll interval. Each part's driver is a final subclass in a file of its
/// own (`PARTDriver.swift`); the base methods are never reached (every part overrides them).
public class AnalogInputDriver<Bus: I2CBus> {
    public let bus: Bus
    public let address: UInt8
    public let settings: AnalogInputSettings

    init(bus: Bus, address: UInt8, settings: AnalogInputSettings) {
        self.bus = bus
        self.address = address
        self.settings = settings
    }

    /// Checks the part and programs input, range, rate and mode (single-shot: starts the first conversion).
    public func start() throws(HALError) { throw HALError(.unsupported, operation: "analog input start") }
    /// The newest conversion, V at the input (single-shot: the one started by the previous call,
    /// and the next one started).
    public func readVolts() throws(HALError) -> Double { throw HALError(.unsupported, operation: "analog input read") }
}

/// What a profile asks of an ADC input.
public struct AnalogInputSettings: Sendable, Equatable {
    public var input: String
    public var fullScaleVolts: Double
    public var dataRateSPS: Int
    public var continuous: Bool
    public init(input: String, fullScaleVolts: Double, dataRateSPS: Int, continuous: Bool) {
        self.input = input
        self.fullScaleVolts = fullScaleVolts
        self.dataRateSPS = dataRateSPS
        self.continuous = continuous
    }
}

/// An analog-input part with a driver, registered by its driver file.
public protocol AnalogInputDriverPart: AnalogInputPart {
    /// - Throws: `.invalidArgument` for an input, range or rate the part does not have.
    static func makeDriver<Bus: I2CBus>(bus: Bus, address: UInt8, settings: AnalogInputSettings) throws(HALError) -> AnalogInputDriver<Bus>
}
