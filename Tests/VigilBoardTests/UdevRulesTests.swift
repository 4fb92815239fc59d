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

    /// Whether `device` is a name `symlink` can produce: each `$env{…}`/`$attr{…}` substitution
    /// stands for a non-empty run of the characters udev leaves in a name.
    static func symlink(_ symlink: String, canName device: String) -> Bool {
        // The link as literals between substitutions.
        var literals: [[Character]] = [[]]
        var rest = Substring(symlink)
        while let dollar = rest.firstIndex(of: "$") {
            literals[literals.count - 1] += Array(rest[..<dollar])
            guard let close = rest[dollar...].firstIndex(of: "}") else { return false }
            rest = rest[rest.index(after: close)...]
            literals.append([])
        }
        literals[literals.count - 1] += Array(rest)
        let name = Array(device)
        func isNameCharacter(_ c: Character) -> Bool { c.isLetter || c.isNumber || "-_.:".contains(c) }
        // Literal k must match at `at`; between literals a substitution takes one or more characters.
        func matches(_ k: Int, _ at: Int) -> Bool {
            let literal = literals[k]
            guard at + literal.count <= name.count, Array(name[at..<(at + literal.count)]) == literal else { return false }
            let next = at + literal.count
            if k == literals.count - 1 { return next == name.count }
            var end = next + 1
            while end <= name.count, isNameCharacter(name[end - 1]) {
                if matches(k + 1, end) { return true }
                end += 1
            }
            return false
        }
        return matches(0, 0)
    }

    @Test func everyDeviceALinuxProfileNamesIsCreatedByTheRulesOrIsAKernelName() throws {
        let rules = try Self.parse(TestPaths.readText(Self.rulesPath) ?? "")
        let links = rules.flatMap { $0.filter { $0.key == "SYMLINK" }.flatMap { $0.value.split(separator: " ").map { "/dev/" + $0 } } }
        let symlinks = Set(links.filter { !$0.contains("$") })
        let patterns = links.filter { $0.contains("$") }
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
                let named = symlinks.contains(device) || patterns.contains { Self.symlink($0, canName: device) }
                #expect(named || Self.isKernelName(device), "\(file): \(device) is neither created by udev/60-vigil.rules nor a kernel name")
            }
        }
        #expect(checked >= 8)
    }

    /// Issue 22 (14): every USB adapter and the board's UART claimed /dev/vigil-rs485, so a second
    /// adapter took the first one's name. Now each adapter's names carry its own serial number or
    /// port, and no USB rule names the board's UART's link.
    @Test func everyUSBAdapterGetsNamesOfItsOwn() throws {
        let rules = try Self.parse(TestPaths.readText(Self.rulesPath) ?? "")
        let usb = rules.filter { r in r.contains { $0.key == "ATTRS" && $0.attribute == "idVendor" } || r.contains { $0.key == "ENV" && $0.attribute == "VIGIL_RS485_USB" && $0.op == "==" } }
        #expect(usb.count >= 8)
        let usbLinks = usb.flatMap { $0.filter { $0.key == "SYMLINK" }.map(\.value) }
        #expect(usbLinks.count >= 2, "no names for USB adapters")
        for link in usbLinks {
            #expect(link != "vigil-rs485", "a USB adapter claims the board's UART's name")
            #expect(link.contains("$env{ID_SERIAL_SHORT}") || link.contains("$env{ID_PATH_TAG}"), "\(link) is the same for every adapter")
        }
        // The serial-number name tells a multi-port adapter's ports apart.
        #expect(usbLinks.contains { $0.contains("$env{ID_SERIAL_SHORT}") && $0.contains("$env{ID_USB_INTERFACE_NUM}") })
        // The names these rules read are made by udev's builtins, which the rules import themselves.
        let imports = usb.flatMap { $0.filter { $0.key == "IMPORT" }.map(\.value) }
        #expect(Set(imports) == ["usb_id", "path_id"])
        // The board UART rules (by kernel name) are the only ones that name vigil-rs485.
        let plain = rules.filter { $0.contains { $0.key == "SYMLINK" && $0.value == "vigil-rs485" } }
        #expect(plain.allSatisfy { r in r.contains { $0.key == "KERNEL" || $0.key == "KERNELS" } })
        #expect(Self.symlink("/dev/vigil-rs485-usb-$env{ID_SERIAL_SHORT}-if$env{ID_USB_INTERFACE_NUM}", canName: "/dev/vigil-rs485-usb-A10KXYZ1-if00"))
        #expect(!Self.symlink("/dev/vigil-rs485-usb-$env{ID_SERIAL_SHORT}-if$env{ID_USB_INTERFACE_NUM}", canName: "/dev/vigil-rs485-usb--if00"))
        #expect(!Self.symlink("/dev/vigil-rs485-port-$env{ID_PATH_TAG}", canName: "/dev/vigil-rs485"))
    }

    @Test func kernelNamesAreRecognisedAndInventedOnesAreNot() {
        #expect(Self.isKernelName("/dev/ttyAMA0"))
        #expect(Self.isKernelName("/dev/watchdog0"))
        #expect(!Self.isKernelName("/dev/vigil-rs485"))
        #expect(!Self.isKernelName("/dev/ttyAMAx"))
    }
}
