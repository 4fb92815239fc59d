#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CVigilSys
import Synchronization
import VigilLoop

/// Why the control socket could not be reached or served.
public struct ControlSocketError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable { case notRunning, permission, other }
    public var kind: Kind
    public var message: String
    public var description: String { message }
}

/// The agent's local control socket: a Unix stream socket (mode 0660, group `vigil` when it
/// exists), one JSON request line in, one JSON answer line out. No TCP listener exists at all.
final class ControlServer: @unchecked Sendable {
    let path: String
    private var fd: Int32 = -1
    private let stopFlag = Atomic<Bool>(false)
    private var thread: pthread_t?
    private let handler: (String, PeerCredentials) -> String

    init(path: String, handler: @escaping (String, PeerCredentials) -> String) throws(ControlSocketError) {
        self.path = path
        self.handler = handler
        guard path.utf8.count < 108 else { throw ControlSocketError(kind: .other, message: "control socket path \(path) is longer than 107 bytes") }
        let dir = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        if !dir.isEmpty {
            var partial = ""
            for c in dir.split(separator: "/") {
                partial += "/" + c
                _ = mkdir(partial, 0o750)
            }
        }
        // A socket file that answers belongs to a running agent; one that refuses is stale.
        if access(path, F_OK) == 0 {
            if (try? ControlClient.roundTrip(path: path, request: "{\"command\":\"ping\"}", timeoutMilliseconds: 1000)) != nil {
                throw ControlSocketError(kind: .other, message: "another vigil agent is running (its control socket \(path) answers); stop it first")
            }
            unlink(path)
        }
        let s = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard s >= 0 else { throw ControlSocketError(kind: .other, message: "control socket: \(String(cString: strerror(errno)))") }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in path.utf8.enumerated() { raw[i] = b }
        }
        let old = umask(0o117)
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        umask(old)
        guard bound == 0, listen(s, 8) == 0 else {
            let e = errno
            close(s)
            throw ControlSocketError(kind: e == EACCES ? .permission : .other,
                                     message: "control socket \(path): \(String(cString: strerror(e)))\(e == EACCES ? " (the agent's user needs write access to \(dir))" : "")")
        }
        chmod(path, 0o660)
        if let g = getgrnam("vigil") { _ = chown(path, uid_t.max, g.pointee.gr_gid) }
        fd = s
    }

    deinit {
        stop()
    }

    func start() throws(HALThreadError) {
        switch startThread({ [self] in serve() }) {
        case .success(let t): thread = t
        case .failure(let e): throw e
        }
    }

    func stop() {
        stopFlag.store(true, ordering: .releasing)
        if let t = thread { pthread_join(t, nil) }
        thread = nil
        if fd >= 0 {
            close(fd)
            fd = -1
            unlink(path)
        }
    }

    private func serve() {
        while !stopFlag.load(ordering: .acquiring) {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 200) > 0 else { continue }
            let c = accept(fd, nil, nil)
            guard c >= 0 else { continue }
            var tv = timeval(tv_sec: 2, tv_usec: 0)
            setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            var peer = PeerCredentials(uid: UInt32.max, pid: -1)
            if vigil_peer_credentials(c, &peer.uid, &peer.pid) != 0 { peer = PeerCredentials(uid: UInt32.max, pid: -1) }
            if let line = readLine(c) {
                let answer = handler(line, peer) + "\n"
                writeAll(c, Array(answer.utf8))
            }
            close(c)
        }
    }
}

/// Who is on the other end of a control-socket connection, as the kernel says (`SO_PEERCRED`):
/// resets from the socket carry it into their event.
struct PeerCredentials: Sendable, Equatable {
    var uid: UInt32
    var pid: Int32
}

/// The CLI's side of the control socket.
public enum ControlClient {
    /// Sends one request line and returns the answer line.
    public static func roundTrip(path: String, request: String, timeoutMilliseconds: Int = 10_000) throws(ControlSocketError) -> String {
        let s = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard s >= 0 else { throw ControlSocketError(kind: .other, message: "socket: \(String(cString: strerror(errno)))") }
        defer { close(s) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        guard path.utf8.count < 108 else { throw ControlSocketError(kind: .other, message: "control socket path \(path) is too long") }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in path.utf8.enumerated() { raw[i] = b }
        }
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(s, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        if rc != 0 {
            let e = errno
            switch e {
            case ENOENT, ECONNREFUSED:
                throw ControlSocketError(kind: .notRunning, message: "no vigil agent is running (nothing answers on \(path)); start it with `vigil run --board FILE` or `systemctl start vigil`")
            case EACCES, EPERM:
                throw ControlSocketError(kind: .permission, message: "permission denied on \(path); add your user to group vigil (`sudo usermod -aG vigil $USER`, then log in again)")
            default:
                throw ControlSocketError(kind: .other, message: "control socket \(path): \(String(cString: strerror(e)))")
            }
        }
        var tv = timeval(tv_sec: timeoutMilliseconds / 1000, tv_usec: Int((timeoutMilliseconds % 1000) * 1000))
        setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        writeAll(s, Array((request + "\n").utf8))
        guard let line = readLine(s) else {
            throw ControlSocketError(kind: .other, message: "the agent did not answer on \(path) within \(timeoutMilliseconds) ms")
        }
        return line
    }
}

private func readLine(_ fd: Int32) -> String? {
    var data: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while data.count < 1 << 22 {
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { break }
        data.append(contentsOf: buffer[0..<n])
        if let nl = data.firstIndex(of: 0x0A) { return String(decoding: data[..<nl], as: UTF8.self) }
    }
    return data.isEmpty ? nil : String(decoding: data, as: UTF8.self)
}

private func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { return }
        offset += n
    }
}
