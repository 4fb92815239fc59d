/// A TOML 1.0.0 reader (https://toml.io/en/v1.0.0) producing ``TOMLNode``: the whole language a
/// profile may use, so a site's file written by any TOML tool reads the same here. vigil's own,
/// because the C++ library it replaced pulled Foundation and libstdc++ into the static binary.
///
/// Tables list their keys sorted by UTF-8 bytes (the order the library before it reported).
struct TOMLReader {
    /// Arrays and inline tables nested deeper than this are refused (a profile needs three).
    static let maximumDepth = 32

    private let bytes: [UInt8]
    private var position = 0
    private var line = 1
    private var lineStart = 0
    /// The line each key path is first written on (the profile's messages name it).
    private var lines: [ProfileKeyPath: Int] = [:]

    private init(_ text: String) { bytes = Array(text.utf8) }

    static func parse(_ text: String) throws(TOMLSyntaxError) -> TOMLNode {
        try parseLocated(text).root
    }

    /// The document, and the line on which each key (and array element) of it is written.
    static func parseLocated(_ text: String) throws(TOMLSyntaxError) -> (root: TOMLNode, lines: [ProfileKeyPath: Int]) {
        var reader = TOMLReader(text)
        let root = TableBuilder(origin: .header)
        try reader.document(root)
        return (root.node, reader.lines)
    }

    private mutating func record(_ path: ProfileKeyPath, line: Int) {
        if lines[path] == nil { lines[path] = line }
    }

    // MARK: Tables being built

    /// How a table came to exist decides what may still add to it (TOML 1.0.0, "Table").
    enum Origin { case header, implicit, dotted, inline }

    final class TableBuilder {
        var origin: Origin
        var entries: [String: Entry] = [:]
        init(origin: Origin) { self.origin = origin }

        var node: TOMLNode {
            let keys = entries.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            return .table(keys.map { k in (k, entries[k]!.node) })
        }
    }

    enum Entry {
        case value(TOMLNode)
        case table(TableBuilder)
        case arrayOfTables([TableBuilder])

        var node: TOMLNode {
            switch self {
            case .value(let v): return v
            case .table(let t): return t.node
            case .arrayOfTables(let ts): return .array(ts.map(\.node))
            }
        }
    }

    // MARK: Errors and characters

    private func fail(_ message: String, at offset: Int? = nil) -> TOMLSyntaxError {
        let at = offset ?? position
        var column = 1
        var i = lineStart
        while i < min(at, bytes.count) { if bytes[i] & 0xC0 != 0x80 { column += 1 }; i += 1 }
        return TOMLSyntaxError(message: message, line: line, column: column)
    }

    private var current: UInt8? { position < bytes.count ? bytes[position] : nil }
    private func peek(_ n: Int) -> UInt8? { position + n < bytes.count ? bytes[position + n] : nil }
    private func at(_ s: String) -> Bool {
        var i = position
        for c in s.utf8 { guard i < bytes.count, bytes[i] == c else { return false }; i += 1 }
        return true
    }

    private static func isBareKey(_ b: UInt8) -> Bool {
        (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == 0x5F || b == 0x2D
    }
    private static func describe(_ b: UInt8?) -> String {
        guard let b else { return "the end of the file" }
        if b == 0x0A || b == 0x0D { return "the end of the line" }
        if b < 0x20 || b == 0x7F { return "control character 0x\(String(b, radix: 16))" }
        return "'\(Unicode.Scalar(b))'"
    }

    private mutating func skipSpaces() { while current == 0x20 || current == 0x09 { position += 1 } }

    /// A newline (LF or CRLF); a lone CR is not one.
    private mutating func newline() throws(TOMLSyntaxError) -> Bool {
        if current == 0x0A { position += 1; line += 1; lineStart = position; return true }
        if current == 0x0D {
            guard peek(1) == 0x0A else { throw fail("a carriage return not followed by a line feed") }
            position += 2; line += 1; lineStart = position; return true
        }
        return false
    }

    /// A comment runs to the end of the line; control characters other than tab are not allowed in it.
    private mutating func comment() throws(TOMLSyntaxError) {
        guard current == UInt8(ascii: "#") else { return }
        while let b = current, b != 0x0A {
            if b == 0x0D && peek(1) == 0x0A { break }
            if (b < 0x20 && b != 0x09) || b == 0x7F { throw fail("\(Self.describe(b)) in a comment") }
            position += 1
        }
    }

    /// After a key/value pair or a table header: spaces, a comment, then the end of the line.
    private mutating func endOfLine() throws(TOMLSyntaxError) {
        skipSpaces()
        try comment()
        if current == nil { return }
        if try !newline() { throw fail("unexpected \(Self.describe(current)) after a value (one key = value per line)") }
    }

    // MARK: Document

    private mutating func document(_ root: TableBuilder) throws(TOMLSyntaxError) {
        var table = root
        var path = ProfileKeyPath.root
        while true {
            skipSpaces()
            try comment()
            if current == nil { return }
            if try newline() { continue }
            if current == UInt8(ascii: "[") {
                (table, path) = try header(root)
            } else {
                try keyValue(into: table, at: path, depth: 0)
            }
            try endOfLine()
        }
    }

    private mutating func header(_ root: TableBuilder) throws(TOMLSyntaxError) -> (TableBuilder, ProfileKeyPath) {
        let start = position
        let startLine = line
        let isArray = peek(1) == UInt8(ascii: "[")
        position += isArray ? 2 : 1
        skipSpaces()
        let keys = try dottedKey()
        skipSpaces()
        if isArray {
            guard at("]]") else { throw fail("']]' expected to close the array-of-tables header") }
            position += 2
        } else {
            guard current == UInt8(ascii: "]") else { throw fail("']' expected to close the table header") }
            position += 1
        }
        let name = keys.map(Self.quoteIfNeeded).joined(separator: ".")
        var table = root
        var path = ProfileKeyPath.root
        for (i, key) in keys.dropLast().enumerated() {
            path = path.appending(key)
            switch table.entries[key] {
            case nil:
                let t = TableBuilder(origin: .implicit)
                table.entries[key] = .table(t)
                table = t
            case .table(let t):
                if t.origin == .inline { throw fail("[\(name)]: \(keys[0...i].joined(separator: ".")) is an inline table, which cannot be extended", at: start) }
                table = t
            case .arrayOfTables(let ts):
                table = ts[ts.count - 1]
                path = path.appending(index: ts.count - 1)
            case .value:
                throw fail("[\(name)]: \(keys[0...i].joined(separator: ".")) is already a value, not a table", at: start)
            }
        }
        let last = keys[keys.count - 1]
        path = path.appending(last)
        record(path, line: startLine)
        if isArray {
            let t = TableBuilder(origin: .header)
            var index = 0
            switch table.entries[last] {
            case nil: table.entries[last] = .arrayOfTables([t])
            case .arrayOfTables(var ts): index = ts.count; ts.append(t); table.entries[last] = .arrayOfTables(ts)
            default: throw fail("[[\(name)]]: \(name) is already a table or a value, not an array of tables", at: start)
            }
            path = path.appending(index: index)
            record(path, line: startLine)
            return (t, path)
        }
        switch table.entries[last] {
        case nil:
            let t = TableBuilder(origin: .header)
            table.entries[last] = .table(t)
            return (t, path)
        case .table(let t) where t.origin == .implicit:
            t.origin = .header
            return (t, path)
        case .table(let t) where t.origin == .header:
            throw fail("table [\(name)] is defined twice", at: start)
        case .table:
            throw fail("[\(name)]: the table was already defined by dotted keys or inline", at: start)
        case .arrayOfTables:
            throw fail("[\(name)]: \(name) is an array of tables ([[\(name)]])", at: start)
        case .value:
            throw fail("[\(name)]: \(name) is already a value, not a table", at: start)
        }
    }

    private static func quoteIfNeeded(_ key: String) -> String {
        !key.isEmpty && key.utf8.allSatisfy(isBareKey) ? key : "\"\(key)\""
    }

    // MARK: Keys

    private mutating func dottedKey() throws(TOMLSyntaxError) -> [String] {
        var keys = [try simpleKey()]
        while true {
            let save = position
            skipSpaces()
            guard current == UInt8(ascii: ".") else { position = save; return keys }
            position += 1
            skipSpaces()
            keys.append(try simpleKey())
        }
    }

    private mutating func simpleKey() throws(TOMLSyntaxError) -> String {
        switch current {
        case UInt8(ascii: "\""):
            if at("\"\"\"") { throw fail("a key cannot be a multi-line string") }
            return try basicString()
        case UInt8(ascii: "'"):
            if at("'''") { throw fail("a key cannot be a multi-line string") }
            return try literalString()
        case let b? where Self.isBareKey(b):
            let start = position
            while let c = current, Self.isBareKey(c) { position += 1 }
            return String(decoding: bytes[start..<position], as: UTF8.self)
        default:
            throw fail("a key expected, found \(Self.describe(current)) (keys are letters, digits, '_' and '-', or quoted)")
        }
    }

    private mutating func keyValue(into table: TableBuilder, at tablePath: ProfileKeyPath, depth: Int) throws(TOMLSyntaxError) {
        let start = position
        let startLine = line
        let keys = try dottedKey()
        skipSpaces()
        guard current == UInt8(ascii: "=") else { throw fail("'=' expected after the key \(keys.map(Self.quoteIfNeeded).joined(separator: "."))") }
        position += 1
        skipSpaces()
        var path = tablePath
        for key in keys { path = path.appending(key); record(path, line: startLine) }
        let value = try value(at: path, depth: depth)
        var target = table
        for (i, key) in keys.dropLast().enumerated() {
            switch target.entries[key] {
            case nil:
                let t = TableBuilder(origin: .dotted)
                target.entries[key] = .table(t)
                target = t
            case .table(let t) where t.origin == .dotted:
                target = t
            default:
                throw fail("\(keys[0...i].joined(separator: ".")) is already defined, and dotted keys cannot add to it", at: start)
            }
        }
        let last = keys[keys.count - 1]
        if target.entries[last] != nil {
            throw fail("\(keys.map(Self.quoteIfNeeded).joined(separator: ".")) is defined twice", at: start)
        }
        target.entries[last] = .value(value)
    }

    // MARK: Values

    private mutating func value(at path: ProfileKeyPath, depth: Int) throws(TOMLSyntaxError) -> TOMLNode {
        guard let b = current else { throw fail("a value expected, found the end of the file") }
        switch b {
        case UInt8(ascii: "\""):
            return .string(at("\"\"\"") ? try multiLineBasicString() : try basicString())
        case UInt8(ascii: "'"):
            return .string(at("'''") ? try multiLineLiteralString() : try literalString())
        case UInt8(ascii: "["):
            guard depth < Self.maximumDepth else { throw fail("arrays and inline tables nested deeper than \(Self.maximumDepth)") }
            return try array(at: path, depth: depth + 1)
        case UInt8(ascii: "{"):
            guard depth < Self.maximumDepth else { throw fail("arrays and inline tables nested deeper than \(Self.maximumDepth)") }
            return try inlineTable(at: path, depth: depth + 1)
        case UInt8(ascii: "t") where at("true"):
            position += 4; try wordEnds(); return .bool(true)
        case UInt8(ascii: "f") where at("false"):
            position += 5; try wordEnds(); return .bool(false)
        default:
            return try numberOrDate()
        }
    }

    private func wordEnds() throws(TOMLSyntaxError) {
        if let b = current, Self.isBareKey(b) || b == UInt8(ascii: ".") { throw fail("unexpected \(Self.describe(b)) after a value") }
    }

    private mutating func array(at path: ProfileKeyPath, depth: Int) throws(TOMLSyntaxError) -> TOMLNode {
        position += 1
        var items: [TOMLNode] = []
        while true {
            try arrayGap()
            if current == UInt8(ascii: "]") { position += 1; return .array(items) }
            let element = path.appending(index: items.count)
            record(element, line: line)
            items.append(try value(at: element, depth: depth))
            try arrayGap()
            switch current {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "]"): position += 1; return .array(items)
            default: throw fail("',' or ']' expected in an array, found \(Self.describe(current))")
            }
        }
    }

    /// Inside an array, whitespace, comments and newlines may appear between values.
    private mutating func arrayGap() throws(TOMLSyntaxError) {
        while true {
            skipSpaces()
            try comment()
            if current == nil { throw fail("the file ends inside an array") }
            if try !newline() { return }
        }
    }

    private mutating func inlineTable(at path: ProfileKeyPath, depth: Int) throws(TOMLSyntaxError) -> TOMLNode {
        position += 1
        let table = TableBuilder(origin: .inline)
        skipSpaces()
        if current == UInt8(ascii: "}") { position += 1; return table.node }
        while true {
            skipSpaces()
            try keyValue(into: table, at: path, depth: depth)
            skipSpaces()
            switch current {
            case UInt8(ascii: ","):
                position += 1
                skipSpaces()
                if current == UInt8(ascii: "}") { throw fail("a trailing comma is not allowed in an inline table") }
            case UInt8(ascii: "}"):
                position += 1
                Self.freeze(table)
                return table.node
            default:
                throw fail("',' or '}' expected in an inline table (it must stay on one line), found \(Self.describe(current))")
            }
        }
    }

    private static func freeze(_ t: TableBuilder) {
        t.origin = .inline
        for case .table(let child) in t.entries.values { freeze(child) }
    }

    // MARK: Strings

    private mutating func escape() throws(TOMLSyntaxError) -> Unicode.Scalar {
        let start = position
        position += 1
        guard let e = current else { throw fail("the file ends inside an escape") }
        position += 1
        switch e {
        case UInt8(ascii: "b"): return "\u{08}"
        case UInt8(ascii: "t"): return "\t"
        case UInt8(ascii: "n"): return "\n"
        case UInt8(ascii: "f"): return "\u{0C}"
        case UInt8(ascii: "r"): return "\r"
        case UInt8(ascii: "\""): return "\""
        case UInt8(ascii: "\\"): return "\\"
        case UInt8(ascii: "u"), UInt8(ascii: "U"):
            let count = e == UInt8(ascii: "u") ? 4 : 8
            var code: UInt32 = 0
            for _ in 0..<count {
                guard let h = current, let d = Self.hexValue(h) else { throw fail("\(count) hex digits expected after \\\(Unicode.Scalar(e))", at: start) }
                code = code << 4 | d
                position += 1
            }
            guard let s = Unicode.Scalar(code) else { throw fail("\\\(Unicode.Scalar(e))\(String(code, radix: 16)) is not a Unicode scalar value", at: start) }
            return s
        default:
            throw fail("unknown escape '\\\(Unicode.Scalar(e))' (valid: \\b \\t \\n \\f \\r \\\" \\\\ \\uXXXX \\UXXXXXXXX)", at: start)
        }
    }

    private static func hexValue(_ b: UInt8) -> UInt32? {
        switch b {
        case 0x30...0x39: return UInt32(b - 0x30)
        case 0x41...0x46: return UInt32(b - 0x41 + 10)
        case 0x61...0x66: return UInt32(b - 0x61 + 10)
        default: return nil
        }
    }

    private mutating func appendRun(_ out: inout String.UnicodeScalarView, from start: Int) {
        if start < position { out.append(contentsOf: String(decoding: bytes[start..<position], as: UTF8.self).unicodeScalars) }
    }

    private mutating func basicString() throws(TOMLSyntaxError) -> String {
        position += 1
        var out = String.UnicodeScalarView()
        var run = position
        while true {
            guard let b = current, b != 0x0A, b != 0x0D else { throw fail("a string not closed on its line (\" expected)") }
            if b == UInt8(ascii: "\"") { appendRun(&out, from: run); position += 1; return String(out) }
            if b == UInt8(ascii: "\\") { appendRun(&out, from: run); out.append(try escape()); run = position; continue }
            if (b < 0x20 && b != 0x09) || b == 0x7F { throw fail("\(Self.describe(b)) in a string (escape it)") }
            position += 1
        }
    }

    private mutating func literalString() throws(TOMLSyntaxError) -> String {
        position += 1
        let start = position
        while true {
            guard let b = current, b != 0x0A, b != 0x0D else { throw fail("a literal string not closed on its line (' expected)") }
            if b == UInt8(ascii: "'") { position += 1; return String(decoding: bytes[start..<position - 1], as: UTF8.self) }
            if (b < 0x20 && b != 0x09) || b == 0x7F { throw fail("\(Self.describe(b)) in a literal string") }
            position += 1
        }
    }

    /// `"""…"""`: a newline right after the opening quotes is dropped; a backslash at the end of a line
    /// removes it and the whitespace after it; up to two quotes may stand before the closing three.
    private mutating func multiLineBasicString() throws(TOMLSyntaxError) -> String {
        position += 3
        _ = try newline()
        var out = String.UnicodeScalarView()
        var run = position
        while true {
            guard let b = current else { throw fail("the file ends inside a \"\"\" string") }
            if at("\"\"\"") {
                var quotes = 3
                while peek(quotes) == UInt8(ascii: "\"") && quotes < 5 { quotes += 1 }
                position += quotes - 3
                appendRun(&out, from: run)
                position += 3
                return String(out)
            }
            if b == UInt8(ascii: "\\") {
                var look = position + 1
                while look < bytes.count, bytes[look] == 0x20 || bytes[look] == 0x09 { look += 1 }
                if look < bytes.count, bytes[look] == 0x0A || bytes[look] == 0x0D {
                    appendRun(&out, from: run)
                    position = look
                    while true {
                        skipSpaces()
                        if try !newline() { break }
                    }
                    run = position
                    continue
                }
                appendRun(&out, from: run)
                out.append(try escape())
                run = position
                continue
            }
            if b == 0x0A || b == 0x0D {
                appendRun(&out, from: run)
                _ = try newline()
                out.append("\n")
                run = position
                continue
            }
            if (b < 0x20 && b != 0x09) || b == 0x7F { throw fail("\(Self.describe(b)) in a string (escape it)") }
            position += 1
        }
    }

    private mutating func multiLineLiteralString() throws(TOMLSyntaxError) -> String {
        position += 3
        _ = try newline()
        var out = String.UnicodeScalarView()
        var run = position
        while true {
            guard let b = current else { throw fail("the file ends inside a ''' string") }
            if at("'''") {
                var quotes = 3
                while peek(quotes) == UInt8(ascii: "'") && quotes < 5 { quotes += 1 }
                position += quotes - 3
                appendRun(&out, from: run)
                position += 3
                return String(out)
            }
            if b == 0x0A || b == 0x0D {
                appendRun(&out, from: run)
                _ = try newline()
                out.append("\n")
                run = position
                continue
            }
            if (b < 0x20 && b != 0x09) || b == 0x7F { throw fail("\(Self.describe(b)) in a literal string") }
            position += 1
        }
    }

    // MARK: Numbers, dates and times

    private mutating func numberOrDate() throws(TOMLSyntaxError) -> TOMLNode {
        let start = position
        while let b = current, Self.isBareKey(b) || b == UInt8(ascii: "+") || b == UInt8(ascii: ".") || b == UInt8(ascii: ":") { position += 1 }
        // A date and a time may be separated by one space ("1979-05-27 07:32:00").
        if current == 0x20, let next = peek(1), next >= 0x30 && next <= 0x39, Self.looksLikeDate(bytes[start..<position]) {
            position += 1
            while let b = current, Self.isBareKey(b) || b == UInt8(ascii: "+") || b == UInt8(ascii: ".") || b == UInt8(ascii: ":") { position += 1 }
        }
        let token = String(decoding: bytes[start..<position], as: UTF8.self)
        if token.isEmpty { throw fail("a value expected, found \(Self.describe(current))") }
        if let node = Self.number(token) { return node }
        if Self.isDateTime(token) { return .dateTime(token) }
        throw fail("'\(token)' is not a TOML value (strings need quotes; numbers are like 42, 0x2A, 1.5, 1e3)", at: start)
    }

    private static func looksLikeDate(_ s: ArraySlice<UInt8>) -> Bool {
        s.count == 10 && s[s.startIndex + 4] == UInt8(ascii: "-") && s[s.startIndex + 7] == UInt8(ascii: "-")
    }

    /// Digits with single underscores between them (TOML 1.0.0, "Integer").
    private static func digitsWithUnderscores(_ s: Substring, isDigit: (Character) -> Bool) -> String? {
        guard let first = s.first, let last = s.last, isDigit(first), isDigit(last) else { return nil }
        var out = ""
        var previousUnderscore = false
        for c in s {
            if c == "_" {
                if previousUnderscore { return nil }
                previousUnderscore = true
            } else {
                guard isDigit(c) else { return nil }
                out.append(c)
                previousUnderscore = false
            }
        }
        return out
    }

    static func number(_ token: String) -> TOMLNode? {
        var body = Substring(token)
        var sign = ""
        if let f = body.first, f == "+" || f == "-" { sign = f == "-" ? "-" : ""; body = body.dropFirst() }
        switch body {
        case "inf": return .float(sign == "-" ? -.infinity : .infinity)
        case "nan": return .float(sign == "-" ? -.nan : .nan)
        default: break
        }
        let isDecimal: (Character) -> Bool = { $0 >= "0" && $0 <= "9" }
        for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] where body.hasPrefix(prefix) {
            guard token.first != "+" && token.first != "-" else { return nil }
            let isDigit: (Character) -> Bool = { $0.hexDigitValue.map { $0 < radix } ?? false }
            guard let digits = digitsWithUnderscores(body.dropFirst(2), isDigit: isDigit), let v = Int(digits, radix: radix) else { return nil }
            return .integer(v)
        }
        // Integer part, then an optional fraction and exponent.
        var intPart = body
        var fraction: Substring?
        var exponent: Substring?
        if let e = body.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = body[body.index(after: e)...]
            intPart = body[..<e]
        }
        if let dot = intPart.firstIndex(of: ".") {
            fraction = intPart[intPart.index(after: dot)...]
            intPart = intPart[..<dot]
        }
        guard let intDigits = digitsWithUnderscores(intPart, isDigit: isDecimal) else { return nil }
        if intDigits.count > 1 && intDigits.first == "0" { return nil }
        if fraction == nil && exponent == nil {
            return Int(sign + intDigits).map(TOMLNode.integer)
        }
        var text = sign + intDigits
        if let fraction {
            guard let f = digitsWithUnderscores(fraction, isDigit: isDecimal) else { return nil }
            text += "." + f
        }
        if var exponent {
            var expSign = ""
            if let f = exponent.first, f == "+" || f == "-" { expSign = String(f); exponent = exponent.dropFirst() }
            guard let e = digitsWithUnderscores(exponent, isDigit: isDecimal) else { return nil }
            text += "e" + expSign + e
        }
        return Double(text).map(TOMLNode.float)
    }

    /// RFC 3339 date, time or date-time as TOML 1.0.0 allows them ("Offset Date-Time" … "Local Time").
    static func isDateTime(_ token: String) -> Bool {
        let s = Array(token.utf8)
        func digits(_ from: Int, _ n: Int) -> Int? {
            guard from + n <= s.count else { return nil }
            var v = 0
            for i in from..<from + n { guard s[i] >= 0x30 && s[i] <= 0x39 else { return nil }; v = v * 10 + Int(s[i] - 0x30) }
            return v
        }
        func time(_ from: Int) -> Int? {
            guard let h = digits(from, 2), from + 2 < s.count, s[from + 2] == UInt8(ascii: ":"), let m = digits(from + 3, 2),
                  from + 5 < s.count, s[from + 5] == UInt8(ascii: ":"), let sec = digits(from + 6, 2), h < 24, m < 60, sec <= 60 else { return nil }
            var i = from + 8
            if i < s.count && s[i] == UInt8(ascii: ".") {
                i += 1
                let f = i
                while i < s.count && s[i] >= 0x30 && s[i] <= 0x39 { i += 1 }
                if i == f { return nil }
            }
            return i
        }
        var i = 0
        if let y = digits(0, 4), s.count >= 10, s[4] == UInt8(ascii: "-"), let mo = digits(5, 2), s[7] == UInt8(ascii: "-"), let d = digits(8, 2) {
            let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
            let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
            guard mo >= 1 && mo <= 12 && d >= 1 && d <= days[mo - 1] else { return false }
            if s.count == 10 { return true }
            guard s[10] == UInt8(ascii: "T") || s[10] == UInt8(ascii: "t") || s[10] == 0x20, let end = time(11) else { return false }
            i = end
            if i == s.count { return true }
            if s[i] == UInt8(ascii: "Z") || s[i] == UInt8(ascii: "z") { return i + 1 == s.count }
            guard s[i] == UInt8(ascii: "+") || s[i] == UInt8(ascii: "-"), let oh = digits(i + 1, 2), i + 3 < s.count, s[i + 3] == UInt8(ascii: ":"),
                  let om = digits(i + 4, 2), oh < 24, om < 60 else { return false }
            return i + 6 == s.count
        }
        guard let end = time(0) else { return false }
        return end == s.count
    }
}
