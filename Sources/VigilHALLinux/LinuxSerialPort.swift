import Glibc
import VigilHAL

/// A UART through termios, in raw mode (no echo, no line discipline), 8 data bits. Owns the fd.
public final class LinuxSerialPort: SerialPort {
    public let name: String
    private let fd: Int32

    /// Opens `path` at `baud` (one of ``standardBaudRates``), with `parity` and 1 or 2 stop bits.
    public init(path: String, baud: Int, parity: SerialParity = .none, stopBits: Int = 1) throws(HALError) {
        guard let speed = Self.speed(baud) else { throw HALError(.invalidArgument, code: 22, operation: "serial: unsupported baud rate") }
        let fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw HALError(errno: errno, operation: "serial open") }
        var tio = termios()
        guard tcgetattr(fd, &tio) == 0 else {
            let e = errno
            close(fd)
            throw HALError(errno: e, operation: "serial: not a terminal (tcgetattr)")
        }
        cfmakeraw(&tio)
        cfsetispeed(&tio, speed)
        cfsetospeed(&tio, speed)
        tio.c_cflag |= tcflag_t(CLOCAL | CREAD)
        tio.c_cflag &= ~tcflag_t(PARENB | PARODD | CSTOPB)
        switch parity {
        case .none: break
        case .even: tio.c_cflag |= tcflag_t(PARENB)
        case .odd: tio.c_cflag |= tcflag_t(PARENB | PARODD)
        }
        if stopBits == 2 { tio.c_cflag |= tcflag_t(CSTOPB) }
        guard tcsetattr(fd, TCSANOW, &tio) == 0 else {
            let e = errno
            close(fd)
            throw HALError(errno: e, operation: "serial configure (tcsetattr)")
        }
        self.fd = fd
        name = path
    }

    deinit { close(fd) }

    static func speed(_ baud: Int) -> speed_t? {
        switch baud {
        case 1200: return speed_t(B1200)
        case 2400: return speed_t(B2400)
        case 4800: return speed_t(B4800)
        case 9600: return speed_t(B9600)
        case 19200: return speed_t(B19200)
        case 38400: return speed_t(B38400)
        case 57600: return speed_t(B57600)
        case 115200: return speed_t(B115200)
        case 230400: return speed_t(B230400)
        case 460800: return speed_t(B460800)
        case 921600: return speed_t(B921600)
        default: return nil
        }
    }

    private func wait(_ events: Int16, timeoutNanoseconds: Int64, operation: StaticString) throws(HALError) -> Bool {
        var p = pollfd(fd: fd, events: events, revents: 0)
        let ms = Int32(clamping: (timeoutNanoseconds + 999_999) / 1_000_000)
        while true {
            let n = poll(&p, 1, ms)
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw HALError(errno: errno, operation: operation) }
            if p.revents & Int16(POLLERR | POLLNVAL) != 0 { throw HALError(.noDevice, code: 19, operation: operation) }
            return n > 0
        }
    }

    public func write(_ bytes: UnsafeRawBufferPointer, timeoutNanoseconds: Int64) throws(HALError) {
        var offset = 0
        while offset < bytes.count {
            guard try wait(Int16(POLLOUT), timeoutNanoseconds: timeoutNanoseconds, operation: "serial write") else {
                throw HALError(.timeout, code: 110, operation: "serial write")
            }
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EAGAIN || errno == EINTR { continue }
                throw HALError(errno: errno, operation: "serial write")
            }
            offset += n
        }
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer, timeoutNanoseconds: Int64) throws(HALError) -> Int {
        guard buffer.count > 0, try wait(Int16(POLLIN), timeoutNanoseconds: timeoutNanoseconds, operation: "serial read") else { return 0 }
        let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
        if n < 0 {
            if errno == EAGAIN || errno == EINTR { return 0 }
            throw HALError(errno: errno, operation: "serial read")
        }
        // A hung-up pty or an unplugged USB adapter reads as end of file.
        if n == 0 { throw HALError(.noDevice, code: 19, operation: "serial read (device gone)") }
        return n
    }
}
