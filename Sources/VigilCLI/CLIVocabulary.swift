import VigilCommandLine
import VigilBoard
import VigilDSP
import VigilFrames
import VigilHAL
import VigilInterlock
import VigilParts

/// A profile vocabulary the CLI parses with the same spellings (`--bias pull-up` as
/// `bias = "pull-up"`). Case-insensitive, so `--order abcd` reads as `ABCD`.
public protocol CLIChoice: ProfileChoice, ExpressibleByArgument {}

extension CLIChoice {
    public init?(argument: String) {
        guard let value = Self.allCases.first(where: { $0.rawValue.lowercased() == argument.lowercased() }) else { return nil }
        self = value
    }
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }

    /// Spellings that do not parse back to their own case (the CLI's checks want none).
    static func spellingsThatDoNotRoundTrip() -> [String] {
        allCases.compactMap { c in Self(argument: c.rawValue)?.rawValue == c.rawValue ? nil : c.rawValue }
    }
}

extension BoardIdentity.Backend: CLIChoice {}
extension LineBias: CLIChoice {}
extension Edge: CLIChoice {}
extension SerialParity: CLIChoice {}
extension SerialPortSpec.DirectionControl: CLIChoice {}
extension ModbusTable: CLIChoice {}
extension ModbusValueType: CLIChoice {}
extension ModbusByteOrder: CLIChoice {}
extension AccelerometerAxis: CLIChoice {}
extension WindowKind: CLIChoice {}
extension ISOZoneBoundaries.Foundation: CLIChoice {}
extension BandPlan.Mode: CLIChoice {}
extension OutputKind: CLIChoice {}
extension InterlockAction: CLIChoice {}
extension InterlockRule.Comparison: CLIChoice {}
extension ResetSource: CLIChoice {}
extension UplinkSpec.Kind: CLIChoice {}
extension MQTTSpec.Version: CLIChoice {}
extension LineFraming: CLIChoice {}

/// Every profile vocabulary the CLI parses (``ProfileVocabulary/choices`` that conform above).
enum CLIVocabulary {
    static var choices: [any CLIChoice.Type] { ProfileVocabulary.choices.compactMap { $0 as? any CLIChoice.Type } }
}
