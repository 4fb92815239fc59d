#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import VigilCommandLine
import VigilAgent
import VigilHAL
import VigilHALLinux
import VigilBase
import VigilDrivers
import VigilParts

/// Turns a HAL error into the CLI's exit status and a line that says what to do.
func cliError(_ what: String, _ e: HALError) -> CLIError {
    switch e.kind {
    case .permission: return CLIError(.permissionDenied, "\(what): \(e) — add your user to group vigil (udev/60-vigil.rules), then log in again")
    case .busy: return CLIError(.refused, "\(what): \(e) — another program or a kernel driver holds it")
    case .invalidArgument: return CLIError(.badInput, "\(what): \(e)")
    default: return CLIError(.failure, "\(what): \(e)")
    }
}

// MARK: gpio

struct GPIOCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "gpio",
        abstract: "GPIO lines in libgpiod's vocabulary; through the running agent when there is one, else directly.",
        subcommands: [GPIOInfo.self, GPIOGet.self, GPIOSet.self, GPIOMon.self])
}

/// Whether an agent answers at this location (then hardware commands go through it).
func agentAnswers(_ agent: AgentLocation) -> Bool {
    guard let path = try? agent.socketPath() else { return false }
    return (try? ControlClient.roundTrip(path: path, request: "{\"command\":\"ping\"}", timeoutMilliseconds: 2000)) != nil
}

/// Finds a line by name (or `CHIP:NAME`, or a number with --chip) on the kernel's chips.
func findLinuxLine(_ line: String, chip: String?) throws -> (LinuxGPIOChip, String, Int) {
    let chips = LinuxGPIOChip.listChips()
    if chips.isEmpty { throw CLIError(.failure, "no GPIO chips: /dev/gpiochip* is absent or unreadable (group vigil, udev/60-vigil.rules)") }
    for c in chips where chip == nil || chip == c.name || chip == c.label {
        let handle: LinuxGPIOChip
        do { handle = try LinuxGPIOChip(path: "/dev/\(c.name)") } catch { throw cliError("/dev/\(c.name)", error) }
        if let n = Int(line), chip != nil, n >= 0, n < c.lines { return (handle, c.name, n) }
        if let o = try? handle.offset(ofLineNamed: line) { return (handle, c.name, o) }
    }
    throw CLIError(.badInput, "no GPIO line named \(line)\(chip.map { " on \($0)" } ?? "") (see `vigil gpio info`)")
}

struct GPIOInfo: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "Every line: name, consumer, direction, bias, value where known.")
    @OptionGroup var agent: AgentLocation
    @Flag(help: "Print the result as JSON.") var json = false

    func run() throws {
        var rows: [GPIOLineReport]
        if agentAnswers(agent) {
            rows = try agent.ask(ControlRequest(command: "gpio-info"), as: [GPIOLineReport].self)
        } else {
            rows = []
            for c in LinuxGPIOChip.listChips() {
                let chip: LinuxGPIOChip
                do { chip = try LinuxGPIOChip(path: "/dev/\(c.name)") } catch { throw cliError("/dev/\(c.name)", error) }
                for i in (try? chip.allLineInfo()) ?? [] {
                    rows.append(GPIOLineReport(chip: "\(c.name) [\(c.label)]", info: i, value: nil, ownedByAgent: false))
                }
            }
            if rows.isEmpty && !json { throw CLIError(.failure, "no GPIO chips found and no agent running") }
        }
        if json { Console.out(JSONOutput.encode(rows)); return }
        for r in rows {
            Console.out("\(r.chip)\tline \(r.offset)\t\(r.name.isEmpty ? "unnamed" : r.name)\t\(r.consumer.map { "\"\($0)\"" } ?? "unused")\t\(r.direction)"
                        + "\(r.activeLow ? " active-low" : "")\t\(r.value.map { "=\($0)" } ?? "")\(r.ownedByAgent ? "\t[interlock/sensor]" : "")")
        }
    }
}

struct GPIOGet: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "Read a line (by name, CHIP:NAME, or offset with --chip).")
    @Argument(help: "The line.") var line: String
    @Option(help: "Chip name or label.") var chip: String?
    @Option(help: "The line's bias (direct access only).") var bias: LineBias = .asIs
    @Flag(name: .customLong("active-low"), help: "Treat the line as active-low.") var activeLow = false
    @OptionGroup var agent: AgentLocation
    @Flag(help: "Print the result as JSON.") var json = false

    func run() throws {
        var result: [String: String]
        if agentAnswers(agent) {
            result = try agent.ask(ControlRequest(command: "gpio-get", line: chip.map { "\($0):\(line)" } ?? line), as: [String: String].self)
        } else {
            let (c, name, offset) = try findLinuxLine(line, chip: chip)
            do {
                let l = try c.requestInput(offset: offset, consumer: "vigil-cli", settings: InputLineSettings(activeLow: activeLow, bias: bias))
                result = ["line": "\(name):\(line)", "value": try l.read() ? "1" : "0", "owner": "free"]
            } catch let e as HALError { throw cliError("gpio \(line)", e) }
        }
        Console.out(json ? JSONOutput.encode(result) : "\(result["line"] ?? line)=\(result["value"] ?? "?")")
    }
}

struct GPIOSet: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "set",
        abstract: "Drive a line. Refused (exit 5) on a line the running agent's interlock or sensors hold.")
    @Argument(help: "The line.") var line: String
    @Argument(help: "0 or 1.") var value: Int
    @Option(help: "Chip name or label.") var chip: String?
    @Flag(name: .customLong("active-low"), help: "Treat the line as active-low.") var activeLow = false
    @Option(help: "Hold the level this long before releasing (direct access), seconds.") var hold: Double = 0
    @OptionGroup var agent: AgentLocation
    @Flag(help: "Print the result as JSON.") var json = false

    func run() throws {
        guard value == 0 || value == 1 else { throw CLIError(.badInput, "value must be 0 or 1") }
        var result: [String: String]
        if agentAnswers(agent) {
            result = try agent.ask(ControlRequest(command: "gpio-set", line: chip.map { "\($0):\(line)" } ?? line, value: value), as: [String: String].self)
        } else {
            let (c, name, offset) = try findLinuxLine(line, chip: chip)
            do throws(HALError) {
                let l = try c.requestOutput(offset: offset, consumer: "vigil-cli", settings: OutputLineSettings(activeLow: activeLow, initialValue: value == 1))
                try l.write(value == 1)
                if hold > 0 { usleep(UInt32(hold * 1e6)) }
                result = ["line": "\(name):\(line)", "value": String(value)]
            } catch { throw cliError("gpio \(line)", error) }
        }
        Console.out(json ? JSONOutput.encode(result) : "\(result["line"] ?? line)=\(value)")
    }
}

struct GPIOMon: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "mon", abstract: "Print edges on a line with kernel timestamps (direct access).")
    @Argument(help: "The line.") var line: String
    @Option(help: "Chip name or label.") var chip: String?
    @Option(help: "The line's bias.") var bias: LineBias = .asIs
    @Option(help: "Stop after this many events (0 = until Ctrl-C).") var events: Int = 0
    @Option(help: "Stop after this many seconds (0 = no limit).") var seconds: Double = 0
    @Flag(help: "One JSON object per event.") var json = false

    func run() throws {
        let (c, name, offset) = try findLinuxLine(line, chip: chip)
        let l: LinuxGPIOLine
        do { l = try c.requestInput(offset: offset, consumer: "vigil-cli", settings: InputLineSettings(bias: bias, edges: .both)) } catch let e as HALError {
            throw cliError("gpio \(line)", e)
        }
        var buffer = [EdgeEvent](repeating: EdgeEvent(rising: false, time: .zero), count: 16)
        var seen = 0
        var waited = 0.0
        while events == 0 || seen < events {
            var n = 0
            var failure: HALError?
            buffer.withUnsafeMutableBufferPointer { b in
                do throws(HALError) { n = try l.readEvents(into: b) } catch { failure = error }
            }
            if let failure { throw cliError("gpio \(line)", failure) }
            for e in buffer.prefix(n) {
                let ns = e.time.nanoseconds
                Console.out(json ? "{\"line\":\"\(name):\(line)\",\"edge\":\"\(e.rising ? "rising" : "falling")\",\"ns\":\(ns)}"
                                 : "\(ns / 1_000_000_000).\(ns % 1_000_000_000) \(e.rising ? "rising" : "falling")")
                seen += 1
            }
            if n == 0 { usleep(1000); waited += 0.001 }
            if seconds > 0 && waited >= seconds { break }
        }
    }
}

// MARK: i2c

struct I2CCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "i2c", abstract: "I2C buses: a safe scan and register reads.",
                                                    subcommands: [I2CScan.self, I2CRead.self])
}

func openI2C(_ bus: String) throws -> (LinuxI2CBus, Int?) {
    let path = Int(bus).map { "/dev/i2c-\($0)" } ?? (bus.hasPrefix("/dev/") ? bus : nil)
    do {
        if let path { return (try LinuxI2CBus(path: path), Int(path.dropFirst("/dev/i2c-".count))) }
        let b = try LinuxI2CBus.openAdapter(named: bus)
        return (b, LinuxI2CBus.listAdapters().first { $0.name == bus }?.number)
    } catch {
        let adapters = LinuxI2CBus.listAdapters().map { "i2c-\($0.number) \"\($0.name)\"" }
        if error.kind == .noDevice {
            throw CLIError(.failure, "\(path ?? "i2c adapter \"\(bus)\"") does not exist; adapters here: "
                           + (adapters.isEmpty ? "none (is the i2c-dev module loaded? `modprobe i2c-dev`; is I2C enabled in the device tree?)" : adapters.joined(separator: ", ")))
        }
        throw cliError(path ?? "i2c adapter \(bus)", error)
    }
}

/// Names the known part at `address` from its identity register (``Parts``: every part whose
/// address pin can select `address`).
func identify(_ bus: LinuxI2CBus, _ address: UInt8) -> String? {
    for part in Parts.onI2C where part.addresses.contains(address) {
        guard let id = try? part.identify(on: bus, address: address), id.matches else { continue }
        let r = part.identity
        return r.isUnique ? "\(part.title) (\(r.registerName) 0x\(String(id.value, radix: 16)))"
                          : "\(part.title)? (\(r.registerName) 0x\(String(id.value, radix: 16))…)"
    }
    return nil
}

struct I2CScan: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "scan",
        abstract: "Probe 0x08–0x77, skipping addresses a kernel driver owns (shown UU); names known parts by their ID registers.")
    @Option(help: "Bus number, /dev path or adapter name.") var bus: String
    @Flag(help: "Print the result as JSON.") var json = false

    func run() throws {
        let (b, number) = try openI2C(bus)
        let claimed = number.map { LinuxI2CBus.kernelClaimedAddresses(adapter: $0) } ?? []
        var found: [[String: String]] = []
        for a in UInt8(0x08)...UInt8(0x77) {
            if claimed.contains(a) { found.append(["address": "0x\(String(a, radix: 16))", "status": "kernel driver (UU)"]); continue }
            if (try? b.probe(address: a)) == true {
                found.append(["address": "0x\(String(a, radix: 16))", "status": "ack", "part": identify(b, a) ?? "unknown"])
            }
        }
        if json { Console.out(JSONOutput.encode(found)); return }
        if found.isEmpty { Console.out("no device answered on \(bus)") }
        for f in found { Console.out("\(f["address"]!)\t\(f["status"]!)\t\(f["part"] ?? "")") }
    }
}

struct I2CRead: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "read", abstract: "Read registers (SMBus byte or I2C block reads).")
    @Option(help: "Bus number, /dev path or adapter name.") var bus: String
    @Argument(help: "Device address (0x53).") var address: String
    @Argument(help: "First register (0x00).") var register: String
    @Argument(help: "Bytes to read, 1–32.") var count: Int = 1
    @Flag(help: "Print the result as JSON.") var json = false

    func run() throws {
        guard let a = parseNumber(address), a <= 0x7F, let r = parseNumber(register), r <= 0xFF else {
            throw CLIError(.badInput, "address must be 0x00–0x7f and register 0x00–0xff")
        }
        guard (1...32).contains(count) else { throw CLIError(.badInput, "count must be 1–32") }
        let (b, _) = try openI2C(bus)
        var bytes = [UInt8](repeating: 0, count: count)
        var failure: HALError?
        if count == 1 {
            do { bytes[0] = try b.readByte(address: UInt8(a), register: UInt8(r)) } catch { failure = error }
        } else {
            bytes.withUnsafeMutableBytes { p in
                do throws(HALError) { try b.readBlock(address: UInt8(a), register: UInt8(r), into: p) } catch { failure = error }
            }
        }
        if let failure { throw cliError("i2c \(bus) 0x\(String(a, radix: 16))", failure) }
        if json { Console.out(JSONOutput.encode(I2CReadReport(address: a, register: r, bytes: bytes.map(Int.init)))); return }
        Console.out(bytes.map { "0x" + (($0 < 16) ? "0" : "") + String($0, radix: 16) }.joined(separator: " "))
    }
}

/// What `vigil i2c read --json` prints.
struct I2CReadReport: Codable {
    var address: Int
    var register: Int
    var bytes: [Int]
}

func parseNumber(_ s: String) -> Int? {
    if s.hasPrefix("0x") || s.hasPrefix("0X") { return Int(s.dropFirst(2), radix: 16) }
    return Int(s)
}
