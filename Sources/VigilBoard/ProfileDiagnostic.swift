/// One thing wrong with a board profile, located as precisely as the source allows.
///
/// Printed as `FILE:LINE: KEY: MESSAGE` (a warning as `FILE:LINE: warning: KEY: MESSAGE`), the
/// shape compilers use, so editors can jump to it.
public struct ProfileDiagnostic: Error, Sendable, Hashable, CustomStringConvertible, Codable {
    /// The file as the user named it.
    public var file: String
    /// 1-based line, when known.
    public var line: Int?
    /// 1-based column, when known (syntax errors).
    public var column: Int?
    /// The key the problem is about (`sensors[1].sample_rate_hz`), when there is one.
    public var key: String?
    /// What is wrong and what was expected.
    public var message: String
    /// An error makes the profile unusable; a warning names a protection the profile switches off
    /// (`vigil board validate --strict` treats warnings as errors).
    public var severity: Severity

    public enum Severity: String, Sendable, Hashable, Codable { case error, warning }

    public init(file: String, line: Int?, column: Int? = nil, key: String?, message: String, severity: Severity = .error) {
        self.file = file
        self.line = line
        self.column = column
        self.key = key
        self.message = message
        self.severity = severity
    }

    public var description: String {
        var s = file
        if let line { s += ":\(line)" }
        if let column { s += ":\(column)" }
        s += ": "
        if severity == .warning { s += "warning: " }
        if let key { s += key + ": " }
        s += message
        return s
    }
}

/// Every independent problem found in one profile, in file order.
public struct ProfileErrors: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [ProfileDiagnostic]
    public init(_ diagnostics: [ProfileDiagnostic]) { self.diagnostics = diagnostics }
    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}
