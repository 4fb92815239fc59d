#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import VigilCommandLine
import VigilAgent
import VigilBoard
import VigilHAL
import VigilRuntime
import VigilBase
import VigilLoop
import VigilParts
import VigilDrivers

struct SelftestCheck: Codable {
    var check: String
    var pass: Bool
    var detail: String
}

struct SelftestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "selftest",
        abstract: "Pass/fail table: sensors answer with their part IDs, RS-485, watchdog, clock, uplink, spool, agent. Exit 0 only if all pass.")

    @Option(help: "The board profile.") var board: String
    @Option(help: "Override the profile's control socket.") var socket: String?
    @Flag(help: "Print the result as JSON.") var json = false

    func run() throws {
        let loaded: LoadedProfile
        do { loaded = try BoardProfileLoader.load(path: board) } catch {
            throw CLIError(.badInput, error.diagnostics.map(\.description).joined(separator: "\n"))
        }
        let p = loaded.profile
        var checks: [SelftestCheck] = []
        let socketPath = socket ?? p.control.socket
        let status: StatusReport? = try? AgentLocation.ask(socketPath, ControlRequest(command: "status"), as: StatusReport.self)
        if let s = status {
            checks.append(SelftestCheck(check: "agent", pass: true, detail: "running, pid \(s.pid), interlock \(s.interlock.state)"))
            // With an agent on the hardware, its channels say whether each sensor answers.
            for sensor in p.sensors {
                let mine = s.channels.filter { $0.name.hasPrefix(sensor.name + ".") }
                let good = mine.filter { $0.quality == "good" || $0.quality == "clock_unsynced" }
                checks.append(SelftestCheck(check: "sensor \(sensor.name)", pass: !mine.isEmpty && good.count == mine.count,
                                            detail: mine.isEmpty ? "no channels" : "\(good.count)/\(mine.count) channels good"))
            }
            checks.append(SelftestCheck(check: "loop", pass: s.loop.overruns * 100 <= max(1, s.loop.cycles), detail: "p99 \(s.loop.latenessP99Microseconds) µs, \(s.loop.overruns) overruns in \(s.loop.cycles) cycles"))
            checks.append(SelftestCheck(check: "uplink", pass: s.uplink.transport == "none" || s.uplink.connected, detail: "\(s.uplink.transport) \(s.uplink.connected ? "connected" : s.uplink.lastError ?? "not connected")"))
        } else {
            checks.append(SelftestCheck(check: "agent", pass: true, detail: "not running (checked the hardware directly)"))
            checks += sensorIDChecks(loaded)
            checks.append(uplinkReachable(p))
        }
        if let device = p.watchdog.device {
            let ok = access(device, W_OK) == 0
            checks.append(SelftestCheck(check: "watchdog", pass: ok, detail: ok ? "\(device) present and writable" : "\(device): \(String(cString: strerror(errno)))"))
        } else {
            checks.append(SelftestCheck(check: "watchdog", pass: p.board.backend == .simulated, detail: p.board.backend == .simulated ? "none (simulator)" : "no [watchdog] device in the profile"))
        }
        let sync = SystemClock.syncState()
        checks.append(SelftestCheck(check: "clock", pass: sync == .synchronized, detail: "wall clock \(sync.name)"))
        checks.append(spoolWritable(p.spool.directory))
        for port in p.serialPorts where p.board.backend == .linux {
            let ok = access(port.device, R_OK | W_OK) == 0
            checks.append(SelftestCheck(check: "rs485 \(port.name)", pass: ok, detail: ok ? "\(port.device) (\(port.direction.rawValue) direction)" : "\(port.device): \(String(cString: strerror(errno)))"))
        }
        if json { Console.out(JSONOutput.encode(checks)) } else {
            for c in checks { Console.out("\(c.pass ? "PASS" : "FAIL")  \(StatusText.pad(c.check, 22)) \(c.detail)") }
        }
        if checks.contains(where: { !$0.pass }) { throw CLIError(.failure, "", alreadyReported: true) }
    }

    /// Reads each I2C sensor's identity register through its bus, on the board the profile names.
    func sensorIDChecks(_ loaded: LoadedProfile) -> [SelftestCheck] {
        do { return try Boards.open(loaded, SensorIdentityChecks()) } catch {
            return [SelftestCheck(check: "sensors", pass: false, detail: error.message)]
        }
    }

    func uplinkReachable(_ p: BoardProfile) -> SelftestCheck {
        guard p.uplink.kind == .mqtt, let m = p.uplink.mqtt else { return SelftestCheck(check: "uplink", pass: true, detail: p.uplink.kind.rawValue) }
        // tcp://host:port or ssl://host:port: a TCP connection is enough to say "reachable".
        let rest = m.broker.split(separator: "/").last.map(String.init) ?? ""
        let parts = rest.split(separator: ":")
        guard parts.count == 2 else { return SelftestCheck(check: "uplink", pass: false, detail: "broker \(m.broker) is not scheme://host:port") }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(String(parts[0]), String(parts[1]), &hints, &result) == 0, let info = result else {
            return SelftestCheck(check: "uplink", pass: false, detail: "broker \(m.broker): host not found")
        }
        defer { freeaddrinfo(result) }
        let s = Glibc.socket(info.pointee.ai_family, info.pointee.ai_socktype, 0)
        defer { close(s) }
        let ok = connect(s, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0
        return SelftestCheck(check: "uplink", pass: ok, detail: ok ? "broker \(m.broker) reachable" : "broker \(m.broker): \(String(cString: strerror(errno)))")
    }

    func spoolWritable(_ dir: String) -> SelftestCheck {
        var partial = dir.hasPrefix("/") ? "" : "."
        for c in dir.split(separator: "/") { partial += "/" + c; _ = mkdir(partial, 0o750) }
        let probe = "\(dir)/.selftest-\(getpid())"
        let fd = open(probe, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        if fd < 0 { return SelftestCheck(check: "spool", pass: false, detail: "\(dir): \(String(cString: strerror(errno)))") }
        let ok = write(fd, "x", 1) == 1 && fsync(fd) == 0
        close(fd)
        unlink(probe)
        return SelftestCheck(check: "spool", pass: ok, detail: ok ? "\(dir) writable" : "\(dir): write failed")
    }
}

extension AgentLocation {
    static func ask<T: Codable & Sendable>(_ socket: String, _ request: ControlRequest, as type: T.Type) throws -> T {
        var l = AgentLocation()
        l.socket = socket
        return try l.ask(request, as: type, timeoutMilliseconds: 3000)
    }
}

/// Each I2C sensor's identity register, read through the board's bus (``Parts`` say which
/// register and what it holds).
struct SensorIdentityChecks: BoardVisitor {
    // Runs once per command: one generic copy serves both boards.
    @_semantics("optimize.sil.specialize.generic.never")
    func visit<Board: NodeBoard>(_ board: Board) throws(AgentError) -> [SelftestCheck] {
        var checks: [SelftestCheck] = []
        // Each adapter's real clock (device tree) against what the sensors need per period.
        let profile = board.loaded.profile
        for budget in I2CBudget.of(profile, clockHz: { board.i2cClockHz($0.name) ?? $0.clockHz }) {
            let reported = board.i2cClockHz(budget.bus) != nil
            checks.append(SelftestCheck(check: "i2c \(budget.bus) clock", pass: budget.fits,
                                        detail: "\(budget.summary)\(reported ? "" : " (the adapter does not report its clock: profile's clock_hz)")"))
        }
        for sensor in board.loaded.profile.sensors {
            let busName: String, address: Int, partName: String
            switch sensor.kind {
            case .accelerometer(let a): (busName, address, partName) = (a.bus, a.address, a.part)
            case .temperature(let t): (busName, address, partName) = (t.bus, t.address, t.part)
            case .currentLoop(let c): (busName, address, partName) = (c.bus, c.address, c.part)
            case .hwmon(let h):
                checks.append(Self.hwmonCheck(sensor.name, h, on: board))
                continue
            case .modbus, .digitalInput, .tachometer: continue
            }
            guard let part = Parts.named(partName) as? any I2CPart.Type else { continue }
            let at = "0x\(String(address, radix: 16))"
            let result: (Bool, String)
            do {
                let bus = try board.i2cBus(busName)
                do {
                    let id = try part.identify(on: bus, address: UInt8(address))
                    let r = part.identity
                    if !id.matches {
                        result = (false, "\(r.registerName) (register 0x\(String(r.register, radix: 16))) reads 0x\(String(id.value, radix: 16)), not a \(part.title)'s 0x\(String(r.value, radix: 16))")
                    } else {
                        result = (true, r.isUnique ? "part ID 0x\(String(id.value, radix: 16)) at \(at)" : "answers at \(at) (\(r.registerName) as a \(part.title)'s)")
                    }
                } catch {
                    result = (false, "no answer at \(at): \(error)")
                }
            } catch {
                let hint = error.halError?.kind == .permission ? " (join group vigil)" : ""
                result = (false, "bus \(busName): \(error)\(hint)")
            }
            checks.append(SelftestCheck(check: "sensor \(sensor.name)", pass: result.0, detail: result.1))
            if result.0, case .accelerometer(let a) = sensor.kind, let driverPart = part as? any AccelerometerDriverPart.Type {
                checks.append(Self.selfTest(sensor.name, a, driverPart, on: board))
            }
            if result.0, case .currentLoop(let c) = sensor.kind, let driverPart = part as? any AnalogInputDriverPart.Type {
                checks.append(Self.loopCheck(sensor.name, c, driverPart, on: board))
            }
        }
        return checks
    }

    /// The part's electromechanical self-test: the change it makes on each axis against its
    /// datasheet's limits. A part whose mass or electrodes are damaged answers its ID but fails here.
    static func selfTest<Board: NodeBoard>(_ name: String, _ a: AccelerometerSpec, _ part: any AccelerometerDriverPart.Type,
                                           on board: Board) -> SelftestCheck {
        let check = "self-test \(name)"
        do {
            let bus = try board.i2cBus(a.bus)
            let driver = try part.makeDriver(bus: bus, address: UInt8(a.address), sampleRateHz: a.sampleRateHz, rangeG: a.rangeG)
            try driver.start()
            let result = try driver.runSelfTest { usleep(UInt32(clamping: $0 / 1000)) }
            try? driver.stop()
            let axes = ["x", "y", "z"]
            let detail = zip(axes, zip(result.changeG, result.limitsG)).map { axis, pair in
                "\(axis) \(formatG(pair.0)) g (\(formatG(pair.1.lowerBound))…\(formatG(pair.1.upperBound)))"
            }.joined(separator: ", ")
            return SelftestCheck(check: check, pass: result.passed, detail: "\(result.passed ? "" : "outside the datasheet's limits: ")\(detail)")
        } catch {
            return SelftestCheck(check: check, pass: false, detail: "\(error)")
        }
    }

    /// One reading of a 4–20 mA loop: the current, what it stands for, and NAMUR NE 43's verdict
    /// (an open loop reads about 0 mA: a cut wire or an unpowered transmitter).
    static func loopCheck<Board: NodeBoard>(_ name: String, _ c: CurrentLoopSpec, _ part: any AnalogInputDriverPart.Type,
                                            on board: Board) -> SelftestCheck {
        let check = "loop \(name)"
        do {
            let bus = try board.i2cBus(c.bus)
            let settings = AnalogInputSettings(input: c.input, fullScaleVolts: c.rangeVolts, dataRateSPS: c.dataRateSPS, continuous: c.continuous)
            let adc = try part.makeDriver(bus: bus, address: UInt8(c.address), settings: settings)
            try adc.start()
            // Two conversion times (the rate is within ±10 %), then the result.
            usleep(UInt32(2_000_000 / c.dataRateSPS + 1000))
            let milliamps = c.milliamps(volts: try adc.readVolts())
            let value = CurrentLoop.value(milliamps: milliamps, low: c.low, high: c.high)
            let reading = "\(ProfileSummary.formatNumber((milliamps * 100).rounded() / 100)) mA = \(ProfileSummary.formatNumber((value * 1000).rounded() / 1000)) \(c.unit.rawValue)"
            switch CurrentLoop.classify(milliamps: milliamps) {
            case .measurement: return SelftestCheck(check: check, pass: true, detail: reading)
            case .outOfRange: return SelftestCheck(check: check, pass: false, detail: "\(reading): outside NAMUR NE 43's 3.8–20.5 mA measuring range")
            case .failure:
                let why = milliamps < 1 ? "no current: the loop is open (a cut wire, an unpowered transmitter)" : "a NAMUR NE 43 failure signal from the transmitter"
                return SelftestCheck(check: check, pass: false, detail: "\(reading): \(why)")
            }
        } catch {
            return SelftestCheck(check: check, pass: false, detail: "\(error)")
        }
    }

    /// A kernel-driven sensor: its hwmon device bound and its input readable.
    static func hwmonCheck<Board: NodeBoard>(_ name: String, _ h: HwmonSpec, on board: Board) -> SelftestCheck {
        let check = "sensor \(name)"
        guard let input = h.input else { return SelftestCheck(check: check, pass: false, detail: "\(h.attribute) is not an input vigil reads") }
        do {
            let raw = try board.kernelInput(h).read()
            let value = Double(raw) * input.scale
            return SelftestCheck(check: check, pass: true, detail: "\(h.interface.rawValue) \(h.device) \(h.attribute): \(ProfileSummary.formatNumber((value * 1000).rounded() / 1000)) \(input.channel.unit.rawValue)")
        } catch {
            let list = h.interface == .iio ? "/sys/bus/iio/devices/*/name" : "/sys/class/hwmon/*/name"
            let hint = error.kind == .noDevice ? " (no \(h.interface.rawValue) device named \(h.device): is its driver bound? ls \(list))" : ""
            return SelftestCheck(check: check, pass: false, detail: "\(h.interface.rawValue) \(h.device) \(h.attribute): \(error)\(hint)")
        }
    }

    static func formatG(_ g: Double) -> String { String(Double(Int((g * 1000).rounded())) / 1000) }
}
