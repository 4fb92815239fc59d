#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Where things are, for tests that read committed fixtures or run built binaries.
public enum TestPaths {
    /// The package's root folder (found from this file's location at build time).
    public static let repositoryRoot: String = {
        var path = #filePath
        for _ in 0..<3 { path = parent(path) } // Tests/TestSupport/Paths.swift → root
        return path
    }()

    /// The folder the test binary was built into (`.build/<triple>/<config>`), which also holds `vigil`.
    public static let productsDirectory: String = {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return repositoryRoot + "/.build/debug" }
        let exe = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var dir = parent(exe)
        // swift-testing on Linux runs `<products>/vigilPackageTests.xctest`; step out of bundles.
        while dir.hasSuffix(".xctest") || dir.contains(".xctest/") { dir = parent(dir) }
        return dir
    }()

    /// The `vigil` executable built alongside the tests.
    public static var vigilBinary: String {
        if let override = getenv("VIGIL_BINARY") { return String(cString: override) }
        return productsDirectory + "/vigil"
    }

    public static func parent(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// A fresh private temporary folder; removed by `removeTree` when the test is done.
    public static func makeTemporaryDirectory(_ prefix: String = "vigil-test") -> String {
        var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
        let result = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(result != nil, "mkdtemp failed")
        return String(cString: result!)
    }

    /// Removes a folder tree (tests only ever remove what they created under /tmp).
    public static func removeTree(_ path: String) {
        precondition(path.hasPrefix("/tmp/"), "refusing to remove \(path)")
        _ = try? ChildProcess.run("/bin/rm", ["-rf", path])
    }

    public static func writeFile(_ path: String, _ text: String) {
        writeFile(path, bytes: Array(text.utf8))
    }

    public static func writeFile(_ path: String, bytes: [UInt8]) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        precondition(fd >= 0, "cannot write \(path)")
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            precondition(n > 0)
            offset += n
        }
        close(fd)
    }

    public static func readFile(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return bytes
    }

    public static func readText(_ path: String) -> String? {
        readFile(path).map { String(decoding: $0, as: UTF8.self) }
    }

    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// Files in a folder (names only), sorted.
    public static func list(_ directory: String) -> [String] {
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// Finds an executable on PATH.
    public static func which(_ name: String) -> String? {
        let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        for dir in ["/usr/sbin", "/sbin"] where access("\(dir)/\(name)", X_OK) == 0 { return "\(dir)/\(name)" }
        return nil
    }
}
