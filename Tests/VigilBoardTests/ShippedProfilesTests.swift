#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Testing
import TestSupport
import VigilBase
import VigilParts
@testable import VigilBoard

@Suite struct ShippedProfilesTests {
    static let boards = TestPaths.repositoryRoot + "/Boards"
    static let files = TestPaths.list(boards).filter { $0.hasSuffix(".toml") }

    @Test func theProfilesTheProjectPromisesAreShipped() {
        for name in ["simulator", "raspberry-pi-4", "raspberry-pi-5", "raspberry-pi-zero-2w", "beagleplay"] {
            #expect(Self.files.contains(name + ".toml"), "Boards/\(name).toml is missing")
        }
    }

    @Test(arguments: files)
    func everyShippedProfileValidates(_ name: String) throws {
        let loaded = try BoardProfileLoader.load(path: Self.boards + "/" + name)
        #expect(loaded.profile.board.name + ".toml" == name, "a profile's board.name should match its file name")
        #expect(loaded.sha256.count == 32)
        // Every rule resolves to a channel of a matching dimension.
        for rule in loaded.profile.rules {
            let channel = try #require(loaded.channels[rule.channel])
            #expect(rule.unit.isConvertible(to: channel.unit))
        }
    }

    @Test(arguments: files)
    func effectiveProfileRoundTripsThroughJSON(_ name: String) throws {
        let loaded = try BoardProfileLoader.load(path: Self.boards + "/" + name)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(loaded.profile)
        let decoded = try JSONDecoder().decode(BoardProfile.self, from: data)
        #expect(decoded == loaded.profile)
        let catalog = try JSONDecoder().decode(ChannelCatalog.self, from: try encoder.encode(loaded.channels))
        #expect(catalog == loaded.channels)
    }

    @Test func linuxProfilesUseStableNamesNotNumberedDevices() throws {
        for name in Self.files {
            let loaded = try BoardProfileLoader.load(path: Self.boards + "/" + name)
            guard loaded.profile.board.backend == .linux else { continue }
            #expect(!loaded.profile.board.models.isEmpty, "\(name) needs model strings for `board detect`")
            for chip in loaded.profile.gpioChips { #expect(!chip.label.hasPrefix("gpiochip"), "\(name): find chips by label, not number") }
            for bus in loaded.profile.i2cBuses {
                if let path = bus.path { #expect(!path.hasPrefix("/dev/i2c-") || !path.dropFirst(9).allSatisfy(\.isNumber), "\(name): \(path) is a numbered bus") }
            }
        }
    }

    @Test func simulatorProfileDefaultsAreFilledIn() throws {
        let loaded = try BoardProfileLoader.load(path: Self.boards + "/simulator.toml")
        let p = loaded.profile
        #expect(p.board.backend == .simulated)
        #expect(p.realtime.periodMicroseconds == 1000)
        #expect(p.simulation?.seed == 7)
        guard case .accelerometer(let a)? = p.sensors.first?.kind else { Issue.record("first sensor should be the accelerometer"); return }
        #expect(a.axes == [.x, .y, .z])
        #expect(a.analysis.blockLength == 1024)
        #expect(a.sampleRateHz == 800, "the fastest rate the ADXL345 datasheet allows on I2C")
        // Channel ids are dense and 1-based, in sensor order.
        #expect(loaded.channels.channels.map(\.id) == Array(1...loaded.channels.channels.count))
        #expect(loaded.channels["bearing.x.velocity_rms"]?.unit == .millimetersPerSecond)
        #expect(loaded.channels["interlock.state"] != nil)
    }
}
