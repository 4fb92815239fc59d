#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Testing
import TestSupport
import VigilBoard
@testable import VigilCLI
import VigilBase

/// `vigil board …` run as a technician would: the built binary, its output and exit status.
@Suite struct BoardCommandTests {
    let root = TestPaths.repositoryRoot

    func vigil(_ arguments: [String], input: String? = nil) throws -> ChildProcess.Result {
        try ChildProcess.run(TestPaths.vigilBinary, arguments, input: input, directory: root, timeoutSeconds: 60)
    }

    @Test func validateAcceptsEveryShippedProfile() throws {
        let files = TestPaths.list(root + "/Boards").filter { $0.hasSuffix(".toml") }.map { "Boards/" + $0 }
        let r = try vigil(["board", "validate"] + files)
        #expect(r.status == 0, "\(r.output)")
        #expect(r.stdout.split(separator: "\n").filter { $0.contains(": ok (board ") }.count == files.count)
    }

    @Test func validateReportsFileLineKeyAndExitsWithTwo() throws {
        let r = try vigil(["board", "validate", "Tests/VigilBoardTests/Corpus/13-adxl345-rate.toml"])
        #expect(r.status == ExitStatus.badInput.rawValue)
        #expect(r.stderr.contains("Tests/VigilBoardTests/Corpus/13-adxl345-rate.toml:25: sensors[0].sample_rate_hz: is 3000"), "\(r.stderr)")
        #expect(!r.stderr.contains("Fatal error"))
    }

    @Test func validateJSONListsEveryError() throws {
        let r = try vigil(["board", "validate", "--json", "Tests/VigilBoardTests/Corpus/15-modbus-overlap.toml"])
        #expect(r.status == 2)
        let report = try JSONDecoder().decode(ValidationReport.self, from: Data(r.stdout.utf8))
        #expect(report.valid == false)
        #expect(report.errors.first?.line == 55)
        #expect(report.errors.first?.key == "sensors[2].registers[1].address")
    }

    @Test func showJSONRoundTripsToTheSameProfile() throws {
        for name in ["simulator", "raspberry-pi-5"] {
            let r = try vigil(["board", "show", "--json", "Boards/\(name).toml"])
            #expect(r.status == 0)
            let shown = try JSONDecoder().decode(EffectiveProfile.self, from: Data(r.stdout.utf8))
            let loaded = try BoardProfileLoader.load(path: root + "/Boards/\(name).toml")
            #expect(shown.profile == loaded.profile)
            #expect(shown.channels == loaded.channels.channels)
            #expect(shown.sha256 == loaded.sha256.hexString)
        }
    }

    @Test func showPrintsChannelsAndRulesForHumans() throws {
        let r = try vigil(["board", "show", "Boards/simulator.toml"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("bearing.x.velocity_rms"))
        #expect(r.stdout.contains("bearing-x-velocity-trip: bearing.x.velocity_rms > 4.5 mm/s (release 4)"))
    }

    @Test func detectPicksTheMostSpecificProfile() throws {
        let dir = TestPaths.makeTemporaryDirectory()
        defer { TestPaths.removeTree(dir) }
        TestPaths.writeFile(dir + "/model", bytes: Array("Raspberry Pi 4 Model B Rev 1.4".utf8) + [0])
        let r = try vigil(["board", "detect", "--boards", "Boards", "--model-file", dir + "/model"])
        #expect(r.status == 0, "\(r.output)")
        #expect(r.stdout.contains("Boards/raspberry-pi-4.toml (board raspberry-pi-4)"))

        TestPaths.writeFile(dir + "/model", bytes: Array("Some Other Board".utf8) + [0])
        let none = try vigil(["board", "detect", "--boards", "Boards", "--model-file", dir + "/model", "--json"])
        #expect(none.status == 1)
        let result = try JSONDecoder().decode(BoardDetector.Result.self, from: Data(none.stdout.utf8))
        #expect(result.model == "Some Other Board")
        #expect(result.matches.isEmpty)
    }

    @Test func badProfilesNeverCrash() throws {
        let dir = TestPaths.makeTemporaryDirectory()
        defer { TestPaths.removeTree(dir) }
        let cases: [(String, [UInt8])] = [
            ("empty", []), ("bom", [0xEF, 0xBB, 0xBF] + Array("schema = 1\n".utf8)), ("crlf", Array("schema = 1\r\n".utf8)),
            ("binary", [0x7F, 0x45, 0x4C, 0x46, 0, 0, 1]), ("not-toml", Array("[[[\n".utf8)),
            ("huge", [UInt8](repeating: 0x23, count: (1 << 20) + 1)),
        ]
        for (name, bytes) in cases {
            TestPaths.writeFile(dir + "/\(name).toml", bytes: bytes)
            let r = try vigil(["board", "validate", dir + "/\(name).toml"])
            #expect(r.status == 2, "\(name): \(r.output)")
            #expect(r.stderr.hasPrefix(dir + "/\(name).toml"), "\(name): \(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 2, "\(name): one diagnostic and one summary line, got \(r.stderr)")
        }
        let missing = try vigil(["board", "validate", dir + "/absent.toml"])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("no such file"))
    }
}

@Suite struct ExitStatusTests {
    func vigil(_ arguments: [String]) throws -> ChildProcess.Result {
        try ChildProcess.run(TestPaths.vigilBinary, arguments, directory: TestPaths.repositoryRoot)
    }

    @Test func exitCodesAreStable() {
        #expect(ExitStatus.allCases.map(\.rawValue) == [0, 1, 2, 3, 4, 5])
    }

    @Test func unknownSubcommandsAndFlagsAreBadInput() throws {
        let sub = try vigil(["frobnicate"])
        #expect(sub.status == 2)
        #expect(sub.stderr.contains("frobnicate"))
        #expect(!sub.stderr.contains("Stack"))
        let flag = try vigil(["board", "validate", "--no-such-flag", "x.toml"])
        #expect(flag.status == 2)
        #expect(flag.stderr.contains("--no-such-flag"))
    }

    @Test func helpAndVersionSucceed() throws {
        let help = try vigil(["--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("USAGE: vigil"))
        #expect(help.stdout.split(whereSeparator: { $0 == " " || $0 == "\n" }).joined(separator: " ").contains("does not replace them"))
        let version = try vigil(["--version"])
        #expect(version.status == 0)
        #expect(version.stdout.hasPrefix(VigilVersion.string))
    }
}
