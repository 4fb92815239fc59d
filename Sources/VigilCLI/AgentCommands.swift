#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import VigilCommandLine
import VigilAgent
import VigilBoard
import VigilUplink

/// `vigil run`: the agent.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the agent: sensors, real-time loop, interlock, uplink and the control socket.",
        discussion: "Stops cleanly on SIGTERM or SIGINT: outputs to the safe state, watchdog magic-closed, spool flushed. SIGHUP reloads nothing.")

    @Option(name: .long, help: "The board profile (TOML).")
    var board: String

    @Option(name: .long, help: "Stop by itself after this many seconds (demos, tests).")
    var seconds: Double?

    @Option(name: .long, help: "Override the profile's MQTT broker URI (tcp://127.0.0.1:PORT).")
    var broker: String?

    @Option(name: .long, help: "Override the profile's spool directory.")
    var spool: String?

    @Option(name: .long, help: "Override the profile's control socket path.")
    var socket: String?

    @Flag(name: .shortAndLong, help: "Debug logging.")
    var verbose = false

    func run() throws {
        var options = AgentOptions(profilePath: board, runSeconds: seconds, broker: broker, spoolDirectory: spool, controlSocket: socket)
        options.verbose = verbose
        do { try Agent.run(options) } catch {
            throw CLIError(ExitStatus(rawValue: error.status) ?? .failure, error.message)
        }
    }
}

/// Where the CLI finds the running agent.
struct AgentLocation: ParsableArguments {
    @Option(name: .long, help: "The agent's control socket (default: the one in --board's profile, else $VIGIL_SOCKET, else /run/vigil/control.sock).")
    var socket: String?

    @Option(name: .long, help: "The board profile the agent runs (to find its control socket).")
    var board: String?

    func socketPath() throws -> String {
        if let socket { return socket }
        if let board {
            do { return try BoardProfileLoader.load(path: board).profile.control.socket } catch {
                throw CLIError(.badInput, error.diagnostics.map(\.description).joined(separator: "\n"))
            }
        }
        if let env = getenv("VIGIL_SOCKET") { return String(cString: env) }
        return "/run/vigil/control.sock"
    }

    /// Sends a request and decodes the answer; agent errors become CLI errors with their exit status.
    func ask<T: Codable & Sendable>(_ request: ControlRequest, as type: T.Type, timeoutMilliseconds: Int = 10_000) throws -> T {
        let path = try socketPath()
        let line: String
        do { line = try ControlClient.roundTrip(path: path, request: JSONOutput.encode(request, pretty: false), timeoutMilliseconds: timeoutMilliseconds) } catch {
            switch error.kind {
            case .notRunning: throw CLIError(.agentNotRunning, error.message)
            case .permission: throw CLIError(.permissionDenied, error.message)
            case .other: throw CLIError(.failure, error.message)
            }
        }
        let response: ControlResponse<T>
        do { response = try JSONOutput.decode(ControlResponse<T>.self, from: line) } catch {
            if let e = try? JSONOutput.decode(ControlResponse<String>.self, from: line), let message = e.error {
                throw CLIError(ExitStatus(rawValue: e.exit) ?? .failure, message)
            }
            throw CLIError(.failure, "the agent's answer could not be read (\(line.prefix(200)))")
        }
        if response.exit != 0 || response.result == nil {
            throw AgentAnswerError(status: ExitStatus(rawValue: response.exit) ?? .failure, message: response.error ?? "failed", result: response.result)
        }
        return response.result!
    }
}

/// An agent's refusal or failure that still carries a result (printed with --json).
protocol AgentAnswer: Error {
    var status: ExitStatus { get }
    var message: String { get }
}

struct AgentAnswerError<T: Codable & Sendable>: AgentAnswer {
    var status: ExitStatus
    var message: String
    var result: T?
}

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status",
        abstract: "Interlock state and why, outputs, every sensor's value, quality and age, loop timing, uplink, spool, clock.")

    @OptionGroup var agent: AgentLocation
    @Flag(help: "Print the result as JSON.") var json = false

    func run() throws {
        let s = try agent.ask(ControlRequest(command: "status"), as: StatusReport.self)
        if json { Console.out(JSONOutput.encode(s)); return }
        Console.out(StatusText.render(s))
    }
}

/// `vigil status` as text: what is wrong first (StatusLayout), then the rest.
enum StatusText {
    static func render(_ s: StatusReport) -> String {
        let attention = StatusLayout.attention(s, channels: s.channels)
        return (StatusLayout.head(s) + attention + StatusLayout.rest(s, channels: s.channels)).joined(separator: "\n")
    }

    static func pad(_ s: String, _ n: Int) -> String { StatusLayout.pad(s, n) }
    static func fmt(_ v: Double) -> String { StatusLayout.fmt(v) }
}

struct WatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "watch",
        abstract: "A live status screen that fits the terminal: interlock, outputs and what is wrong first (q to quit).",
        discussion: "On a terminal the screen follows its size; ↑/↓ or j/k scroll the rest, q quits. Where standard output is not a terminal, one snapshot is printed (as `vigil status` does), or --count snapshots.")

    @OptionGroup var agent: AgentLocation
    @Option(help: "Refresh interval, seconds.") var interval: Double = 1
    @Option(help: "Stop after this many refreshes (0 = until q or Ctrl-C on a terminal; one snapshot otherwise).") var count: Int = 0
    @Option(help: "Show only channels whose name contains this (or matches it, with * as a wildcard).") var channels: String?
    @Flag(help: "One JSON status object per line instead of a table.") var json = false

    func run() throws {
        if json || !Console.stdoutIsTerminal {
            let snapshots = count == 0 ? 1 : count
            for n in 0..<snapshots {
                var s = try agent.ask(ControlRequest(command: "status"), as: StatusReport.self)
                if let p = channels { s.channels = s.channels.filter { StatusLayout.matches($0.name, p) } }
                Console.out(json ? JSONOutput.encode(s, pretty: false) : StatusText.render(s))
                if n + 1 < snapshots { usleep(UInt32(max(0.05, interval) * 1e6)) }
            }
            return
        }
        let terminal = WatchTerminal()
        defer { terminal.restore() }
        var screen = WatchScreen(width: 80, height: 24, channelPattern: channels)
        var n = 0
        var report = try agent.ask(ControlRequest(command: "status"), as: StatusReport.self)
        var nextRefresh = WatchTerminal.now() + interval
        while count == 0 || n < count {
            (screen.width, screen.height) = terminal.size()
            let (lines, maximumScroll) = screen.render(report)
            screen.scroll = min(screen.scroll, maximumScroll)
            terminal.draw(lines)
            n += 1
            // Wait for the next refresh, a key or a resize (which redraws at once).
            while true {
                let key = terminal.waitForKey(until: nextRefresh)
                if key == .quit || terminal.interrupted { return }
                if key == .down { screen.scroll = min(screen.scroll + 1, maximumScroll); break }
                if key == .up { screen.scroll = max(0, screen.scroll - 1); break }
                if key == .resized { break }
                if WatchTerminal.now() >= nextRefresh {
                    report = try agent.ask(ControlRequest(command: "status"), as: StatusReport.self)
                    nextRefresh = WatchTerminal.now() + max(0.05, interval)
                    break
                }
            }
        }
    }
}

struct SpectrumCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "spectrum",
        abstract: "The latest spectrum of an accelerometer axis: band bar chart, top peaks, ISO zone.")

    @Argument(help: "The axis, e.g. bearing.x (or bearing.x.bands).") var channel: String
    @OptionGroup var agent: AgentLocation
    @Flag(help: "Print the result as JSON.") var json = false

    func run() throws {
        let s = try agent.ask(ControlRequest(command: "spectrum", channel: channel), as: SpectrumReport.self)
        if json { Console.out(JSONOutput.encode(s)); return }
        var out = ["\(s.channel): ISO zone \(s.isoZone), velocity RMS \(StatusText.fmt(s.velocityRMS)) mm/s, quality \(s.quality), block \(s.blocks)\(s.ageMilliseconds.map { ", \($0) ms old" } ?? "")"]
        let top = max(s.bandRMSG.max() ?? 0, 1e-12)
        for (i, v) in s.bandRMSG.enumerated() {
            let lo = s.bandStart + Double(i) * s.bandWidth
            let bar = String(repeating: "█", count: Int((v / top * 50).rounded()))
            out.append("\(StatusText.pad(StatusText.fmt(lo), 8))–\(StatusText.pad(StatusText.fmt(lo + s.bandWidth), 8)) \(s.bandsIn == "Hz" ? "Hz" : "×") \(StatusText.pad(String(format6(v)), 10)) g \(bar)")
        }
        out.append("peaks:")
        for p in s.peaks { out.append("  \(StatusText.fmt(p.frequencyHz)) Hz  \(format6(p.amplitudeG)) g") }
        Console.out(out.joined(separator: "\n"))
    }

    func format6(_ v: Double) -> String { "\((v * 1e6).rounded() / 1e6)" }
}

struct InterlockCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "interlock", abstract: "Reset the interlock locally, or run its proof tests.",
                                                    subcommands: [InterlockReset.self, InterlockTest.self, InterlockTestSupervisor.self])
}

struct InterlockReset: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "reset",
        abstract: "Clear latched trips (local only: through the node's control socket). Refused (exit 5) while a trip condition is present.")
    @OptionGroup var agent: AgentLocation
    @Flag(help: "Print the result as JSON.") var json = false

    func run() throws {
        try report { try agent.ask(ControlRequest(command: "interlock-reset"), as: InterlockActionReport.self) }
    }

    func report(_ body: () throws -> InterlockActionReport) throws {
        do {
            let r = try body()
            Console.out(json ? JSONOutput.encode(r) : "interlock reset: \(r.detail)")
        } catch let e as AgentAnswerError<InterlockActionReport> {
            if json, let r = e.result { Console.out(JSONOutput.encode(r)) }
            throw CLIError(e.status, e.message)
        }
    }
}

struct InterlockTestSupervisor: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "test-supervisor",
        abstract: "Proof test of the loop supervisor: hang the loop past max_stall_ms and check that every output is driven off.",
        discussion: "Refused (exit 5) without --confirm: the test stops the machine, and the loop_stall fault it leaves needs a local reset.")
    @Flag(help: "Confirm that stopping the machine now is acceptable.") var confirm = false
    @Option(help: "How long the loop hangs, ms (default and minimum: twice max_stall_ms plus 100; at most 60000).")
    var hangMs: Int?
    @OptionGroup var agent: AgentLocation
    @Flag(help: "Print the result as JSON.") var json = false

    func run() throws {
        do {
            let r = try agent.ask(ControlRequest(command: "interlock-test-supervisor", value: hangMs, confirm: confirm), as: InterlockActionReport.self,
                                  timeoutMilliseconds: 70_000)
            Console.out(json ? JSONOutput.encode(r) : "PASS: \(r.detail)")
        } catch let e as AgentAnswerError<InterlockActionReport> {
            if json, let r = e.result { Console.out(JSONOutput.encode(r)) }
            throw CLIError(e.status, e.message)
        }
    }
}

struct InterlockTest: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "test",
        abstract: "Proof test: inject an excursion on a trip rule, verify and time the output change (read back from the line), restore.",
        discussion: "Refused (exit 5) without --confirm, or while the shaft turns: the test stops the machine. It never re-arms it: the rule stays latched until an ordinary reset.")
    @Argument(help: "The trip rule's name.") var rule: String
    @Flag(help: "Confirm that stopping the machine now is acceptable.") var confirm = false
    @OptionGroup var agent: AgentLocation
    @Flag(help: "Print the result as JSON.") var json = false

    func run() throws {
        do {
            let r = try agent.ask(ControlRequest(command: "interlock-test", rule: rule, confirm: confirm), as: InterlockActionReport.self, timeoutMilliseconds: 30_000)
            Console.out(json ? JSONOutput.encode(r) : "PASS: \(r.detail)")
        } catch let e as AgentAnswerError<InterlockActionReport> {
            if json, let r = e.result { Console.out(JSONOutput.encode(r)) }
            throw CLIError(e.status, e.message)
        }
    }
}
