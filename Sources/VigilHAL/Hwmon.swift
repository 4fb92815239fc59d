/// One input of a device the kernel already drives, through its hwmon class interface
/// (`/sys/class/hwmon/hwmonN/temp1_input`, `in0_input`, …): an integer in the hwmon ABI's unit
/// (millidegree Celsius, millivolt, milliampere, RPM). Where a device-tree overlay has bound a
/// kernel driver (lm75, ina2xx, …) the address is the kernel's, and this is how vigil reads it.
public protocol HwmonInput: AnyObject {
    /// The attribute's value now. Throws `.noDevice` once the device is gone (unbound or
    /// removed): the attribute must be found again.
    func read() throws(HALError) -> Int64
}
