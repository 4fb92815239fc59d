import VigilHAL
import VigilParts

/// What an identity register said.
public struct PartIdentification: Sendable, Equatable {
    /// The byte read from the part's identity register.
    public var value: UInt8
    /// Whether it is the part's.
    public var matches: Bool
}

extension I2CPart {
    /// Reads the part's identity register at `address` (one SMBus read-byte, which changes no
    /// state on any part vigil knows).
    public static func identify<Bus: I2CBus>(on bus: Bus, address: UInt8) throws(HALError) -> PartIdentification {
        let value = try bus.readByte(address: address, register: identity.register)
        return PartIdentification(value: value, matches: identity.matches(value))
    }
}
