import VigilDSP
import VigilFrames
import VigilHAL
import VigilInterlock
import VigilParts

/// A closed set of spellings a profile key accepts (`backend = "linux" | "simulated"`). Each is
/// one enum, defined once where its meaning lives (the HAL's line bias, the DSP's windows, the
/// interlock's actions, …), and the CLI parses the same spellings (`VigilCLI`'s conformances).
public protocol ProfileChoice: RawRepresentable, CaseIterable, Sendable where RawValue == String {}

extension ProfileChoice {
    /// `"a", "b", "c"` for messages.
    static var spellings: String { allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ") }
}

extension BoardIdentity.Backend: ProfileChoice {}
extension LineBias: ProfileChoice {}
extension GPIOChipSpec.Driver: ProfileChoice {}
extension Edge: ProfileChoice {}
extension SerialParity: ProfileChoice {}
extension SerialPortSpec.DirectionControl: ProfileChoice {}
extension ModbusTable: ProfileChoice {}
extension ModbusValueType: ProfileChoice {}
extension ModbusByteOrder: ProfileChoice {}
extension AccelerometerAxis: ProfileChoice {}
extension WindowKind: ProfileChoice {}
extension ISOZoneBoundaries.Foundation: ProfileChoice {}
extension BandPlan.Mode: ProfileChoice {}
extension OutputKind: ProfileChoice {}
extension InterlockAction: ProfileChoice {}
extension InterlockRule.Comparison: ProfileChoice {}
extension UplinkSpec.Kind: ProfileChoice {}
extension MQTTSpec.Version: ProfileChoice {}
extension LineFraming: ProfileChoice {}
extension ResetSource: ProfileChoice {}

/// Every closed vocabulary a profile uses, for the checks that the CLI spells them the same.
public enum ProfileVocabulary {
    public static let choices: [any ProfileChoice.Type] = [
        BoardIdentity.Backend.self, LineBias.self, Edge.self, SerialParity.self, SerialPortSpec.DirectionControl.self,
        ModbusTable.self, ModbusValueType.self, ModbusByteOrder.self, AccelerometerAxis.self, WindowKind.self,
        ISOZoneBoundaries.Foundation.self, BandPlan.Mode.self, OutputKind.self, InterlockAction.self, InterlockRule.Comparison.self,
        UplinkSpec.Kind.self, MQTTSpec.Version.self, LineFraming.self, ResetSource.self,
    ]
}
