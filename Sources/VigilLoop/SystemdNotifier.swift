import Glibc

/// systemd's notification protocol (`sd_notify`) without libsystemd: datagrams to the socket named
/// by `$NOTIFY_SOCKET`. Inert when not run under systemd.
public final class SystemdNotifier: @unchecked Sendable {
    private let fd: Int32
    private var address = sockaddr_un()
    private var addressLength: socklen_t = 0
    /// Half of `$WATCHDOG_USEC`: how often `WATCHDOG=1` must be sent; nil without `WatchdogSec`.
    public let watchdogIntervalNanoseconds: Int64?

    public init(environment: [String: String]? = nil) {
        func value(_ key: String) -> String? {
            if let environment { return environment[key] }
            return getenv(key).map { String(cString: $0) }
        }
        if let usec = value("WATCHDOG_USEC").flatMap({ Int64($0) }), usec > 0,
           value("WATCHDOG_PID").flatMap({ Int32($0) }).map({ $0 == getpid() }) ?? true {
            watchdogIntervalNanoseconds = usec * 1000 / 2
        } else {
            watchdogIntervalNanoseconds = nil
        }
        guard let path = value("NOTIFY_SOCKET"), !path.isEmpty, path.utf8.count < 108 else {
            fd = -1
            return
        }
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 } // abstract namespace
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        addressLength = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)
    }

    deinit { if fd >= 0 { close(fd) } }

    public var isActive: Bool { fd >= 0 }

    /// Sends `state` (e.g. `READY=1`, `WATCHDOG=1`, `STOPPING=1`, `STATUS=…`). Never blocks.
    @discardableResult
    public func notify(_ state: String) -> Bool {
        guard fd >= 0 else { return false }
        var a = address
        let sent = state.withCString { text in
            withUnsafePointer(to: &a) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, text, strlen(text), Int32(MSG_DONTWAIT | MSG_NOSIGNAL), $0, addressLength)
                }
            }
        }
        return sent >= 0
    }
}
