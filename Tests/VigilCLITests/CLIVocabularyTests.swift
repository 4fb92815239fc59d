import VigilCommandLine
import Testing
import VigilBoard
import VigilHAL
@testable import VigilCLI

/// One vocabulary: every closed set of spellings a profile accepts is one enum, and the CLI
/// parses exactly those spellings.
@Suite struct CLIVocabularyTests {
    @Test func everyProfileVocabularyIsOneTheCLIParses() {
        let profile = Set(ProfileVocabulary.choices.map { String(reflecting: $0) })
        let cli = Set(CLIVocabulary.choices.map { String(reflecting: $0) })
        #expect(profile == cli, "the CLI cannot parse: \(profile.subtracting(cli))")
        #expect(profile.count == ProfileVocabulary.choices.count, "a vocabulary is listed twice")
    }

    @Test func everySpellingRoundTripsThroughArgumentParsing() {
        for choice in CLIVocabulary.choices {
            #expect(choice.spellingsThatDoNotRoundTrip().isEmpty, "\(choice): \(choice.spellingsThatDoNotRoundTrip())")
        }
    }

    @Test func theCommandsTakeTheProfilesSpellings() throws {
        let get = try #require(try VigilCommand.parseAsRoot(["gpio", "get", "ESTOP_FB", "--bias", "pull-up"]) as? GPIOGet)
        #expect(get.bias == .pullUp)
        let read = try #require(try VigilCommand.parseAsRoot(["modbus", "read", "--device", "/dev/null", "--address", "5", "--function", "input",
                                                              "--type", "float32", "--order", "CDAB", "--parity", "even"]) as? ModbusRead)
        #expect(read.function == .inputRegisters && read.type == .float32 && read.order == .cdab && read.port.parity == .even)
        // The lower-case spelling the CLI always took still reads.
        let lower = try #require(try VigilCommand.parseAsRoot(["modbus", "read", "--device", "/dev/null", "--address", "5", "--order", "badc"]) as? ModbusRead)
        #expect(lower.order == .badc)
        #expect(throws: (any Error).self) { try VigilCommand.parseAsRoot(["gpio", "get", "X", "--bias", "pull-sideways"]) }
    }
}
