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
        /// The profile's compatible string the board lists, when the profile asks for one.
        public var compatible: String?
    }

    public struct Skipped: Sendable, Codable, Equatable {
        public var file: String
        public var reason: String
    }

    public struct Result: Sendable, Codable, Equatable {
        /// The board's model string, or nil when there is no device tree.
        public var model: String?
        /// The board's device-tree compatible strings, most specific first (empty without).
        public var compatible: [String] = []
        /// Matching profiles, the most specific first: those matched through a compatible string
        /// (a carrier's own overlay) alone when there are any, else by longest model string.
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

    /// Reads `/proc/device-tree/compatible` (NUL-separated strings, most specific first).
    public static func readCompatible(_ path: String = "/proc/device-tree/compatible") -> [String] {
        guard let bytes = try? BoardProfileLoader.readFile(path) else { return [] }
        return bytes.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }.filter { !$0.isEmpty }
    }

    /// Whether a profile's board is this one: a model string matches and, when the profile lists
    /// compatible strings, the board's device tree lists one of them. Nil when it fits; else why not.
    public static func misfit(_ board: BoardIdentity, model: String?, compatible: [String]) -> String? {
        guard let model else { return "this machine has no /proc/device-tree/model (not an ARM board)" }
        guard board.models.contains(where: { matches(model: model, candidate: $0) }) else { return "this board is \"\(model)\"" }
        if !board.compatible.isEmpty && !board.compatible.contains(where: compatible.contains) {
            return "this board (\"\(model)\") lists none of \(board.compatible.joined(separator: ", ")) in /proc/device-tree/compatible"
        }
        return nil
    }

    /// A model string matches a profile's entry when it equals it or starts with it (so
    /// "Raspberry Pi 4 Model B" matches "Raspberry Pi 4 Model B Rev 1.4").
    public static func matches(model: String, candidate: String) -> Bool {
        model == candidate || model.hasPrefix(candidate)
    }

    public static func detect(modelFile: String, compatibleFile: String = "/proc/device-tree/compatible", boardsDirectory: String) -> Result {
        let model = readModel(modelFile)
        let compatible = readCompatible(compatibleFile)
        var matches: [Match] = []
        var invalid: [Skipped] = []
        for file in profileFiles(in: boardsDirectory) {
            do {
                let loaded = try BoardProfileLoader.load(path: file)
                let board = loaded.profile.board
                guard let model, misfit(board, model: model, compatible: compatible) == nil,
                      let best = board.models.filter({ Self.matches(model: model, candidate: $0) }).max(by: { $0.count < $1.count }) else { continue }
                matches.append(Match(file: file, board: board.name, model: best, compatible: board.compatible.first(where: compatible.contains)))
            } catch {
                invalid.append(Skipped(file: file, reason: error.diagnostics.first?.description ?? "invalid"))
            }
        }
        // A carrier that names itself in compatible (its overlay) is no longer the bare module:
        // the module's profiles, matched by model alone, would drive the wrong pins.
        if matches.contains(where: { $0.compatible != nil }) { matches.removeAll { $0.compatible == nil } }
        matches.sort { $0.model.count != $1.model.count ? $0.model.count > $1.model.count : $0.file < $1.file }
        return Result(model: model, compatible: compatible, matches: matches, invalid: invalid)
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
