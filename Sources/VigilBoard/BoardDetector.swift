#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Matches the running board's device-tree model against the `models` of a folder of profiles.
public enum BoardDetector {
    public struct Match: Sendable, Codable, Equatable {
        public var file: String
        public var board: String
        /// The profile's model string that matched.
        public var model: String
    }

    public struct Skipped: Sendable, Codable, Equatable {
        public var file: String
        public var reason: String
    }

    public struct Result: Sendable, Codable, Equatable {
        /// The board's model string, or nil when there is no device tree.
        public var model: String?
        /// Matching profiles, the most specific (longest matching model string) first.
        public var matches: [Match]
        /// Profiles in the folder that could not be read.
        public var invalid: [Skipped]
    }

    /// Reads `/proc/device-tree/model` (a NUL-terminated string).
    public static func readModel(_ path: String = "/proc/device-tree/model") -> String? {
        guard let bytes = try? BoardProfileLoader.readFile(path) else { return nil }
        let trimmed = bytes.prefix { $0 != 0 }
        let model = String(decoding: trimmed, as: UTF8.self)
        return model.isEmpty ? nil : model
    }

    /// A model string matches a profile's entry when it equals it or starts with it (so
    /// "Raspberry Pi 4 Model B" matches "Raspberry Pi 4 Model B Rev 1.4").
    public static func matches(model: String, candidate: String) -> Bool {
        model == candidate || model.hasPrefix(candidate)
    }

    public static func detect(modelFile: String, boardsDirectory: String) -> Result {
        let model = readModel(modelFile)
        var matches: [Match] = []
        var invalid: [Skipped] = []
        for file in profileFiles(in: boardsDirectory) {
            do {
                let loaded = try BoardProfileLoader.load(path: file)
                guard let model else { continue }
                if let best = loaded.profile.board.models.filter({ Self.matches(model: model, candidate: $0) }).max(by: { $0.count < $1.count }) {
                    matches.append(Match(file: file, board: loaded.profile.board.name, model: best))
                }
            } catch {
                invalid.append(Skipped(file: file, reason: error.diagnostics.first?.description ?? "invalid"))
            }
        }
        matches.sort { $0.model.count != $1.model.count ? $0.model.count > $1.model.count : $0.file < $1.file }
        return Result(model: model, matches: matches, invalid: invalid)
    }

    /// `*.toml` files in a folder, sorted by name.
    public static func profileFiles(in directory: String) -> [String] {
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name.hasSuffix(".toml") && !name.hasPrefix(".") { names.append(name) }
        }
        let base = directory.hasSuffix("/") ? directory : directory + "/"
        return names.sorted().map { base + $0 }
    }
}
