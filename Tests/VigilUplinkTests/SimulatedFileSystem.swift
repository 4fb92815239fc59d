#if canImport(Glibc)
import Glibc
#endif
import VigilBase
@testable import VigilUplink

/// A file system in memory that keeps, beside what a program sees, what would survive a power
/// loss, by POSIX's rules: a file's bytes after its last `fsync`, a directory's names after the
/// directory's last `fsync`. Any call can be made to fail (an errno or a short write), and the
/// power can be cut at any call: from then on every call fails with EIO, and `restart` yields the
/// state a reboot would find — the durable bytes and names, plus a random prefix of each file's
/// unsynced writes with the last one torn at a random byte (the page cache may have written some
/// back, in order, before the power went).
final class SimulatedFileSystem: SpoolFileSystem {
    enum Operation { case append([UInt8]), truncate(Int) }
    final class Inode {
        var data: [UInt8] = []
        var durable: [UInt8] = []
        var unsynced: [Operation] = []
    }
    enum Call: String, CaseIterable { case list, open, size, append, read, truncate, sync, unlink, rename, syncDirectory }
    enum Fault { case error(Int32), shortWrite }

    private(set) var names: [String: Inode] = [:]
    private(set) var durableNames: [String: Inode] = [:]
    private var directories: Set<String> = []
    private var handles: [Int32: Inode] = [:]
    private var nextHandle: Int32 = 3
    /// Bytes the disk holds; an append past it is short (or ENOSPC when nothing fits).
    var capacity = Int.max
    /// Calls made so far (the crash points are numbered by it).
    private(set) var calls = 0
    /// The call at which the power goes (nil: never).
    var powerLossAtCall: Int?
    private(set) var poweredOff = false
    /// Decides, per call, whether it fails.
    var fault: ((Call, Int) -> Fault?)?
    var rng: SplitMix64

    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    var trace = getenv("VIGIL_SPOOL_TRACE") != nil
    private func enter(_ call: Call, _ detail: @autoclosure () -> String = "") throws(FileSystemErrno) -> Fault? {
        calls += 1
        if trace { print("fs \(calls) \(call) \(detail())\(poweredOff ? " (off)" : "")") }
        if let at = powerLossAtCall, calls >= at { poweredOff = true }
        if poweredOff { throw FileSystemErrno(EIO) }
        if let f = fault?(call, calls) {
            if trace { print("   fault \(f)") }
            if case .error(let e) = f { throw FileSystemErrno(e) }
            return f
        }
        return nil
    }

    var usedBytes: Int {
        var seen = Set<ObjectIdentifier>(), total = 0
        for inode in Array(names.values) + Array(handles.values) where seen.insert(ObjectIdentifier(inode)).inserted { total += inode.data.count }
        return total
    }

    private static func parent(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return String(path[..<slash])
    }

    private func inode(_ handle: Int32) throws(FileSystemErrno) -> Inode {
        guard let i = handles[handle] else { throw FileSystemErrno(EBADF) }
        return i
    }

    // MARK: SpoolFileSystem

    func makeDirectory(_ path: String) throws(FileSystemErrno) {
        calls += 1
        if poweredOff { throw FileSystemErrno(EIO) }
        // Directories are made once, at the start, and taken as durable.
        directories.insert(path)
    }

    func list(_ directory: String) throws(FileSystemErrno) -> [String] {
        _ = try enter(.list)
        guard directories.contains(directory) else { throw FileSystemErrno(ENOENT) }
        return names.keys.filter { Self.parent($0) == directory }.sorted().map { String($0.dropFirst(directory.count + 1)) }
    }

    func openForAppend(_ path: String, create: Bool, truncate: Bool) throws(FileSystemErrno) -> Int32 {
        _ = try enter(.open, "\(path) append → \(nextHandle)")
        guard directories.contains(Self.parent(path)) else { throw FileSystemErrno(ENOENT) }
        let node: Inode
        if let existing = names[path] {
            node = existing
            if truncate && !node.data.isEmpty {
                node.data = []
                node.unsynced.append(.truncate(0))
            }
        } else {
            guard create else { throw FileSystemErrno(ENOENT) }
            node = Inode()
            names[path] = node
        }
        return register(node)
    }

    func openForReading(_ path: String) throws(FileSystemErrno) -> Int32 {
        _ = try enter(.open)
        guard let node = names[path] else { throw FileSystemErrno(ENOENT) }
        return register(node)
    }

    private func register(_ node: Inode) -> Int32 {
        let h = nextHandle
        nextHandle += 1
        handles[h] = node
        return h
    }

    func size(_ handle: Int32) throws(FileSystemErrno) -> Int {
        _ = try enter(.size)
        return try inode(handle).data.count
    }

    func append(_ handle: Int32, _ bytes: UnsafeRawBufferPointer) throws(FileSystemErrno) -> Int {
        let f = try enter(.append, "\(handle) \(bytes.count)")
        let node = try inode(handle)
        var n = min(bytes.count, max(0, capacity - usedBytes))
        if case .shortWrite = f { n = min(n, Int(rng.next() % UInt64(max(1, bytes.count)))) }
        if n == 0 && bytes.count > 0 { throw FileSystemErrno(ENOSPC) }
        let taken = Array(bytes.prefix(n))
        node.data += taken
        node.unsynced.append(.append(taken))
        return n
    }

    func read(_ handle: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(FileSystemErrno) -> Int {
        _ = try enter(.read)
        let node = try inode(handle)
        guard offset < node.data.count else { return 0 }
        let n = min(buffer.count, node.data.count - offset)
        node.data.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: n) }
        return n
    }

    func truncate(_ handle: Int32, to length: Int) throws(FileSystemErrno) {
        _ = try enter(.truncate, "\(handle) \(length)")
        let node = try inode(handle)
        if length < node.data.count { node.data.removeLast(node.data.count - length) } else { node.data += [UInt8](repeating: 0, count: length - node.data.count) }
        node.unsynced.append(.truncate(length))
    }

    func sync(_ handle: Int32) throws(FileSystemErrno) {
        _ = try enter(.sync, "\(handle)")
        let node = try inode(handle)
        node.durable = node.data
        node.unsynced = []
    }

    func close(_ handle: Int32) { handles[handle] = nil }

    func unlink(_ path: String) throws(FileSystemErrno) {
        _ = try enter(.unlink, path)
        guard names.removeValue(forKey: path) != nil else { throw FileSystemErrno(ENOENT) }
    }

    func rename(_ from: String, _ to: String) throws(FileSystemErrno) {
        _ = try enter(.rename)
        guard let node = names.removeValue(forKey: from) else { throw FileSystemErrno(ENOENT) }
        names[to] = node
    }

    func syncDirectory(_ path: String) throws(FileSystemErrno) {
        _ = try enter(.syncDirectory)
        for (name, _) in durableNames where Self.parent(name) == path && names[name] == nil { durableNames[name] = nil }
        for (name, node) in names where Self.parent(name) == path { durableNames[name] = node }
    }

    // MARK: Power

    /// What a reboot after the power loss finds; the file system works again afterwards.
    func restart() {
        // In path order, so that a seed replays in another process (a Dictionary's order is
        // seeded per process).
        var seen = Set<ObjectIdentifier>()
        let survivors = durableNames.sorted { $0.key < $1.key }.map(\.value).filter { seen.insert(ObjectIdentifier($0)).inserted }
        for node in survivors {
            var data = node.durable
            let written = Int(rng.next() % UInt64(node.unsynced.count + 1))
            for (i, op) in node.unsynced.prefix(written).enumerated() {
                let torn = i == written - 1 && rng.next() % 2 == 0
                switch op {
                case .append(let bytes): data += torn ? Array(bytes.prefix(Int(rng.next() % UInt64(bytes.count + 1)))) : bytes
                case .truncate(let length):
                    if torn { break }
                    if length < data.count { data.removeLast(data.count - length) } else { data += [UInt8](repeating: 0, count: length - data.count) }
                }
            }
            node.data = data
            node.durable = data
            node.unsynced = []
        }
        names = durableNames
        handles = [:]
        poweredOff = false
        powerLossAtCall = nil
        fault = nil
    }

    /// Flips one byte of a file as bit rot or a bad block would (durably).
    func corrupt(_ path: String, at offset: Int) {
        guard let node = names[path], offset < node.data.count else { return }
        node.data[offset] ^= 0x5A
        node.durable = node.data
    }

    func contents(_ path: String) -> [UInt8]? { names[path]?.data }
}
