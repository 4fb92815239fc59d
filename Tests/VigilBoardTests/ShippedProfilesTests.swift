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
        for name in ["simulator", "raspberry-pi-4", "raspberry-pi-5", "raspberry-pi-zero-2w", "raspberry-pi-cm4-io", "revolution-pi-connect-4", "beagleplay"] {
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

    /// Issue 22 (13): each board's device-tree model string (as /proc/device-tree/model reads on it)
    /// and compatible list pick exactly one shipped profile, the right one; a CM4S (the CM3 form
    /// factor) picks none. A Revolution Pi Connect 4 keeps the CM4's model string; only KUNBUS's
    /// overlay's compatible entry tells it from a CM4 IO Board (both matched before).
    @Test(arguments: [
        ("Raspberry Pi Compute Module 4 Rev 1.0", "brcm,bcm2711", "raspberry-pi-cm4-io"),
        ("Raspberry Pi Compute Module 4 Rev 1.1", "raspberry,4-compute-module brcm,bcm2711", "raspberry-pi-cm4-io"),
        ("Raspberry Pi Compute Module 4 Rev 1.1", "kunbus,revpi-connect4 brcm,bcm2711", "revolution-pi-connect-4"),
        ("Raspberry Pi Compute Module 4 Rev 1.0", "kunbus,revpi-connect4 brcm,bcm2711", "revolution-pi-connect-4"),
        ("Raspberry Pi 4 Model B Rev 1.5", "raspberrypi,4-model-b brcm,bcm2711", "raspberry-pi-4"), ("Raspberry Pi 400 Rev 1.1", "", "raspberry-pi-4"),
        ("Raspberry Pi 5 Model B Rev 1.0", "raspberrypi,5-model-b brcm,bcm2712", "raspberry-pi-5"), ("Raspberry Pi Compute Module 4S Rev 1.0", "", ""),
        ("Raspberry Pi Compute Module 4S Rev 1.0", "kunbus,revpi-connect4", ""),
    ])
    func aModelStringPicksOneProfile(model: String, compatible: String, board: String) throws {
        let dir = TestPaths.makeTemporaryDirectory("vigil-model")
        defer { TestPaths.removeTree(dir) }
        TestPaths.writeFile(dir + "/model", model + "\u{0}")
        // As the kernel writes it: each string NUL-terminated.
        TestPaths.writeFile(dir + "/compatible", compatible.split(separator: " ").map { $0 + "\u{0}" }.joined())
        let result = BoardDetector.detect(modelFile: dir + "/model", compatibleFile: dir + "/compatible", boardsDirectory: Self.boards)
        #expect(result.invalid.isEmpty, "\(result.invalid)")
        #expect(result.matches.map(\.board) == (board.isEmpty ? [] : [board]), "\(model) [\(compatible)]: \(result.matches.map(\.board))")
    }

    /// The agent refuses a profile whose compatible list the board does not carry (the Connect 4
    /// profile on a CM4 IO Board would drive piControl that is not there), and says why.
    @Test func aProfileThatNeedsACompatibleStringIsRefusedWithoutIt() throws {
        let connect4 = try BoardProfileLoader.load(path: Self.boards + "/revolution-pi-connect-4.toml").profile.board
        let model = "Raspberry Pi Compute Module 4 Rev 1.1"
        #expect(BoardDetector.misfit(connect4, model: model, compatible: ["kunbus,revpi-connect4", "brcm,bcm2711"]) == nil)
        let refused = try #require(BoardDetector.misfit(connect4, model: model, compatible: ["raspberrypi,4-compute-module", "brcm,bcm2711"]))
        #expect(refused.contains("kunbus,revpi-connect4"), "\(refused)")
        #expect(BoardDetector.misfit(connect4, model: "Raspberry Pi 4 Model B Rev 1.5", compatible: ["kunbus,revpi-connect4"]) != nil)
        #expect(BoardDetector.misfit(connect4, model: nil, compatible: []) != nil)
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

/// Issue 22 (12): the shipped profiles' pins and the comments beside them, against the boards' own
/// documentation (facts copied here as data, with their source).
@Suite struct BoardPinFactsTests {
    static func text(_ name: String) -> String { TestPaths.readText(ShippedProfilesTests.boards + "/" + name) ?? "" }

    /// k3-am625-beagleplay.dts (Linux, arch/arm64/boot/dts/ti), `&main_gpio1` gpio-line-names 7…14.
    static let beaglePlayMainGPIO1Names: [Int: String] = [
        7: "MIKROBUS_GPIO1_7", 8: "MIKROBUS_GPIO1_8", 9: "MIKROBUS_GPIO1_9", 10: "MIKROBUS_GPIO1_10",
        11: "MIKROBUS_GPIO1_11", 12: "MIKROBUS_GPIO1_12", 13: "MIKROBUS_W1_GPIO0", 14: "MIKROBUS_GPIO1_14",
    ]
    /// BeagleBoard.org's BeaglePlay documentation, mikroBUS pins (GPIO1 line → mikroBUS pin).
    static let beaglePlayMikroBUSPins: [Int: String] = [11: "PWM", 9: "INT", 13: "CS", 12: "RST", 10: "AN"]
    /// The same dts: the mikroBUS pins its default pinmux puts in GPIO mode.
    static let beaglePlayMuxedAsGPIO: Set<Int> = [9, 10, 12]

    @Test func everyBeaglePlayLineIsNamedByItsDeviceTreeAndLabelledWithItsMikroBUSPin() throws {
        let lines = Self.text("beagleplay.toml").split(separator: "\n")
        var used = 0
        for line in lines {
            guard let range = line.firstRange(of: "line = \"") else { continue }
            let name = line[range.upperBound...].prefix { $0 != "\"" }
            guard name.hasPrefix("MIKROBUS") else { continue }
            used += 1
            let offset = try #require(Self.beaglePlayMainGPIO1Names.first { $0.value == name }?.key,
                                      "\(name) is not a line name in the BeaglePlay device tree's main_gpio1")
            let pin = try #require(Self.beaglePlayMikroBUSPins[offset], "GPIO1_\(offset) is not a mikroBUS pin")
            let comment = line.firstRange(of: "#").map { String(line[$0.lowerBound...]) } ?? ""
            #expect(comment.contains("mikroBUS \(pin)"), "\(name) (GPIO1_\(offset)) is the mikroBUS \(pin) pin; its comment says: \(comment)")
            for other in Self.beaglePlayMikroBUSPins.values where other != pin {
                #expect(!comment.contains("mikroBUS \(other) "), "\(name)'s comment names the \(other) pin")
            }
            if !Self.beaglePlayMuxedAsGPIO.contains(offset) {
                #expect(comment.contains("overlay"), "GPIO1_\(offset) is not in GPIO mode in the stock device tree; the comment must say so")
            }
        }
        #expect(used == 5)
        // The header's pin list agrees with the table.
        let header = Self.text("beagleplay.toml")
        for (offset, pin) in Self.beaglePlayMikroBUSPins {
            #expect(header.contains("\(pin) pin  (GPIO1_\(offset))") || header.contains("\(pin) pin (GPIO1_\(offset))")
                        || header.contains("DE/RE on the \(pin) pin"), "the header does not place \(pin) at GPIO1_\(offset)")
        }
    }

    /// The Raspberry Pi 40-pin header: BCM GPIO → physical pin (Raspberry Pi documentation, "GPIO
    /// and the 40-pin header").
    static let piHeader: [Int: Int] = [
        2: 3, 3: 5, 4: 7, 17: 11, 27: 13, 22: 15, 10: 19, 9: 21, 11: 23, 0: 27, 5: 29, 6: 31, 13: 33, 19: 35, 26: 37,
        14: 8, 15: 10, 18: 12, 23: 16, 24: 18, 25: 22, 8: 24, 7: 26, 1: 28, 12: 32, 16: 36, 20: 38, 21: 40,
    ]

    @Test(arguments: ["raspberry-pi-4.toml", "raspberry-pi-5.toml", "raspberry-pi-zero-2w.toml", "raspberry-pi-cm4-io.toml"])
    func everyRaspberryPiPinInAProfileIsWhereTheHeaderHasIt(_ file: String) throws {
        let text = Self.text(file)
        var checked = 0
        // "GPIO23 [16]" and "GPIO2/3 [3,5]" in the comments.
        for match in text.matches(of: /GPIO(\d+)(?:\/(\d+))? +\[(\d+)(?:, *(\d+))?\]/) {
            let gpios = [match.output.1, match.output.2].compactMap { $0.flatMap { Int($0) } }
            let pins = [match.output.3, match.output.4].compactMap { $0.flatMap { Int($0) } }
            #expect(gpios.count == pins.count, "\(file): \(match.output.0)")
            for (g, p) in zip(gpios, pins) {
                checked += 1
                #expect(Self.piHeader[g] == p, "\(file): GPIO\(g) is on pin \(Self.piHeader[g].map(String.init) ?? "none"), not \(p)")
            }
        }
        #expect(checked >= 6, "\(file): no pins found in its comments")
        // Every line the profile uses is a header GPIO, and its pin is listed in the comments.
        for match in text.matches(of: /line = "GPIO(\d+)"/) {
            let g = Int(match.output.1)!
            let pin = try #require(Self.piHeader[g], "\(file): GPIO\(g) is not on the 40-pin header")
            #expect(text.contains("GPIO\(g) [\(pin)]") || text.contains("GPIO\(g)  [\(pin)]"), "\(file): GPIO\(g) is used but its pin [\(pin)] is not in the wiring comment")
        }
    }
}
