/// Finds the line on which each key of a TOML document is written.
///
/// TOMLKit does not expose source positions of parsed values, so this is a small structural scanner
/// over the same text: it follows table headers (`[a.b]`, `[[a]]`), dotted keys, inline tables and
/// arrays (which may span lines) and records the first line of every key path. It assumes the text
/// already parsed as TOML; on text it does not understand it stops recording rather than failing, and
/// callers fall back to the nearest recorded parent.
struct TOMLKeyLocator: Sendable {
    private(set) var lines: [ProfileKeyPath: Int] = [:]
    /// The first construct on which TOMLKit's parser (toml++ 3.x) asserts instead of reporting an
    /// error, if any: a table header that does not start with a key (`[[[`, `[.a]`, `[=]`), or a `}`
    /// where an array expects a value (`a = [}]`).
    ///
    /// An assertion would abort the process, so such text is rejected here and never handed to
    /// TOMLKit. Both constructs are invalid TOML wherever they appear. toml++ stops at its
    /// first error, so it only reaches a header when all text before it is valid TOML; on valid TOML
    /// this scanner finds statement starts exactly as toml++ does.
    private(set) var parserTrap: TOMLSyntaxError?

    init(text: String) {
        var scanner = Scanner(chars: Array(text.unicodeScalars))
        scanner.run()
        lines = scanner.lines
        parserTrap = scanner.parserTrap
    }

    /// The line of `path`, or of its closest parent that has one.
    func line(for path: ProfileKeyPath) -> Int? {
        var p = path
        while true {
            if let line = lines[p] { return line }
            if p.isRoot { return nil }
            p = p.parent
        }
    }

    /// The line of exactly `path`, without falling back.
    func exactLine(for path: ProfileKeyPath) -> Int? { lines[path] }

    private struct Scanner {
        let chars: [Unicode.Scalar]
        var pos = 0
        var line = 1
        var lines: [ProfileKeyPath: Int] = [:]
        /// Array-of-tables paths (as written, already resolved) → number of elements seen so far.
        var arrayCounts: [ProfileKeyPath: Int] = [:]
        var current = ProfileKeyPath.root
        var parserTrap: TOMLSyntaxError?
        var lineStart = 0

        init(chars: [Unicode.Scalar]) { self.chars = chars }

        var column: Int { pos - lineStart + 1 }

        static func isBareKeyCharacter(_ c: Unicode.Scalar) -> Bool {
            (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || c == "_" || c == "-"
        }

        /// Mirrors the start of toml++'s `parse_table_header`: after `[` (or `[[`) and blanks, the header
        /// must continue with a key, or with `]` (which toml++ reports properly).
        mutating func checkHeaderStart() {
            guard parserTrap == nil else { return }
            let save = (pos, line, lineStart)
            defer { (pos, line, lineStart) = save }
            advance() // [
            let hadBlank = peek == " " || peek == "\t"
            skipSpaces()
            guard var c = peek else { return }
            if c == "[" {
                if hadBlank { return }
                advance()
                skipSpaces()
                guard let next = peek else { return }
                c = next
            }
            if c == "]" || c == "\"" || c == "'" || Self.isBareKeyCharacter(c) { return }
            parserTrap = TOMLSyntaxError(
                message: "Error while parsing table header: expected a key after '[', saw '\(c.escaped(asASCII: true))'",
                line: line, column: column)
        }

        var atEnd: Bool { pos >= chars.count }
        var peek: Unicode.Scalar? { pos < chars.count ? chars[pos] : nil }
        func peek(_ offset: Int) -> Unicode.Scalar? { pos + offset < chars.count ? chars[pos + offset] : nil }

        mutating func advance() {
            if chars[pos] == "\n" { line += 1; lineStart = pos + 1 }
            pos += 1
        }

        mutating func skipSpaces() {
            while let c = peek, c == " " || c == "\t" { advance() }
        }

        /// Skips spaces, newlines and comments.
        mutating func skipTrivia() {
            while let c = peek {
                if c == " " || c == "\t" || c == "\n" || c == "\r" { advance() }
                else if c == "#" { skipComment() }
                else { break }
            }
        }

        mutating func skipComment() {
            while let c = peek, c != "\n" { advance() }
        }

        mutating func skipToLineEnd() {
            while let c = peek, c != "\n" { advance() }
        }

        mutating func record(_ path: ProfileKeyPath, at line: Int) {
            if lines[path] == nil { lines[path] = line }
        }

        mutating func run() {
            // Once the text is known to be refused, locating more keys is wasted (and on a 1 MiB
            // line of brackets, slow): the loader reports the trap and stops.
            while parserTrap == nil {
                skipTrivia()
                guard let c = peek else { return }
                if c == "[" {
                    checkHeaderStart()
                    if peek(1) == "[" { parseArrayTableHeader() } else { parseTableHeader() }
                } else {
                    let startLine = line
                    guard let keys = parseKey(terminator: "=") else { skipToLineEnd(); continue }
                    guard peek == "=" else { skipToLineEnd(); continue }
                    advance()
                    skipSpaces()
                    var path = current
                    for (i, k) in keys.enumerated() {
                        path = path.appending(k)
                        if i < keys.count - 1 { record(path, at: startLine) }
                    }
                    record(path, at: startLine)
                    parseValue(path)
                }
            }
        }

        /// Resolves header keys: a segment that names an array of tables refers to its last element.
        mutating func resolve(_ keys: [String]) -> ProfileKeyPath {
            var path = ProfileKeyPath.root
            for k in keys {
                path = path.appending(k)
                if let n = arrayCounts[path], n > 0 { path = path.appending(index: n - 1) }
            }
            return path
        }

        mutating func parseTableHeader() {
            let startLine = line
            advance() // [
            skipSpaces()
            guard let keys = parseKey(terminator: "]"), peek == "]" else { skipToLineEnd(); return }
            advance()
            current = resolve(keys)
            var p = ProfileKeyPath.root
            for k in keys { p = p.appending(k); record(p, at: startLine) }
            record(current, at: startLine)
            skipToLineEnd()
        }

        mutating func parseArrayTableHeader() {
            let startLine = line
            advance(); advance() // [[
            skipSpaces()
            guard let keys = parseKey(terminator: "]"), peek == "]" else { skipToLineEnd(); return }
            advance()
            if peek == "]" { advance() }
            let parent = resolve(Array(keys.dropLast()))
            let arrayPath = parent.appending(keys[keys.count - 1])
            let index = arrayCounts[arrayPath, default: 0]
            arrayCounts[arrayPath] = index + 1
            record(arrayPath, at: startLine)
            current = arrayPath.appending(index: index)
            record(current, at: startLine)
            skipToLineEnd()
        }

        /// Parses `a.b."c d"` up to (not including) `terminator`.
        mutating func parseKey(terminator: Unicode.Scalar) -> [String]? {
            var keys: [String] = []
            while true {
                skipSpaces()
                guard let c = peek else { return nil }
                if c == "\"" || c == "'" {
                    guard let s = parseSimpleString(quote: c) else { return nil }
                    keys.append(s)
                } else {
                    var s = ""
                    while let c = peek, c != "." && c != terminator && c != " " && c != "\t" && c != "\n" && c != "=" {
                        s.unicodeScalars.append(c)
                        advance()
                    }
                    if s.isEmpty { return nil }
                    keys.append(s)
                }
                skipSpaces()
                if peek == "." { advance(); continue }
                return keys
            }
        }

        /// A single-line basic or literal string, decoding the common escapes of basic strings.
        mutating func parseSimpleString(quote: Unicode.Scalar) -> String? {
            advance()
            var s = ""
            while let c = peek {
                if c == quote { advance(); return s }
                if c == "\n" { return nil }
                if c == "\\" && quote == "\"" {
                    advance()
                    guard let e = peek else { return nil }
                    switch e {
                    case "n": s += "\n"
                    case "t": s += "\t"
                    case "\"": s += "\""
                    case "\\": s += "\\"
                    default: s.unicodeScalars.append(e)
                    }
                    advance()
                    continue
                }
                s.unicodeScalars.append(c)
                advance()
            }
            return nil
        }

        mutating func skipString() {
            guard let q = peek else { return }
            if peek(1) == q && peek(2) == q {
                advance(); advance(); advance()
                while !atEnd {
                    if peek == "\\" && q == "\"" { advance(); if !atEnd { advance() }; continue }
                    if peek == q && peek(1) == q && peek(2) == q {
                        advance(); advance(); advance()
                        while peek == q { advance() }
                        return
                    }
                    advance()
                }
                return
            }
            advance()
            while let c = peek, c != "\n" {
                if c == "\\" && q == "\"" { advance(); if !atEnd { advance() }; continue }
                advance()
                if c == q { return }
            }
        }

        /// Deeper nesting is refused before recursing further: the scanner recurses once per level
        /// and a 1 MiB profile of `[` would overflow the stack. toml++ refuses past the same depth.
        static let maximumDepth = 256

        mutating func parseValue(_ path: ProfileKeyPath, depth: Int = 0) {
            guard parserTrap == nil, let c = peek else { return }
            if depth >= Self.maximumDepth && (c == "[" || c == "{") {
                if parserTrap == nil {
                    parserTrap = TOMLSyntaxError(message: "values nested deeper than \(Self.maximumDepth) levels", line: line, column: column)
                }
                return
            }
            switch c {
            case "{":
                advance()
                while true {
                    skipSpaces()
                    guard let c = peek else { return }
                    if c == "}" { advance(); return }
                    if c == "," { advance(); continue }
                    if c == "\n" { return } // not valid TOML 1.0; stop quietly
                    let keyLine = line
                    guard let keys = parseKey(terminator: "="), peek == "=" else { return }
                    advance()
                    skipSpaces()
                    var p = path
                    for k in keys { p = p.appending(k); record(p, at: keyLine) }
                    let before = pos
                    parseValue(p, depth: depth + 1)
                    if pos == before || parserTrap != nil { return }
                }
            case "[":
                advance()
                var index = 0
                while true {
                    skipTrivia()
                    guard let c = peek else { return }
                    if c == "]" { advance(); return }
                    if c == "," { advance(); continue }
                    if c == "}" {
                        // toml++'s parse_array hands this to parse_value, which asserts on it.
                        if parserTrap == nil {
                            parserTrap = TOMLSyntaxError(
                                message: "Error while parsing array: expected a value, ',' or ']', saw '}'",
                                line: line, column: column)
                        }
                        return
                    }
                    let p = path.appending(index: index)
                    record(p, at: line)
                    let before = pos
                    parseValue(p, depth: depth + 1)
                    // Malformed input (a stray `}` or an unterminated string) can leave the
                    // scanner where it was; give up on this array rather than spin.
                    if pos == before || parserTrap != nil { return }
                    index += 1
                }
            case "\"", "'":
                skipString()
            default:
                while let c = peek, c != "," && c != "]" && c != "}" && c != "\n" && c != "#" { advance() }
            }
        }
    }
}
