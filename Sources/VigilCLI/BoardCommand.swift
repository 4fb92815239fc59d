import VigilCommandLine
import VigilBoard
import VigilBase

/// `vigil board …`: profiles on the bench and on site.
struct BoardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "board",
        abstract: "Validate, show and detect board profiles.",
        subcommands: [BoardValidate.self, BoardShow.self, BoardDetect.self]
    )
}

struct BoardValidate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check profiles; every error names FILE:LINE: KEY and what was expected.",
        discussion: "Warnings name protections a profile switches off (a trip that does not latch, a reset only from the control socket, …); they are printed and do not fail the check unless --strict is given. Exit code 0 when every profile is valid, 2 otherwise."
    )

    @Argument(help: "Profile files (TOML).")
    var files: [String]

    @Flag(help: "Treat warnings as errors (exit 2).")
    var strict = false

    @Flag(help: "Print the result as JSON.")
    var json = false

    func run() throws {
        var reports: [ValidationReport] = []
        for file in files {
            do {
                let loaded = try BoardProfileLoader.load(path: file)
                let warnings = loaded.warnings
                reports.append(ValidationReport(file: file, valid: !(strict && !warnings.isEmpty), board: loaded.profile.board.name,
                                                sensors: loaded.profile.sensors.count, channels: loaded.channels.channels.count,
                                                rules: loaded.profile.rules.count, sha256: loaded.sha256.hexString, errors: [], warnings: warnings))
            } catch {
                reports.append(ValidationReport(file: file, valid: false, board: nil, sensors: nil, channels: nil, rules: nil, sha256: nil,
                                                errors: error.diagnostics, warnings: []))
            }
        }
        if json {
            Console.out(JSONOutput.encode(files.count == 1 ? AnyEncodableReport.one(reports[0]) : .many(reports)))
        } else {
            for r in reports {
                for w in r.warnings { Console.err(w.description) }
                if r.valid {
                    let warned = r.warnings.isEmpty ? "" : ", \(r.warnings.count) warning\(r.warnings.count == 1 ? "" : "s")"
                    Console.out("\(r.file): ok (board \(r.board ?? "?"), \(r.sensors ?? 0) sensors, \(r.channels ?? 0) channels, \(r.rules ?? 0) rules\(warned))")
                } else if r.errors.isEmpty {
                    Console.err("\(r.file): \(r.warnings.count) warning\(r.warnings.count == 1 ? "" : "s"), errors under --strict")
                } else {
                    for d in r.errors { Console.err(d.description) }
                    Console.err("\(r.file): \(r.errors.count) error\(r.errors.count == 1 ? "" : "s")")
                }
            }
        }
        if reports.contains(where: { !$0.valid }) { throw CLIError(.badInput, "", alreadyReported: true) }
    }
}

/// What `board validate --json` prints per file.
public struct ValidationReport: Codable, Sendable {
    public var file: String
    public var valid: Bool
    public var board: String?
    public var sensors: Int?
    public var channels: Int?
    public var rules: Int?
    public var sha256: String?
    public var errors: [ProfileDiagnostic]
    /// Protections the profile switches off (errors under `--strict`).
    public var warnings: [ProfileDiagnostic]
}

enum AnyEncodableReport: Encodable {
    case one(ValidationReport)
    case many([ValidationReport])
    func encode(to encoder: Encoder) throws {
        switch self {
        case .one(let r): try r.encode(to: encoder)
        case .many(let rs): try rs.encode(to: encoder)
        }
    }
}

/// Loads a profile for a command, turning diagnostics into exit status 2.
func loadProfileOrExit(_ path: String) throws -> LoadedProfile {
    do {
        return try BoardProfileLoader.load(path: path)
    } catch {
        for d in error.diagnostics { Console.err(d.description) }
        throw CLIError(.badInput, "", alreadyReported: true)
    }
}

struct BoardShow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print the effective profile: defaults filled in, channels derived."
    )

    @Argument(help: "Profile file (TOML).")
    var file: String

    @Flag(help: "Print the effective profile as JSON (it decodes back to the same profile).")
    var json = false

    func run() throws {
        let loaded = try loadProfileOrExit(file)
        if json {
            Console.out(JSONOutput.encode(EffectiveProfile(profile: loaded.profile, channels: loaded.channels.channels, sha256: loaded.sha256.hexString)))
        } else {
            Console.out(ProfileSummary.render(loaded))
        }
    }
}

/// What `board show --json` prints.
public struct EffectiveProfile: Codable, Sendable {
    public var profile: BoardProfile
    public var channels: [ChannelDescriptor]
    public var sha256: String
}

struct BoardDetect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detect",
        abstract: "Pick the profile whose model string (and compatible string, where the profile names one) matches this board's device tree."
    )

    @Option(help: "Folder of profiles to choose from.")
    var boards: String = "/etc/vigil/boards"

    @Option(help: "Where the board's model string is read from.")
    var modelFile: String = "/proc/device-tree/model"

    @Option(help: "Where the board's device-tree compatible strings are read from.")
    var compatibleFile: String = "/proc/device-tree/compatible"

    @Flag(help: "Print the result as JSON.")
    var json = false

    func run() throws {
        let result = BoardDetector.detect(modelFile: modelFile, compatibleFile: compatibleFile, boardsDirectory: boards)
        if json {
            Console.out(JSONOutput.encode(result))
        } else {
            switch (result.model, result.matches.first) {
            case (nil, _):
                Console.out("no device-tree model at \(modelFile) (not a device-tree board, or not Linux)")
            case (let model?, nil):
                Console.out("model \"\(model)\": no profile in \(boards) matches")
            case (let model?, let match?):
                Console.out("model \"\(model)\": \(match.file) (board \(match.board))")
                for other in result.matches.dropFirst() { Console.out("  also matches: \(other.file) (board \(other.board))") }
            }
            for skipped in result.invalid { Console.err("skipped \(skipped.file): \(skipped.reason)") }
        }
        if result.matches.isEmpty { throw CLIError(.failure, "", alreadyReported: true) }
    }
}
