/// The location of a value inside a profile, as TOML would name it: `sensors[2].registers[0].address`.
public struct ProfileKeyPath: Sendable, Hashable, CustomStringConvertible, Codable {
    public enum Segment: Sendable, Hashable, Codable {
        case key(String)
        case index(Int)
    }

    public var segments: [Segment]

    public init(_ segments: [Segment] = []) { self.segments = segments }

    public static let root = ProfileKeyPath()

    public func appending(_ key: String) -> ProfileKeyPath { ProfileKeyPath(segments + [.key(key)]) }
    public func appending(index: Int) -> ProfileKeyPath { ProfileKeyPath(segments + [.index(index)]) }

    /// The path without its last segment (the root's parent is the root).
    public var parent: ProfileKeyPath { ProfileKeyPath(Array(segments.dropLast())) }

    public var isRoot: Bool { segments.isEmpty }

    /// The last key segment, if the path ends with a key.
    public var lastKey: String? {
        if case .key(let k)? = segments.last { return k }
        return nil
    }

    public var description: String {
        var out = ""
        for segment in segments {
            switch segment {
            case .key(let k):
                if !out.isEmpty { out += "." }
                out += Self.isBare(k) ? k : "\"" + k + "\""
            case .index(let i):
                out += "[\(i)]"
            }
        }
        return out.isEmpty ? "(top level)" : out
    }

    /// TOML bare keys: A-Z a-z 0-9 _ -
    static func isBare(_ key: String) -> Bool {
        !key.isEmpty && key.unicodeScalars.allSatisfy { s in
            (s >= "a" && s <= "z") || (s >= "A" && s <= "Z") || (s >= "0" && s <= "9") || s == "_" || s == "-"
        }
    }
}
