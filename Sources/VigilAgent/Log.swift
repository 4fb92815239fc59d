#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Log lines on standard error in the form journald understands: `<PRIORITY>message`
/// (sd-daemon(3) prefixes; `SyslogLevelPrefix=` is on by default). One `write` per line, so lines
/// from several threads never interleave. Off a terminal only; on a terminal the prefix is a word.
public enum Log {
    public enum Level: Int32, Sendable {
        case error = 3, warning = 4, notice = 5, info = 6, debug = 7
        var word: String {
            switch self {
            case .error: return "error"
            case .warning: return "warning"
            case .notice: return "notice"
            case .info: return "info"
            case .debug: return "debug"
            }
        }
    }

    nonisolated(unsafe) public static var verbose = false
    static let journald = isatty(2) == 0

    public static func write(_ level: Level, _ message: String) {
        if level == .debug && !verbose { return }
        let line = journald ? "<\(level.rawValue)>\(message)\n" : "vigil \(level.word): \(message)\n"
        var bytes = Array(line.utf8)
        _ = bytes.withUnsafeMutableBytes { Glibc.write(2, $0.baseAddress, $0.count) }
    }

    public static func error(_ m: String) { write(.error, m) }
    public static func warning(_ m: String) { write(.warning, m) }
    public static func notice(_ m: String) { write(.notice, m) }
    public static func info(_ m: String) { write(.info, m) }
    public static func debug(_ m: String) { write(.debug, m) }
}
