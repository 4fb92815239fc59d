import CVigilSys
import Testing
import TestSupport
import VigilBoard
import VigilBase
import VigilHAL
import VigilHALLinux
import VigilInterlock
import VigilSimulation

/// Issue 22 (13): a Revolution Pi's own I/O belongs to KUNBUS's piControl driver, so vigil drives
/// it through the process image. The model (`PiControlModel`) follows the driver's source, not
/// vigil's backend; these tests hold the backend to it.
@Suite struct PiControlTests {
    static func connect4(watchdogMilliseconds: Int = 100) -> (PiControlModel, SimulationClock, PiControlChip<PiControlModel.Handle>) {
        let clock = SimulationClock.manual()
        let model = PiControlModel.connect4(clock: clock)
        return (model, clock, PiControlChip(image: model.open(), name: "x2", outputWatchdogMilliseconds: watchdogMilliseconds))
    }

    static func output(_ chip: PiControlChip<PiControlModel.Handle>, _ line: String, activeLow: Bool = false) throws -> PiControlLine<PiControlModel.Handle> {
        let offset = try #require(try chip.offset(ofLineNamed: line))
        return try chip.requestOutput(offset: offset, consumer: "vigil", settings: OutputLineSettings(activeLow: activeLow, initialValue: false))
    }

    @Test func lineNamesArePiCtoryVariablesOrTheirBits() {
        #expect(PiControlLineName("RelayOutput_1") == PiControlLineName("RelayOutput_1"))
        #expect(PiControlLineName("RelayOutput_1")?.bitIndex == nil)
        #expect(PiControlLineName("RevPiOutput.0")?.variable == "RevPiOutput")
        #expect(PiControlLineName("RevPiLED.15")?.bitIndex == 15)
        for bad in ["", ".0", "RevPiOutput.", "RevPiOutput.32", "RevPiOutput.a", "a.b.1", "Revolution_Pi_Output_Relay_Bit_X2", "Rev Pi"] {
            #expect(PiControlLineName(bad) == nil, "\(bad)")
        }
    }

    /// The X2 relay is bit 0 of RevPiOutput (byte 6); the driver copies it to the pin in its next
    /// I/O cycle. A bit beyond the first byte of a 16-bit variable lands in its second byte.
    @Test func anOutputReachesTheRelayAtTheNextIOCycle() throws {
        let (model, _, chip) = Self.connect4()
        let relay = try Self.output(chip, "RevPiOutput.0")
        let led = try Self.output(chip, "RevPiLED.9")
        try relay.write(true)
        #expect(model.x2Relay == false, "the pin changes in the driver's cycle, not at the write")
        model.runCycle()
        #expect(model.x2Relay && model.byte(at: 6) == 0x01)
        try led.write(true)
        #expect(model.byte(at: 12) == 0x02 && model.byte(at: 11) == 0)
        #expect(try relay.readBack() && led.readBack())
        try relay.write(false)
        model.runCycle()
        #expect(!model.x2Relay && model.byte(at: 12) == 0x02, "clearing one bit keeps the others")
        // Active low inverts the bit, not the byte.
        let inverted = try Self.output(chip, "RevPiLED.2", activeLow: true)
        #expect(model.byte(at: 11) & 0x04 == 0x04, "requested off (inactive) = bit set")
        try inverted.write(true)
        #expect(model.byte(at: 11) & 0x04 == 0)
    }

    @Test func aVariableMustBeOneBitOrNamedByItsBit() throws {
        let (_, _, chip) = Self.connect4()
        #expect(throws: HALError.self) { try chip.offset(ofLineNamed: "RevPiOutput") }
        #expect(throws: HALError.self) { try chip.offset(ofLineNamed: "RevPiLED.16") }
        #expect(try chip.offset(ofLineNamed: "RelayOutput_1") == nil, "not in this configuration")
        #expect(try chip.offset(ofLineNamed: "RevPiStatus.6") == 0)
        #expect(try chip.offset(ofLineNamed: "RevPiStatus.6") == 0, "resolved once")
    }

    /// The X2 input: RevPiStatus bit 6 is set while the input GPIO reads low.
    @Test func theX2InputIsStatusBit6() throws {
        let (model, _, chip) = Self.connect4()
        let offset = try #require(try chip.offset(ofLineNamed: "RevPiStatus.6"))
        let input = try chip.requestInput(offset: offset, consumer: "vigil", settings: InputLineSettings())
        model.runCycle()
        #expect(try input.read() == false)
        model.x2InputPinHigh = false
        model.runCycle()
        #expect(try input.read() == true)
        #expect(throws: HALError.self) { try chip.requestInput(offset: offset, consumer: "vigil", settings: InputLineSettings(edges: .rising)) }
    }

    /// A frozen vigil: its writes stop, and the driver's own watchdog zeroes the outputs once the
    /// period has passed. While vigil writes every period (as the loop does) the relay holds;
    /// without the watchdog armed it would hold for ever.
    @Test(arguments: [100, 0])
    func aFrozenWriterLosesTheRelayToTheDriversWatchdog(watchdogMilliseconds: Int) throws {
        let (model, clock, chip) = Self.connect4(watchdogMilliseconds: watchdogMilliseconds)
        let relay = try Self.output(chip, "RevPiOutput.0")
        for ms in 0..<500 {
            try relay.write(true)
            clock.advance(byNanoseconds: 1_000_000)
            if ms % 5 == 0 { model.runCycle() }
        }
        #expect(model.x2Relay && model.watchdogExpiries == 0, "a healthy writer keeps the relay")
        // Frozen: no more writes. The driver checks once per cycle (every 5 ms here).
        var droppedAfter: Int?
        for ms in 1...300 {
            clock.advance(byNanoseconds: 1_000_000)
            if ms % 5 == 0 {
                model.runCycle()
                if !model.x2Relay && droppedAfter == nil { droppedAfter = ms }
            }
        }
        if watchdogMilliseconds > 0 {
            // The last write was 1 ms before the frozen stretch began.
            let sinceLastWrite = try #require(droppedAfter, "the relay held after vigil froze") + 1
            #expect(sinceLastWrite > 100 && sinceLastWrite <= 106, "dropped \(sinceLastWrite) ms after the last write")
            #expect(model.watchdogExpiries >= 1)
        } else {
            #expect(droppedAfter == nil && model.x2Relay, "no watchdog: nothing drops the relay")
        }
    }

    /// A dead vigil: the kernel closes its handle, and a handle with the watchdog armed zeroes
    /// every output as it goes (piControlRelease). The relay falls at the next cycle.
    @Test(arguments: [100, 0])
    func aDeadWriterLosesTheRelayWhenItsHandleCloses(watchdogMilliseconds: Int) throws {
        let (model, _, chip) = Self.connect4(watchdogMilliseconds: watchdogMilliseconds)
        var relay: PiControlLine<PiControlModel.Handle>? = try Self.output(chip, "RevPiOutput.0")
        try relay?.write(true)
        model.runCycle()
        #expect(model.x2Relay)
        let handle = chip.image
        relay = nil
        handle.close()
        model.runCycle()
        #expect(model.x2Relay == (watchdogMilliseconds == 0), "watchdog \(watchdogMilliseconds) ms")
    }

    /// While the driver resets (a PiCtory save) every value ioctl fails with EAGAIN: a failed
    /// write, which the node turns into an output fault, not a silent success.
    @Test func aDriverThatIsNotRunningFailsTheWrite() throws {
        let (model, _, chip) = Self.connect4()
        let relay = try Self.output(chip, "RevPiOutput.0")
        model.running = false
        #expect(throws: HALError(errno: 11, operation: "picontrol set value")) { try relay.write(true) }
        #expect(throws: HALError.self) { try relay.readBack() }
        model.running = true
        model.failingWrites = (1, 5)
        #expect(throws: HALError(errno: 5, operation: "picontrol set value")) { try relay.write(true) }
        try relay.write(true)
    }

    /// The C shim against piControl.h's facts: the request numbers are _IO('K', 15/16/17/26), and
    /// the structures are laid out as SPIValue (4 bytes) and SPIVariable (38 bytes; address at 32,
    /// bit at 34, length at 36).
    @Test func theShimMatchesPiControlsABI() {
        #expect(vigil_picontrol_request_get_value() == 0x4B0F)
        #expect(vigil_picontrol_request_set_value() == 0x4B10)
        #expect(vigil_picontrol_request_find_variable() == 0x4B11)
        #expect(vigil_picontrol_request_set_output_watchdog() == 0x4B1A)
        #expect(MemoryLayout<vigil_picontrol_value>.size == 4)
        #expect(MemoryLayout<vigil_picontrol_variable>.size == 38)
        #expect(MemoryLayout<vigil_picontrol_variable>.offset(of: \.address) == 32)
        #expect(MemoryLayout<vigil_picontrol_variable>.offset(of: \.bit) == 34)
        #expect(MemoryLayout<vigil_picontrol_variable>.offset(of: \.length_bits) == 36)
        #expect(MemoryLayout<UInt>.size == 8, "the watchdog period is an unsigned long, 8 bytes on arm64")
    }

    /// On a device that is not piControl, the backend fails with what the kernel said: no
    /// device for a missing node, "not supported" (ENOTTY) for the wrong one.
    @Test func theLinuxBackendOnTheWrongDeviceFailsClearly() throws {
        #expect(throws: HALError(.noDevice, code: 2, operation: "picontrol open")) { try LinuxPiControlImage(path: "/dev/piControl-absent") }
        let image = try LinuxPiControlImage(path: "/dev/null")
        #expect(throws: HALError(errno: 25, operation: "picontrol find variable")) { try image.findVariable(named: "RevPiOutput") }
        #expect(throws: HALError(errno: 25, operation: "picontrol set value")) { try image.setBit(address: 6, bit: 0, to: false) }
        #expect(throws: HALError(errno: 25, operation: "picontrol output watchdog")) { try image.setOutputWatchdog(milliseconds: 100) }
        #expect(throws: HALError.self) { try image.findVariable(named: String(repeating: "x", count: 32)) }
    }

    /// The shipped Connect 4 profile against the model of the board's driver: its run permit is
    /// the X2 relay, its reset button the X2 input, and every line it names resolves to one bit.
    @Test func theConnect4ProfileDrivesTheX2RelayAndReadsTheX2Input() throws {
        let profile = try BoardProfileLoader.load(path: TestPaths.repositoryRoot + "/Boards/revolution-pi-connect-4.toml").profile
        let spec = try #require(profile.gpioChips.first { $0.driver == .picontrol })
        let clock = SimulationClock.manual()
        let model = PiControlModel.connect4(clock: clock)
        let chip = PiControlChip(image: model.open(), name: spec.name, outputWatchdogMilliseconds: spec.outputWatchdogMilliseconds ?? 0)
        var permit: PiControlLine<PiControlModel.Handle>?
        for o in profile.outputs where o.line.chip == spec.name {
            let line = try Self.output(chip, o.line.line, activeLow: o.activeLow)
            if o.kind == .permissive { permit = line }
        }
        try #require(permit).write(true)
        model.runCycle()
        #expect(model.x2Relay, "the permissive is not the X2 relay")
        let reset = try #require(profile.reset.line)
        let offset = try #require(try chip.offset(ofLineNamed: reset.line))
        let button = try chip.requestInput(offset: offset, consumer: "vigil", settings: InputLineSettings(activeLow: profile.reset.activeLow))
        #expect(try button.read() == false)
        model.x2InputPinHigh = false
        model.runCycle()
        #expect(try button.read() == true, "the reset button is not the X2 input")
        #expect(profile.serialPorts.first?.direction == .kernel && profile.serialPorts.first?.driverEnableActiveLow == true,
                "the overlay's RS-485 mode is kernel-timed with RTS active low")
    }
}
