import VigilHAL

/// A hwmon attribute of a simulated kernel driver: its value from a closure (the machine
/// scenario), and a device that tests can unbind (`removed`), after which reads fail as the
/// kernel's do (ENODEV) until it is bound again.
public final class SimulatedHwmonInput: HwmonInput {
    public var value: () -> Int64
    public var removed = false
    public init(value: @escaping () -> Int64) { self.value = value }
    public func read() throws(HALError) -> Int64 {
        if removed { throw HALError(.noDevice, code: 19, operation: "hwmon read") }
        return value()
    }
}
