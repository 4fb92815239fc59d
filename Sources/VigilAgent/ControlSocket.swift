#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CVigilSys
import Synchronization
import VigilBase
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

    /// At most this many clients at once; one more is told so and closed.
    static let maximumClients = 16
    /// A request line longer than this is refused (and the connection closed).
    static let maximumRequestBytes = 65_536
    /// From accept to the last byte of the answer: a client that sends a byte a second, or does
    /// not read its answer, is dropped after this and never holds up the others.
    static let requestDeadlineNanoseconds: Int64 = 5_000_000_000

    private struct Client {
        var fd: Int32
        var peer: PeerCredentials
        var input: [UInt8] = []
        var output: [UInt8] = []
        var written = 0
        var answered = false
        var deadline: Int64
    }

    /// One thread, every client non-blocking in one poll set: requests are read as they arrive,
    /// answered as soon as they are whole, and each client has its own deadline.
    private func serve() {
        var clients: [Client] = []
        while !stopFlag.load(ordering: .acquiring) {
            var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0)]
            for c in clients { fds.append(pollfd(fd: c.fd, events: Int16(c.answered ? POLLOUT : POLLIN), revents: 0)) }
            _ = poll(&fds, nfds_t(fds.count), 200)
            for (i, p) in fds.enumerated().dropFirst() where p.revents != 0 {
                service(&clients[i - 1])
            }
            let now = SystemClock.timestamp().monotonic.nanoseconds
            if fds[0].revents & Int16(POLLIN) != 0 { acceptClient(&clients, now: now) }
            clients.removeAll { c in
                let done = c.fd < 0 || (c.answered && c.written >= c.output.count) || now > c.deadline
                if done && c.fd >= 0 { close(c.fd) }
                return done
            }
        }
        for c in clients where c.fd >= 0 { close(c.fd) }
    }

    private func acceptClient(_ clients: inout [Client], now: Int64) {
        let c = accept(fd, nil, nil)
        guard c >= 0 else { return }
        _ = fcntl(c, F_SETFD, FD_CLOEXEC)
        _ = fcntl(c, F_SETFL, fcntl(c, F_GETFL) | O_NONBLOCK)
        if clients.count >= Self.maximumClients {
            let refusal = ControlResponse<String>(exit: 1, error: "the agent is serving \(Self.maximumClients) clients already; try again", result: nil)
            let answer = Array((ControlJSON.encode(refusal) + "\n").utf8)
            _ = answer.withUnsafeBytes { send(c, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            close(c)
            return
        }
        var peer = PeerCredentials.unknown
        if vigil_peer_credentials(c, &peer.uid, &peer.gid, &peer.pid) != 0 { peer = .unknown }
        var groups = [UInt32](repeating: 0, count: 256)
        let n = vigil_peer_groups(c, &groups, Int32(groups.count))
        if n > 0 { peer.groups = Array(groups[0..<Int(n)]) }
        clients.append(Client(fd: c, peer: peer, deadline: now + Self.requestDeadlineNanoseconds))
    }

    private func service(_ c: inout Client) {
        if c.answered {
            while c.written < c.output.count {
                let n = c.output.withUnsafeBytes { send(c.fd, $0.baseAddress! + c.written, $0.count - c.written, Int32(MSG_NOSIGNAL)) }
                if n > 0 { c.written += n; continue }
                if n < 0 && (errno == EAGAIN || errno == EINTR) { return }
                close(c.fd)
                c.fd = -1
                return
            }
            return
        }
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(c.fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && errno == EAGAIN { return }
            if n <= 0 {
                // End of input: what came is the request (a line without its newline), or nothing.
                if c.input.isEmpty {
                    close(c.fd)
                    c.fd = -1
                } else {
                    answer(&c, String(decoding: c.input, as: UTF8.self))
                }
                return
            }
            c.input.append(contentsOf: buffer[0..<n])
            if let nl = c.input.firstIndex(of: 0x0A), nl <= Self.maximumRequestBytes {
                answer(&c, String(decoding: c.input[..<nl], as: UTF8.self))
                return
            }
            if c.input.count > Self.maximumRequestBytes {
                let refusal = ControlResponse<String>(exit: 2, error: "request longer than \(Self.maximumRequestBytes) bytes; refused", result: nil)
                c.output = Array((ControlJSON.encode(refusal) + "\n").utf8)
                c.answered = true
                service(&c)
                return
            }
        }
    }

    private func answer(_ c: inout Client, _ line: String) {
        c.output = Array((handler(line, c.peer) + "\n").utf8)
        c.answered = true
        service(&c)
    }
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
