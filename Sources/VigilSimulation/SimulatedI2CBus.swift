import VigilBase
import VigilHAL
import VigilParts

/// An I2C bus hosting register-file models of devices, with per-address fault injection and the
/// bus's transfer time taken from the simulation clock: what ``I2CBusTime`` says each transfer
/// holds the bus, the same figures the profile's bus-time budget is checked with.
public final class SimulatedI2CBus: I2CBus {
    public let name: String
    public let clock: SimulationClock
    public let clockHz: Int
    private var devices: [(any I2CDeviceModel)?] = Array(repeating: nil, count: 128)
    private var faults: [I2CFault?] = Array(repeating: nil, count: 128)
    /// Replies captured when a `.stuck` fault began, keyed by register and length.
    private var stuckReplies: [UInt8: [UInt8]] = [:]
    private var random: SplitMix64
    /// Transfers attempted so far, and the bit times they held the bus, for tests and statistics.
    public private(set) var transferCount = 0
    public private(set) var busBits = 0

    public init(name: String, clock: SimulationClock, clockHz: Int = 400_000, seed: UInt64 = 1) {
        self.name = name
        self.clock = clock
        self.clockHz = clockHz
        random = SplitMix64(seed: seed ^ 0x1_2C)
    }

    /// Places `model` at a 7-bit address.
    public func attach(_ model: any I2CDeviceModel, at address: UInt8) {
        precondition(address < 128)
        devices[Int(address)] = model
    }

    public func detach(address: UInt8) { devices[Int(address)] = nil }

    /// Injects `fault` at `address` (nil clears it).
    public func inject(_ fault: I2CFault?, at address: UInt8) {
        faults[Int(address)] = fault
        stuckReplies.removeAll()
    }

    public func model(at address: UInt8) -> (any I2CDeviceModel)? {
        address < 128 ? devices[Int(address)] : nil
    }

    // MARK: I2CBus

    public func readByte(address: UInt8, register: UInt8) throws(HALError) -> UInt8 {
        var byte: UInt8 = 0
        try withUnsafeMutableBytes(of: &byte) { (b) throws(HALError) in
            try transfer(address: address, register: register, read: b, operation: "i2c read byte")
        }
        return byte
    }

    public func writeByte(address: UInt8, register: UInt8, value: UInt8) throws(HALError) {
        var byte = value
        try withUnsafeBytes(of: &byte) { (b) throws(HALError) in
            try write(address: address, register: register, bytes: b, operation: "i2c write byte")
        }
    }

    public func writeBlock(address: UInt8, register: UInt8, bytes: UnsafeRawBufferPointer) throws(HALError) {
        guard (1...i2cBlockMaximum).contains(bytes.count) else {
            throw HALError(.invalidArgument, code: 22, operation: "i2c write block")
        }
        try write(address: address, register: register, bytes: bytes, operation: "i2c write block")
    }

    private func write(address: UInt8, register: UInt8, bytes: UnsafeRawBufferPointer, operation: StaticString) throws(HALError) {
        let device = try begin(address: address, bits: I2CBusTime.registerWriteBits(count: bytes.count), operation: operation)
        if case .garbage? = faults[Int(address)] { return } // the write lands nowhere useful
        device.write(register: register, bytes: bytes, at: clock.now)
    }

    public func readBlock(address: UInt8, register: UInt8, into buffer: UnsafeMutableRawBufferPointer) throws(HALError) {
        guard (1...i2cBlockMaximum).contains(buffer.count) else {
            throw HALError(.invalidArgument, code: 22, operation: "i2c read block")
        }
        try transfer(address: address, register: register, read: buffer, operation: "i2c read block")
    }

    public func probe(address: UInt8) throws(HALError) -> Bool {
        guard address < 128 else { throw HALError(.invalidArgument, code: 22, operation: "i2c probe") }
        do throws(HALError) {
            _ = try begin(address: address, bits: I2CBusTime.probeBits, operation: "i2c probe")
            return true
        } catch {
            if error.kind == .nack || error.kind == .noDevice { return false }
            throw error
        }
    }

    // MARK: Transfers

    private func transfer(address: UInt8, register: UInt8, read buffer: UnsafeMutableRawBufferPointer,
                          operation: StaticString) throws(HALError) {
        let device = try begin(address: address, bits: I2CBusTime.registerReadBits(count: buffer.count), operation: operation)
        switch faults[Int(address)] {
        case .garbage?:
            for i in 0..<buffer.count { buffer[i] = UInt8(truncatingIfNeeded: random.next()) }
        case .stuck?:
            let key = register &+ UInt8(truncatingIfNeeded: buffer.count &* 31)
            if let reply = stuckReplies[key], reply.count == buffer.count {
                for i in 0..<buffer.count { buffer[i] = reply[i] }
            } else {
                device.read(register: register, into: buffer, at: clock.now)
                stuckReplies[key] = Array(buffer)
            }
        default:
            device.read(register: register, into: buffer, at: clock.now)
        }
    }

    /// Checks the address phase and faults, and lets the transfer time pass.
    private func begin(address: UInt8, bits: Int, operation: StaticString) throws(HALError) -> any I2CDeviceModel {
        guard address < 128 else { throw HALError(.invalidArgument, code: 22, operation: operation) }
        transferCount += 1
        busBits += bits
        clock.elapse(nanoseconds: I2CBusTime.nanoseconds(bits: bits, clockHz: clockHz))
        switch faults[Int(address)] {
        case .unplugged?:
            throw HALError(.nack, code: 6, operation: operation)
        case .intermittentNACK(let p)?:
            if random.nextUnitDouble() < p { throw HALError(.nack, code: 6, operation: operation) }
        case .timeout?:
            clock.elapse(nanoseconds: 25_000_000) // SMBus tTIMEOUT upper bound
            throw HALError(.timeout, code: 110, operation: operation)
        case .slow(let ns)?:
            clock.elapse(nanoseconds: ns)
        case .garbage?, .stuck?, nil:
            break
        }
        guard let device = devices[Int(address)] else { throw HALError(.nack, code: 6, operation: operation) }
        return device
    }
}
