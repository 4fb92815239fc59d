/// The error every HAL operation throws: what kind of failure, the code the kernel or library gave,
/// and which operation failed.
///
/// Building one never allocates (the operation is a `StaticString`), so drivers can throw it from
/// the real-time loop. Context that needs a string (device path, register name) is added by the
/// caller that owns it, outside the loop.
public struct HALError: Error, Sendable, CustomStringConvertible, BitwiseCopyable {
    /// The failure classes a driver, the interlock and a technician care about.
    public enum Kind: UInt8, Sendable, CaseIterable, BitwiseCopyable {
        /// The device node, adapter, chip or line does not exist (unplugged, wrong profile).
        case noDevice = 1
        /// The I2C address was not acknowledged.
        case nack = 2
        /// No answer within the timeout.
        case timeout = 3
        /// A frame arrived with a bad checksum (Modbus CRC, SMBus PEC).
        case crc = 4
        /// Any other bus-level failure (arbitration lost, I/O error, bad frame).
        case busError = 5
        /// The process may not open or use the device (see the udev rules' groups).
        case permission = 6
        /// The request itself was wrong (bad length, address out of range).
        case invalidArgument = 7
        /// The adapter, UART or driver cannot do what was asked.
        case unsupported = 8
        /// A Modbus slave answered with an exception; `code` is the exception code.
        case modbusException = 9
        /// The device answered, but with something that cannot be right (wrong part ID, a value
        /// the datasheet does not allow, a reply that does not fit the request).
        case badData = 10
        /// The resource is held by someone else (a line requested by another consumer).
        case busy = 11

        public var name: String {
            switch self {
            case .noDevice: return "no device"
            case .nack: return "not acknowledged"
            case .timeout: return "timeout"
            case .crc: return "CRC error"
            case .busError: return "bus error"
            case .permission: return "permission denied"
            case .invalidArgument: return "invalid argument"
            case .unsupported: return "not supported"
            case .modbusException: return "Modbus exception"
            case .badData: return "bad data"
            case .busy: return "busy"
            }
        }
    }

    public var kind: Kind
    /// The underlying errno, library error number, or Modbus exception code; 0 when there is none.
    public var code: Int32
    /// What was being done, e.g. `"i2c read block"`.
    public var operation: StaticString

    @inlinable
    public init(_ kind: Kind, code: Int32 = 0, operation: StaticString) {
        self.kind = kind
        self.code = code
        self.operation = operation
    }

    /// Classifies an errno from a GPIO, I2C or serial syscall.
    public init(errno: Int32, operation: StaticString) {
        self.init(Self.kind(ofErrno: errno), code: errno, operation: operation)
    }

    /// The kind an errno means on Linux's GPIO, i2c-dev and tty interfaces
    /// (see the kernel's `Documentation/i2c/fault-codes.rst`).
    public static func kind(ofErrno e: Int32) -> Kind {
        switch e {
        case 2, 19: return .noDevice            // ENOENT, ENODEV
        case 6, 121: return .nack               // ENXIO, EREMOTEIO: no ACK on the address
        case 110, 62: return .timeout           // ETIMEDOUT, ETIME
        case 74, 71: return .crc                // EBADMSG (SMBus PEC), EPROTO
        case 1, 13: return .permission          // EPERM, EACCES
        case 22, 34, 75: return .invalidArgument // EINVAL, ERANGE, EOVERFLOW
        case 95, 25: return .unsupported         // EOPNOTSUPP, ENOTTY
        case 16, 11: return .busy               // EBUSY, EAGAIN
        default: return .busError               // EIO and anything else
        }
    }

    public var description: String {
        var text = "\(operation): \(kind.name)"
        if code != 0 {
            text += kind == .modbusException ? " (exception \(code): \(Self.modbusExceptionName(code)))" : " (code \(code))"
        }
        return text
    }

    /// The Modbus specification's name of an exception code.
    public static func modbusExceptionName(_ code: Int32) -> String {
        switch code {
        case 1: return "illegal function"
        case 2: return "illegal data address"
        case 3: return "illegal data value"
        case 4: return "server device failure"
        case 5: return "acknowledge"
        case 6: return "server device busy"
        case 8: return "memory parity error"
        case 10: return "gateway path unavailable"
        case 11: return "gateway target failed to respond"
        default: return "unknown"
        }
    }
}

extension HALError: Equatable {
    public static func == (a: HALError, b: HALError) -> Bool { a.kind == b.kind && a.code == b.code }
}
