#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import VigilCommandLine
import VigilAgent
import VigilDrivers
import VigilHAL
import VigilHALLinux
import VigilLoop
import VigilBase

struct ModbusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "modbus",
        abstract: "Modbus RTU (RS-485) or TCP, like mbpoll: read registers with per-request statistics, or scan for units.",
        subcommands: [ModbusRead.self, ModbusScan.self])
}

/// Where the Modbus peer is: a serial device or a TCP server.
struct ModbusPort: ParsableArguments {
    @Option(help: "Serial device (RTU), e.g. /dev/vigil-rs485.") var device: String?
    @Option(help: "Baud rate (RTU).") var baud: Int = 19200
    @Option(help: "Parity (RTU).") var parity: SerialParity = .none
    @Option(name: .customLong("stop-bits"), help: "Stop bits (RTU).") var stopBits: Int = 1
    @Option(help: "Modbus TCP server HOST:PORT instead of a serial device.") var tcp: String?
    @Option(name: .customLong("timeout-ms"), help: "Response timeout per request, ms.") var timeoutMilliseconds: Int = 500

    func open() throws -> LinuxModbusClient {
        let client: LinuxModbusClient
        do {
            if let tcp {
                let parts = tcp.split(separator: ":")
                guard parts.count == 2, let port = Int(parts[1]) else { throw CLIError(.badInput, "--tcp wants HOST:PORT") }
                client = try LinuxModbusClient(tcpHost: String(parts[0]), port: port)
            } else if let device {
                client = try LinuxModbusClient(rtuDevice: device, baud: baud, parity: parity, dataBits: 8, stopBits: stopBits, direction: .auto)
            } else {
                throw CLIError(.badInput, "give --device (RTU) or --tcp HOST:PORT")
            }
        } catch let e as HALError {
            throw cliError(tcp ?? device ?? "modbus", e)
        }
        client.responseTimeoutNanoseconds = Int64(timeoutMilliseconds) * 1_000_000
        return client
    }
}

struct ModbusReadReport: Codable {
    var unit: Int
    var function: String
    var address: Int
    var type: String
    var values: [Double]
    var raw: [Int]
    var requests: Int
    var failures: Int
    var errors: [String: Int]
    var latencyMsMin: Double?
    var latencyMsAvg: Double?
    var latencyMsMax: Double?
}

struct ModbusRead: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "read", abstract: "Read registers or bits; --repeat for statistics.")
    @OptionGroup var port: ModbusPort
    @Option(help: "Unit (slave) id, 1–247.") var unit: Int = 1
    @Option(help: "The table.") var function: ModbusTable = .holdingRegisters
    @Option(help: "First address (0-based, as on the wire).") var address: Int
    @Option(help: "Values to read.") var count: Int = 1
    @Option(help: "How registers encode each value (registers only).") var type: ModbusValueType = .uint16
    @Option(help: "Word/byte order of 32- and 64-bit types.") var order: ModbusByteOrder = .abcd
    @Option(help: "Scale applied to each value.") var scale: Double = 1
    @Option(help: "Read one bit (0–15) of each 16-bit register: values are 0 or 1.") var bit: Int?
    @Option(name: .customLong("scale-factor"), help: "Address of an int16 register holding a power-of-ten exponent for the values (SunSpec sunssf).")
    var scaleFactor: Int?
    @Option(help: "Requests to make (statistics over all).") var `repeat`: Int = 1
    @Flag(help: "Print the result as JSON.") var json = false

    func run() throws {
        guard (1...247).contains(unit) else { throw CLIError(.badInput, "--unit must be 1–247") }
        guard (0...65535).contains(address), (1...125).contains(count) else { throw CLIError(.badInput, "--address must be 0–65535 and --count 1–125") }
        let table = function, valueType = type, byteOrder = order
        if !table.isBitTable && valueType == .bool {
            throw CLIError(.badInput, "--type bool is for coils and discrete inputs; registers hold \(ModbusValueType.registerTypeList.replacing("/", with: ", "))")
        }
        if !table.isBitTable && count * valueType.wordCount > 125 {
            throw CLIError(.badInput, "--count \(count) of \(valueType.rawValue) is \(count * valueType.wordCount) registers; one request reads at most 125")
        }
        if let bit {
            guard (0...15).contains(bit) else { throw CLIError(.badInput, "--bit must be 0–15") }
            guard !table.isBitTable, valueType.wordCount == 1 else { throw CLIError(.badInput, "--bit reads one bit of a 16-bit register: use --type uint16 or int16 with a register table") }
        }
        if let scaleFactor {
            guard (0...65535).contains(scaleFactor) else { throw CLIError(.badInput, "--scale-factor must be a register address 0–65535") }
            guard !table.isBitTable, bit == nil, valueType != .float32, valueType != .float64 else {
                throw CLIError(.badInput, "--scale-factor applies to integer registers (not bits, --bit or float types)")
            }
        }
        let client = try port.open()
        let bits = table.isBitTable
        let width = bits ? 1 : valueType.wordCount
        var words = [UInt16](repeating: 0, count: count * width)
        var bitValues = [UInt8](repeating: 0, count: count)
        var latencies: [Double] = []
        var errors: [String: Int] = [:]
        var lastError: HALError?
        for _ in 0..<max(1, self.repeat) {
            let t0 = SystemClock.monotonic().nanoseconds
            var failure: HALError?
            if bits {
                bitValues.withUnsafeMutableBufferPointer { b in
                    do throws(HALError) { try client.readBits(unit: UInt8(unit), table: table, address: UInt16(address), into: b) } catch { failure = error }
                }
            } else {
                words.withUnsafeMutableBufferPointer { b in
                    do throws(HALError) { try client.readRegisters(unit: UInt8(unit), table: table, address: UInt16(address), into: b) } catch { failure = error }
                }
            }
            if let failure {
                errors["\(failure.kind)", default: 0] += 1
                lastError = failure
            } else {
                latencies.append(Double(SystemClock.monotonic().nanoseconds - t0) / 1e6)
            }
        }
        if latencies.isEmpty, let e = lastError { throw cliError("modbus unit \(unit) \(function.rawValue) \(address)", e) }
        var factor: Int16?
        if let scaleFactor {
            var word: [UInt16] = [0]
            do throws(HALError) {
                try word.withUnsafeMutableBufferPointer { (b) throws(HALError) in try client.readRegisters(unit: UInt8(unit), table: table, address: UInt16(scaleFactor), into: b) }
            } catch { throw cliError("modbus unit \(unit) scale factor at \(function.rawValue) \(scaleFactor)", error) }
            factor = Int16(bitPattern: word[0])
            if factor == ModbusPoint.scaleFactorNotImplemented || !ModbusPoint.scaleFactorRange.contains(factor!) {
                Console.err("modbus: the scale factor at \(scaleFactor) reads \(factor!) (\(factor == ModbusPoint.scaleFactorNotImplemented ? "0x8000, not implemented" : "outside −10…10")): values shown as nan")
            }
        }
        var values: [Double] = []
        if bits { values = bitValues.map { Double($0) } } else {
            let point = ModbusPoint(table: table, address: UInt16(address), type: valueType, order: byteOrder, scale: scale, offset: 0,
                                    bit: bit, scaleFactorAddress: scaleFactor.map(UInt16.init))
            for i in 0..<count { values.append(Array(words[(i * width)..<(i * width + width)]).withUnsafeBufferPointer { point.decode($0, scaleFactor: factor) } ?? .nan) }
        }
        let report = ModbusReadReport(
            unit: unit, function: function.rawValue, address: address, type: bits ? "bool" : type.rawValue, values: values, raw: bits ? bitValues.map(Int.init) : words.map(Int.init),
            requests: max(1, self.repeat), failures: errors.values.reduce(0, +), errors: errors, latencyMsMin: latencies.min(),
            latencyMsAvg: latencies.isEmpty ? nil : latencies.reduce(0, +) / Double(latencies.count), latencyMsMax: latencies.max())
        if json { Console.out(JSONOutput.encode(report)); return }
        for (i, v) in values.enumerated() { Console.out("[\(address + i * width)]\t\(v)") }
        Console.out("-- \(report.requests) requests, \(report.failures) failed\(errors.isEmpty ? "" : " \(errors)"), latency ms min/avg/max "
                    + "\(report.latencyMsMin.map { "\(($0 * 100).rounded() / 100)" } ?? "-")/\(report.latencyMsAvg.map { "\(($0 * 100).rounded() / 100)" } ?? "-")/\(report.latencyMsMax.map { "\(($0 * 100).rounded() / 100)" } ?? "-")")
    }
}

struct ModbusScan: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "scan", abstract: "Ask each unit in a range for one holding register; list who answers.")
    @OptionGroup var port: ModbusPort
    @Option(help: "First unit.") var from: Int = 1
    @Option(help: "Last unit.") var to: Int = 247
    @Option(help: "Register to ask for.") var address: Int = 0
    @Flag(help: "Print the result as JSON.") var json = false

    func run() throws {
        guard (1...247).contains(from), (from...247).contains(to) else { throw CLIError(.badInput, "--from/--to must be 1–247, from ≤ to") }
        let client = try port.open()
        var found: [[String: String]] = []
        var word = [UInt16](repeating: 0, count: 1)
        for unit in from...to {
            var failure: HALError?
            word.withUnsafeMutableBufferPointer { b in
                do throws(HALError) { try client.readRegisters(unit: UInt8(unit), table: .holdingRegisters, address: UInt16(address), into: b) } catch { failure = error }
            }
            if failure == nil {
                found.append(["unit": String(unit), "answer": "register \(address) = \(word[0])"])
            } else if let f = failure, f.kind == .modbusException {
                // An exception is an answer: the unit exists.
                found.append(["unit": String(unit), "answer": "exception \(f)"])
            }
        }
        if json { Console.out(JSONOutput.encode(found)); return }
        if found.isEmpty { Console.out("no unit answered in \(from)…\(to)") }
        for f in found { Console.out("unit \(f["unit"]!)\t\(f["answer"]!)") }
    }
}
