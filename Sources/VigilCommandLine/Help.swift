/// Help text, from the same declarations the parser reads.
extension CommandTree {
    /// The usage line, wrapped between options (never inside one), then where to read more.
    func usage(path: [any ParsableCommand.Type]) -> String {
        usageLine(path: path) + "\n  See '\(path.map(Self.name).joined(separator: " ")) --help' for more."
    }

    func usageLine(path: [any ParsableCommand.Type], width: Int = 100) -> String {
        let command = path.last!
        let d = Declarations(of: command.init())
        var parts = ["USAGE: " + path.map(Self.name).joined(separator: " ")]
        if !command.configuration.subcommands.isEmpty { parts.append("<subcommand>") }
        for o in d.options { parts.append(o.isRequired ? o.synopsis : "[\(o.synopsis)]") }
        for a in d.positionals { parts.append(a.isRequired ? a.synopsis : "[\(a.synopsis)]") }
        var lines: [String] = []
        var line = ""
        for p in parts {
            if !line.isEmpty && line.count + 1 + p.count > width { lines.append(line); line = String(repeating: " ", count: 7) }
            line += (line.trimmingLeadingSpaces.isEmpty ? "" : " ") + p
        }
        lines.append(line)
        return lines.joined(separator: "\n")
    }

    static func wrap(_ text: String, indent: Int, width: Int = 100) -> String {
        var lines: [String] = []
        for paragraph in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = ""
            for word in paragraph.split(separator: " ") {
                if !line.isEmpty && line.count + 1 + word.count > width - indent { lines.append(line); line = "" }
                line += (line.isEmpty ? "" : " ") + word
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n" + String(repeating: " ", count: indent))
    }

    static func row(_ label: String, _ text: String) -> String {
        let column = 26
        let head = "  " + label
        if text.isEmpty { return head }
        if head.count >= column - 1 { return head + "\n" + String(repeating: " ", count: column) + wrap(text, indent: column) }
        return head + String(repeating: " ", count: column - head.count) + wrap(text, indent: column)
    }

    static func describe(_ a: ArgumentDefinition) -> String {
        var text = a.help
        if !a.choices.isEmpty { text += " (values: \(a.choices.joined(separator: ", ")))" }
        if let d = a.defaultDescription, a.kind != .flag { text += " (default: \(d))" }
        return text
    }

    func help(path: [any ParsableCommand.Type]) -> String {
        let command = path.last!
        let c = command.configuration
        let d = Declarations(of: command.init())
        var out = ""
        if !c.abstract.isEmpty { out += "OVERVIEW: " + Self.wrap(c.abstract, indent: 10) + "\n\n" }
        // The discussion keeps the line breaks its author chose; only long lines are wrapped.
        if !c.discussion.isEmpty { out += Self.wrap(c.discussion, indent: 0) + "\n\n" }
        out += usageLine(path: path) + "\n"
        if !d.positionals.isEmpty {
            out += "\nARGUMENTS:\n"
            for a in d.positionals { out += Self.row(a.synopsis, Self.describe(a)) + "\n" }
        }
        out += "\nOPTIONS:\n"
        for o in d.options { out += Self.row(o.label, Self.describe(o)) + "\n" }
        if path.count == 1 && !c.version.isEmpty { out += Self.row("--version", "Show the version.") + "\n" }
        out += Self.row("-h, --help", "Show help information.") + "\n"
        if !c.subcommands.isEmpty {
            out += "\nSUBCOMMANDS:\n"
            for s in c.subcommands { out += Self.row(Self.name(s), s.configuration.abstract) + "\n" }
            out += "\n  See '\(path.map(Self.name).joined(separator: " ")) help <subcommand>' for detailed help.\n"
        }
        return out
    }

    /// Every command path under the root, depth first (the root first).
    func allPaths() -> [[any ParsableCommand.Type]] {
        var out: [[any ParsableCommand.Type]] = []
        func walk(_ path: [any ParsableCommand.Type]) {
            out.append(path)
            for s in path.last!.configuration.subcommands { walk(path + [s]) }
        }
        walk([root])
        return out
    }

    static func definitions(_ command: any ParsableCommand.Type) -> Declarations { Declarations(of: command.init()) }
}

extension String {
    var trimmingLeadingSpaces: Substring { drop(while: { $0 == " " }) }
}
