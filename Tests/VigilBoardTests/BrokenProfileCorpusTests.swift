import Testing
import TestSupport
@testable import VigilBoard

/// Every file in `Corpus/` except `valid-*` holds one mistake. The line where it must be reported
/// carries a trailing comment `# expect KEY: FRAGMENT` (or the file starts with
/// `# expect-noline KEY: FRAGMENT` when the mistake has no line, e.g. a missing top-level key).
@Suite struct BrokenProfileCorpusTests {
    static let corpus = TestPaths.repositoryRoot + "/Tests/VigilBoardTests/Corpus"
    static let brokenFiles = TestPaths.list(corpus).filter { $0.hasSuffix(".toml") && !$0.hasPrefix("valid-") && !$0.hasPrefix("warn-") }
    /// Files that validate but switch protections off: each line marked `# warn KEY: FRAGMENT`
    /// must be reported as a warning there.
    static let warningFiles = TestPaths.list(corpus).filter { $0.hasSuffix(".toml") && $0.hasPrefix("warn-") }

    struct Expectation: CustomStringConvertible {
        var line: Int?
        var key: String?
        var fragment: String
        var description: String { "\(line.map(String.init) ?? "-"): \(key ?? "(no key)"): \(fragment)" }
    }

    static func expectations(in text: String) -> [Expectation] {
        var result: [Expectation] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            for (marker, hasLine) in [("# expect-noline ", false), ("# expect ", true)] {
                guard let range = line.firstRange(of: marker) else { continue }
                let rest = line[range.upperBound...]
                guard let colon = rest.firstRange(of: ": ") ?? (rest.hasPrefix(":") ? rest.firstRange(of: ":") : nil) else { continue }
                let key = String(rest[..<colon.lowerBound]).trimmingCharacters()
                let fragment = String(rest[colon.upperBound...]).trimmingCharacters()
                result.append(Expectation(line: hasLine ? index + 1 : nil, key: key.isEmpty ? nil : key, fragment: fragment))
                break
            }
        }
        return result
    }

    @Test func corpusHasAtLeastTwentyFiveDistinctMistakes() {
        #expect(Self.brokenFiles.count >= 25)
        let all = Self.brokenFiles.flatMap { Self.expectations(in: TestPaths.readText(Self.corpus + "/" + $0) ?? "") }
        #expect(Set(all.map(\.fragment)).count >= 25)
    }

    @Test(arguments: brokenFiles)
    func brokenProfileFailsAtTheMarkedLineAndKey(_ name: String) throws {
        let path = Self.corpus + "/" + name
        let text = try #require(TestPaths.readText(path))
        let expected = Self.expectations(in: text)
        #expect(!expected.isEmpty, "\(name) has no # expect marker")
        do {
            _ = try BoardProfileLoader.load(path: path)
            Issue.record("\(name) validated but should fail")
        } catch {
            for diagnostic in error.diagnostics { #expect(diagnostic.file == path) }
            for e in expected {
                let hit = error.diagnostics.contains { d in
                    d.line == e.line && d.key == e.key && d.message.contains(e.fragment)
                }
                #expect(hit, "\(name): expected \(e); got:\n\(error.description)")
            }
        }
    }

    @Test(arguments: warningFiles)
    func profileSwitchingProtectionsOffValidatesWithAWarningAtEachMarkedLine(_ name: String) throws {
        let path = Self.corpus + "/" + name
        let text = try #require(TestPaths.readText(path))
        let expected = Self.expectations(in: text.replacing("# warn ", with: "# expect "))
        #expect(expected.count >= 4, "\(name) has too few # warn markers")
        let loaded = try BoardProfileLoader.load(path: path)
        for e in expected {
            let hit = loaded.warnings.contains { d in d.line == e.line && d.key == e.key && d.message.contains(e.fragment) && d.severity == .warning }
            #expect(hit, "\(name): expected warning \(e); got:\n\(loaded.warnings.map(\.description).joined(separator: "\n"))")
        }
        #expect(loaded.warnings.count == expected.count, "\(loaded.warnings.map(\.description))")
    }

    @Test func validBaseOfTheCorpusValidates() throws {
        let loaded = try BoardProfileLoader.load(path: Self.corpus + "/valid-base.toml")
        #expect(loaded.profile.board.name == "corpus")
    }
}

extension String {
    func trimmingCharacters() -> String {
        var s = Substring(self)
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}
