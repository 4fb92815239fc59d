import Testing
import TestSupport
import VigilBoard

/// The udev rules are parsed here with udev's grammar (comma-separated `KEY[{attr}] OP "value"`), and
/// every device a Linux profile names must be one the rules create or a kernel name.
@Suite struct UdevRulesTests {
    static let rulesPath = TestPaths.repositoryRoot + "/udev/60-vigil.rules"

    struct Assignment: Equatable {
        var key: String
        var attribute: String?
        var op: String
        var value: String
    }

    enum RuleError: Error, CustomStringConvertible {
        case syntax(line: Int, message: String)
        var description: String {
            switch self { case .syntax(let line, let message): return "60-vigil.rules:\(line): \(message)" }
        }
    }

    static let matchKeys: Set<String> = ["ACTION", "DEVPATH", "KERNEL", "KERNELS", "NAME", "SYMLINK", "SUBSYSTEM", "SUBSYSTEMS",
                                         "DRIVER", "DRIVERS", "ATTR", "ATTRS", "ENV", "TAG", "TAGS", "TEST", "PROGRAM", "RESULT"]
    static let assignKeys: Set<String> = ["NAME", "SYMLINK", "OWNER", "GROUP", "MODE", "TAG", "ENV", "RUN", "LABEL", "GOTO",
                                          "OPTIONS", "ATTR", "IMPORT"]

    static func parse(_ text: String) throws -> [[Assignment]] {
        var rules: [[Assignment]] = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = index + 1
            let trimmed = raw.drop { $0 == " " || $0 == "\t" }
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            var rule: [Assignment] = []
            var rest = Substring(trimmed)
            while !rest.isEmpty {
                var key = ""
                while let c = rest.first, c.isUppercase || c == "_" { key.append(c); rest.removeFirst() }
                guard !key.isEmpty else { throw RuleError.syntax(line: line, message: "expected a key at \"\(rest.prefix(20))\"") }
                var attribute: String?
                if rest.first == "{" {
                    guard let close = rest.firstIndex(of: "}") else { throw RuleError.syntax(line: line, message: "unclosed { after \(key)") }
                    attribute = String(rest[rest.index(after: rest.startIndex)..<close])
                    rest = rest[rest.index(after: close)...]
                }
                var op = ""
                while let c = rest.first, "=!+-:".contains(c) { op.append(c); rest.removeFirst() }
                guard ["==", "!=", "=", "+=", "-=", ":="].contains(op) else { throw RuleError.syntax(line: line, message: "bad operator \"\(op)\" after \(key)") }
                guard rest.first == "\"" else { throw RuleError.syntax(line: line, message: "value of \(key) must be quoted") }
                rest.removeFirst()
                guard let endQuote = rest.firstIndex(of: "\"") else { throw RuleError.syntax(line: line, message: "unterminated value of \(key)") }
                let value = String(rest[..<endQuote])
                rest = rest[rest.index(after: endQuote)...]
                let isMatch = op == "==" || op == "!="
                if isMatch && !matchKeys.contains(key) { throw RuleError.syntax(line: line, message: "\(key) cannot be matched") }
                if !isMatch && !assignKeys.contains(key) { throw RuleError.syntax(line: line, message: "\(key) cannot be assigned") }
                if ["ATTR", "ATTRS", "ENV"].contains(key) && attribute == nil { throw RuleError.syntax(line: line, message: "\(key) needs {name}") }
                rule.append(Assignment(key: key, attribute: attribute, op: op, value: value))
                rest = rest.drop { $0 == " " || $0 == "\t" }
                if rest.first == "," { rest.removeFirst(); rest = rest.drop { $0 == " " || $0 == "\t" } }
                else if !rest.isEmpty { throw RuleError.syntax(line: line, message: "expected ',' before \"\(rest.prefix(20))\"") }
            }
            guard rule.contains(where: { $0.op == "==" || $0.op == "!=" }) else { throw RuleError.syntax(line: line, message: "rule matches nothing") }
            if let mode = rule.first(where: { $0.key == "MODE" }) {
                guard mode.value.count == 4, mode.value.allSatisfy({ "01234567".contains($0) }) else { throw RuleError.syntax(line: line, message: "MODE must be four octal digits") }
            }
            rules.append(rule)
        }
        return rules
    }

    @Test func rulesParseWithUdevGrammar() throws {
        let text = try #require(TestPaths.readText(Self.rulesPath))
        let rules = try Self.parse(text)
        #expect(rules.count >= 10)
    }

    @Test func parserRejectsCommonMistakes() {
        for bad in ["SUBSYSTEM=\"gpio\" GROUP=\"vigil\"", "SUBSYSTEM==gpio, GROUP=\"vigil\"", "GROUP=\"vigil\"",
                    "SUBSYSTEM==\"tty\", MODE=\"660\"", "ATTRS==\"x\", GROUP=\"vigil\"", "SUBSYSTEM==\"tty\", KERNELS=\"x\""] {
            #expect(throws: RuleError.self, "\(bad)") { try Self.parse(bad) }
        }
    }

    @Test func theVigilGroupGetsEveryDeviceClassTheAgentOpens() throws {
        let rules = try Self.parse(TestPaths.readText(Self.rulesPath) ?? "")
        func grants(_ subsystem: String) -> Bool {
            rules.contains { r in
                r.contains(Assignment(key: "SUBSYSTEM", attribute: nil, op: "==", value: subsystem))
                    && r.contains { $0.key == "GROUP" && $0.value == "vigil" }
                    && r.contains { $0.key == "MODE" && $0.value == "0660" }
            }
        }
        for subsystem in ["gpio", "i2c-dev", "watchdog", "tty"] { #expect(grants(subsystem), "no rule gives group vigil \(subsystem) devices") }
        // Common USB-RS485 bridges are covered by vendor/product id.
        let usb = rules.filter { $0.contains { $0.key == "ATTRS" && $0.attribute == "idVendor" } }
        #expect(usb.count >= 4)
    }

    /// Kernel device names a profile may use directly: they exist without any rule.
    static func isKernelName(_ path: String) -> Bool {
        let name = path.hasPrefix("/dev/") ? String(path.dropFirst(5)) : path
        for prefix in ["ttyAMA", "ttyS", "ttyUSB", "ttyACM", "i2c-", "watchdog", "ttymxc", "ttyO"] where name.hasPrefix(prefix) {
            let rest = name.dropFirst(prefix.count)
            if rest.allSatisfy(\.isNumber) { return true }
        }
        return name == "watchdog"
    }

    @Test func everyDeviceALinuxProfileNamesIsCreatedByTheRulesOrIsAKernelName() throws {
        let rules = try Self.parse(TestPaths.readText(Self.rulesPath) ?? "")
        let symlinks = Set(rules.flatMap { $0.filter { $0.key == "SYMLINK" }.flatMap { $0.value.split(separator: " ").map { "/dev/" + $0 } } })
        let boards = TestPaths.repositoryRoot + "/Boards"
        var checked = 0
        for file in TestPaths.list(boards) where file.hasSuffix(".toml") {
            let profile = try BoardProfileLoader.load(path: boards + "/" + file).profile
            // Simulated boards open no device at all.
            guard profile.board.backend == .linux else { continue }
            var devices: [String] = profile.serialPorts.map(\.device) + profile.i2cBuses.compactMap(\.path)
            if let wd = profile.watchdog.device { devices.append(wd) }
            if let serial = profile.uplink.serial { devices.append(serial.device) }
            for device in devices {
                checked += 1
                #expect(symlinks.contains(device) || Self.isKernelName(device), "\(file): \(device) is neither created by udev/60-vigil.rules nor a kernel name")
            }
        }
        #expect(checked >= 8)
    }

    @Test func kernelNamesAreRecognisedAndInventedOnesAreNot() {
        #expect(Self.isKernelName("/dev/ttyAMA0"))
        #expect(Self.isKernelName("/dev/watchdog0"))
        #expect(!Self.isKernelName("/dev/vigil-rs485"))
        #expect(!Self.isKernelName("/dev/ttyAMAx"))
    }
}
