/// A group of declarations that commands share (`@OptionGroup`).
public protocol ParsableArguments {
    init()
}

/// A command: its name and help, its subcommands, and what it does.
public protocol ParsableCommand: ParsableArguments {
    static var configuration: CommandConfiguration { get }
    /// Runs the command. A command with subcommands and no `run` prints its help.
    mutating func run() throws
}

extension ParsableCommand {
    /// Only commands with subcommands leave this out, and `CommandTree.parse` shows their help instead.
    public mutating func run() throws {
        throw CommandLineError.usage("'\(CommandTree.name(Self.self))' needs a subcommand (see --help)")
    }
}

public struct CommandConfiguration: @unchecked Sendable {
    public var commandName: String?
    public var abstract: String
    public var discussion: String
    public var version: String
    public var subcommands: [any ParsableCommand.Type]

    public init(commandName: String? = nil, abstract: String = "", discussion: String = "", version: String = "",
                subcommands: [any ParsableCommand.Type] = []) {
        self.commandName = commandName
        self.abstract = abstract
        self.discussion = discussion
        self.version = version
        self.subcommands = subcommands
    }
}

/// Why parsing stopped: bad input (exit 2 in vigil), or help or the version asked for (exit 0).
public enum CommandLineError: Error, Equatable {
    case usage(String)
    case helpRequested(String)
    case versionRequested(String)

    public var message: String {
        switch self {
        case .usage(let m), .helpRequested(let m), .versionRequested(let m): return m
        }
    }
}

// MARK: - Reflection

/// A command's declarations, in the order they are written.
struct Declarations {
    var slots: [(definition: ArgumentDefinition, slot: any ArgumentSlot)] = []

    init(of value: Any) {
        collect(value)
    }

    private mutating func collect(_ value: Any) {
        for child in Mirror(reflecting: value).children {
            guard var label = child.label else { continue }
            if label.hasPrefix("_") { label.removeFirst() }
            if let slot = child.value as? any ArgumentSlot {
                slots.append((slot.definition(label: label), slot))
            } else if let group = child.value as? any ArgumentGroupSlot {
                collect(group.groupValue)
            }
        }
    }

    var options: [ArgumentDefinition] { slots.map(\.definition).filter { $0.kind != .positional } }
    var positionals: [ArgumentDefinition] { slots.map(\.definition).filter { $0.kind == .positional } }
}

// MARK: - Parsing

public struct CommandTree {
    let root: any ParsableCommand.Type

    public init(_ root: any ParsableCommand.Type) { self.root = root }

    static func name(_ c: any ParsableCommand.Type) -> String {
        c.configuration.commandName ?? kebabCase(String(describing: c)).replacingSuffix("-command")
    }

    /// The command `arguments` (without the program name) select, with its declarations filled.
    public func parse(_ arguments: [String]) throws(CommandLineError) -> any ParsableCommand {
        var path: [any ParsableCommand.Type] = [root]
        var rest = arguments[...]
        // `vigil help board validate` is `vigil board validate --help`.
        if rest.first == "help" {
            rest = rest.dropFirst()
            while let next = rest.first, let sub = path.last!.configuration.subcommands.first(where: { Self.name($0) == next }) { path.append(sub); rest = rest.dropFirst() }
            if let extra = rest.first { throw .usage("no command '\(extra)' under '\(path.map(Self.name).joined(separator: " "))'\n\n" + usage(path: path)) }
            throw .helpRequested(help(path: path))
        }
        while let next = rest.first, let sub = path.last!.configuration.subcommands.first(where: { Self.name($0) == next }) {
            path.append(sub)
            rest = rest.dropFirst()
        }
        // A command that only groups others (it has subcommands) shows its help.
        if !path.last!.configuration.subcommands.isEmpty && rest.isEmpty { throw .helpRequested(help(path: path)) }
        let command = path.last!.init()
        let declarations = Declarations(of: command)
        try fill(declarations, from: Array(rest), path: path)
        return command
    }

    private func fill(_ d: Declarations, from arguments: [String], path: [any ParsableCommand.Type]) throws(CommandLineError) {
        var given: [Int: [String]] = [:]
        var positionals: [String] = []
        var i = 0
        var onlyPositionals = false
        let command = path.last!
        func slotIndex(long: String) -> Int? { d.slots.firstIndex { $0.definition.kind != .positional && $0.definition.long == long } }
        func slotIndex(short: Character) -> Int? { d.slots.firstIndex { $0.definition.kind != .positional && $0.definition.short == short } }
        while i < arguments.count {
            let a = arguments[i]
            i += 1
            if onlyPositionals || a == "-" || !a.hasPrefix("-") || Double(a) != nil {
                positionals.append(a)
                continue
            }
            if a == "--" { onlyPositionals = true; continue }
            if a == "--help" || a == "-h" { throw .helpRequested(help(path: path)) }
            if a == "--version", path.count == 1, !command.configuration.version.isEmpty { throw .versionRequested(command.configuration.version) }
            var name = a
            var inlineValue: String?
            if a.hasPrefix("--"), let eq = a.firstIndex(of: "=") {
                name = String(a[..<eq])
                inlineValue = String(a[a.index(after: eq)...])
            }
            let index: Int?
            if name.hasPrefix("--") { index = slotIndex(long: String(name.dropFirst(2))) } else if name.count == 2 { index = slotIndex(short: name.last!) } else { index = nil }
            guard let index else {
                var m = "unknown option '\(name)'"
                if !command.configuration.subcommands.isEmpty { m = "'\(path.map(Self.name).joined(separator: " "))' needs a subcommand first; " + m }
                throw .usage(m + "\n\n" + usage(path: path))
            }
            let def = d.slots[index].definition
            if def.kind == .flag {
                if inlineValue != nil { throw .usage("'--\(def.long)' takes no value\n\n" + usage(path: path)) }
                given[index, default: []].append("true")
                continue
            }
            if let inlineValue { given[index, default: []].append(inlineValue); continue }
            guard i < arguments.count else { throw .usage("missing value for '\(def.synopsis)'\n\n" + usage(path: path)) }
            given[index, default: []].append(arguments[i])
            i += 1
        }
        // Positionals fill the arguments in order; a repeating one takes the rest.
        var p = 0
        for (index, entry) in d.slots.enumerated() where entry.definition.kind == .positional {
            if entry.definition.isRepeating {
                given[index] = Array(positionals[min(p, positionals.count)...])
                p = positionals.count
            } else if p < positionals.count {
                given[index] = [positionals[p]]
                p += 1
            }
        }
        if p < positionals.count {
            if !command.configuration.subcommands.isEmpty {
                throw .usage("unknown command '\(positionals[p])' under '\(path.map(Self.name).joined(separator: " "))'\n\n" + usage(path: path))
            }
            throw .usage("unexpected argument '\(positionals[p])'\n\n" + usage(path: path))
        }
        for (index, entry) in d.slots.enumerated() {
            let texts = given[index] ?? []
            if texts.isEmpty && entry.definition.isRequired {
                let what = entry.definition.kind == .positional ? "argument '\(entry.definition.synopsis)'" : "option '\(entry.definition.synopsis)'"
                throw .usage("missing expected \(what)\n\n" + usage(path: path))
            }
            try entry.slot.assign(texts, definition: entry.definition)
        }
    }
}

extension String {
    func replacingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) && count > suffix.count ? String(dropLast(suffix.count)) : self
    }
}

extension ParsableCommand {
    /// Parses `arguments` (without the program name) against this command and its subcommands.
    public static func parseAsRoot(_ arguments: [String]) throws(CommandLineError) -> any ParsableCommand {
        try CommandTree(Self.self).parse(arguments)
    }
}
