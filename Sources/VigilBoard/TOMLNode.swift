import TOMLKit

/// A parsed TOML value, detached from TOMLKit's C++ storage so that the rest of the profile code
/// works on plain Swift values. Table keys keep the order TOMLKit reports them in.
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

    /// Parses TOML text. Throws TOMLKit's parse error, located by line and column.
    static func parse(_ text: String) throws(TOMLSyntaxError) -> TOMLNode {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw TOMLSyntaxError(message: error.description, line: error.source.begin.line, column: error.source.begin.column)
        } catch {
            throw TOMLSyntaxError(message: "\(error)", line: nil, column: nil)
        }
        return convert(table)
    }

    private static func convert(_ table: TOMLTable) -> TOMLNode {
        var entries: [(key: String, value: TOMLNode)] = []
        for key in table.keys {
            if let value = table[key] { entries.append((key, convert(value))) }
        }
        return .table(entries)
    }

    private static func convert(_ value: TOMLValueConvertible) -> TOMLNode {
        switch value.type {
        case .table: return value.table.map(convert) ?? .table([])
        case .array:
            guard let array = value.array else { return .array([]) }
            var items: [TOMLNode] = []
            for i in 0..<array.count { items.append(convert(array[i])) }
            return .array(items)
        case .string: return .string(value.string ?? "")
        case .int: return .integer(value.int ?? 0)
        case .double: return .float(value.double ?? 0)
        case .bool: return .bool(value.bool ?? false)
        case .date, .time, .dateTime: return .dateTime(value.debugDescription)
        }
    }
}

/// A TOML syntax error with its position (1-based), as TOMLKit reports it.
struct TOMLSyntaxError: Error, Sendable {
    var message: String
    var line: Int?
    var column: Int?
}
