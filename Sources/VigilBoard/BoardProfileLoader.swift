#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import VigilBase

/// A validated profile with everything derived from it.
public struct LoadedProfile: Sendable {
    /// The path as given.
    public var path: String
    public var profile: BoardProfile
    public var channels: ChannelCatalog
    /// SHA-256 of the file's bytes (birth frames and status carry it).
    public var sha256: [UInt8]
    /// Protections the profile switches off, in file order (`vigil run` logs them at start).
    public var warnings: [ProfileDiagnostic] = []
}

/// Reads, parses and validates board profiles.
public enum BoardProfileLoader {
    /// Profiles larger than this are refused before they are read (1 MiB).
    public static let maximumSize = 1 << 20

    /// Loads and validates the profile at `path`. Every independent problem is reported at once.
    public static func load(path: String) throws(ProfileErrors) -> LoadedProfile {
        let bytes = try readFile(path)
        return try load(bytes: bytes, path: path)
    }

    /// Validates profile text already in memory; `path` is only used in messages.
    public static func load(bytes: [UInt8], path: String) throws(ProfileErrors) -> LoadedProfile {
        func fail(_ message: String, line: Int? = nil, column: Int? = nil) -> ProfileErrors {
            ProfileErrors([ProfileDiagnostic(file: path, line: line, column: column, key: nil, message: message)])
        }
        if bytes.count > maximumSize { throw fail("is \(bytes.count) bytes; profiles are limited to \(maximumSize) bytes (1 MiB)") }
        if bytes.isEmpty { throw fail("is empty; a profile needs at least schema, [board] and [asset] (see Boards/simulator.toml)") }
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            throw fail("starts with a UTF-8 byte-order mark; save the file as UTF-8 without BOM", line: 1, column: 1)
        }
        if bytes.starts(with: [0xFF, 0xFE]) || bytes.starts(with: [0xFE, 0xFF]) {
            throw fail("is UTF-16; save the file as UTF-8", line: 1, column: 1)
        }
        var line = 1
        for (i, b) in bytes.enumerated() {
            if b == 0 { throw fail("contains a NUL byte; this is not a text file", line: line) }
            if b == 0x0D {
                if i + 1 < bytes.count && bytes[i + 1] == 0x0A {
                    throw fail("has Windows (CRLF) line ends; convert it with `dos2unix` or your editor's LF setting", line: line)
                }
                throw fail("contains a carriage return (CR) outside a line end", line: line)
            }
            if b == 0x0A { line += 1 }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            var l = 1
            var i = 0
            while i < bytes.count {
                let len = utf8SequenceLength(bytes, at: i)
                if len == 0 { break }
                if bytes[i] == 0x0A { l += 1 }
                i += len
            }
            throw fail("is not valid UTF-8 (first bad byte at offset \(i))", line: l)
        }
        if text.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\n" }) {
            throw fail("is empty; a profile needs at least schema, [board] and [asset] (see Boards/simulator.toml)")
        }
        // Values go to C (device paths, topics) as C strings: an escaped NUL would silently cut one
        // short, so it is refused here with its line.
        for (i, l) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where l.contains("\\u0000") || l.contains("\\U00000000") {
            throw fail("contains an escaped NUL character (\\u0000), which no profile value may hold", line: i + 1)
        }
        let root: TOMLNode
        let locator: TOMLKeyLocator
        do {
            let parsed = try TOMLReader.parseLocated(text)
            root = parsed.root
            locator = TOMLKeyLocator(lines: parsed.lines)
        } catch {
            throw fail("is not valid TOML: \(error.message)", line: error.line, column: error.column)
        }
        let context = ProfileContext(file: path, locator: locator)
        let parsed = ProfileParser(context: context).parse(root)
        var catalog = ChannelCatalog(channels: [])
        if let parsed { catalog = ProfileValidator(context: context, profile: parsed).validate() }
        if context.hasErrors { throw ProfileErrors(context.sortedDiagnostics(.error)) }
        guard let parsed else { throw fail("could not be read") }
        return LoadedProfile(path: path, profile: parsed, channels: catalog, sha256: SHA256.hash(bytes), warnings: context.sortedDiagnostics(.warning))
    }

    /// Reads a whole file, refusing anything larger than the profile limit without reading it.
    static func readFile(_ path: String) throws(ProfileErrors) -> [UInt8] {
        func fail(_ message: String) -> ProfileErrors {
            ProfileErrors([ProfileDiagnostic(file: path, line: nil, key: nil, message: message)])
        }
        // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        if fd < 0 {
            let e = errno
            switch e {
            case ENOENT: throw fail("no such file (looked for it relative to \(currentDirectory()))")
            case EACCES: throw fail("permission denied; the file must be readable by the vigil user")
            default: throw fail("cannot be opened: \(String(cString: strerror(e)))")
            }
        }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) != 0 { throw fail("cannot be read: \(String(cString: strerror(errno)))") }
        if (st.st_mode & S_IFMT) == S_IFDIR { throw fail("is a directory; expected a .toml file (e.g. Boards/simulator.toml)") }
        if (st.st_mode & S_IFMT) != S_IFREG {
            let kind: String
            switch st.st_mode & S_IFMT {
            case S_IFIFO: kind = "a FIFO (named pipe)"
            case S_IFCHR: kind = "a character device"
            case S_IFBLK: kind = "a block device"
            case S_IFSOCK: kind = "a socket"
            default: kind = "not a regular file"
            }
            throw fail("is \(kind); a profile must be a regular file (copy it to one, e.g. /etc/vigil/board.toml)")
        }
        if st.st_size > maximumSize {
            throw fail("is \(st.st_size) bytes; profiles are limited to \(maximumSize) bytes (1 MiB)")
        }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw fail("cannot be read: \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
            if bytes.count > maximumSize { throw fail("is over \(maximumSize) bytes; profiles are limited to 1 MiB") }
        }
        return bytes
    }

    private static func currentDirectory() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getcwd(&buffer, buffer.count) != nil else { return "the current directory" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func utf8SequenceLength(_ b: [UInt8], at i: Int) -> Int {
        let c = b[i]
        let need: Int
        if c < 0x80 { return 1 }
        else if c & 0xE0 == 0xC0 { need = 2 }
        else if c & 0xF0 == 0xE0 { need = 3 }
        else if c & 0xF8 == 0xF0 { need = 4 }
        else { return 0 }
        if i + need > b.count { return 0 }
        for k in 1..<need where b[i + k] & 0xC0 != 0x80 { return 0 }
        return String(validating: b[i..<(i + need)], as: UTF8.self) == nil ? 0 : need
    }
}
