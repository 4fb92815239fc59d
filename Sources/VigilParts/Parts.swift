/// Every part vigil drives, one line each. Adding a part: docs/adding-a-sensor.md.
public enum Parts {
    public static let all: [any SensorPart.Type] = [
        ADXL345.self,
        LIS3DH.self,
        TMP102.self,
        ADS1115.self,
    ]

    /// The part a profile's `type` names.
    public static func named(_ typeName: String) -> (any SensorPart.Type)? { all.first { $0.typeName == typeName } }

    /// Every part's `type` key, in registration order.
    public static var typeNames: [String] { all.map { $0.typeName } }

    /// The parts on I2C.
    public static var onI2C: [any I2CPart.Type] { all.compactMap { $0 as? any I2CPart.Type } }
}
