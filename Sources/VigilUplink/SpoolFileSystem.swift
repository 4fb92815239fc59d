#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A failed file-system call: the system error number.
public struct FileSystemErrno: Error, Sendable, Equatable {
    public var code: Int32
    public init(_ code: Int32) { self.code = code }
}

/// The file operations the spool needs, and only those, so that a simulated file system can fail
/// any one of them or lose power between them (the tests' fault injection). Handles are small
/// integers owned by the file system; paths are absolute or relative to the working directory.
///
/// The durability contract is POSIX's, as the simulated file system models it: data written to a
/// file survives a power loss only after `sync(handle)` returned; a created, renamed or unlinked
/// name survives only after `syncDirectory` of its directory returned.
public protocol SpoolFileSystem: AnyObject {
    /// Creates `path` and its parents (mode 0750) and checks the directory can be written.
    func makeDirectory(_ path: String) throws(FileSystemErrno)
    /// The names in `directory` (not `.` or `..`).
    func list(_ directory: String) throws(FileSystemErrno) -> [String]
    /// Opens for appending; `truncate` empties an existing file, `create` makes a missing one (0640).
    func openForAppend(_ path: String, create: Bool, truncate: Bool) throws(FileSystemErrno) -> Int32
    func openForReading(_ path: String) throws(FileSystemErrno) -> Int32
    func size(_ handle: Int32) throws(FileSystemErrno) -> Int
    /// Appends; returns how many bytes were taken (fewer than asked is a short write).
    func append(_ handle: Int32, _ bytes: UnsafeRawBufferPointer) throws(FileSystemErrno) -> Int
    /// Reads up to `buffer.count` bytes at `offset`; returns how many (0 at the end of the file).
    func read(_ handle: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(FileSystemErrno) -> Int
    func truncate(_ handle: Int32, to length: Int) throws(FileSystemErrno)
    func sync(_ handle: Int32) throws(FileSystemErrno)
    func close(_ handle: Int32)
    func unlink(_ path: String) throws(FileSystemErrno)
    func rename(_ from: String, _ to: String) throws(FileSystemErrno)
    func syncDirectory(_ path: String) throws(FileSystemErrno)
}

extension SpoolFileSystem {
    /// Reads exactly `buffer.count` bytes at `offset`; false at a short read or an error.
    func readFully(_ handle: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int) -> Bool {
        var done = 0
        while done < buffer.count {
            guard let n = try? read(handle, into: UnsafeMutableRawBufferPointer(rebasing: buffer[done...]), at: offset + done), n > 0 else { return false }
            done += n
        }
        return true
    }
}

/// The real file system, one syscall per operation (EINTR retried).
public final class POSIXFileSystem: SpoolFileSystem {
    public init() {}

    public func makeDirectory(_ path: String) throws(FileSystemErrno) {
        var partial = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            partial += "/" + component
            if mkdir(partial, 0o750) != 0 && errno != EEXIST { throw FileSystemErrno(errno) }
        }
        if access(path, W_OK) != 0 { throw FileSystemErrno(errno) }
    }

    public func list(_ directory: String) throws(FileSystemErrno) -> [String] {
        guard let dir = opendir(directory) else { throw FileSystemErrno(errno) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    public func openForAppend(_ path: String, create: Bool, truncate: Bool) throws(FileSystemErrno) -> Int32 {
        let fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | (create ? O_CREAT : 0) | (truncate ? O_TRUNC : 0), 0o640)
        if fd < 0 { throw FileSystemErrno(errno) }
        return fd
    }

    public func openForReading(_ path: String) throws(FileSystemErrno) -> Int32 {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw FileSystemErrno(errno) }
        return fd
    }

    public func size(_ handle: Int32) throws(FileSystemErrno) -> Int {
        var st = stat()
        if fstat(handle, &st) != 0 { throw FileSystemErrno(errno) }
        return Int(st.st_size)
    }

    public func append(_ handle: Int32, _ bytes: UnsafeRawBufferPointer) throws(FileSystemErrno) -> Int {
        while true {
            let n = write(handle, bytes.baseAddress, bytes.count)
            if n >= 0 { return n }
            if errno != EINTR { throw FileSystemErrno(errno) }
        }
    }

    public func read(_ handle: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(FileSystemErrno) -> Int {
        while true {
            let n = pread(handle, buffer.baseAddress, buffer.count, off_t(offset))
            if n >= 0 { return n }
            if errno != EINTR { throw FileSystemErrno(errno) }
        }
    }

    public func truncate(_ handle: Int32, to length: Int) throws(FileSystemErrno) {
        if ftruncate(handle, off_t(length)) != 0 { throw FileSystemErrno(errno) }
    }

    public func sync(_ handle: Int32) throws(FileSystemErrno) {
        if fsync(handle) != 0 { throw FileSystemErrno(errno) }
    }

    public func close(_ handle: Int32) { _ = Glibc.close(handle) }

    public func unlink(_ path: String) throws(FileSystemErrno) {
        if Glibc.unlink(path) != 0 { throw FileSystemErrno(errno) }
    }

    public func rename(_ from: String, _ to: String) throws(FileSystemErrno) {
        if Glibc.rename(from, to) != 0 { throw FileSystemErrno(errno) }
    }

    public func syncDirectory(_ path: String) throws(FileSystemErrno) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 { throw FileSystemErrno(errno) }
        defer { _ = Glibc.close(fd) }
        if fsync(fd) != 0 { throw FileSystemErrno(errno) }
    }
}
