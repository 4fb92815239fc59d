import VigilBase
import VigilParts
import VigilBoard

/// A register-level model of the ST LIS3DH 3-axis accelerometer (datasheet DocID17530), as far as
/// vigil uses it, written from the datasheet, not from the driver: WHO_AM_I, CTRL_REG1 (data rate,
/// axes, low-power), CTRL_REG4 (full scale, high resolution, block data update, self-test),
/// CTRL_REG5 (FIFO enable), the 32-level FIFO in bypass and stream modes, FIFO_SRC_REG, and the
/// left-justified output registers. A multi-byte read auto-increments only when the sub-address's
/// MSB is set (section 6.1.1). Section 3.3: the FIFO stores the 10 most significant bits of each
/// sample; bypass mode resets it (3.3.1); in stream mode a new sample replaces the oldest once the
/// FIFO is full, and OVRN_FIFO says that happened.
public final class LIS3DHModel: I2CDeviceModel {
    typealias Register = LIS3DH.Register
    static let fifoDepth = LIS3DH.fifoDepth

    private var registers = [UInt8](repeating: 0, count: 64)
    private var fifo = SampleFIFO(depth: LIS3DH.fifoDepth)
    private var overrun = false
    private var rateStart = MonotonicInstant.zero
    private var nextSampleIndex: Int64 = 0
    private let scenario: MachineScenario
    private let scenarioOrigin: MonotonicInstant
    private var noise: NoiseSource
    public var vibrationFactor = 1.0

    public init(scenario: MachineScenario, origin: MonotonicInstant, seed: UInt64) {
        self.scenario = scenario
        scenarioOrigin = origin
        noise = NoiseSource(seed: seed, rmsG: scenario.spec.noiseG)
        registers[Int(Register.whoAmI)] = LIS3DH.partID
        registers[Int(Register.control1)] = 0x07 // power-down, all axes enabled
    }

    /// A supply dip that reset the part (datasheet section 8, the registers' default values):
    /// CTRL_REG1 back to power-down with all axes enabled, the other control registers to 0 (FIFO
    /// off), so the part answers on the bus but produces no samples until configured again.
    public func powerOnReset(at now: MonotonicInstant) {
        produce(until: now)
        registers = [UInt8](repeating: 0, count: 64)
        registers[Int(Register.whoAmI)] = LIS3DH.partID
        registers[Int(Register.control1)] = 0x07
        fifo.removeAll()
        overrun = false
    }

    /// Output data rate for CTRL_REG1's ODR bits (7:4) in normal / high-resolution mode; 0 is power-down.
    public static func outputDataRate(odrBits: UInt8) -> Double {
        switch odrBits {
        case 1: return 1
        case 2: return 10
        case 3: return 25
        case 4: return 50
        case 5: return 100
        case 6: return 200
        case 7: return 400
        case 9: return 1344
        default: return 0 // power-down, or a low-power-only rate vigil does not use
        }
    }

    private var outputDataRateHz: Double { Self.outputDataRate(odrBits: registers[Int(Register.control1)] >> 4) }
    private var fifoEnabled: Bool { registers[Int(Register.control5)] & 0x40 != 0 }
    private var fifoMode: UInt8 { registers[Int(Register.fifoControl)] >> 6 }

    public func read(register: UInt8, into buffer: UnsafeMutableRawBufferPointer, at now: MonotonicInstant) {
        produce(until: now)
        let increment = register & 0x80 != 0
        let start = Int(register & 0x7F)
        var readHigh = false
        for i in 0..<buffer.count {
            let r = increment ? start + i : start
            buffer[i] = r < 64 ? value(of: r) : 0
            if r == Int(Register.outZHigh) { readHigh = true }
        }
        // Reading through OUT_Z_H completes a sample: the FIFO advances, and a slot is free again.
        if readHigh && !fifo.isEmpty && (fifoEnabled && fifoMode != 0 || fifo.count > 1) {
            fifo.removeFirst()
            overrun = false
        }
    }

    public func write(register: UInt8, bytes: UnsafeRawBufferPointer, at now: MonotonicInstant) {
        // Auto-increment only with the sub-address MSB set.
        let increment = register & 0x80 != 0
        for (i, value) in bytes.enumerated() {
            write(register: increment ? (register & 0x7F) &+ UInt8(i) : register & 0x7F, value: value, at: now)
        }
    }

    private func write(register: UInt8, value: UInt8, at now: MonotonicInstant) {
        produce(until: now)
        let r = register & 0x7F
        guard r < 64, r != Register.whoAmI, r != Register.fifoSource else { return }
        registers[Int(r)] = value
        if r == Register.control1 {
            rateStart = now
            nextSampleIndex = 0
        }
        // Bypass mode (or the FIFO disabled) resets the FIFO; other mode writes keep its contents.
        if (r == Register.fifoControl && value >> 6 == 0) || (r == Register.control5 && value & 0x40 == 0) {
            fifo.removeAll()
            overrun = false
        }
    }

    private func value(of r: Int) -> UInt8 {
        switch r {
        case Int(Register.outXLow)...Int(Register.outZHigh):
            guard let e = fifo.first else { return 0 }
            let word = (r - Int(Register.outXLow)) / 2 == 0 ? e.0 : (r - Int(Register.outXLow)) / 2 == 1 ? e.1 : e.2
            let bits = UInt16(bitPattern: word)
            return (r - Int(Register.outXLow)) % 2 == 0 ? UInt8(bits & 0xFF) : UInt8(bits >> 8)
        case Int(Register.fifoSource):
            // WTM (7), OVRN_FIFO (6), EMPTY (5), FSS (4:0) unread samples (32 reads as 31 + overrun).
            let count = fifo.count
            var bits = UInt8(min(count, 31))
            if count == 0 { bits |= 0x20 }
            if overrun { bits |= 0x40 } // a sample was overwritten
            if count > Int(registers[Int(Register.fifoControl)] & 0x1F) { bits |= 0x80 }
            return bits
        default:
            return registers[r]
        }
    }

    private func produce(until now: MonotonicInstant) {
        let rate = outputDataRateHz
        guard rate > 0 else { return }
        let elapsed = Double(now.nanoseconds(since: rateStart)) / 1e9
        var due = Int64((elapsed * rate).rounded(.down)) + 1 - nextSampleIndex
        guard due > 0 else { return }
        let keep = Int64(fifoEnabled && fifoMode != 0 ? Self.fifoDepth : 1)
        if due > keep {
            overrun = true
            nextSampleIndex += due - keep
            due = keep
        }
        for index in nextSampleIndex..<(nextSampleIndex + due) {
            let t = Double(rateStart.nanoseconds(since: scenarioOrigin)) / 1e9 + Double(index) / rate
            let g = scenario.acceleration(atSeconds: t, extraFactor: vibrationFactor)
            // Self-test 0 (CTRL_REG4 ST = 01): an electrostatic force shifts every axis.
            let st = (registers[Int(Register.control4)] >> 1) & 0x3 == LIS3DH.selfTest0 ? Self.typicalSelfTestG * selfTestResponseFactor : 0
            var sample = (word(g.x + st + noise.next()), word(g.y + st + noise.next()), word(g.z + st + noise.next()))
            if keep == 1 {
                fifo.removeAll()
            } else {
                // Section 3.3: the FIFO keeps the 10 most significant bits.
                sample = (sample.0 & ~0x3F, sample.1 & ~0x3F, sample.2 & ~0x3F)
            }
            if fifo.isFull {
                fifo.removeFirst()
                overrun = true
            }
            fifo.append(sample)
        }
        nextSampleIndex += due
    }

    /// The output word, left-justified in 16 bits (section 3.2.1 and Table 4): 12 significant bits
    /// with CTRL_REG4 HR set (1, 2, 4, 12 mg/digit at ±2, 4, 8, 16 g), 10 in normal mode (4, 8,
    /// 16, 48 mg/digit).
    private func word(_ g: Double) -> Int16 {
        let control4 = registers[Int(Register.control4)]
        let fs = (control4 >> 4) & 0x3
        let mgPerDigit: Double = fs == 0 ? 1 : fs == 1 ? 2 : fs == 2 ? 4 : 12
        let digits = min(max((g * 1000 / mgPerDigit).rounded(), -2048), 2047)
        let word = Int16(digits) << 4
        return control4 & LIS3DH.highResolutionBit != 0 ? word : word & ~0x3F
    }

    /// The self-test's output change, g on every axis: inside Table 4's 17…360 LSb at ±2 g.
    public static let typicalSelfTestG = 0.5
    /// Tests scale the self-test response (0: a part whose proof mass no longer moves).
    public var selfTestResponseFactor = 1.0
}

extension LIS3DH: SimulatedI2CPart {
    public static func makeModel(scenario: MachineScenario, origin: MonotonicInstant, seed: UInt64) -> any I2CDeviceModel {
        LIS3DHModel(scenario: scenario, origin: origin, seed: seed)
    }
}
