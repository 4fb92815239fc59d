import Testing
import TestSupport
import VigilCommandLine

enum Colour: String, CaseIterable, ExpressibleByArgument {
    case red, green, deepBlue = "deep-blue"
    init?(argument: String) { self.init(rawValue: argument) }
    static var allValueStrings: [String] { allCases.map(\.rawValue) }
}

struct Shared: ParsableArguments {
    @Option(name: .long, help: "Where the socket is.") var socket: String?
    init() {}
}

struct Leaf: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "leaf", abstract: "A leaf.")
    @OptionGroup var shared: Shared
    @Option(help: "How many.") var count: Int = 3
    @Option(help: "Required – 0…247.") var address: Int
    @Option(help: "A colour.") var colour: Colour = .red
    @Option(help: "Another.") var shade: Colour = .deepBlue
    @Option(name: .customLong("timeout-ms"), help: "Milliseconds.") var timeoutMilliseconds: Double?
    @Flag(name: .shortAndLong, help: "Chatty.") var verbose = false
    @Flag(help: "JSON.") var json = false
    @Argument(help: "First file.") var first: String
    @Argument(help: "More files.") var more: [String]
    init() {}
}

struct Group: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "group", abstract: "Groups.", subcommands: [Leaf.self])
    init() {}
}

struct Root: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tool", abstract: "The tool.", discussion: "Says why.", version: "9.1",
                                                    subcommands: [Group.self])
    init() {}
}

@Suite struct CommandLineTests {
    func leaf(_ args: [String]) throws -> Leaf {
        try #require(try Root.parseAsRoot(["group", "leaf"] + args) as? Leaf)
    }

    @Test func optionsFlagsGroupsAndArgumentsTakeTheirValues() throws {
        let l = try leaf(["--address", "5", "a", "--count=7", "-v", "b", "c", "--colour", "green", "--socket", "/s", "--timeout-ms", "2.5"])
        #expect(l.address == 5 && l.count == 7 && l.verbose && !l.json && l.colour == .green)
        #expect(l.shared.socket == "/s" && l.timeoutMilliseconds == 2.5)
        #expect(l.first == "a" && l.more == ["b", "c"])
        let d = try leaf(["--address", "-3", "x", "y"])
        #expect(d.count == 3 && d.colour == .red && d.shared.socket == nil && d.timeoutMilliseconds == nil && d.address == -3)
        let dash = try leaf(["--address", "1", "--", "-", "--json"])
        #expect(dash.first == "-" && dash.more == ["--json"] && !dash.json)
    }

    @Test func badInputIsAUsageErrorThatSaysWhat() {
        func message(_ args: [String]) -> String {
            do { _ = try Root.parseAsRoot(args); return "parsed" } catch { return error.message }
        }
        #expect(message(["group", "leaf", "a", "b"]).hasPrefix("missing expected option '--address <address>'"))
        #expect(message(["group", "leaf", "--address", "1"]).hasPrefix("missing expected argument '<first>'"))
        #expect(message(["group", "leaf", "--address", "x", "a", "b"]).hasPrefix("the value 'x' is not valid for '--address <address>'"))
        #expect(message(["group", "leaf", "--address", "1", "--colour", "blue", "a", "b"]).contains("(one of: red, green, deep-blue)"))
        #expect(message(["group", "leaf", "--nope", "a"]).hasPrefix("unknown option '--nope'"))
        #expect(message(["group", "leaf", "--address"]).hasPrefix("missing value for '--address <address>'"))
        #expect(message(["group", "leaf", "--json=yes", "--address", "1", "a", "b"]).hasPrefix("'--json' takes no value"))
        #expect(message(["group", "bogus"]).hasPrefix("unknown command 'bogus' under 'tool group'"))
        #expect(message(["group", "leaf", "--address", "1", "--count", "inf", "a", "b"]).hasPrefix("the value 'inf'"))
        #expect(message(["group", "leaf"]).contains("USAGE: tool group leaf"))
    }

    @Test func helpAndVersionAreAnswersNotErrors() throws {
        for args in [["--help"], ["help"], [], ["group"], ["help", "group", "leaf"], ["group", "leaf", "-h"]] {
            do {
                _ = try Root.parseAsRoot(args)
                Issue.record("\(args) parsed")
            } catch {
                guard case .helpRequested(let text) = error else { Issue.record("\(args): \(error)"); continue }
                #expect(text.contains("USAGE: tool"), "\(args): \(text)")
            }
        }
        #expect(throws: CommandLineError.versionRequested("9.1")) { try Root.parseAsRoot(["--version"]) }
        do { _ = try Root.parseAsRoot(["help", "group", "leaf"]) } catch {
            let text = error.message
            #expect(text.contains("-v, --verbose") && text.contains("--timeout-ms <timeout-milliseconds>") && text.contains("(default: 3)"))
            #expect(text.contains("<more> ...") && text.contains("(values: red, green, deep-blue)") && text.contains("--socket <socket>"))
            #expect(text.contains("(default: deep-blue)"), "an enum's default is written as it is typed")
        }
    }

    /// The generated scripts are read by the shells themselves (`bash -n`), and the page by man's
    /// own formatter with warnings on (what lintian runs).
    @Test func completionScriptsAndTheManualAreWellFormed() throws {
        let tree = CommandTree(Root.self)
        let dir = TestPaths.makeTemporaryDirectory("vigil-cl")
        defer { TestPaths.removeTree(dir) }
        let bash = try tree.completionScript(shell: "bash")
        #expect(bash.contains("--timeout-ms") && bash.contains("red green deep-blue") && bash.contains("complete -o default -F _tool tool"))
        TestPaths.writeFile(dir + "/tool.bash", bash)
        let check = try ChildProcess.run("/bin/bash", ["-n", dir + "/tool.bash"])
        #expect(check.status == 0, "\(check.stderr)")
        let sourced = try ChildProcess.run("/bin/bash", ["-c", "source \(dir)/tool.bash; COMP_WORDS=(tool group leaf --col); COMP_CWORD=3; _tool; echo \"${COMPREPLY[@]}\"; COMP_WORDS=(tool group leaf --colour ''); COMP_CWORD=4; _tool; echo \"${COMPREPLY[@]}\""])
        #expect(sourced.stdout == "--colour\nred green deep-blue\n", "\(sourced.stdout)\(sourced.stderr)")
        #expect(try tree.completionScript(shell: "zsh").hasPrefix("#compdef tool"))
        #expect(try tree.completionScript(shell: "fish").contains("complete -c tool -n '__fish_seen_subcommand_from leaf' -l timeout-ms -r"))
        #expect(throws: CommandLineError.self) { try tree.completionScript(shell: "tcsh") }

        let page = tree.manualPage(date: "2026-12-04")
        #expect(page.hasPrefix(".TH TOOL 1 \"2026-12-04\" \"tool 9.1\""))
        #expect(page.contains(".SS \"tool group leaf\"") && page.contains("\\-\\-timeout\\-ms"))
        TestPaths.writeFile(dir + "/tool.1", page)
        try #require(TestPaths.exists("/usr/bin/groff"), "groff-base is missing (Scripts/setup installs it)")
        let man = try ChildProcess.run("/usr/bin/groff", ["-man", "-ww", "-z", dir + "/tool.1"])
        #expect(man.status == 0 && man.stderr.isEmpty, "\(man.stderr)")
    }
}
