import VigilBase
import VigilHAL
import VigilParts

/// A digital thermometer on I2C, read at its poll interval. Each part's driver is a final
/// subclass in a file of its own (`PARTDriver.swift`); the base methods are never reached.
public class ThermometerDriver<Bus: I2CBus> {
    public let bus: Bus
    public let address: UInt8

    init(bus: Bus, address: UInt8) {
        self.bus = bus
        self.address = address
    }

    /// Checks the part and programs its conversions.
    public func start() throws(HALError) { throw HALError(.unsupported, operation: "thermometer start") }
    /// The last converted temperature, °C.
    public func readCelsius() throws(HALError) -> Double { throw HALError(.unsupported, operation: "thermometer read") }
}

/// A thermometer part with a driver, registered by its driver file.
public protocol ThermometerDriverPart: ThermometerPart {
    static func makeDriver<Bus: I2CBus>(bus: Bus, address: UInt8) -> ThermometerDriver<Bus>
}
