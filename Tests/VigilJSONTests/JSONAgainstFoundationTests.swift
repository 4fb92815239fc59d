import Foundation
import Testing
import VigilBase
import VigilJSON

/// vigil's JSON against Foundation's (a coder vigil did not write): each reads what the other writes,
/// and both refuse the same malformed documents.
@Suite struct JSONAgainstFoundationTests {
    enum Mode: String, Codable, Equatable { case run, tripped = "trip-latched" }
    enum Shape: Codable, Equatable { case circle(radius: Double), label(String), none }
    struct Inner: Codable, Equatable { var name: String; var values: [Double]; var flag: Bool? }
    struct Report: Codable, Equatable {
        var counter: UInt64
        var offset: Int64
        var small: Int8
        var ratio: Double
        var gain: Float
        var text: String
        var optional: String?
        var mode: Mode
        var shape: Shape
        var inner: [Inner]
        var table: [String: Int]
        var nested: [[UInt16]]
    }

    static let sample = Report(
        counter: UInt64.max, offset: Int64.min, small: -128, ratio: 0.1, gain: 0.1, text: "quote \" backslash \\ slash / tab \t nl \n bell \u{07} é 🎛",
        optional: nil, mode: .tripped, shape: .circle(radius: 2.5), inner: [Inner(name: "x", values: [3, -0.25, 1e-7, 6.02e23], flag: true), Inner(name: "", values: [], flag: nil)],
        table: ["b": 2, "a": 1, "ä": 3], nested: [[], [1, 65535]])

    @Test func foundationDecodesWhatVigilEncodes() throws {
        for pretty in [false, true] {
            let text = try JSON.encode(Self.sample, pretty: pretty)
            let back = try JSONDecoder().decode(Report.self, from: Data(text.utf8))
            #expect(back == Self.sample)
            #expect(!text.contains("optional"), "a nil member is left out, as Foundation's encoder does")
            #expect(!text.contains("\\/"), "slashes are not escaped")
            #expect(text.contains("\"gain\":0.1,") || text.contains("\"gain\" : 0.1,"), "a Float is written in its own shortest form")
        }
    }

    @Test func vigilDecodesWhatFoundationEncodes() throws {
        let e = JSONEncoder()
        for formatting: JSONEncoder.OutputFormatting in [[], [.prettyPrinted, .sortedKeys]] {
            e.outputFormatting = formatting
            let text = String(decoding: try e.encode(Self.sample), as: UTF8.self)
            #expect(try JSON.decode(Report.self, from: text) == Self.sample)
        }
    }

    @Test func keysAreSortedByTheirBytesAtEveryLevel() throws {
        let text = try JSON.encode(["zeta": ["b": 1, "a": 2], "alpha": ["d": 3, "c": 4]])
        #expect(text == #"{"alpha":{"c":4,"d":3},"zeta":{"a":2,"b":1}}"#)
    }

    @Test func aNonFiniteNumberIsAnErrorNotText() {
        #expect(throws: EncodingError.self) { try JSON.encode(["x": Double.nan]) }
        #expect(throws: EncodingError.self) { try JSON.encode([Double.infinity]) }
    }

    @Test func aShapeErrorNamesThePath() throws {
        do {
            _ = try JSON.decode(Report.self, from: #"{"counter":1,"offset":0,"small":300,"ratio":1,"gain":1,"text":"","mode":"run","shape":{"none":{}},"inner":[],"table":{},"nested":[]}"#)
            Issue.record("300 decoded as an Int8")
        } catch let DecodingError.dataCorrupted(context) {
            #expect(context.debugDescription.contains("small"))
        }
        do {
            _ = try JSON.decode([Inner].self, from: #"[{"name":"a","values":[]},{"name":7,"values":[]}]"#)
            Issue.record("a number decoded as a String")
        } catch let DecodingError.typeMismatch(_, context) {
            #expect(context.debugDescription.contains("[1].name"), "\(context.debugDescription)")
        }
    }

    /// Random documents, seeded (the seed is in the failure message): vigil writes, Foundation parses,
    /// and the reverse; both trees are compared with Foundation's reading of each.
    @Test func randomDocumentsRoundTripThroughBothParsers() throws {
        let seed: UInt64 = 0x5EED_2026_1204
        var rng = SplitMix64(seed: seed)
        for i in 0..<300 {
            let doc = Self.randomValue(&rng, depth: 0)
            let text = doc.text(pretty: i % 2 == 0)
            let foundation = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
            #expect(Self.same(doc, foundation), "seed \(seed), document \(i): \(text)")
            let again = try JSONSerialization.data(withJSONObject: foundation, options: [.fragmentsAllowed])
            let reparsed = try JSONValue.parse(String(decoding: again, as: UTF8.self))
            #expect(Self.same(reparsed, foundation), "seed \(seed), document \(i), Foundation's text: \(String(decoding: again, as: UTF8.self))")
        }
    }

    @Test func bothRefuseTheSameMalformedDocuments() {
        let bad = ["", "{", "01", "1.", ".5", "-", "1e", "+1", "\"\\x\"", "\"tab\there\"", "[1 2]", "{\"a\" 1}",
                   "{a:1}", "tru", "nul", "\"\\ud800\"", "\"\\udc00x\"", "[1]x", "\"unterminated", "{\"a\":[}", "'single'", "NaN"]
        for text in bad {
            #expect(throws: JSONSyntaxError.self, "vigil accepted \(text.debugDescription)") { try JSONValue.parse(text) }
            #expect((try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])) == nil, "Foundation accepted \(text.debugDescription)")
        }
        // Foundation accepts a trailing comma; RFC 8259's grammar (section 2) has none, nor has vigil.
        for text in ["[1,]", "{\"a\":1,}"] {
            #expect(throws: JSONSyntaxError.self, "vigil accepted \(text.debugDescription)") { try JSONValue.parse(text) }
        }
    }

    @Test func aSyntaxErrorSaysWhere() {
        do {
            _ = try JSONValue.parse("{\n  \"a\": 1,\n  \"b\": tru\n}")
            Issue.record("parsed")
        } catch {
            #expect(error.line == 3 && error.column == 8, "\(error)")
        }
    }

    @Test func nestingBeyondTheLimitIsRefusedNotRecursed() throws {
        let ok = String(repeating: "[", count: JSONValue.maximumDepth) + String(repeating: "]", count: JSONValue.maximumDepth)
        _ = try JSONValue.parse(ok)
        let deep = String(repeating: "[", count: 100_000)
        #expect(throws: JSONSyntaxError.self) { try JSONValue.parse(deep) }
    }

    // MARK: helpers

    static func randomString(_ rng: inout SplitMix64) -> String {
        let alphabet: [Unicode.Scalar] = ["a", "Z", "0", " ", "\"", "\\", "/", "\n", "\t", "\u{01}", "\u{1F}", "é", "€", "😀", "\u{7F}", "\u{FFFD}"]
        var s = String.UnicodeScalarView()
        for _ in 0..<Int(rng.next() % 8) { s.append(alphabet[Int(rng.next() % UInt64(alphabet.count))]) }
        return String(s)
    }

    static func randomValue(_ rng: inout SplitMix64, depth: Int) -> JSONValue {
        switch rng.next() % (depth > 3 ? 5 : 7) {
        case 0: return .null
        case 1: return .bool(rng.next() & 1 == 1)
        case 2: return .number(String(Int64(bitPattern: rng.next()) >> Int64(rng.next() % 63)))
        case 3:
            let d = (rng.nextUnitDouble() - 0.5) * pow(10, Double(Int(rng.next() % 40) - 20))
            return .number(d.description)
        case 4: return .string(randomString(&rng))
        case 5: return .array((0..<Int(rng.next() % 4)).map { _ in randomValue(&rng, depth: depth + 1) })
        default:
            var members: [(key: String, value: JSONValue)] = []
            var keys = Set<String>()
            for _ in 0..<Int(rng.next() % 4) {
                let k = randomString(&rng)
                if keys.insert(k).inserted { members.append((k, randomValue(&rng, depth: depth + 1))) }
            }
            return .object(members)
        }
    }

    /// Whether vigil's tree and Foundation's object say the same thing.
    static func same(_ v: JSONValue, _ f: Any) -> Bool {
        switch v {
        case .null: return f is NSNull
        case .bool(let b):
            return (f as? Bool) == b
        case .number(let text):
            guard let n = f as? NSNumber else { return false }
            if let i = Int64(text) { return n.int64Value == i && n.doubleValue == Double(i) || n.stringValue == text }
            // corelibs Foundation reads long fractions through Decimal: allow its last-digit rounding.
            guard let d = Double(text) else { return false }
            return d == n.doubleValue || abs(d - n.doubleValue) <= abs(d) * 1e-15
        case .string(let s): return (f as? String) == s
        case .array(let items):
            guard let a = f as? [Any], a.count == items.count else { return false }
            return zip(items, a).allSatisfy { same($0, $1) }
        case .object(let members):
            guard let o = f as? [String: Any], o.count == members.count else { return false }
            return members.allSatisfy { m in o[m.key].map { same(m.value, $0) } ?? false }
        }
    }
}
