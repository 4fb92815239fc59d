/// Collects the diagnostics of one profile while it is read, and locates keys for them.
final class ProfileContext {
    let file: String
    let locator: TOMLKeyLocator
    private(set) var diagnostics: [ProfileDiagnostic] = []
    /// Where each parsed element came from, so later checks can point at its source lines.
    var sourceMap = SourceMap()
    var currentRegisterSource: [Int] = []

    /// Original array indices of the elements that parsed (broken ones are dropped, shifting indices).
    struct SourceMap {
        var sensors: [Int] = []
        var outputs: [Int] = []
        var rules: [Int] = []
        /// Per parsed sensor, the original index of each parsed register.
        var registers: [[Int]] = []
    }

    init(file: String, locator: TOMLKeyLocator) {
        self.file = file
        self.locator = locator
    }

    func error(_ path: ProfileKeyPath, _ message: String) { record(path, message, .error) }

    /// A protection the profile switches off: reported, not refused (unless `--strict`).
    func warning(_ path: ProfileKeyPath, _ message: String) { record(path, message, .warning) }

    private func record(_ path: ProfileKeyPath, _ message: String, _ severity: ProfileDiagnostic.Severity) {
        let diagnostic = ProfileDiagnostic(file: file, line: locator.line(for: path), key: path.isRoot ? nil : path.description, message: message,
                                           severity: severity)
        if !diagnostics.contains(diagnostic) { diagnostics.append(diagnostic) }
    }

    func line(of path: ProfileKeyPath) -> Int? { locator.line(for: path) }

    var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }

    /// Diagnostics of one severity in file order (line, then the order they were found).
    func sortedDiagnostics(_ severity: ProfileDiagnostic.Severity) -> [ProfileDiagnostic] {
        diagnostics.filter { $0.severity == severity }.enumerated().sorted { a, b in
            let la = a.element.line ?? 0, lb = b.element.line ?? 0
            return la != lb ? la < lb : a.offset < b.offset
        }.map(\.element)
    }
}

/// Typed, diagnosing access to one TOML table of a profile.
///
/// Every getter marks its key as used; `finish()` then reports every key nobody asked for as unknown,
/// with the closest known spelling. Getters return `nil` after recording a diagnostic, so one mistake
/// does not hide the next.
struct TableReader {
    let context: ProfileContext
    let path: ProfileKeyPath
    private let entries: [(key: String, value: TOMLNode)]
    private var used: Set<String> = []
    private var known: [String] = []

    init(context: ProfileContext, path: ProfileKeyPath, entries: [(key: String, value: TOMLNode)]) {
        self.context = context
        self.path = path
        self.entries = entries
    }

    func error(_ key: String, _ message: String) { context.error(path.appending(key), message) }
    func error(_ message: String) { context.error(path, message) }

    func contains(_ key: String) -> Bool { entries.contains { $0.key == key } }

    var isEmpty: Bool { entries.isEmpty }
    var keys: [String] { entries.map(\.key) }

    /// The raw node of `key`, marking the key as used.
    mutating func node(_ key: String) -> TOMLNode? {
        known.append(key)
        guard let entry = entries.first(where: { $0.key == key }) else { return nil }
        used.insert(key)
        return entry.value
    }

    /// Declares a key as valid without reading it (read elsewhere).
    mutating func allow(_ key: String) {
        known.append(key)
        if contains(key) { used.insert(key) }
    }

    private func missing(_ key: String, _ expected: String) {
        context.error(path.appending(key), "missing; expected \(expected)")
    }

    private func wrongType(_ key: String, _ node: TOMLNode, _ expected: String) {
        context.error(path.appending(key), "is \(node.typeDescription); expected \(expected)")
    }

    mutating func string(_ key: String, required: Bool = false, expected: String = "a string", nonEmpty: Bool = true) -> String? {
        guard let node = node(key) else {
            if required { missing(key, expected) }
            return nil
        }
        guard case .string(let s) = node else { wrongType(key, node, expected); return nil }
        if nonEmpty && s.trimmingSpaces.isEmpty { error(key, "is empty; expected \(expected)"); return nil }
        return s
    }

    mutating func int(_ key: String, required: Bool = false, range: ClosedRange<Int>? = nil, expected: String? = nil) -> Int? {
        let what = expected ?? (range.map { "an integer from \($0.lowerBound) to \($0.upperBound)" } ?? "an integer")
        guard let node = node(key) else {
            if required { missing(key, what) }
            return nil
        }
        let value: Int
        switch node {
        case .integer(let i): value = i
        case .float(let d) where d.rounded() == d && abs(d) < 1e15:
            error(key, "is \(d) with a fraction part; write it as an integer (\(Int(d)))")
            return nil
        default: wrongType(key, node, what); return nil
        }
        if let range, !range.contains(value) {
            error(key, "is \(value); expected \(what)")
            return nil
        }
        return value
    }

    mutating func double(_ key: String, required: Bool = false, range: ClosedRange<Double>? = nil, expected: String? = nil) -> Double? {
        let what = expected ?? (range.map { "a number from \(formatNumber($0.lowerBound)) to \(formatNumber($0.upperBound))" } ?? "a number")
        guard let node = node(key) else {
            if required { missing(key, what) }
            return nil
        }
        let value: Double
        switch node {
        case .integer(let i): value = Double(i)
        case .float(let d): value = d
        default: wrongType(key, node, what); return nil
        }
        guard value.isFinite else { error(key, "is \(value); expected a finite number"); return nil }
        if let range, !range.contains(value) {
            error(key, "is \(formatNumber(value)); expected \(what)")
            return nil
        }
        return value
    }

    mutating func bool(_ key: String, required: Bool = false) -> Bool? {
        guard let node = node(key) else {
            if required { missing(key, "true or false") }
            return nil
        }
        guard case .bool(let b) = node else {
            if case .string(let s) = node, s == "true" || s == "false" {
                error(key, "is the string \"\(s)\"; write true or false without quotes")
            } else {
                wrongType(key, node, "true or false")
            }
            return nil
        }
        return b
    }

    mutating func choice<E: ProfileChoice>(_ key: String, as type: E.Type, required: Bool = false) -> E? {
        guard let s = string(key, required: required, expected: "one of \(E.spellings)") else { return nil }
        guard let value = E(rawValue: s) else {
            var message = "is \"\(s)\"; expected one of \(E.spellings)"
            if let close = closestMatch(s, among: E.allCases.map(\.rawValue)) { message += " (did you mean \"\(close)\"?)" }
            error(key, message)
            return nil
        }
        return value
    }

    mutating func stringArray(_ key: String, required: Bool = false, expected: String = "an array of strings") -> [String]? {
        guard let node = node(key) else {
            if required { missing(key, expected) }
            return nil
        }
        guard case .array(let items) = node else { wrongType(key, node, expected); return nil }
        var result: [String] = []
        for (i, item) in items.enumerated() {
            guard case .string(let s) = item else {
                context.error(path.appending(key).appending(index: i), "is \(item.typeDescription); expected a string")
                return nil
            }
            result.append(s)
        }
        return result
    }

    /// `[low, high]` with low < high, e.g. a frequency band.
    mutating func numberPair(_ key: String, expected: String) -> (Double, Double)? {
        guard let node = node(key) else { return nil }
        guard case .array(let items) = node, items.count == 2 else {
            error(key, "expected \(expected), a two-element array like [10, 1000]")
            return nil
        }
        var values: [Double] = []
        for item in items {
            switch item {
            case .integer(let i): values.append(Double(i))
            case .float(let d) where d.isFinite: values.append(d)
            default:
                error(key, "expected \(expected), two numbers")
                return nil
            }
        }
        guard values[0] < values[1] else {
            error(key, "is [\(formatNumber(values[0])), \(formatNumber(values[1]))]; the first number must be below the second")
            return nil
        }
        return (values[0], values[1])
    }

    mutating func table(_ key: String, required: Bool = false, expected: String = "a table") -> TableReader? {
        guard let node = node(key) else {
            if required { missing(key, expected) }
            return nil
        }
        guard case .table(let entries) = node else { wrongType(key, node, expected); return nil }
        return TableReader(context: context, path: path.appending(key), entries: entries)
    }

    /// `[[key]]`: an array whose elements must all be tables.
    mutating func arrayOfTables(_ key: String, expected: String) -> [TableReader] {
        guard let node = node(key) else { return [] }
        guard case .array(let items) = node else { wrongType(key, node, "\(expected) ([[\(key)]] entries)"); return [] }
        var readers: [TableReader] = []
        for (i, item) in items.enumerated() {
            guard case .table(let entries) = item else {
                context.error(path.appending(key).appending(index: i), "is \(item.typeDescription); expected \(expected)")
                continue
            }
            readers.append(TableReader(context: context, path: path.appending(key).appending(index: i), entries: entries))
        }
        return readers
    }

    /// `[key.NAME]`: a table of named sub-tables.
    mutating func namedTables(_ key: String, expected: String) -> [(name: String, reader: TableReader)] {
        guard let outer = table(key, expected: "a table of named \(expected)") else { return [] }
        var result: [(String, TableReader)] = []
        for (name, value) in outer.entries {
            guard case .table(let entries) = value else {
                context.error(outer.path.appending(name), "is \(value.typeDescription); expected a table ([\(key).\(name)])")
                continue
            }
            result.append((name, TableReader(context: context, path: outer.path.appending(name), entries: entries)))
        }
        return result
    }

    /// Reports keys that no getter asked for.
    func finish() {
        for entry in entries where !used.contains(entry.key) {
            var message = "unknown key"
            if let close = closestMatch(entry.key, among: known) {
                message += "; did you mean \"\(close)\"?"
            } else if !known.isEmpty {
                let list = Array(Set(known)).sorted().joined(separator: ", ")
                message += "; expected one of: \(list)"
            }
            context.error(path.appending(entry.key), message)
        }
    }
}

/// The candidate closest to `word` by edit distance, if it is close enough to be a likely typo.
func closestMatch(_ word: String, among candidates: [String]) -> String? {
    var best: (String, Int)?
    let lowered = word.lowercased()
    for c in Set(candidates) {
        let d = editDistance(lowered, c.lowercased())
        if best == nil || d < best!.1 || (d == best!.1 && c < best!.0) { best = (c, d) }
    }
    guard let (match, distance) = best else { return nil }
    let limit = max(1, min(3, word.count / 3))
    if distance <= limit { return match }
    // A truncated name ("acc.x.velocity" for "acc.x.velocity_rms"): the shortest completion.
    return candidates.filter { $0.lowercased().hasPrefix(lowered) && word.count >= 3 }.min { $0.count < $1.count }
}

func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a.unicodeScalars), b = Array(b.unicodeScalars)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var row = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        row[0] = i
        for j in 1...b.count {
            row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&previous, &row)
    }
    return previous[b.count]
}

/// Numbers in messages: integers without ".0", others as Swift prints them.
func formatNumber(_ value: Double) -> String {
    if value.rounded() == value && abs(value) < 1e15 { return String(Int(value)) }
    return String(value)
}

extension String {
    var trimmingSpaces: Substring {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\n" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\n" { s.removeLast() }
        return s
    }
}
