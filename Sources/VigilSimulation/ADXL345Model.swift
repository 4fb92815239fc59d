import VigilBase
import VigilParts
import VigilBoard

/// A register-level model of the Analog Devices ADXL345 3-axis accelerometer (datasheet rev. G),
/// as far as vigil uses it, written from the datasheet, not from the driver: device ID, data rate,
/// power control, data format (range, full resolution, self-test), the six data registers and the
/// FIFO in bypass, FIFO and stream modes.
///
/// Samples are produced at the programmed output data rate from a `MachineScenario`, as the real
/// part's FIFO fills whether or not anyone reads it. "FIFO" section: the FIFO holds 32 samples and
/// one more waits at the output filter, so FIFO_STATUS reports up to 33 entries; in stream mode the
/// oldest is discarded when a 34th arrives; INT_SOURCE's Overrun bit is set when the FIFO is filled
/// (in bypass: when new data replaces unread data) and cleared when its contents are read; only
/// bypass mode empties the FIFO.
public final class ADXL345Model: I2CDeviceModel {
    typealias Register = ADXL345.Register
    /// Samples available at once: the FIFO plus the output filter's (FIFO_STATUS description).
    static let capacity = ADXL345.maximumWaitingSamples

    private var registers = [UInt8](repeating: 0, count: 64)
    private var fifo = SampleFIFO(depth: ADXL345.maximumWaitingSamples)
    private var overrun = false
    private var measuring = false
    /// Index of the next sample the part will produce, counted from when measurement started.
    private var nextSampleIndex: Int64 = 0
    private var measureStart = MonotonicInstant.zero
    private let scenario: MachineScenario
    private let scenarioOrigin: MonotonicInstant
    private var noise: NoiseSource
    /// The self-test force's output change at 3.3 V, g per axis: mid-range of the datasheet's
    /// limits ("Self-Test"). Tests scale it (0: a part whose proof mass no longer moves).
    public static let typicalSelfTestG = (x: 1.2, y: -1.2, z: 1.8)
    public var selfTestResponseFactor = 1.0
    /// Samples lost from a full FIFO (stream mode), since power-on.
    public private(set) var lostSamples: Int64 = 0
    /// Multiplies the scenario's vibration (tests and the proof test push the machine past limits).
    public var vibrationFactor = 1.0
    /// Samples produced since power-on, including those lost to overrun.
    public private(set) var producedSamples: Int64 = 0

    public init(scenario: MachineScenario, origin: MonotonicInstant, seed: UInt64) {
        self.scenario = scenario
        scenarioOrigin = origin
        noise = NoiseSource(seed: seed, rmsG: scenario.spec.noiseG)
        registers[Int(Register.deviceID)] = ADXL345.partID
        registers[Int(Register.bandwidthRate)] = ADXL345.bandwidthRateReset
    }

    /// A supply dip that reset the part (datasheet Table 19, the registers' reset values): every
    /// register back to its power-on value, so the part is in standby with an empty FIFO and goes
    /// on answering on the bus, but produces no samples until it is configured again.
    public func powerOnReset(at now: MonotonicInstant) {
        produce(until: now)
        registers = [UInt8](repeating: 0, count: 64)
        registers[Int(Register.deviceID)] = ADXL345.partID
        registers[Int(Register.bandwidthRate)] = ADXL345.bandwidthRateReset
        fifo.removeAll()
        overrun = false
        measuring = false
    }

    /// The output data rate the BW_RATE code selects: 3200 Hz / 2^(15 − code) for codes 6…15.
    public static func outputDataRate(code: UInt8) -> Double {
        let c = Int(code & 0x0F)
        return 3200 / Double(1 << (15 - max(c, 0)))
    }

    public var outputDataRateHz: Double { Self.outputDataRate(code: registers[Int(Register.bandwidthRate)]) }
    public var fifoMode: UInt8 { registers[Int(Register.fifoControl)] >> 6 }

    public func read(register: UInt8, into buffer: UnsafeMutableRawBufferPointer, at now: MonotonicInstant) {
        produce(until: now)
        var popsData = false
        for i in 0..<buffer.count {
            let r = Int(register) + i
            buffer[i] = r < 64 ? value(of: UInt8(r)) : 0
            if r >= Int(Register.dataX0) && r <= Int(Register.dataZ1) { popsData = true }
        }
        // "Retrieving Data from FIFO": reading the data registers pops the entry they hold; the
        // Overrun bit clears when the FIFO's contents are read.
        if popsData && !fifo.isEmpty {
            if fifoMode != 0 || fifo.count > 1 { fifo.removeFirst() }
            if fifoMode != 0 && fifo.count < Self.capacity { overrun = false }
            if fifoMode == 0 { overrun = false }
        }
    }

    public func write(register: UInt8, bytes: UnsafeRawBufferPointer, at now: MonotonicInstant) {
        // Multi-byte writes auto-increment the register address.
        for (i, value) in bytes.enumerated() { write(register: register &+ UInt8(i), value: value, at: now) }
    }

    private func write(register: UInt8, value: UInt8, at now: MonotonicInstant) {
        produce(until: now)
        guard register < 64, register != Register.deviceID, register != Register.fifoStatus,
              register != Register.interruptSource else { return }
        registers[Int(register)] = value
        switch register {
        case Register.powerControl:
            let measure = value & 0x08 != 0
            if measure && !measuring {
                measureStart = now
                nextSampleIndex = 0
            }
            measuring = measure
        case Register.fifoControl:
            // "Bypass mode: FIFO is not operational and, therefore, remains empty". Other mode
            // changes keep what the FIFO holds.
            if value >> 6 == 0 {
                fifo.removeAll()
                overrun = false
            }
        case Register.bandwidthRate:
            // A new rate restarts the sample clock.
            measureStart = now
            nextSampleIndex = 0
        default:
            break
        }
    }

    private func value(of register: UInt8) -> UInt8 {
        switch register {
        case Register.dataX0...Register.dataZ1:
            guard let entry = fifo.first else { return 0 }
            let word: Int16
            switch (register - Register.dataX0) / 2 {
            case 0: word = entry.0
            case 1: word = entry.1
            default: word = entry.2
            }
            let bits = UInt16(bitPattern: word)
            return (register - Register.dataX0) % 2 == 0 ? UInt8(bits & 0xFF) : UInt8(bits >> 8)
        case Register.fifoStatus:
            // Entries available, the one at the output included: up to 33.
            return UInt8(fifo.count)
        case Register.interruptSource:
            var bits: UInt8 = 0
            if !fifo.isEmpty { bits |= 0x80 }       // DATA_READY
            if fifo.count > Int(registers[Int(Register.fifoControl)] & 0x1F) { bits |= 0x02 } // watermark
            if overrun { bits |= 0x01 }
            return bits
        default:
            return registers[Int(register)]
        }
    }

    /// Produces the samples due between the last call and `now` at the output data rate.
    private func produce(until now: MonotonicInstant) {
        guard measuring else { return }
        let rate = outputDataRateHz
        let elapsed = Double(now.nanoseconds(since: measureStart)) / 1e9
        let due = Int64((elapsed * rate).rounded(.down)) + 1 - nextSampleIndex
        guard due > 0 else { return }
        // Only the newest FIFO-full of them can survive; skip computing the rest.
        let keep = fifoMode == 0 ? Int64(1) : Int64(Self.capacity)
        if due > keep {
            if fifoMode == 2 { lostSamples += due - keep }
            overrun = true
            producedSamples += due - keep
            nextSampleIndex += due - keep
        }
        let first = nextSampleIndex
        let last = nextSampleIndex + min(due, keep)
        for index in first..<last {
            let t = Double(measureStart.nanoseconds(since: scenarioOrigin)) / 1e9 + Double(index) / rate
            let g = scenario.acceleration(atSeconds: t, extraFactor: vibrationFactor)
            var st = (x: 0.0, y: 0.0, z: 0.0)
            if registers[Int(Register.dataFormat)] & ADXL345.selfTestBit != 0 {
                let f = selfTestResponseFactor
                st = (Self.typicalSelfTestG.x * f, Self.typicalSelfTestG.y * f, Self.typicalSelfTestG.z * f)
            }
            let sample = (counts(g.x + st.x + noise.next()), counts(g.y + st.y + noise.next()), counts(g.z + st.z + noise.next()))
            switch fifoMode {
            case 0: // bypass: only the newest sample is kept; unread data replaced is an overrun
                if !fifo.isEmpty { overrun = true }
                fifo.removeAll()
                fifo.append(sample)
            case 1: // FIFO: stops collecting when full
                if fifo.count < Self.capacity { fifo.append(sample) }
            default: // stream (and trigger): the oldest entry is discarded
                if fifo.isFull {
                    fifo.removeFirst()
                    lostSamples += 1
                }
                fifo.append(sample)
            }
            // "In all other modes, overrun is set when FIFO is filled."
            if fifoMode != 0 && fifo.count >= Self.capacity { overrun = true }
            producedSamples += 1
        }
        nextSampleIndex = last
    }

    /// Converts g to output counts for the current DATA_FORMAT: full resolution keeps 3.9 mg/LSB
    /// (256 LSB/g) at every range; 10-bit mode scales 256 LSB/g by 2/range. Saturates at the
    /// converter's limits, as the part does.
    private func counts(_ g: Double) -> Int16 {
        let format = registers[Int(Register.dataFormat)]
        let rangeG = Double(2 << Int(format & 0x03))
        let fullResolution = format & 0x08 != 0
        let lsbPerG = fullResolution ? 256.0 : 256.0 * 2 / rangeG
        let limit = fullResolution ? 256 * rangeG : 512
        let raw = min(max((g * lsbPerG).rounded(), -limit), limit - 1)
        // "Data Formatting of Upper Data Rates": at 1600 Hz and 3200 Hz, in full resolution (and
        // ±2 g 10-bit), the LSB of the output word is always 0.
        if outputDataRateHz >= ADXL345.lsbAlwaysZeroFromHz && (fullResolution || rangeG == 2) {
            return Int16(raw) & ~1
        }
        return Int16(raw)
    }
}

extension ADXL345: SimulatedI2CPart {
    public static func makeModel(scenario: MachineScenario, origin: MonotonicInstant, seed: UInt64) -> any I2CDeviceModel {
        ADXL345Model(scenario: scenario, origin: origin, seed: seed)
    }
}
