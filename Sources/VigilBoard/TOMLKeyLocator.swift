/// The line on which each key of a profile is written, as ``TOMLReader`` recorded it while parsing
/// (headers, dotted keys, keys inside inline tables, array elements), so every message can say
/// FILE:LINE.
struct TOMLKeyLocator: Sendable {
    private(set) var lines: [ProfileKeyPath: Int] = [:]

    init(lines: [ProfileKeyPath: Int]) { self.lines = lines }

    /// The lines of `text`'s keys; none when it is not TOML.
    init(text: String) {
        lines = (try? TOMLReader.parseLocated(text).lines) ?? [:]
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
}
