/// A parsed TOML value. Table keys are sorted by their UTF-8 bytes.
indirect enum TOMLNode: Sendable, Equatable {
    case table([(key: String, value: TOMLNode)])
    case array([TOMLNode])
    case string(String)
    case integer(Int)
    case float(Double)
    case bool(Bool)
    /// Dates and times: parsed but never meaningful in a profile.
    case dateTime(String)

    static func == (a: TOMLNode, b: TOMLNode) -> Bool {
        switch (a, b) {
        case (.table(let x), .table(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        case (.array(let x), .array(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.integer(let x), .integer(let y)): return x == y
        case (.float(let x), .float(let y)): return x == y || (x.isNaN && y.isNaN)
        case (.bool(let x), .bool(let y)): return x == y
        case (.dateTime(let x), .dateTime(let y)): return x == y
        default: return false
        }
    }

    /// How the type is named in messages: "a string", "an integer", ...
    var typeDescription: String {
        switch self {
        case .table: return "a table"
        case .array: return "an array"
        case .string: return "a string"
        case .integer: return "an integer"
        case .float: return "a number with a fraction"
        case .bool: return "true or false"
        case .dateTime: return "a date/time"
        }
    }
}

/// A TOML syntax error with its position (1-based).
struct TOMLSyntaxError: Error, Sendable {
    var message: String
    var line: Int?
    var column: Int?
}
