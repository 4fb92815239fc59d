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

/// `vigil safe-state`: claims every output line of a profile and drives it to its safe
/// (de-energized) level. The systemd unit runs it after every exit of the agent
/// (`ExecStopPost=`), killed or not: what a kernel does with a line a dead process released
/// varies (Raspberry Pi OS keeps its last level), so the lines are driven, not left to it.
struct SafeStateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "safe-state",
        abstract: "Drive every output line of the profile to its safe (de-energized) level, then release it.",
        discussion: "Run after the agent has exited (the unit's ExecStopPost). A line still held by a running agent is refused (exit 1). Exit 0 when every line reads back off.")

    @Option(help: "The board profile.") var board: String
    @Option(help: "Hold the lines at the safe level this many seconds before releasing them (0: release at once).")
    var hold: Double = 0
    @Flag(help: "Print the result as JSON.") var json = false

    func run() throws {
        let loaded = try loadProfileOrExit(board)
        let results: [SafeStateLine]
        do { results = try Boards.open(loaded, SafeStateDriver(holdSeconds: max(0, hold))) } catch {
            throw CLIError(ExitStatus(rawValue: error.status) ?? .failure, error.message)
        }
        if json {
            Console.out(JSONOutput.encode(results))
        } else {
            for r in results { Console.out("\(r.safe ? "off " : "FAIL")  \(StatusText.pad(r.output, 16)) \(r.line)  \(r.detail)") }
        }
        if results.contains(where: { !$0.safe }) { throw CLIError(.failure, "", alreadyReported: true) }
    }
}

/// One output line as `vigil safe-state` left it.
struct SafeStateLine: Codable {
    var output: String
    var line: String
    var safe: Bool
    var detail: String
}

/// Requests each output at its safe level and reads it back, on the board the profile names.
struct SafeStateDriver: BoardVisitor {
    let holdSeconds: Double

    // Runs once per command: one generic copy serves both boards.
    @_semantics("optimize.sil.specialize.generic.never")
    func visit<Board: NodeBoard>(_ board: Board) throws(AgentError) -> [SafeStateLine] {
        var results: [SafeStateLine] = []
        var held: [Board.Chip.Output] = []
        for o in board.loaded.profile.outputs {
            let line = o.line.description
            do {
                let chip = try board.gpioChip(o.line.chip)
                let offset: Int
                do {
                    guard let found = try chip.offset(ofLineNamed: o.line.line) else {
                        results.append(SafeStateLine(output: o.name, line: line, safe: false, detail: "no line \(o.line.line) on chip \(chip.name)"))
                        continue
                    }
                    offset = found
                    // Requested at its safe level: the line is driven off from the moment it is ours.
                    let output = try chip.requestOutput(offset: offset, consumer: "vigil-safe-state",
                                                        settings: OutputLineSettings(activeLow: o.activeLow, initialValue: false))
                    try output.write(false)
                    let on = try output.readBack()
                    results.append(SafeStateLine(output: o.name, line: line, safe: !on, detail: on ? "still reads on after being driven off" : "driven off, reads back off"))
                    held.append(output)
                } catch {
                    let hint = error.kind == .busy ? " (held by a running agent? it drives its own safe state on SIGTERM)" : error.kind == .permission ? " (join group vigil)" : ""
                    results.append(SafeStateLine(output: o.name, line: line, safe: false, detail: "\(error)\(hint)"))
                }
            } catch {
                results.append(SafeStateLine(output: o.name, line: line, safe: false, detail: "\(error)"))
            }
        }
        if holdSeconds > 0 { usleep(UInt32(min(holdSeconds, 3600) * 1e6)) }
        withExtendedLifetime(held) {}
        return results
    }
}
