#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport
@testable import VigilBoard

/// Input that never reaches the TOML parser: empty, huge, BOM, CRLF, binary, missing, a directory.
@Suite struct FileLevelBadInputTests {
    let valid = TestPaths.readText(TestPaths.repositoryRoot + "/Tests/VigilBoardTests/Corpus/valid-base.toml")!

    func diagnostics(for bytes: [UInt8]) -> [ProfileDiagnostic] {
        do {
            _ = try BoardProfileLoader.load(bytes: bytes, path: "p.toml")
            return []
        } catch {
            return error.diagnostics
        }
    }

    @Test func emptyFileIsRefusedWithAHint() {
        let d = diagnostics(for: [])
        #expect(d.count == 1)
        #expect(d.first?.message.contains("is empty") == true)
        #expect(diagnostics(for: Array("  \n\t\n".utf8)).first?.message.contains("is empty") == true)
    }

    @Test func byteOrderMarkIsRefusedAtLineOne() {
        let d = diagnostics(for: [0xEF, 0xBB, 0xBF] + Array(valid.utf8))
        #expect(d.first?.line == 1)
        #expect(d.first?.message.contains("byte-order mark") == true)
    }

    @Test func crlfLineEndsAreRefusedWithTheirLine() {
        let text = valid.replacingLines(from: 3) { $0 + "\r" }
        let d = diagnostics(for: Array(text.utf8))
        #expect(d.first?.line == 3)
        #expect(d.first?.message.contains("CRLF") == true)
    }

    @Test func hugeProfileIsRefusedBeforeParsing() throws {
        let dir = TestPaths.makeTemporaryDirectory()
        defer { TestPaths.removeTree(dir) }
        let path = dir + "/huge.toml"
        TestPaths.writeFile(path, bytes: Array(valid.utf8) + [UInt8](repeating: 0x23, count: BoardProfileLoader.maximumSize))
        #expect(throws: ProfileErrors.self) { try BoardProfileLoader.load(path: path) }
        do { _ = try BoardProfileLoader.load(path: path) } catch {
            #expect(error.diagnostics.first?.message.contains("limited to 1048576 bytes") == true)
        }
    }

    @Test func binaryAndInvalidUTF8AreRefused() {
        #expect(diagnostics(for: Array("schema = 1\n".utf8) + [0, 1, 2]).first?.message.contains("NUL byte") == true)
        let d = diagnostics(for: Array("schema = 1\nname = \"".utf8) + [0xC3, 0x28] + Array("\"\n".utf8))
        #expect(d.first?.message.contains("not valid UTF-8") == true)
        #expect(d.first?.line == 2)
    }

    @Test func missingFileAndDirectoryAreNamed() {
        do { _ = try BoardProfileLoader.load(path: "/nonexistent/board.toml") } catch {
            #expect(error.diagnostics.first?.message.contains("no such file") == true)
            #expect(error.diagnostics.first?.file == "/nonexistent/board.toml")
        }
        do { _ = try BoardProfileLoader.load(path: "/tmp") } catch {
            #expect(error.diagnostics.first?.message.contains("is a directory") == true)
        }
    }

    /// Issue 18 (14): a profile path that is a FIFO is refused at once (reading it would wait
    /// for a writer forever), as is a character device.
    @Test(.timeLimit(.minutes(1))) func aFIFOOrDeviceIsNotAProfile() throws {
        let dir = TestPaths.makeTemporaryDirectory()
        defer { TestPaths.removeTree(dir) }
        let fifo = dir + "/board.toml"
        #expect(mkfifo(fifo, 0o644) == 0)
        for (path, kind) in [(fifo, "FIFO"), ("/dev/null", "character device")] {
            do {
                _ = try BoardProfileLoader.load(path: path)
                Issue.record("\(path) was loaded")
            } catch {
                #expect(error.diagnostics.first?.message.contains(kind) == true, "\(error.diagnostics)")
                #expect(error.diagnostics.first?.message.contains("regular file") == true)
            }
        }
    }

    /// Issue 18 (14): nesting as deep as the size limit allows is a located error, not a stack
    /// overflow in the key locator (which runs before the TOML parser's own depth limit).
    @Test(arguments: ["[", "{a = "])
    func deepNestingIsALocatedError(opener: String) {
        let count = (BoardProfileLoader.maximumSize - 16) / opener.utf8.count
        let text = "a = " + String(repeating: opener, count: count) + "\n"
        let d = diagnostics(for: Array(text.utf8))
        #expect(d.count == 1)
        #expect(d.first?.line == 1)
        #expect(d.first?.message.contains("nested") == true, "\(d)")
    }

    /// The C++ parser vigil once used asserted (aborting the process) on these; each must come back
    /// as a located error.
    @Test(arguments: [
        ("[[[\n", 1), ("a = 1\n[.b]\n", 2), ("[=]\n", 1), ("a = [}]\n", 1), ("a = [1, [2, }]]\n", 1),
        ("a = [\"0, 625]\nb = 2\n", 1), ("a = {x = }\n", 1), ("a = [1,\n  }\n]\n", 2),
    ])
    func textThatTrapsTheTOMLParserIsALocatedError(text: String, line: Int) {
        let d = diagnostics(for: Array(text.utf8))
        #expect(d.count == 1, "\(text)")
        #expect(d.first?.line == line, "\(text): \(d)")
        #expect(d.first?.message.hasPrefix("is not valid TOML") == true, "\(text): \(d)")
    }

    @Test func notTOMLReportsLineAndColumn() {
        let d = diagnostics(for: Array("this is not toml\n".utf8))
        #expect(d.count == 1)
        #expect(d.first?.line == 1)
        #expect(d.first?.message.hasPrefix("is not valid TOML") == true)
    }

    @Test func independentMistakesAreReportedTogetherInFileOrder() {
        var text = valid
        text = text.replacingOccurrences(of: "baud = 19200", with: "baud = 14400")
        text = text.replacingOccurrences(of: "release = 4.0", with: "release = 9.0")
        text = text.replacingOccurrences(of: "bus = \"bus\"\n", with: "bus = \"bus\"\nsample_rate_hz = 3000\n")
        let d = diagnostics(for: Array(text.utf8))
        #expect(d.count == 3, "\(d)")
        let lines = d.compactMap(\.line)
        #expect(lines == lines.sorted())
    }

    @Test func everyDiagnosticPrintsAsFileLineKeyMessage() {
        let d = ProfileDiagnostic(file: "Boards/x.toml", line: 12, key: "sensors[0].bus", message: "names I2C bus \"b\"")
        #expect(d.description == "Boards/x.toml:12: sensors[0].bus: names I2C bus \"b\"")
    }
}

extension String {
    func replacingLines(from line: Int, _ transform: (String) -> String) -> String {
        split(separator: "\n", omittingEmptySubsequences: false).enumerated().map { i, l in
            i + 1 >= line && i + 1 < line + 100 && !l.isEmpty ? transform(String(l)) : String(l)
        }.joined(separator: "\n")
    }

    func replacingOccurrences(of target: String, with replacement: String) -> String {
        var result = ""
        var rest = Substring(self)
        while let r = rest.firstRange(of: target) {
            result += rest[..<r.lowerBound]
            result += replacement
            rest = rest[r.upperBound...]
        }
        return result + rest
    }
}
