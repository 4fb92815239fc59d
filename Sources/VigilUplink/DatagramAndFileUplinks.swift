#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import VigilFrames

/// One frame per UDP datagram to a gateway (no delivery confirmation: a datagram the kernel
/// accepted counts as sent; use MQTT where loss matters).
public final class UDPUplink: Uplink {
    public let host: String
    public let port: Int
    private var fd: Int32 = -1

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    deinit { if fd >= 0 { close(fd) } }

    public var description: String { "udp \(host):\(port)" }
    public var isConnected: Bool { fd >= 0 }

    public func connect(birth: Frame, death: Frame) throws(UplinkError) {
        if fd >= 0 { close(fd); fd = -1 }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &result)
        guard rc == 0, let info = result else { throw UplinkError("UDP gateway \(host):\(port): \(String(cString: gai_strerror(rc)))") }
        defer { freeaddrinfo(result) }
        let s = socket(info.pointee.ai_family, info.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), info.pointee.ai_protocol)
        guard s >= 0 else { throw UplinkError("UDP socket: \(String(cString: strerror(errno)))") }
        guard Glibc.connect(s, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
            let e = errno
            close(s)
            throw UplinkError("UDP gateway \(host):\(port): \(String(cString: strerror(e)))")
        }
        fd = s
        _ = try send([birth])
    }

    public func send(_ frames: [Frame]) throws(UplinkError) -> Int {
        var sent = 0
        for f in frames {
            let bytes = try f.wireBytes()
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n != bytes.count {
                if sent == 0 { throw UplinkError("UDP gateway \(host):\(port): \(String(cString: strerror(errno)))") }
                break
            }
            sent += 1
        }
        return sent
    }

    public func disconnect(death: Frame?) {
        if let death, fd >= 0 { _ = try? send([death]) }
        if fd >= 0 { close(fd) }
        fd = -1
    }

    public func takeRebirthRequest() -> Bool { false }
}

/// Frames appended to a file, or written to standard output for `-` (diagnostics; `vigil frame
/// decode FILE` reads it back).
public final class FileUplink: Uplink {
    public let path: String
    private var fd: Int32 = -1

    public init(path: String) { self.path = path }
    deinit { if fd > 2 { close(fd) } }

    public var description: String { "file \(path)" }
    public var isConnected: Bool { fd >= 0 }

    public func connect(birth: Frame, death: Frame) throws(UplinkError) {
        if path == "-" {
            fd = 1
        } else {
            fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
            if fd < 0 { throw UplinkError("frame file \(path): \(String(cString: strerror(errno)))") }
        }
        _ = try send([birth])
    }

    public func send(_ frames: [Frame]) throws(UplinkError) -> Int {
        var sent = 0
        for f in frames {
            let bytes = try f.wireBytes()
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n != bytes.count {
                if sent == 0 { throw UplinkError("frame file \(path): \(String(cString: strerror(n < 0 ? errno : ENOSPC)))") }
                break
            }
            sent += 1
        }
        return sent
    }

    public func disconnect(death: Frame?) {
        if let death, fd >= 0 { _ = try? send([death]) }
        if fd > 2 { close(fd) }
        fd = -1
    }

    public func takeRebirthRequest() -> Bool { false }
}
