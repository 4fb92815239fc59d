import TestSupport

/// Reads the golden files written by `Golden/generate.py`: one named row of numbers per line.
struct GoldenFile {
    let rows: [String: [String]]

    init(_ name: String) {
        let path = TestPaths.repositoryRoot + "/Tests/VigilDSPTests/Golden/" + name
        guard let text = TestPaths.readText(path) else { fatalError("missing golden file \(path); run Tests/VigilDSPTests/Golden/generate.py") }
        var rows: [String: [String]] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ").map(String.init)
            rows[fields[0]] = Array(fields.dropFirst())
        }
        self.rows = rows
    }

    func ints(_ name: String) -> [Int64] { rows[name]!.map { Int64($0)! } }
    func doubles(_ name: String) -> [Double] { rows[name]!.map { Double($0)! } }
}
