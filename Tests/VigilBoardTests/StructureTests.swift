import Testing
import TestSupport
import VigilParts

/// The shape of the code, checked where a change could break it: one home per part, and no
/// library below the agent choosing a backend.
@Suite struct StructureTests {
    static let sources = TestPaths.repositoryRoot + "/Sources"

    /// Every Swift file under Sources/, relative to it.
    static func sourceFiles() -> [String] {
        var files: [String] = []
        for module in TestPaths.list(sources) {
            for name in TestPaths.list("\(sources)/\(module)") where name.hasSuffix(".swift") { files.append("\(module)/\(name)") }
        }
        return files
    }

    static func text(_ file: String) -> String { TestPaths.readText("\(sources)/\(file)") ?? "" }

    /// A part is named in its facts file, its driver and its model, plus its one line in the
    /// registry: adding a part touches no validator, catalog, command or pipeline.
    @Test(arguments: Parts.all.map { $0.typeName })
    func aPartIsNamedInItsThreeFilesAndOneRegistrationLine(typeName: String) {
        var naming: [String] = []
        var registrationLines = 0
        for file in Self.sourceFiles() {
            let lines = Self.text(file).lowercased().split(separator: "\n", omittingEmptySubsequences: false)
            let count = lines.filter { $0.contains(typeName) }.count
            guard count > 0 else { continue }
            if file == "VigilParts/Parts.swift" { registrationLines = count } else { naming.append(file) }
        }
        #expect(registrationLines == 1, "\(typeName) is on \(registrationLines) lines of VigilParts/Parts.swift")
        #expect(naming.count <= 3, "\(typeName) is named in \(naming)")
        for file in naming {
            #expect(["VigilParts/", "VigilDrivers/", "VigilSimulation/"].contains { file.hasPrefix($0) }, "\(typeName) is named in \(file)")
        }
        #expect(naming.contains { $0.hasPrefix("VigilParts/") }, "\(typeName) has no facts file")
        #expect(naming.contains { $0.hasPrefix("VigilDrivers/") }, "\(typeName) has no driver")
    }

    /// No Foundation in the binary: linking FoundationEssentials at all costs a static binary about
    /// 7 MB (README, "Size"); VigilJSON, VigilBoard's TOMLReader and VigilCommandLine stand in for it.
    @Test func nothingInSourcesImportsFoundation() {
        for file in Self.sourceFiles() {
            for line in Self.text(file).split(separator: "\n") {
                let words = line.split(separator: " ")
                guard let i = words.firstIndex(of: "import"), i + 1 < words.count, words[..<i].allSatisfy({ $0.hasPrefix("@") || $0 == "public" || $0 == "internal" }) else { continue }
                #expect(!words[i + 1].hasPrefix("Foundation") && !words[i + 1].hasPrefix("_Foundation"), "\(file) imports \(words[i + 1])")
            }
        }
        let manifest = TestPaths.readText(TestPaths.repositoryRoot + "/Package.swift") ?? ""
        #expect(!manifest.contains(".package("), "a package dependency would bring its own imports")
    }

    /// One reader of the system's clocks: CVigilSys's `vigil_monotonic_ns`/`vigil_realtime_ns`,
    /// behind VigilLoop's `SystemClock`. A second `clock_gettime` in Swift is a second home.
    @Test func onlyTheClockShimReadsTheSystemClocks() {
        for file in Self.sourceFiles() where Self.text(file).contains("clock_gettime(") {
            Issue.record("\(file) calls clock_gettime; use SystemClock (or vigil_monotonic_ns in a module below VigilLoop)")
        }
    }

    /// Only the composition root (the agent), the CLI above it, the two boards and the backends'
    /// own tests pick a backend: the runtime, the uplinks and everything below are generic.
    @Test func noLibraryBelowTheAgentImportsABackend() {
        let backends = ["VigilHALLinux", "VigilSimulation", "VigilBoardLinux", "VigilBoardSimulated"]
        let allowed: [String: Set<String>] = [
            "VigilHALLinux": ["VigilBoardLinux", "VigilAgent", "VigilCLI"],
            "VigilSimulation": ["VigilBoardSimulated", "VigilAgent", "VigilCLI"],
            "VigilBoardLinux": ["VigilAgent", "VigilCLI"],
            "VigilBoardSimulated": ["VigilAgent", "VigilCLI"],
        ]
        for file in Self.sourceFiles() {
            let module = String(file.split(separator: "/")[0])
            for line in Self.text(file).split(separator: "\n") where line.hasPrefix("import ") {
                let imported = String(line.dropFirst("import ".count))
                guard backends.contains(imported), imported != module else { continue }
                #expect(allowed[imported]?.contains(module) == true, "\(file) imports the backend \(imported)")
            }
        }
    }
}
