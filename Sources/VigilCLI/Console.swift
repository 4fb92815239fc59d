#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Writes to standard output and error without buffering surprises (the agent's logs and the CLI's
/// output may interleave with a child process's).
public enum Console {
    public static func out(_ text: String, terminator: String = "\n") {
        write(1, text + terminator)
    }

    public static func err(_ text: String, terminator: String = "\n") {
        write(2, text + terminator)
    }

    static func write(_ fd: Int32, _ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                return
            }
            offset += n
        }
        bytes.removeAll()
    }

    /// Whether standard output is a terminal (tables refresh in place, colours allowed).
    public static var stdoutIsTerminal: Bool { isatty(1) == 1 }
}
