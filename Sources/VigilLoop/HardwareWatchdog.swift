import CVigilSys
import Glibc
import VigilHAL

/// The kernel watchdog device (`/dev/watchdog`): kept open while the agent runs, petted from the
/// loop only after a cycle met its deadline, and closed with the magic character on a clean stop
/// (so a stopped agent does not reboot the board; a hung one does).
public final class HardwareWatchdog {
    public let path: String
    private var fd: Int32
    /// The timeout the driver actually uses (it may round), s.
    public let timeoutSeconds: Int

    public init(path: String, timeoutSeconds: Int) throws(HALError) {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw HALError(errno: errno, operation: "watchdog open") }
        var seconds = Int32(timeoutSeconds)
        if vigil_watchdog_set_timeout(fd, &seconds) != 0 {
            // Some drivers have a fixed timeout: read what it is.
            if vigil_watchdog_get_timeout(fd, &seconds) != 0 { seconds = Int32(timeoutSeconds) }
        }
        self.fd = fd
        self.path = path
        self.timeoutSeconds = Int(seconds)
    }

    /// Pets the watchdog (one ioctl; safe on the real-time path).
    public func keepAlive() throws(HALError) {
        guard fd >= 0 else { return }
        if vigil_watchdog_keepalive(fd) != 0 { throw HALError(errno: errno, operation: "watchdog keepalive") }
    }

    /// Disarms and closes: writes the magic 'V' first, so drivers with `nowayout` unset stop counting.
    public func closeCleanly() {
        guard fd >= 0 else { return }
        var magic = UInt8(ascii: "V")
        _ = write(fd, &magic, 1)
        close(fd)
        fd = -1
    }

    /// Without a clean close (a crash), the device stays armed: the board resets after the timeout.
    deinit { if fd >= 0 { close(fd) } }
}
