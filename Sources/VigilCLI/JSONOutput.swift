import VigilJSON

/// JSON for `--json` output: sorted keys, so output is stable for scripts and tests.
enum JSONOutput {
    static func encode<T: Encodable>(_ value: T, pretty: Bool = true) -> String {
        do {
            return try JSON.encode(value, pretty: pretty)
        } catch {
            return "{\"error\":\"cannot encode output: \(error)\"}"
        }
    }

    static func decode<T: Decodable>(_ type: T.Type, from text: String) throws -> T {
        try JSON.decode(type, from: text)
    }
}
