import VigilCommandLine
import VigilAgent

/// `vigil`: the root command. It only dispatches; each subcommand is a few lines over a library.
public struct VigilCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "vigil",
        abstract: "Sensor-node agent: reads sensors, computes vibration metrics, drives a local safety interlock, sends frames upward.",
        discussion: """
        vigil complements hardwired safety functions (e-stop circuits, safety relays); it does not replace them.
        Exit codes: 0 success, 1 failure, 2 bad input, 3 agent not running, 4 permission denied, 5 refused.
        """,
        version: VigilVersion.string,
        subcommands: [
            RunCommand.self, StatusCommand.self, WatchCommand.self, SpectrumCommand.self, InterlockCommand.self,
            GPIOCommand.self, I2CCommand.self, ModbusCommand.self, FrameCommand.self, SelftestCommand.self, BoardCommand.self, SafeStateCommand.self,
        ]
    )

    public init() {}

    /// Parses `arguments` (without the program name), runs the command and returns the exit status.
    /// Never traps and never prints a stack trace: every error becomes one clear message.
    public static func execute(_ arguments: [String]) -> Int32 {
        let tree = CommandTree(VigilCommand.self)
        do {
            // Packaging asks for these (Scripts/package-deb); they are not in --help.
            if arguments.count == 2 && arguments[0] == "--generate-completion-script" {
                Console.out(try tree.completionScript(shell: arguments[1]))
                return ExitStatus.success.rawValue
            }
            if arguments.count == 2 && arguments[0] == "--generate-manual" {
                Console.out(tree.manualPage(date: arguments[1]))
                return ExitStatus.success.rawValue
            }
            var command = try tree.parse(arguments)
            try command.run()
            return ExitStatus.success.rawValue
        } catch let error as CommandLineError {
            switch error {
            case .helpRequested(let text), .versionRequested(let text):
                Console.out(text.hasSuffix("\n") ? String(text.dropLast()) : text)
                return ExitStatus.success.rawValue
            case .usage(let message):
                Console.err("vigil: \(message)")
                return ExitStatus.badInput.rawValue
            }
        } catch let error as CLIError {
            if !error.alreadyReported && !error.message.isEmpty { Console.err("vigil: \(error.message)") }
            return error.status.rawValue
        } catch let answer as any AgentAnswer {
            Console.err("vigil: \(answer.message)")
            return answer.status.rawValue
        } catch {
            Console.err("vigil: \(error)")
            return ExitStatus.failure.rawValue
        }
    }
}

/// `vigil --version`: the agent's version (``AgentVersion``, its one home), as birth frames carry it.
public enum VigilVersion {
    public static var string: String { AgentVersion.string }
}
