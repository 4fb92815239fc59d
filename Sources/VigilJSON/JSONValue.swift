/// A JSON document as plain Swift values (RFC 8259), without Foundation: Foundation's coders alone
/// cost the static binary about 7 MB (README, "Size").
///
/// Numbers keep their text, so an integer too wide for a Double (a 64-bit counter) survives a round
/// trip, and each `Decodable` field converts the text to the type it asks for.
public indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// The number's text, already checked against RFC 8259's grammar.
    case number(String)
    case string(String)
    case array([JSONValue])
    /// Members in the order they were written or parsed (the writer sorts them).
    case object([(key: String, value: JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.number(let x), .number(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.array(let x), .array(let y)): return x == y
        case (.object(let x), .object(let y)): return x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }

    /// The value of `key` in an object (the last one, as most parsers do with duplicates).
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.last(where: { $0.key == key })?.value
    }

    var kindDescription: String {
        switch self {
        case .null: return "null"
        case .bool: return "true or false"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

// MARK: - Writing

extension JSONValue {
    /// The document as text: object members sorted by key (stable output for scripts and tests), `/`
    /// not escaped, non-ASCII written as UTF-8. `pretty` indents by two spaces, one member per line.
    public func text(pretty: Bool = false) -> String {
        var out = ""
        write(into: &out, pretty: pretty, indent: 0)
        return out
    }

    private func write(into out: inout String, pretty: Bool, indent: Int) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): out += n
        case .string(let s): JSONValue.writeString(s, into: &out)
        case .array(let items):
            if items.isEmpty { out += "[]"; return }
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                if pretty { JSONValue.newline(&out, indent + 1) }
                item.write(into: &out, pretty: pretty, indent: indent + 1)
            }
            if pretty { JSONValue.newline(&out, indent) }
            out += "]"
        case .object(let members):
            if members.isEmpty { out += "{}"; return }
            out += "{"
            for (i, m) in members.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }).enumerated() {
                if i > 0 { out += "," }
                if pretty { JSONValue.newline(&out, indent + 1) }
                JSONValue.writeString(m.key, into: &out)
                // Foundation's pretty layout ("key" : value), so scripts written against it keep matching.
                out += pretty ? " : " : ":"
                m.value.write(into: &out, pretty: pretty, indent: indent + 1)
            }
            if pretty { JSONValue.newline(&out, indent) }
            out += "}"
        }
    }

    private static func newline(_ out: inout String, _ indent: Int) {
        out += "\n"
        out += String(repeating: "  ", count: indent)
    }

    /// `s` as a JSON string literal.
    public static func quoted(_ s: String) -> String {
        var out = ""
        writeString(s, into: &out)
        return out
    }

    private static let hexDigits = Array("0123456789abcdef")

    /// RFC 8259 section 7: quotation mark, reverse solidus and the control characters must be escaped.
    static func writeString(_ s: String, into out: inout String) {
        out += "\""
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
                if scalar.value < 0x20 {
                    out += "\\u00"
                    out.append(hexDigits[Int(scalar.value >> 4)])
                    out.append(hexDigits[Int(scalar.value & 0xF)])
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}

// MARK: - Reading

/// Why a text is not a JSON document, and where (1-based line and column, and the byte offset).
public struct JSONSyntaxError: Error, Sendable, CustomStringConvertible, Equatable {
    public var message: String
    public var line: Int
    public var column: Int
    public var offset: Int
    public var description: String { "line \(line), column \(column): \(message)" }
}

extension JSONValue {
    /// Nesting deeper than this is refused rather than recursed into (a hostile control-socket client
    /// must not exhaust the agent's stack).
    public static let maximumDepth = 128

    /// Parses one JSON document (RFC 8259): whitespace around it is allowed, anything else after it is not.
    public static func parse(_ text: String) throws(JSONSyntaxError) -> JSONValue {
        var reader = JSONReader(bytes: Array(text.utf8))
        reader.skipWhitespace()
        let value = try reader.readValue(depth: 0)
        reader.skipWhitespace()
        if reader.position < reader.bytes.count { throw reader.error("unexpected text after the document") }
        return value
    }
}

struct JSONReader {
    let bytes: [UInt8]
    var position = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    func error(_ message: String, at offset: Int? = nil) -> JSONSyntaxError {
        let at = min(offset ?? position, bytes.count)
        var line = 1, column = 1
        for b in bytes[0..<at] {
            if b == UInt8(ascii: "\n") { line += 1; column = 1 } else if b & 0xC0 != 0x80 { column += 1 }
        }
        return JSONSyntaxError(message: message, line: line, column: column, offset: at)
    }

    var current: UInt8? { position < bytes.count ? bytes[position] : nil }

    mutating func skipWhitespace() {
        while let b = current, b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D { position += 1 }
    }

    mutating func readValue(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        guard let b = current else { throw error("the document ends where a value was expected") }
        switch b {
        case UInt8(ascii: "{"):
            if depth >= JSONValue.maximumDepth { throw error("nested deeper than \(JSONValue.maximumDepth) levels") }
            return try readObject(depth: depth + 1)
        case UInt8(ascii: "["):
            if depth >= JSONValue.maximumDepth { throw error("nested deeper than \(JSONValue.maximumDepth) levels") }
            return try readArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try readString())
        case UInt8(ascii: "t"): try expectWord("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectWord("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectWord("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try readNumber())
        default: throw error("unexpected character '\(Unicode.Scalar(b))' where a value was expected")
        }
    }

    mutating func expectWord(_ word: String) throws(JSONSyntaxError) {
        let start = position
        for c in word.utf8 {
            guard current == c else { throw error("unknown word (true, false or null expected)", at: start) }
            position += 1
        }
    }

    mutating func readObject(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        position += 1
        var members: [(key: String, value: JSONValue)] = []
        skipWhitespace()
        if current == UInt8(ascii: "}") { position += 1; return .object(members) }
        while true {
            skipWhitespace()
            guard current == UInt8(ascii: "\"") else { throw error("a member name in double quotes expected") }
            let key = try readString()
            skipWhitespace()
            guard current == UInt8(ascii: ":") else { throw error("':' expected after the member name \"\(key)\"") }
            position += 1
            skipWhitespace()
            members.append((key, try readValue(depth: depth)))
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "}"): position += 1; return .object(members)
            case nil: throw error("the document ends inside an object")
            default: throw error("',' or '}' expected after a member")
            }
        }
    }

    mutating func readArray(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        position += 1
        var items: [JSONValue] = []
        skipWhitespace()
        if current == UInt8(ascii: "]") { position += 1; return .array(items) }
        while true {
            skipWhitespace()
            items.append(try readValue(depth: depth))
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "]"): position += 1; return .array(items)
            case nil: throw error("the document ends inside an array")
            default: throw error("',' or ']' expected after an array element")
            }
        }
    }

    /// RFC 8259 section 6: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    mutating func readNumber() throws(JSONSyntaxError) -> String {
        let start = position
        func digits(_ r: inout JSONReader) -> Int {
            var n = 0
            while let b = r.current, b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") { r.position += 1; n += 1 }
            return n
        }
        if current == UInt8(ascii: "-") { position += 1 }
        if current == UInt8(ascii: "0") {
            position += 1
            if let b = current, b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") { throw error("a number may not have a leading zero", at: start) }
        } else if digits(&self) == 0 {
            throw error("a digit expected in a number", at: start)
        }
        if current == UInt8(ascii: ".") {
            position += 1
            if digits(&self) == 0 { throw error("a digit expected after the decimal point", at: start) }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            position += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { position += 1 }
            if digits(&self) == 0 { throw error("a digit expected in the exponent", at: start) }
        }
        return String(decoding: bytes[start..<position], as: UTF8.self)
    }

    /// RFC 8259 section 7, with surrogate pairs joined and lone surrogates refused.
    mutating func readString() throws(JSONSyntaxError) -> String {
        let start = position
        position += 1
        var scalars = String.UnicodeScalarView()
        var runStart = position
        func flush(_ r: JSONReader, _ scalars: inout String.UnicodeScalarView, _ from: Int) {
            if from < r.position { scalars.append(contentsOf: String(decoding: r.bytes[from..<r.position], as: UTF8.self).unicodeScalars) }
        }
        while true {
            guard let b = current else { throw error("the document ends inside a string", at: start) }
            if b == UInt8(ascii: "\"") {
                flush(self, &scalars, runStart)
                position += 1
                return String(scalars)
            }
            if b < 0x20 { throw error("a control character (0x\(String(b, radix: 16))) inside a string must be escaped") }
            if b != UInt8(ascii: "\\") { position += 1; continue }
            flush(self, &scalars, runStart)
            position += 1
            guard let e = current else { throw error("the document ends inside a string", at: start) }
            position += 1
            switch e {
            case UInt8(ascii: "\""): scalars.append("\"")
            case UInt8(ascii: "\\"): scalars.append("\\")
            case UInt8(ascii: "/"): scalars.append("/")
            case UInt8(ascii: "b"): scalars.append("\u{08}")
            case UInt8(ascii: "f"): scalars.append("\u{0C}")
            case UInt8(ascii: "n"): scalars.append("\n")
            case UInt8(ascii: "r"): scalars.append("\r")
            case UInt8(ascii: "t"): scalars.append("\t")
            case UInt8(ascii: "u"):
                var code = try readHex4()
                if code >= 0xD800 && code < 0xDC00 {
                    guard current == UInt8(ascii: "\\"), position + 1 < bytes.count, bytes[position + 1] == UInt8(ascii: "u") else {
                        throw error("a high surrogate (\\u\(String(code, radix: 16))) without its low half")
                    }
                    position += 2
                    let low = try readHex4()
                    guard low >= 0xDC00 && low < 0xE000 else { throw error("a high surrogate followed by \\u\(String(low, radix: 16)), not a low one") }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                } else if code >= 0xDC00 && code < 0xE000 {
                    throw error("a low surrogate (\\u\(String(code, radix: 16))) without its high half")
                }
                guard let scalar = Unicode.Scalar(code) else { throw error("\\u escape is not a Unicode scalar") }
                scalars.append(scalar)
            default:
                throw error("unknown escape '\\\(Unicode.Scalar(e))' in a string", at: position - 2)
            }
            runStart = position
        }
    }

    mutating func readHex4() throws(JSONSyntaxError) -> UInt32 {
        var code: UInt32 = 0
        for _ in 0..<4 {
            guard let b = current else { throw error("the document ends inside a \\u escape") }
            let digit: UInt32
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(b - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(b - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(b - UInt8(ascii: "A") + 10)
            default: throw error("four hex digits expected after \\u")
            }
            code = code << 4 | digit
            position += 1
        }
        return code
    }
}
