import ArgumentParser

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
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
            return ExitStatus.success.rawValue
        } catch let error as CLIError {
            if !error.alreadyReported && !error.message.isEmpty { Console.err("vigil: \(error.message)") }
            return error.status.rawValue
        } catch let answer as any AgentAnswer {
            Console.err("vigil: \(answer.message)")
            return answer.status.rawValue
        } catch {
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if code == .success {
                if !message.isEmpty { Console.out(message) }
                return ExitStatus.success.rawValue
            }
            if !message.isEmpty { Console.err(message) }
            // ArgumentParser reports usage errors as EX_USAGE (64); vigil uses 2 for all bad input.
            return code == .validationFailure ? ExitStatus.badInput.rawValue : ExitStatus.failure.rawValue
        }
    }
}

/// The build's version, carried in birth frames and `vigil --version`.
public enum VigilVersion {
    public static let string = "0.1.0"
}
