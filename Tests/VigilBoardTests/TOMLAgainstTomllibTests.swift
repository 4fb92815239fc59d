#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport
import VigilBase
@testable import VigilBoard

/// vigil's TOML reader against Python's tomllib (a TOML 1.0.0 parser vigil did not write): on every
/// shipped profile, on documents written to reach each rule of the language, and on seeded mutations
/// of the profiles, both must accept the same documents and read the same values.
@Suite struct TOMLAgainstTomllibTests {
    static let repo = TestPaths.repositoryRoot

    static let valid: [String] = [
        "a = 1\nb = -0\nc = +17\nd = 1_000_000\ne = 0xDEAD_beef\nf = 0o755\ng = 0b1101\nh = 9223372036854775807\ni = -9223372036854775808",
        "a = 1.5\nb = -0.0\nc = 6.02e23\nd = 1E-7\ne = 3e+2\nf = 1_000.000_1\ng = inf\nh = -inf\ni = nan\nj = +nan\nk = 0.1\nl = 5e22",
        "a = true\nb = false",
        #"a = "tab\there \"quoted\" \\ \u00e9 \U0001F600 \b\f\r\n""# + "\nb = 'C:\\path\\no escapes'\nc = \"\"\nd = ''",
        "a = \"\"\"\nfirst\nsecond\"\"\"\nb = \"\"\"line \\\n    continued \\\n\n   here\"\"\"\nc = \"\"\"two quotes \"\" then end\"\"\"\"\"\nd = '''\nraw \\n text\n'''\ne = '''it''s'''",
        "[t]\nx = 1\n[t.sub]\ny = 2\n[u.\"quoted key\".'lit']\nz = 3",
        "a.b.c = 1\na.b.d = 2\na.e = 3\n\"x y\".z = 4\n1.2 = 5",
        "[[s]]\nname = \"a\"\n[[s]]\nname = \"b\"\n[s.inner]\nk = 1\n[[s.list]]\nv = 1\n[[s.list]]\nv = 2",
        "p = { x = 1, y = { z = [1, 2] }, w.v = 'q' }\ne = {}",
        "arr = [\n  1, # one\n  2,\n  # a comment line\n  3,\n]\nmixed = [1, 'two', 3.0, [4], { five = 5 }]\nempty = []\nnested = [[1, 2], [3]]",
        "# only a comment\n\n   \t\nkey = \"value\" # trailing comment\n",
        "d1 = 1979-05-27T07:32:00Z\nd2 = 1979-05-27T00:32:00.999999-07:00\nd3 = 1979-05-27 07:32:00\nd4 = 1979-05-27\nd5 = 07:32:00\nd6 = 2024-02-29",
        "[a.b]\nx = 1\n[a]\ny = 2",
        "key = \"value\"\r\nother = 2\r\n",
        "bare_key-1 = 1\n_x = 2\n-y = 3\n\"\" = 4",
        "k = 0\nl = 0.0\nm = 0e0\nn = -1e-0",
    ]

    static let invalid: [String] = [
        "a = 1\na = 2", "[t]\n[t]", "a = 01", "a = 1__0", "a = _1", "a = 1_", "a = 0x", "a = +0x10", "a = 1.", "a = .5", "a = 1e", "a = 1.e5",
        "a = \"unterminated", "a = 'unterminated", "a = \"bad \\q escape\"", "a = \"\\u12\"", "a = \"\\uD800\"",
        "a = [1, 2", "a = [1 2]", "a = { x = 1, }", "a = { x = 1\n}", "a = {x = 1, x = 2}", "a = tru", "a = TRUE", "a = value", "a =",
        "= 1", "a b = 1", "[a\nb = 1", "[[a]\n", "[a]]", "a = 1 b = 2", "a.b = 1\na.b.c = 2", "a = {}\n[a]", "a = [1]\n[[a]]",
        "[[a]]\n[a]", "[a]\nb = 1\n[a.b]", "a.b = 1\n[a.b]", "x = \"\u{01}\"", "# bell \u{07}", "a = 1\r", "a = 1979-13-01", "a = 1979-02-30",
        "a = 25:00:00", "a = \"\"\"never closed", "a = [}]", "[[[a]]]", "[.a]", "[=]", "a = 1 # ok\nb = 2 2",
    ]

    static func canonical(_ n: TOMLNode) -> String {
        switch n {
        case .bool(let b): return "b\(b)"
        case .integer(let i): return "i\(i)"
        case .float(let d):
            if d.isNaN { return "fnan" }
            let hex = String(d.bitPattern, radix: 16)
            return "f" + String(repeating: "0", count: 16 - hex.count) + hex
        case .string(let s): return "s" + pythonJSON(s)
        case .dateTime: return "d"
        case .array(let items): return "[" + items.map { canonical($0) + "," }.joined() + "]"
        case .table(let entries): return "{" + entries.map { pythonJSON($0.key) + "=" + canonical($0.value) + ";" }.joined() + "}"
        }
    }

    /// `json.dumps(s, ensure_ascii=True)`.
    static func pythonJSON(_ s: String) -> String {
        var out = "\""
        func u(_ v: UInt32) { let h = String(v, radix: 16); out += "\\u" + String(repeating: "0", count: 4 - h.count) + h }
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                let v = scalar.value
                if v < 0x20 || v > 0x7E && v != 0x7F { if v > 0xFFFF { u(0xD800 + ((v - 0x10000) >> 10)); u(0xDC00 + ((v - 0x10000) & 0x3FF)) } else { u(v) } }
                else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }

    /// Writes each document to a file, asks tomllib about all of them at once, and compares.
    static func compare(_ documents: [String], label: String) throws -> (agreed: Int, accepted: Int) {
        let dir = TestPaths.makeTemporaryDirectory("vigil-toml")
        defer { TestPaths.removeTree(dir) }
        var paths: [String] = []
        for (i, d) in documents.enumerated() {
            let p = dir + "/doc\(i).toml"
            TestPaths.writeFile(p, d)
            paths.append(p)
        }
        let py = try ChildProcess.run("/usr/bin/python3", [repo + "/Tests/Peers/toml_canonical.py"] + paths)
        try #require(py.status == 0, "tomllib: \(py.stderr)")
        let answers = py.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        try #require(answers.count >= documents.count)
        var agreed = 0, accepted = 0
        for (i, d) in documents.enumerated() {
            let ours: String
            do { ours = canonical(try TOMLReader.parse(d)); accepted += 1 } catch { ours = "ERROR" }
            #expect(ours == answers[i], "\(label) \(i): vigil and tomllib disagree on \(d.debugDescription)\n vigil:   \(ours)\n tomllib: \(answers[i])")
            if ours == answers[i] { agreed += 1 }
        }
        return (agreed, accepted)
    }

    @Test func documentsThatReachEachRuleReadAsTomllibReadsThem() throws {
        let r = try Self.compare(Self.valid, label: "valid document")
        #expect(r.accepted == Self.valid.count)
    }

    @Test func documentsTomllibRefusesAreRefused() throws {
        let r = try Self.compare(Self.invalid, label: "invalid document")
        #expect(r.accepted == 0)
    }

    /// TOML 1.0.0 ("Integer"): a value that cannot be held losslessly must be an error. Python's
    /// integers have no limit, so tomllib accepts these; vigil holds 64 bits and refuses them.
    @Test func integersBeyondSixtyFourBitsAreRefusedWithTheirLine() {
        for text in ["a = 9223372036854775808", "a = -9223372036854775809", "\nb = 0x1_0000_0000_0000_0000"] {
            do {
                _ = try TOMLReader.parse(text)
                Issue.record("\(text) parsed")
            } catch {
                #expect(error.line == (text.hasPrefix("\n") ? 2 : 1), "\(error)")
            }
        }
    }

    static func shippedDocuments() throws -> [String] {
        var files = TestPaths.list(repo + "/Boards").filter { $0.hasSuffix(".toml") }.map { repo + "/Boards/" + $0 }
        files += TestPaths.list(repo + "/Tests/VigilBoardTests/Corpus").filter { $0.hasSuffix(".toml") }.map { repo + "/Tests/VigilBoardTests/Corpus/" + $0 }
        files.append(repo + "/Tests/RealKernel/bench.toml")
        return try files.sorted().map { try #require(TestPaths.readText($0), "\($0)") }
    }

    @Test func everyShippedProfileReadsAsTomllibReadsIt() throws {
        let docs = try Self.shippedDocuments()
        #expect(docs.count > 20)
        let r = try Self.compare(docs, label: "shipped file")
        #expect(r.agreed == docs.count)
    }

    /// Seeded byte-level mutations of the shipped profiles: inserted, deleted and replaced
    /// characters that TOML gives meaning to. Most results are invalid; all must be judged alike.
    @Test func mutatedProfilesAreJudgedAsTomllibJudgesThem() throws {
        let seed: UInt64 = 0x70_4D_4C_2026
        var rng = SplitMix64(seed: seed)
        let docs = try Self.shippedDocuments()
        let alphabet = Array("[]{}=.,\"'#\\ \n\t_-+0123456789eEx:abcTZ".utf8)
        var mutated: [String] = []
        for _ in 0..<600 {
            var bytes = Array(docs[Int(rng.next() % UInt64(docs.count))].utf8)
            for _ in 0..<(1 + Int(rng.next() % 3)) {
                let at = Int(rng.next() % UInt64(bytes.count))
                let c = alphabet[Int(rng.next() % UInt64(alphabet.count))]
                switch rng.next() % 3 {
                case 0: bytes.insert(c, at: at)
                case 1: bytes.remove(at: at)
                default: bytes[at] = c
                }
            }
            if let s = String(validating: bytes, as: UTF8.self) { mutated.append(s) }
        }
        let r = try Self.compare(mutated, label: "mutation (seed \(seed))")
        #expect(r.agreed == mutated.count)
        #expect(r.accepted > 50 && r.accepted < mutated.count - 50, "the mutations should reach both outcomes: \(r.accepted) of \(mutated.count) accepted")
    }
}
